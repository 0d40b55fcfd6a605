import type { NavetErrorCode } from '../codes/error-codes';
import {
  base64url,
  calculateJwkThumbprint,
  decodeJwt,
  decodeProtectedHeader,
  importJWK,
  type JWK,
  jwtVerify,
  type KeyLike,
} from 'jose';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { TrustError } from '../http/trust-error';
import type { TrustState } from './trust-state';

/** DPoP proofs (RFC 9449), checked in the spec's order, and the nonces the token endpoint hands out. */
export const DPOP_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const MAX_FUTURE_S = 5;
const MAX_AGE_S = 60;
const NONCE_WINDOW_MS = 5 * 60 * 1000;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

export interface VerifiedDpopProof {
  jkt: string;
  jti: string;
  iat: number;
  nonce?: string;
  publicJwk: JWK;
}

export interface DpopCheck {
  sandbox: string;
  proof: string | undefined;
  method: string;
  /** The URL the client should have put in htu: scheme, host and path. */
  url: string;
  now: Date;
  accessToken?: string;
  expectedJkt?: string;
  replay: TrustState;
  nonce?: { required: boolean; nonces: DpopNonces };
}

const invalid = (code: NavetErrorCode, text: string) => new TrustError('invalid_dpop_proof', code, text, 400);

function normalizeUrl(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.toLowerCase();
  } catch {
    return undefined;
  }
}

const MAX_KEPT_KEYS = 10_000;
const importedKeys = new Map<string, KeyLike>();

/**
 * The proof's public key, imported once per thumbprint and algorithm (a client signs many proofs with one
 * key; the thumbprint covers every member that makes the key, so the same thumbprint is the same key).
 */
async function proofKey(jwk: JWK, alg: string, jkt: string): Promise<KeyLike> {
  const id = `${alg} ${jkt}`;
  let key = importedKeys.get(id);
  if (!key) {
    const imported = await importJWK({ ...jwk, ext: true }, alg);
    if (imported instanceof Uint8Array || imported.type !== 'public') throw new Error('not a public key');
    if (importedKeys.size >= MAX_KEPT_KEYS) importedKeys.delete(importedKeys.keys().next().value as string);
    importedKeys.set(id, imported);
    key = imported;
  }
  return key;
}

export async function verifyDpopProof(check: DpopCheck): Promise<VerifiedDpopProof> {
  const { proof } = check;
  if (!proof)
    throw invalid(
      'NAVET-DPOP-MISSING',
      'Send a DPoP proof in the DPoP header (a JWT with typ dpop+jwt signed by your DPoP key)',
    );
  let header: ReturnType<typeof decodeProtectedHeader>;
  let payload: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(proof);
    payload = decodeJwt(proof) as Record<string, unknown>;
  } catch {
    throw invalid('NAVET-DPOP-MALFORMED', 'The DPoP header is not a signed JWT (header.payload.signature)');
  }
  if (header.typ !== 'dpop+jwt')
    throw invalid('NAVET-DPOP-TYP', `A DPoP proof must have typ "dpop+jwt"; got ${JSON.stringify(header.typ ?? null)}`);
  if (typeof header.alg === 'string' && /^HS/.test(header.alg))
    throw invalid(
      'NAVET-DPOP-SYMMETRIC-ALG',
      `A DPoP proof must be signed with an asymmetric key; ${header.alg} is symmetric. Use one of ${DPOP_ALGORITHMS.join(', ')}`,
    );
  if (!header.alg || !DPOP_ALGORITHMS.includes(header.alg))
    throw invalid(
      'NAVET-DPOP-ALG',
      `DPoP proof alg ${JSON.stringify(header.alg ?? null)} is not allowed; use one of ${DPOP_ALGORITHMS.join(', ')}`,
    );
  const jwk = header.jwk as JWK | undefined;
  if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk))
    throw invalid('NAVET-DPOP-JWK', 'A DPoP proof must carry its public key in the jwk header (a JSON object)');
  if (PRIVATE_MEMBERS.some((m) => m in jwk))
    throw invalid(
      'NAVET-DPOP-PRIVATE-KEY',
      'The jwk header of the DPoP proof holds private key material; send only the public key',
    );
  let jkt: string;
  try {
    jkt = await calculateJwkThumbprint(jwk);
  } catch {
    throw invalid(
      'NAVET-DPOP-JWK',
      'The jwk header of the DPoP proof is not a complete public key (RFC 7517: kty with its members as strings, e.g. EC: crv, x, y; RSA: n, e)',
    );
  }
  if (check.expectedJkt !== undefined && jkt !== check.expectedJkt) {
    throw invalid(
      'NAVET-DPOP-JKT-MISMATCH',
      'The DPoP proof is signed with another key than the one the access token is bound to (cnf.jkt)',
    );
  }
  try {
    await jwtVerify(proof, await proofKey(jwk, header.alg, jkt), { algorithms: DPOP_ALGORITHMS, typ: 'dpop+jwt' });
  } catch {
    throw invalid('NAVET-DPOP-SIGNATURE', 'The DPoP proof signature does not verify with its jwk');
  }
  if (check.accessToken !== undefined) {
    if (typeof payload.ath !== 'string')
      throw invalid(
        'NAVET-DPOP-ATH-MISSING',
        'A DPoP proof sent with an access token must carry ath = base64url(SHA-256(access token))',
      );
    const expected = base64url.encode(createHash('sha256').update(check.accessToken).digest());
    if (payload.ath !== expected)
      throw invalid('NAVET-DPOP-ATH-MISMATCH', "The DPoP proof's ath is not the hash of this access token");
  }
  if (typeof payload.jti !== 'string' || !payload.jti)
    throw invalid('NAVET-DPOP-JTI', 'A DPoP proof must carry a unique jti');
  if (payload.htm !== check.method)
    throw invalid(
      'NAVET-DPOP-HTM',
      `The DPoP proof's htm must be "${check.method}"; got ${JSON.stringify(payload.htm ?? null)}`,
    );
  if (typeof payload.htu !== 'string')
    throw invalid('NAVET-DPOP-HTU', `The DPoP proof must carry htu = "${check.url}"`);
  if (/[?#]/.test(payload.htu))
    throw invalid('NAVET-DPOP-HTU', `The DPoP proof's htu must have no query or fragment; send "${check.url}"`);
  if (normalizeUrl(payload.htu) !== normalizeUrl(check.url))
    throw invalid(
      'NAVET-DPOP-HTU',
      `The DPoP proof's htu "${payload.htu}" is not this request's URL; send "${check.url}"`,
    );
  const nowS = Math.floor(check.now.getTime() / 1000);
  if (typeof payload.iat !== 'number') throw invalid('NAVET-DPOP-IAT', 'A DPoP proof must carry iat (seconds)');
  if (payload.iat > nowS + MAX_FUTURE_S)
    throw invalid(
      'NAVET-DPOP-IAT-FUTURE',
      `The DPoP proof's iat is ${payload.iat - nowS} s in the future by the sandbox clock; make the proof just before sending`,
    );
  if (payload.iat < nowS - MAX_AGE_S)
    throw invalid(
      'NAVET-DPOP-IAT-PAST',
      `The DPoP proof is ${nowS - payload.iat} s old by the sandbox clock (at most ${MAX_AGE_S} s); make a new proof for every request`,
    );
  if (check.nonce?.required) {
    const nonce = typeof payload.nonce === 'string' ? payload.nonce : undefined;
    if (!nonce || !(await check.nonce.nonces.isValid(check.sandbox, nonce, check.now))) {
      const fresh = await check.nonce.nonces.issue(check.sandbox, check.now);
      throw new TrustError(
        'use_dpop_nonce',
        'NAVET-DPOP-NONCE',
        nonce
          ? 'The DPoP nonce is stale or not from this sandbox; retry with the nonce in the DPoP-Nonce header'
          : 'Retry with the nonce from the DPoP-Nonce header in the DPoP proof',
        400,
        { 'DPoP-Nonce': fresh },
      );
    }
  }
  if (
    !(await check.replay.claimOnce(
      check.sandbox,
      'dpop-jti',
      `${jkt}:${payload.jti}`,
      (payload.iat + 120) * 1000,
      check.now.getTime(),
    ))
  ) {
    throw invalid('NAVET-DPOP-REPLAY', 'This DPoP proof (its jti) was used before; make a new proof for every request');
  }
  return {
    jkt,
    jti: payload.jti,
    iat: payload.iat,
    nonce: typeof payload.nonce === 'string' ? payload.nonce : undefined,
    publicJwk: jwk,
  };
}

/**
 * Nonces as HMACs of the sandbox and a 5-minute window, with a per-sandbox secret in the database:
 * every Navet process sharing it issues and accepts the same nonces. The previous window stays valid.
 */
export class DpopNonces {
  constructor(private readonly state: TrustState) {}

  private async secret(sandbox: string): Promise<string> {
    const existing = await this.state.get<string>(sandbox, 'secret', 'dpop-nonce', 0);
    if (existing) return existing;
    // two processes may race here: the first write wins and both read it back
    const fresh = randomBytes(32).toString('base64url');
    await this.state.putIfAbsent(sandbox, 'secret', 'dpop-nonce', fresh, Number.MAX_SAFE_INTEGER);
    return (await this.state.get<string>(sandbox, 'secret', 'dpop-nonce', 0)) as string;
  }

  private nonceFor(secret: string, sandbox: string, window: number): string {
    return createHmac('sha256', secret).update(`${sandbox}:${window}`).digest('base64url');
  }

  async issue(sandbox: string, now: Date): Promise<string> {
    return this.nonceFor(await this.secret(sandbox), sandbox, Math.floor(now.getTime() / NONCE_WINDOW_MS));
  }

  async isValid(sandbox: string, nonce: string, now: Date): Promise<boolean> {
    const secret = await this.secret(sandbox);
    const window = Math.floor(now.getTime() / NONCE_WINDOW_MS);
    return nonce === this.nonceFor(secret, sandbox, window) || nonce === this.nonceFor(secret, sandbox, window - 1);
  }
}
