import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, type KeyLike, SignJWT, base64url } from 'jose';
import { createHash, randomUUID } from 'node:crypto';

/** The client's side of DPoP, for tests, scenarios and the benchmark (the server never uses it). */
export interface DpopKey {
  alg: string;
  privateKey: KeyLike;
  publicJwk: JWK;
  jkt: string;
}

export async function makeDpopKey(alg = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

export interface ProofOptions {
  method: string;
  url: string;
  accessToken?: string;
  nonce?: string;
  iat?: number;
  jti?: string;
  /** Breaks the proof on purpose: header members or payload claims to set (undefined removes). */
  overrides?: { header?: Record<string, unknown>; payload?: Record<string, unknown> };
}

export async function makeDpopProof(key: DpopKey, options: ProofOptions): Promise<string> {
  const payload: Record<string, unknown> = {
    jti: options.jti ?? randomUUID(),
    htm: options.method,
    htu: options.url,
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.accessToken
      ? { ath: base64url.encode(createHash('sha256').update(options.accessToken).digest()) }
      : {}),
    ...(options.nonce ? { nonce: options.nonce } : {}),
    ...options.overrides?.payload,
  };
  const header: Record<string, unknown> = {
    alg: key.alg,
    typ: 'dpop+jwt',
    jwk: key.publicJwk,
    ...options.overrides?.header,
  };
  const clean = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return new SignJWT(clean(payload)).setProtectedHeader(clean(header) as { alg: string }).sign(key.privateKey);
}
