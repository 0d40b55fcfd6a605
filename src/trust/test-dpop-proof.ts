import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { type DpopKey, makeDpopKey, makeDpopProof } from './dpop-client';

/**
 * DPoP proofs made by the test-token service (HelseID's `createDPoPTokenWithDPoPProof`), right or wrong on
 * purpose as its `InvalidDPoPProofParameters` say (HelseID.Samples, TestTokenDemo/TttModels/Request).
 */
export const INVALID_DPOP_PROOF_PARAMETERS = [
  'None',
  'DontSetHtuClaimValue',
  'DontSetHtmClaimValue',
  'SetIatValueInThePast',
  'SetIatValueInTheFuture',
  'DontSetAthClaimValue',
  'DontSetAlgHeader',
  'DontSetJwkHeader',
  'DontSetJtiClaim',
  'SetAlgHeaderToASymmetricAlgorithm',
  'SetPrivateKeyInJwkHeader',
  'SetInvalidTypHeaderValue',
  'SetAnInvalidSignature',
] as const;
export type InvalidDpopProof = (typeof INVALID_DPOP_PROOF_PARAMETERS)[number];

/** The enum as .NET sends it: its name (JsonStringEnumConverter) or its number. */
export function invalidDpopProofOf(value: unknown): InvalidDpopProof | undefined {
  if (value === undefined || value === null) return 'None';
  if (typeof value === 'number') return INVALID_DPOP_PROOF_PARAMETERS[value];
  return INVALID_DPOP_PROOF_PARAMETERS.find(
    (name) => typeof value === 'string' && name.toLowerCase() === value.toLowerCase(),
  );
}

/** The proof key: the caller's private JWK (privateKeyForProofCreation) or a new ES256 key. */
export async function proofKeyOf(privateJwk: JWK | undefined): Promise<DpopKey> {
  if (!privateJwk) return makeDpopKey();
  const alg = privateJwk.alg ?? (privateJwk.kty === 'RSA' ? 'RS256' : privateJwk.crv === 'P-384' ? 'ES384' : 'ES256');
  const privateKey = (await importJWK(privateJwk, alg)) as DpopKey['privateKey'];
  const publicJwk = Object.fromEntries(
    Object.entries(privateJwk).filter(([k]) => !['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].includes(k)),
  ) as JWK;
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk) };
}

const HOUR_S = 3600;

export async function testDpopProof(
  key: DpopKey,
  input: { method: string; url: string; accessToken: string; invalid: InvalidDpopProof },
): Promise<string> {
  const nowS = Math.floor(Date.now() / 1000);
  const base = { method: input.method, url: input.url, accessToken: input.accessToken };
  switch (input.invalid) {
    case 'DontSetHtuClaimValue':
      return makeDpopProof(key, { ...base, overrides: { payload: { htu: undefined } } });
    case 'DontSetHtmClaimValue':
      return makeDpopProof(key, { ...base, overrides: { payload: { htm: undefined } } });
    case 'SetIatValueInThePast':
      return makeDpopProof(key, { ...base, iat: nowS - HOUR_S });
    case 'SetIatValueInTheFuture':
      return makeDpopProof(key, { ...base, iat: nowS + HOUR_S });
    case 'DontSetAthClaimValue':
      return makeDpopProof(key, { ...base, overrides: { payload: { ath: undefined } } });
    case 'DontSetJwkHeader':
      return makeDpopProof(key, { ...base, overrides: { header: { jwk: undefined } } });
    case 'DontSetJtiClaim':
      return makeDpopProof(key, { ...base, overrides: { payload: { jti: undefined } } });
    case 'SetInvalidTypHeaderValue':
      return makeDpopProof(key, { ...base, overrides: { header: { typ: 'JWT' } } });
    case 'SetPrivateKeyInJwkHeader': {
      const privateJwk = await exportJWK(key.privateKey);
      return makeDpopProof(key, { ...base, overrides: { header: { jwk: privateJwk } } });
    }
    case 'DontSetAlgHeader': {
      const [, payload, signature] = (await makeDpopProof(key, base)).split('.');
      const header = Buffer.from(JSON.stringify({ typ: 'dpop+jwt', jwk: key.publicJwk })).toString('base64url');
      return `${header}.${payload}.${signature}`;
    }
    case 'SetAlgHeaderToASymmetricAlgorithm': {
      const [, payload] = (await makeDpopProof(key, base)).split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.publicJwk })
        .sign(randomBytes(32));
    }
    case 'SetAnInvalidSignature': {
      const [header, payload] = (await makeDpopProof(key, base)).split('.');
      const stranger = await generateKeyPair(key.alg);
      const [, , signature] = (await makeDpopProof({ ...key, privateKey: stranger.privateKey }, base)).split('.');
      return `${header}.${payload}.${signature}`;
    }
    default:
      return makeDpopProof(key, base);
  }
}
