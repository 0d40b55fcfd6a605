import type { NavetErrorCode } from '../codes/error-codes';
import express, { type Request, type Response, Router } from 'express';
import { randomBytes } from 'node:crypto';
import { parseAuthorizationDetails } from './attestation';
import { ASSERTION_ALGORITHMS, authenticateClient } from './client-assertion';
import { ClientJwtError, verifyClientSignedJwt } from './client-signed-jwt';
import { PAR_LIFETIME_S, type PushedRequest, REQUEST_URI_PREFIX } from './login-flow';
import { resolveLoginScopes } from './token-request';
import { TrustError } from '../http/trust-error';
import type { TrustServices } from './trust-services';

/**
 * `POST <helseid>/connect/par`: the client pushes its authorization request (RFC 9126), authenticated with
 * private_key_jwt, with PKCE (S256) and optionally the attestation in `authorization_details` — plain or
 * inside a signed `request` object.
 */
const invalid = (code: NavetErrorCode, text: string) => new TrustError('invalid_request', code, text);

export function parEndpoint(services: TrustServices, issuerOf: (sandbox: string) => string): Router {
  const router = Router();
  router.post(
    '/connect/par',
    express.urlencoded({ extended: false, limit: '64kb' }),
    async (req: Request, res: Response) => {
      res.setHeader('Cache-Control', 'no-store');
      const sandbox = res.locals.sandbox;
      const issuer = issuerOf(sandbox.name);
      const now = sandbox.clock.now();
      const form = Object.fromEntries(
        Object.entries((req.body ?? {}) as Record<string, unknown>).map(([k, v]) => [
          k,
          typeof v === 'string' ? v : undefined,
        ]),
      );
      const { client, claims } = await authenticateClient({
        sandbox: sandbox.name,
        form,
        issuer,
        tokenEndpoint: `${issuer}/connect/par`,
        now,
        clients: services.clients,
        replay: services.state,
      });
      res.locals.clientId = client.clientId;

      let params: Record<string, unknown> = form;
      let requestObject: Record<string, unknown> | undefined;
      if (form.request) {
        let payload: Record<string, unknown>;
        try {
          payload = await verifyClientSignedJwt(form.request, client.jwks, {
            algorithms: ASSERTION_ALGORITHMS,
            audiences: [issuer, `${issuer}/`],
            now,
            what: 'The request object',
          });
        } catch (error) {
          if (!(error instanceof ClientJwtError)) throw error;
          throw invalid(
            'NAVET-PAR-REQUEST-OBJECT',
            `${error.message} (it is signed with the client's key, iss = client_id, aud = ${issuer})`,
          );
        }
        if (payload.iss !== client.clientId)
          throw invalid(
            'NAVET-PAR-REQUEST-OBJECT',
            `The request object's iss must be the client_id "${client.clientId}"; got ${JSON.stringify(payload.iss ?? null)}`,
          );
        requestObject = payload;
        params = { ...form, ...payload };
      }
      const text = (name: string) => (typeof params[name] === 'string' ? (params[name] as string) : undefined);
      if (text('response_type') !== 'code') throw invalid('NAVET-PAR-RESPONSE-TYPE', 'response_type must be "code"');
      const redirectUri = text('redirect_uri');
      if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
        throw invalid(
          'NAVET-PAR-REDIRECT-URI',
          `redirect_uri ${JSON.stringify(redirectUri ?? null)} is not registered for this client; registered: ${client.redirectUris.join(', ') || '(none)'}`,
        );
      }
      const codeChallenge = text('code_challenge');
      if (!codeChallenge || text('code_challenge_method') !== 'S256')
        throw invalid('NAVET-PAR-PKCE', 'PKCE is required: send code_challenge and code_challenge_method=S256');
      // resource may be repeated (one token per API later) or, in a request object, an array
      const resource = requestObject?.resource ?? (req.body as Record<string, unknown>).resource;
      const resources = (Array.isArray(resource) ? resource : resource === undefined ? [] : [resource]).filter(
        (r): r is string => typeof r === 'string',
      );
      const { scopes, audience, audiences } = resolveLoginScopes(client, text('scope'), resources);

      const inRequest = params.authorization_details;
      const inAssertion = claims.assertion_details ?? claims.authorization_details;
      if (inRequest !== undefined && inAssertion !== undefined) {
        throw new TrustError(
          'access_denied',
          'HID-DOUBLE-STRUCTURE',
          'The attestation was sent both in the authorization request (authorization_details) and in the client assertion; send it in one place only',
        );
      }
      const detailsSource = inRequest ?? inAssertion;
      const details =
        detailsSource === undefined
          ? undefined
          : parseAuthorizationDetails(detailsSource, 'authorization_details of the pushed authorization request');

      const handle = randomBytes(24).toString('base64url');
      const pushed: PushedRequest = {
        clientId: client.clientId,
        redirectUri,
        scopes,
        audience,
        ...(audiences ? { audiences } : {}),
        codeChallenge,
        state: text('state'),
        nonce: text('nonce'),
        details,
        testPid: text('test_pid'),
      };
      await services.state.put(sandbox.name, 'par', handle, pushed, now.getTime() + PAR_LIFETIME_S * 1000);
      res.status(201).json({ request_uri: `${REQUEST_URI_PREFIX}${handle}`, expires_in: PAR_LIFETIME_S });
    },
  );
  return router;
}
