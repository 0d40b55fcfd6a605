import { compactVerify, createLocalJWKSet, errors, type JWK, type JWTPayload } from 'jose';
import { NavetError } from '../codes/navet-error';

/**
 * A JWT a client signs for HelseID (client assertion, PAR request object), checked as HelseID checks it:
 * the signature with the client's registered keys, `aud`, and a lifetime judged by `nbf`/`exp` (at most
 * 60 s). `iat` is optional and may be a string of digits: .NET's JwtPayload writes it so (the PJD demo
 * EPJ, the native samples, HelseID's "using client assertions" example) and Nimbus leaves it out (the
 * Kotlin Kjernejournal client). jose's jwtVerify refuses both, so the claims are checked here.
 */
export const MAX_LIFETIME_S = 60;
export const CLOCK_SKEW_S = 5;

/** Why a client-signed JWT was refused; `reason` is the suffix of the caller's error code (e.g. EXPIRED). */
export class ClientJwtError extends NavetError {
  constructor(
    readonly reason: 'KEY' | 'SIGNATURE' | 'INVALID' | 'AUD' | 'EXPIRED' | 'NOT-YET-VALID' | 'LIFETIME' | 'CLAIM',
    message: string,
  ) {
    super(message, { code: `NAVET-ASSERTION-${reason}`, status: 400 });
  }
}

/** A NumericDate as HelseID reads it: a number of seconds, or a string of digits; null when it is neither. */
export function numericDate(value: unknown): number | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d{1,12}$/.test(value)) return Number(value);
  return null;
}

function timeClaim(payload: Record<string, unknown>, name: 'exp' | 'nbf' | 'iat', what: string): number | undefined {
  const value = numericDate(payload[name]);
  if (value === null)
    throw new ClientJwtError(
      'CLAIM',
      `${what} claim "${name}" must be a NumericDate (seconds since 1970, a number or a string of digits); got ${JSON.stringify(payload[name])}`,
    );
  return value;
}

export async function verifyClientSignedJwt(
  jwt: string,
  jwks: { keys: JWK[] },
  options: {
    algorithms: string[];
    /** Accepted `aud` values (any one of them). */
    audiences: string[];
    now: Date;
    /** e.g. "client_assertion", for the messages. */
    what: string;
  },
): Promise<JWTPayload & Record<string, unknown>> {
  const { what } = options;
  let payloadBytes: Uint8Array;
  try {
    ({ payload: payloadBytes } = await compactVerify(jwt, createLocalJWKSet(jwks), { algorithms: options.algorithms }));
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey)
      throw new ClientJwtError(
        'KEY',
        `${what} is not signed by any key registered for this client (check kid and key)`,
      );
    if (error instanceof errors.JWSSignatureVerificationFailed)
      throw new ClientJwtError('SIGNATURE', `${what} signature does not verify with the client's registered key`);
    throw new ClientJwtError('INVALID', `${what} could not be verified: ${(error as Error).message}`);
  }
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(payloadBytes));
  } catch {
    throw new ClientJwtError('INVALID', `${what} payload is not JSON`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new ClientJwtError('INVALID', `${what} payload must be a JSON object`);
  const claims = payload as JWTPayload & Record<string, unknown>;

  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => typeof aud === 'string' && options.audiences.includes(aud))) {
    throw new ClientJwtError(
      'AUD',
      `${what} aud must be one of ${options.audiences.map((a) => `"${a}"`).join(', ')}; got ${JSON.stringify(claims.aud ?? null)}`,
    );
  }
  const exp = timeClaim(claims, 'exp', what);
  const nbf = timeClaim(claims, 'nbf', what);
  const iat = timeClaim(claims, 'iat', what);
  const nowS = Math.floor(options.now.getTime() / 1000);
  if (exp === undefined)
    throw new ClientJwtError('CLAIM', `${what} claim "exp" is required: at most ${MAX_LIFETIME_S} s after nbf`);
  if (exp <= nowS - CLOCK_SKEW_S)
    throw new ClientJwtError(
      'EXPIRED',
      `${what} has expired (exp is in the past by the sandbox clock); make a new one for every request`,
    );
  if (nbf !== undefined && nbf > nowS + CLOCK_SKEW_S)
    throw new ClientJwtError('NOT-YET-VALID', `${what} nbf is in the future by the sandbox clock`);
  const start = nbf ?? iat ?? nowS;
  if (exp - start > MAX_LIFETIME_S) {
    throw new ClientJwtError(
      'LIFETIME',
      `${what} may live at most ${MAX_LIFETIME_S} s; exp is ${exp - start} s after ${nbf !== undefined ? 'nbf' : iat !== undefined ? 'iat' : 'now'}`,
    );
  }
  return claims;
}
