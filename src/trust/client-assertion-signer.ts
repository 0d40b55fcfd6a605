import { importJWK, type JWK, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';

/**
 * The vendor's side of private_key_jwt: signs a client assertion as a HelseID client does. Used by the
 * benchmark, the scenarios and the tests, never by the server.
 */
export interface AssertionOptions {
  aud?: string | string[];
  typ?: string;
  alg?: string;
  lifetimeSeconds?: number;
  iatOffsetSeconds?: number;
  jti?: string;
  extraClaims?: Record<string, unknown>;
  iss?: string;
}

export async function signClientAssertion(
  privateJwk: JWK,
  clientId: string,
  issuer: string,
  options: AssertionOptions = {},
): Promise<string> {
  const alg = options.alg ?? 'RS256';
  const key = await importJWK(privateJwk, alg);
  const now = Math.floor(Date.now() / 1000) + (options.iatOffsetSeconds ?? 0);
  return new SignJWT({ ...options.extraClaims })
    .setProtectedHeader({ alg, kid: privateJwk.kid, typ: options.typ ?? 'client-authentication+jwt' })
    .setIssuer(options.iss ?? clientId)
    .setSubject(clientId)
    .setAudience(options.aud ?? issuer)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + (options.lifetimeSeconds ?? 30))
    .setJti(options.jti ?? randomUUID())
    .sign(key);
}
