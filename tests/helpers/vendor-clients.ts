import { importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type supertest from 'supertest';
import { type DpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { ASSERTION_TYPE } from './helseid-client';
import { TEST_BASE_URL } from './test-navet';

/**
 * JWTs signed the way NHN's public sample clients sign them, byte for byte in their claims and headers,
 * so that a test replays a real vendor's request.
 */
type Claims = Record<string, unknown>;
const nowS = () => Math.floor(Date.now() / 1000);

/**
 * .NET's JwtSecurityToken/JwtPayload with `new Claim(JwtClaimTypes.IssuedAt, ….ToString())`: iat is a JSON
 * string of digits; nbf/exp numbers 60 s apart; jti a GUID in "N" format. Sources: Pasientens-journaldokumenter
 * .NET/NativeClients/SimpleNativeClientWithDPoP/Program.cs (BuildClientAssertion, typ "JWT"),
 * .NET/PatientHealthRecordsEPJ/.../Controllers/HomeController.cs (BuildHelseIdJwt, typ client-authentication+jwt),
 * and HelseID's "Using client assertions" page (its example's aud ends with "/").
 */
export async function dotnetJwt(
  privateJwk: JWK,
  clientId: string,
  aud: string,
  options: { typ?: string; claims?: Claims } = {},
): Promise<string> {
  const now = nowS();
  const payload = {
    sub: clientId,
    iat: String(now),
    jti: randomUUID().replace(/-/g, ''),
    ...options.claims,
    nbf: now,
    exp: now + 60,
    iss: clientId,
    aud,
  };
  // jose's types want a numeric iat; the wire format of these clients has a string
  return new SignJWT(payload as unknown as JWTPayload)
    .setProtectedHeader({ alg: 'RS256', kid: privateJwk.kid, typ: options.typ ?? 'JWT' })
    .sign(await importJWK(privateJwk, 'RS256'));
}

/**
 * Nimbus JOSE (kjernejournal-innlogging-klient, helseid/HelseID.kt createClaims/_hentHelseIdToken): header only
 * {"alg": "RS256"} (no typ, no kid), claims aud (the token endpoint), jti, sub, iss, nbf, exp = nbf + 60, no iat;
 * the attestation as `authorization_details`.
 */
export async function nimbusJwt(privateJwk: JWK, clientId: string, aud: string, claims: Claims = {}): Promise<string> {
  const now = nowS();
  const payload = { aud, jti: randomUUID(), sub: clientId, iss: clientId, nbf: now, exp: now + 60, ...claims };
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256' }).sign(await importJWK(privateJwk, 'RS256'));
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** POST /connect/token with a DPoP proof, doing the use_dpop_nonce round-trip as both sample clients do. */
export async function tokenWithDpop(
  http: ReturnType<typeof supertest>,
  sandbox: string,
  key: DpopKey,
  form: (nonce?: string) => Promise<Record<string, string>>,
) {
  const tokenUrl = `${TEST_BASE_URL}/sandboxes/${sandbox}/helseid/connect/token`;
  const send = async (nonce?: string) =>
    http
      .post(`/sandboxes/${sandbox}/helseid/connect/token`)
      .type('form')
      .set('DPoP', await makeDpopProof(key, { method: 'POST', url: tokenUrl, nonce }))
      .send(await form(nonce));
  const first = await send();
  return first.status === 400 && first.body.error === 'use_dpop_nonce' ? send(first.headers['dpop-nonce']) : first;
}

export { ASSERTION_TYPE };
