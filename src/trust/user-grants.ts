import type { NavetErrorCode } from '../codes/error-codes';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';
import type { ResourceStore } from '../store/resource-store';
import { CLAIM, issueAccessToken } from './access-token';
import type { AttestationDetails } from './attestation';
import type { AuthorizationCode, RefreshGrant } from './login-flow';
import { SIGNING_ALG } from './signing-keys';
import type { Client } from './clients';
import {
  detailsContent,
  type GrantHandler,
  resolveScopesAndAudience,
  tokenOfLogin,
  type TokenRequest,
} from './token-request';
import { TrustError } from '../http/trust-error';
import { userIdentity } from './user-identity';
import { issueUserTokens } from './user-tokens';

/** The grants of user flows: authorization_code (PAR + PKCE), refresh_token (rotating) and token exchange. */
const invalidGrant = (code: NavetErrorCode, text: string) => new TrustError('invalid_grant', code, text);

/**
 * One attestation per token request (HelseID's profile for the tillitsrammeverk): one pushed with the login
 * (PAR) rides in every token of that login; one in the client assertion is the attestation of that token
 * only. Both in one request is a double structure.
 */
function attestationOfRequest(
  request: TokenRequest,
  fromLogin: AttestationDetails | undefined,
): AttestationDetails | undefined {
  if (fromLogin && request.details) {
    throw new TrustError(
      'access_denied',
      'HID-DOUBLE-STRUCTURE',
      'This login already carries an attestation (from the pushed authorization request); do not send another in the client assertion',
    );
  }
  return fromLogin ?? request.details;
}

export function authorizationCodeGrant(store: ResourceStore): GrantHandler {
  return async (request) => {
    const { form, services, sandbox, now } = request;
    const { client } = request.authenticated;
    if (!form.code) throw new TrustError('invalid_request', 'NAVET-CODE-MISSING', 'code is required');
    const code = await services.state.take<AuthorizationCode>(sandbox, 'code', form.code, now.getTime());
    if (!code)
      throw invalidGrant(
        'NAVET-CODE-INVALID',
        'The authorization code is unknown, used or expired (codes are single-use and live 60 s)',
      );
    if (code.clientId !== client.clientId)
      throw invalidGrant('NAVET-CODE-CLIENT', 'The authorization code was issued to another client');
    if (form.redirect_uri !== code.redirectUri)
      throw invalidGrant(
        'NAVET-CODE-REDIRECT-URI',
        `redirect_uri must be the one of the authorization request (${code.redirectUri})`,
      );
    if (!form.code_verifier) throw invalidGrant('NAVET-PKCE-VERIFIER-MISSING', 'code_verifier is required (PKCE)');
    const challenge = createHash('sha256').update(form.code_verifier).digest('base64url');
    if (challenge !== code.codeChallenge)
      throw invalidGrant(
        'NAVET-PKCE-MISMATCH',
        'code_verifier does not match the code_challenge of the authorization request',
      );
    const details = attestationOfRequest(request, code.details);
    const user = { ...(await userIdentity(store, sandbox, code.pid, client.clientId, now)), authTime: code.authTime };
    return issueUserTokens(request, {
      client,
      user,
      login: code,
      ...tokenOfLogin(code, form.resource),
      details,
      loginDetails: code.details,
      nonce: code.nonce,
    });
  };
}

export function refreshTokenGrant(store: ResourceStore): GrantHandler {
  return async (request) => {
    const { form, services, sandbox, now } = request;
    const { client } = request.authenticated;
    if (!form.refresh_token)
      throw new TrustError('invalid_request', 'NAVET-REFRESH-MISSING', 'refresh_token is required');
    const unknown = () =>
      invalidGrant(
        'NAVET-REFRESH-INVALID',
        'The refresh token is unknown, used or expired (refresh tokens rotate: use the newest one)',
      );
    // checked before it is taken: a token presented by another client (or key) stays usable by its owner
    const found = await services.state.get<RefreshGrant>(sandbox, 'refresh', form.refresh_token, now.getTime());
    if (!found) throw unknown();
    if (found.clientId !== client.clientId)
      throw invalidGrant('NAVET-REFRESH-CLIENT', 'The refresh token was issued to another client');
    if (found.jkt && found.jkt !== request.jkt)
      throw invalidGrant(
        'NAVET-REFRESH-DPOP-KEY',
        'This refresh token is bound to a DPoP key: send a DPoP proof made with that key',
      );
    const details = attestationOfRequest(request, found.loginDetails);
    const grant = await services.state.take<RefreshGrant>(sandbox, 'refresh', form.refresh_token, now.getTime());
    if (!grant) throw unknown();
    const asked = form.scope ? form.scope.split(/\s+/).filter(Boolean) : grant.scopes;
    const wider = asked.filter((s) => !grant.scopes.includes(s));
    if (wider.length)
      throw new TrustError(
        'invalid_scope',
        'NAVET-REFRESH-SCOPE',
        `A refresh cannot add scopes: ${wider.join(', ')} were not granted at login`,
      );
    const { audience, scopes } = tokenOfLogin({ ...grant, scopes: asked }, form.resource);
    const user = { ...(await userIdentity(store, sandbox, grant.pid, client.clientId, now)), authTime: grant.authTime };
    return issueUserTokens(request, {
      client,
      user,
      login: grant,
      scopes,
      audience,
      details,
      loginDetails: grant.loginDetails,
    });
  };
}

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/**
 * Who may exchange a token: only the API it was issued to (a client registered with "api" = its aud), as
 * in HelseID's token-exchange sample where the API is the actor. A token bound by DPoP to another key is
 * refused to anyone else outright, and a citizen's token never becomes a health-personnel token.
 */
function assertMayExchange(client: Client, subject: Record<string, unknown>, jkt: string | undefined): void {
  const audiences = (Array.isArray(subject.aud) ? subject.aud : [subject.aud]).filter(
    (a): a is string => typeof a === 'string',
  );
  const scopes = Array.isArray(subject.scope) ? subject.scope : String(subject.scope ?? '').split(' ');
  if (audiences.includes(CITIZEN_AUDIENCE) || scopes.includes(CITIZEN_AUDIENCE)) {
    throw invalidGrant(
      'NAVET-EXCHANGE-CITIZEN',
      "subject_token is a citizen's login token (navet:citizen); it cannot be exchanged for a token to the health-personnel APIs",
    );
  }
  const isAudience = client.api !== undefined && audiences.includes(client.api);
  const boundTo = (subject.cnf as { jkt?: unknown } | undefined)?.jkt;
  if (!isAudience && typeof boundTo === 'string' && boundTo !== jkt) {
    throw invalidGrant(
      'NAVET-EXCHANGE-DPOP-BOUND',
      'subject_token is bound by DPoP to another key (cnf.jkt), and this client is not the API it was issued to',
    );
  }
  if (!isAudience) {
    throw invalidGrant(
      'NAVET-EXCHANGE-NOT-AUDIENCE',
      `Only the API a token was issued to may exchange it: subject_token's aud is ${audiences.join(', ') || '(none)'}, and client "${client.clientId}" is ${client.api ? `the API ${client.api}` : 'not registered as an API (register it with "api": "<audience>")'}`,
    );
  }
}

const CITIZEN_AUDIENCE = 'navet:citizen';

export function tokenExchangeGrant(store: ResourceStore): GrantHandler {
  return async (request) => {
    const { form, services, sandbox, now, issuer } = request;
    const { client } = request.authenticated;
    if (!form.subject_token)
      throw new TrustError(
        'invalid_request',
        'NAVET-EXCHANGE-SUBJECT-MISSING',
        'subject_token is required: the access token to exchange',
      );
    if (form.subject_token_type !== ACCESS_TOKEN_TYPE)
      throw new TrustError(
        'invalid_request',
        'NAVET-EXCHANGE-SUBJECT-TYPE',
        `subject_token_type must be ${ACCESS_TOKEN_TYPE}`,
      );
    let subject: Record<string, unknown>;
    try {
      const keys = createLocalJWKSet({ keys: await services.keys.published(sandbox) });
      subject = (
        await jwtVerify(form.subject_token, keys, {
          algorithms: [SIGNING_ALG],
          issuer,
          currentDate: now,
          typ: 'at+jwt',
        })
      ).payload as Record<string, unknown>;
    } catch (error) {
      throw invalidGrant(
        'NAVET-EXCHANGE-SUBJECT-INVALID',
        `subject_token is not a valid access token of this sandbox: ${(error as Error).message}`,
      );
    }
    assertMayExchange(client, subject, request.jkt);
    const { scopes, audience } = resolveScopesAndAudience(client, form.scope, form.resource);
    const pid = typeof subject[CLAIM.pid] === 'string' ? (subject[CLAIM.pid] as string) : undefined;
    const user = pid ? await userIdentity(store, sandbox, pid, client.clientId, now) : undefined;
    const attestation =
      (request.details?.attestation as Record<string, unknown> | undefined) ??
      (subject[CLAIM.attestation] as Record<string, unknown> | undefined);
    const { token } = await issueAccessToken(services.keys, sandbox, issuer, now, {
      client,
      scopes,
      audience,
      jkt: request.jkt,
      user,
      ...detailsContent(client, request.details),
      attestation,
      journalId: request.details?.journalId ?? (subject[CLAIM.journalId] as string | undefined),
      act: { client_id: client.clientId, ...(typeof subject.client_id === 'string' ? { sub: subject.client_id } : {}) },
      lifetimeSeconds: client.accessTokenLifetimeSeconds,
    });
    return {
      access_token: token,
      token_type: request.jkt ? 'DPoP' : 'Bearer',
      expires_in: client.accessTokenLifetimeSeconds,
      scope: scopes.join(' '),
      issued_token_type: ACCESS_TOKEN_TYPE,
    };
  };
}
