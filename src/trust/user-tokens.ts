import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import type { AttestationDetails } from './attestation';
import { CLAIM, issueAccessToken, type UserIdentity } from './access-token';
import type { Client } from './clients';
import { REFRESH_LIFETIME_S, type RefreshGrant } from './login-flow';
import { SIGNING_ALG } from './signing-keys';
import { detailsContent, type TokenRequest, type TokenResponse } from './token-request';

/** The tokens of a user flow: access token (with the login's attestation), id token, rotating refresh token. */
export async function issueUserTokens(
  request: TokenRequest,
  input: {
    client: Client;
    user: UserIdentity;
    /** The scopes and API of this token. */
    scopes: string[];
    audience: string;
    /** The login's scopes and APIs, kept for the refreshes. */
    login: { scopes: string[]; audience: string; audiences?: string[] };
    /** The attestation of this token. */
    details?: AttestationDetails;
    /** The attestation of the login (PAR), kept for the refreshes. */
    loginDetails?: AttestationDetails;
    nonce?: string;
  },
): Promise<TokenResponse> {
  const { client, user, scopes, audience, details } = input;
  const { services, sandbox, issuer, now } = request;
  const { token } = await issueAccessToken(services.keys, sandbox, issuer, now, {
    client,
    scopes,
    audience,
    jkt: request.jkt,
    user,
    ...detailsContent(client, details),
    lifetimeSeconds: client.accessTokenLifetimeSeconds,
  });
  const response: TokenResponse = {
    access_token: token,
    token_type: request.jkt ? 'DPoP' : 'Bearer',
    expires_in: client.accessTokenLifetimeSeconds,
    scope: scopes.join(' '),
  };
  const nowS = Math.floor(now.getTime() / 1000);
  if (scopes.includes('openid')) {
    const key = await services.keys.current(sandbox);
    response.id_token = await new SignJWT({
      sub: user.sub,
      auth_time: user.authTime,
      sid: user.sid,
      idp: 'testidp-oidc',
      ...(input.nonce ? { nonce: input.nonce } : {}),
      name: user.name,
      given_name: user.givenName,
      family_name: user.familyName,
      ...(user.middleName ? { middle_name: user.middleName } : {}),
      [CLAIM.pid]: user.pid,
      [CLAIM.pidPseudonym]: user.sub,
      [CLAIM.securityLevel]: '4',
      [CLAIM.assuranceLevel]: 'high',
      [CLAIM.network]: 'internett',
      ...(user.hprNumber ? { [CLAIM.hprNumber]: user.hprNumber } : {}),
    })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(client.clientId)
      .setIssuedAt(nowS)
      .setExpirationTime(nowS + 300)
      .sign(key.privateKey);
  }
  if (scopes.includes('offline_access')) {
    const handle = randomBytes(32).toString('base64url');
    const { login } = input;
    const grant: RefreshGrant = {
      clientId: client.clientId,
      scopes: login.scopes,
      audience: login.audience,
      ...(login.audiences ? { audiences: login.audiences } : {}),
      pid: user.pid,
      authTime: user.authTime,
      loginDetails: input.loginDetails,
      jkt: request.jkt,
    };
    await services.state.put(sandbox, 'refresh', handle, grant, now.getTime() + REFRESH_LIFETIME_S * 1000);
    response.refresh_token = handle;
    response.rt_expires_in = REFRESH_LIFETIME_S;
  }
  return response;
}
