import type { NavetErrorCode } from '../codes/error-codes';
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';
import { CLOCK_SKEW_S, ClientJwtError, numericDate, verifyClientSignedJwt } from './client-signed-jwt';
import type { Client, Clients } from './clients';
import { TrustError } from '../http/trust-error';
import type { TrustState } from './trust-state';

/**
 * private_key_jwt client authentication as HelseID does it: typ client-authentication+jwt (or the older
 * JWT), iss = sub = client_id, aud = the issuer (or the older token endpoint URL), at most 60 s of
 * lifetime (by nbf/exp; iat may be absent or a string of digits), each jti once, and the allowed algorithms.
 */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];

export interface AuthenticatedClient {
  client: Client;
  claims: JWTPayload & Record<string, unknown>;
}

const invalidClient = (code: NavetErrorCode, text: string) => new TrustError('invalid_client', code, text, 401);

export async function authenticateClient(input: {
  sandbox: string;
  form: Record<string, string | undefined>;
  issuer: string;
  tokenEndpoint: string;
  now: Date;
  clients: Clients;
  replay: TrustState;
}): Promise<AuthenticatedClient> {
  const { form, issuer, tokenEndpoint, now } = input;
  if (!form.client_assertion_type && !form.client_assertion) {
    throw invalidClient(
      'NAVET-CLIENT-AUTH-MISSING',
      `HelseID authenticates clients with private_key_jwt only: send client_assertion_type=${CLIENT_ASSERTION_TYPE} and a signed client_assertion`,
    );
  }
  if (form.client_secret)
    throw invalidClient(
      'NAVET-CLIENT-SECRET',
      'client_secret is not accepted: HelseID clients authenticate with private_key_jwt',
    );
  if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE) {
    throw invalidClient(
      'NAVET-ASSERTION-TYPE',
      `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}; got ${JSON.stringify(form.client_assertion_type ?? null)}`,
    );
  }
  const assertion = form.client_assertion ?? '';
  if (assertion.length > 16384)
    throw invalidClient('NAVET-ASSERTION-TOO-LARGE', 'client_assertion is larger than 16 KiB');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    unverified = decodeJwt(assertion);
  } catch {
    throw invalidClient(
      'NAVET-ASSERTION-MALFORMED',
      'client_assertion is not a signed JWT (three base64url parts: header.payload.signature)',
    );
  }
  if (!header.alg || !ASSERTION_ALGORITHMS.includes(header.alg)) {
    throw invalidClient(
      'NAVET-ASSERTION-ALG',
      `client_assertion alg ${JSON.stringify(header.alg ?? null)} is not allowed; use one of ${ASSERTION_ALGORITHMS.join(', ')}`,
    );
  }
  // Absent typ is accepted like the older "JWT" (general-purpose libraries such as openid-client 5 send
  // none; whether HelseID insists is not verified). Any other typ is another kind of token: refused.
  if (header.typ !== undefined && header.typ !== 'client-authentication+jwt' && header.typ !== 'JWT') {
    throw invalidClient(
      'NAVET-ASSERTION-TYP',
      `client_assertion typ must be "client-authentication+jwt" (older clients: "JWT"); got ${JSON.stringify(header.typ)}`,
    );
  }
  const clientId = unverified.iss;
  if (typeof clientId !== 'string' || unverified.sub !== clientId) {
    throw invalidClient('NAVET-ASSERTION-ISS-SUB', 'client_assertion iss and sub must both be the client_id');
  }
  if (form.client_id !== undefined && form.client_id !== clientId) {
    throw invalidClient(
      'NAVET-ASSERTION-CLIENT-ID',
      `client_id "${form.client_id}" differs from the assertion's iss/sub "${clientId}"`,
    );
  }
  const client = await input.clients.find(input.sandbox, clientId);
  if (!client)
    throw invalidClient(
      'NAVET-CLIENT-UNKNOWN',
      `No client "${clientId}" is registered in this sandbox; register it with POST /api/sandboxes/{name}/clients`,
    );

  let claims: JWTPayload & Record<string, unknown>;
  try {
    // aud: the issuer (with or without the trailing slash of HelseID's own example) or, in older clients, the endpoint
    claims = await verifyClientSignedJwt(assertion, client.jwks, {
      algorithms: ASSERTION_ALGORITHMS,
      audiences: [issuer, `${issuer}/`, tokenEndpoint],
      now,
      what: 'client_assertion',
    });
  } catch (error) {
    if (error instanceof ClientJwtError) throw invalidClient(`NAVET-ASSERTION-${error.reason}`, error.message);
    throw error;
  }
  if (typeof claims.jti !== 'string' || !claims.jti)
    throw invalidClient(
      'NAVET-ASSERTION-CLAIM',
      'client_assertion claim "jti" is required: a new unique id for every assertion',
    );
  const exp = numericDate(claims.exp) as number;
  if (
    !(await input.replay.claimOnce(
      input.sandbox,
      'assertion-jti',
      `${clientId}:${claims.jti}`,
      (exp + CLOCK_SKEW_S) * 1000,
      now.getTime(),
    ))
  ) {
    throw invalidClient(
      'NAVET-ASSERTION-REPLAY',
      `client_assertion jti "${claims.jti}" was used before; make a new assertion (new jti) for every request`,
    );
  }
  return { client, claims };
}
