import { type Request, type Response, Router } from 'express';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { SIGNING_ALG } from './signing-keys';
import { TrustError } from '../http/trust-error';
import type { TrustServices } from './trust-services';

/**
 * `GET <helseid>/connect/endsession?id_token_hint&post_logout_redirect_uri&state` (discovery's
 * end_session_endpoint), as the Kotlin Kjernejournal client logs out (helseid/HelseID.kt logoutHelseID).
 * The test IdP keeps no session, so logging out only sends the browser back: to a URI on the origin of one
 * of the client's redirect URIs (Navet registers no separate post-logout URIs; HelseID does).
 */
export function endSessionEndpoint(services: TrustServices, issuerOf: (sandbox: string) => string): Router {
  const router = Router();
  router.get('/connect/endsession', async (req: Request, res: Response) => {
    const sandbox = res.locals.sandbox;
    const hint = typeof req.query.id_token_hint === 'string' ? req.query.id_token_hint : undefined;
    const target =
      typeof req.query.post_logout_redirect_uri === 'string' ? req.query.post_logout_redirect_uri : undefined;
    res.setHeader('Cache-Control', 'no-store');
    if (!target) {
      res
        .type('html')
        .send(
          '<!doctype html><html lang="nb"><head><meta charset="utf-8"><title>Logged out</title></head><body><p>You are logged out of the sandbox\'s test identity provider.</p></body></html>',
        );
      return;
    }
    if (!hint)
      throw new TrustError(
        'invalid_request',
        'NAVET-ENDSESSION-HINT',
        'post_logout_redirect_uri needs id_token_hint: the id_token of the login, which names the client',
      );
    let clientId: string;
    try {
      const keys = createLocalJWKSet({ keys: await services.keys.published(sandbox.name) });
      // an expired id_token still names the client: logging out is what one does after a while
      const { payload } = await jwtVerify(hint, keys, {
        algorithms: [SIGNING_ALG],
        issuer: issuerOf(sandbox.name),
        currentDate: new Date(0),
      });
      clientId = String(Array.isArray(payload.aud) ? payload.aud[0] : payload.aud);
    } catch (error) {
      throw new TrustError(
        'invalid_request',
        'NAVET-ENDSESSION-HINT',
        `id_token_hint is not an id_token of this sandbox: ${(error as Error).message}`,
      );
    }
    const client = await services.clients.find(sandbox.name, clientId);
    let origin: string | undefined;
    try {
      origin = new URL(target).origin;
    } catch {
      origin = undefined;
    }
    if (!client || !origin || !client.redirectUris.some((uri) => new URL(uri).origin === origin)) {
      throw new TrustError(
        'invalid_request',
        'NAVET-ENDSESSION-REDIRECT',
        `post_logout_redirect_uri ${JSON.stringify(target)} is not on the origin of a redirect URI registered for client "${clientId}"`,
      );
    }
    const redirect = new URL(target);
    if (typeof req.query.state === 'string') redirect.searchParams.set('state', req.query.state);
    res.redirect(302, redirect.toString());
  });
  return router;
}
