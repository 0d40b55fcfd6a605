import type { RequestHandler } from 'express';
import type { Logger } from '../logger';

/** One log line per request: sandbox, client, method, path (no query: it may hold a national id), status, duration. */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info({
        sandbox: res.locals.sandboxName,
        clientId: res.locals.clientId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        errorCode: res.locals.errorCode,
        durationMs: Math.round(durationMs * 10) / 10,
      }, 'request');
    });
    next();
  };
}
