import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';

/**
 * The web dashboard: its page at `/` and its bundle under `/dashboard/`. The policy lets the page load and
 * call nothing but this Navet, so no request can leave for another address.
 */
const POLICY = [
  "default-src 'self'",
  "connect-src 'self' blob:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "frame-src 'self' blob:",
  "object-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function dashboardRouter(dashboardDir: string): Router {
  const router = Router();
  const page = path.join(dashboardDir, 'index.html');
  router.get('/', (_req, res) => {
    res.setHeader('Content-Security-Policy', POLICY);
    if (!existsSync(page)) {
      res
        .status(503)
        .type('text/plain')
        .send(`The dashboard is not built: run 'npm run build' (it writes ${dashboardDir}).`);
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(page);
  });
  router.use(
    '/dashboard',
    (_req, res, next) => {
      res.setHeader('Content-Security-Policy', POLICY);
      next();
    },
    express.static(dashboardDir, { index: false, maxAge: 0 }),
  );
  return router;
}
