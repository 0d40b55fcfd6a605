import { createLocalJWKSet, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import type { ResourceStore } from '../store/resource-store';
import { CLAIM, issueAccessToken } from './access-token';
import type { AuthorizationCode, RefreshGrant } from './login-flow';
import { SIGNING_ALG } from './signing-keys';
import { type GrantHandler, resolveScopesAndAudience, type TokenRequest } from './token-request';
import { TrustError } from './trust-error';
import { userIdentity } from './user-identity';
import { issueUserTokens } from './user-tokens';

/** The grants of user flows: authorization_code (PAR + PKCE), refresh_token (rotating) and token exchange. */
const invalidGrant = (code: string, text: string) => new TrustError('invalid_grant', code, text);

/** The login's attestation rides in its tokens; one sent in the token request's assertion too is a double structure. */
function assertNoSecondAttestation(request: TokenRequest, fromLogin: boolean): void {
  if (fromLogin && request.details) {
    throw new TrustError('access_denied', 'HID-DOUBLE-STRUCTURE', 'This login already carries an attestation (from the pushed authorization request); do not send another in the client assertion');
  }
}

export function authorizationCodeGrant(store: ResourceStore): GrantHandler {
  return async (request) => {
    const { form, services, sandbox, now } = request;
    const { client } = request.authenticated;
    if (!form.code) throw new TrustError('invalid_request', 'NAVET-CODE-MISSING', 'code is required');
    const code = await services.state.take<AuthorizationCode>(sandbox, 'code', form.code, now.getTime());
    if (!code) throw invalidGrant('NAVET-CODE-INVALID', 'The authorization code is unknown, used or expired (codes are single-use and live 60 s)');
    if (code.clientId !== client.clientId) throw invalidGrant('NAVET-CODE-CLIENT', 'The authorization code was issued to another client');
    if (form.redirect_uri !== code.redirectUri) throw invalidGrant('NAVET-CODE-REDIRECT-URI', `redirect_uri must be the one of the authorization request (${code.redirectUri})`);
    if (!form.code_verifier) throw invalidGrant('NAVET-PKCE-VERIFIER-MISSING', 'code_verifier is required (PKCE)');
    const challenge = createHash('sha256').update(form.code_verifier).digest('base64url');
    if (challenge !== code.codeChallenge) throw invalidGrant('NAVET-PKCE-MISMATCH', 'code_verifier does not match the code_challenge of the authorization request');
    assertNoSecondAttestation(request, code.details !== undefined);
    const user = { ...(await userIdentity(store, sandbox, code.pid, client.clientId, now)), authTime: code.authTime };
    return issueUserTokens(request, { client, user, scopes: code.scopes, audience: code.audience, details: code.details ?? request.details, nonce: code.nonce });
  };
}

export function refreshTokenGrant(store: ResourceStore): GrantHandler {
  return async (request) => {
    const { form, services, sandbox, now } = request;
    const { client } = request.authenticated;
    if (!form.refresh_token) throw new TrustError('invalid_request', 'NAVET-REFRESH-MISSING', 'refresh_token is required');
    const grant = await services.state.take<RefreshGrant>(sandbox, 'refresh', form.refresh_token, now.getTime());
    if (!grant) throw invalidGrant('NAVET-REFRESH-INVALID', 'The refresh token is unknown, used or expired (refresh tokens rotate: use the newest one)');
    if (grant.clientId !== client.clientId) throw invalidGrant('NAVET-REFRESH-CLIENT', 'The refresh token was issued to another client');
    if (grant.jkt && grant.jkt !== request.jkt) throw invalidGrant('NAVET-REFRESH-DPOP-KEY', 'This refresh token is bound to a DPoP key: send a DPoP proof made with that key');
    assertNoSecondAttestation(request, grant.details !== undefined);
    const scopes = form.scope ? form.scope.split(/\s+/).filter(Boolean) : grant.scopes;
    const wider = scopes.filter((s) => !grant.scopes.includes(s));
    if (wider.length) throw new TrustError('invalid_scope', 'NAVET-REFRESH-SCOPE', `A refresh cannot add scopes: ${wider.join(', ')} were not granted at login`);
    const user = { ...(await userIdentity(store, sandbox, grant.pid, client.clientId, now)), authTime: grant.authTime };
    return issueUserTokens(request, { client, user, scopes, audience: grant.audience, details: grant.details ?? request.details });
  };
}

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export function tokenExchangeGrant(store: ResourceStore): GrantHandler {
  return async (request) => {
    const { form, services, sandbox, now, issuer } = request;
    const { client } = request.authenticated;
    if (!form.subject_token) throw new TrustError('invalid_request', 'NAVET-EXCHANGE-SUBJECT-MISSING', 'subject_token is required: the access token to exchange');
    if (form.subject_token_type !== ACCESS_TOKEN_TYPE) throw new TrustError('invalid_request', 'NAVET-EXCHANGE-SUBJECT-TYPE', `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    let subject: Record<string, unknown>;
    try {
      const keys = createLocalJWKSet({ keys: await services.keys.published(sandbox) });
      subject = (await jwtVerify(form.subject_token, keys, { algorithms: [SIGNING_ALG], issuer, currentDate: now, typ: 'at+jwt' })).payload as Record<string, unknown>;
    } catch (error) {
      throw invalidGrant('NAVET-EXCHANGE-SUBJECT-INVALID', `subject_token is not a valid access token of this sandbox: ${(error as Error).message}`);
    }
    const { scopes, audience } = resolveScopesAndAudience(client, form.scope, form.resource);
    const pid = typeof subject[CLAIM.pid] === 'string' ? (subject[CLAIM.pid] as string) : undefined;
    const user = pid ? await userIdentity(store, sandbox, pid, client.clientId, now) : undefined;
    const attestation = (request.details?.attestation as Record<string, unknown> | undefined) ?? (subject[CLAIM.attestation] as Record<string, unknown> | undefined);
    const { token } = await issueAccessToken(services.keys, sandbox, issuer, now, {
      client, scopes, audience, jkt: request.jkt, user, attestation,
      childOrganization: request.details?.childOrganization,
      journalId: request.details?.journalId ?? (subject[CLAIM.journalId] as string | undefined),
      act: { client_id: client.clientId, ...(typeof subject.client_id === 'string' ? { sub: subject.client_id } : {}) },
      lifetimeSeconds: client.accessTokenLifetimeSeconds,
    });
    return { access_token: token, token_type: request.jkt ? 'DPoP' : 'Bearer', expires_in: client.accessTokenLifetimeSeconds, scope: scopes.join(' '), issued_token_type: ACCESS_TOKEN_TYPE };
  };
}
