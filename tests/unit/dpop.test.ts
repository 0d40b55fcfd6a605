import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase, type DatabaseHandle } from '../../src/store/database';
import { type DpopCheck, DpopNonces, verifyDpopProof } from '../../src/trust/dpop';
import { type DpopKey, makeDpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { TrustError } from '../../src/http/trust-error';
import { TrustState } from '../../src/trust/trust-state';

let database: DatabaseHandle;
let state: TrustState;
let nonces: DpopNonces;
let key: DpopKey;
const dataDir = mkdtempSync(path.join(tmpdir(), 'navet-dpop-'));
const sandbox = `dpop-${process.pid}-${Date.now().toString(36)}`;
const url = `http://navet.test/sandboxes/${sandbox}/pjd/pingauth`;
const accessToken = 'header.payload.signature';

beforeAll(async () => {
  database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir });
  state = new TrustState(database.db);
  nonces = new DpopNonces(state);
  key = await makeDpopKey();
});
afterAll(async () => {
  await database.db
    .deleteFrom('trust_state')
    .where('sandbox', 'in', [sandbox, `${sandbox}-other`])
    .execute();
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function check(proof: string | undefined, extra: Partial<DpopCheck> = {}): DpopCheck {
  return {
    sandbox,
    proof,
    method: 'GET',
    url,
    now: new Date(),
    accessToken,
    expectedJkt: key.jkt,
    replay: state,
    ...extra,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TrustError) return error.code;
    throw error;
  }
  return 'accepted';
}

const proof = (options: Partial<Parameters<typeof makeDpopProof>[1]> = {}) =>
  makeDpopProof(key, { method: 'GET', url, accessToken, ...options });

describe('DPoP proofs at a resource server', () => {
  test('a valid proof passes and gives the key thumbprint', async () => {
    const verified = await verifyDpopProof(check(await proof()));
    expect(verified.jkt).toBe(key.jkt);
  });

  test.each([
    ['missing', async () => undefined, 'NAVET-DPOP-MISSING'],
    ['garbage', async () => 'not.a.jwt', 'NAVET-DPOP-MALFORMED'],
    ['typ JWT', () => proof({ overrides: { header: { typ: 'JWT' } } }), 'NAVET-DPOP-TYP'],
    ['no ath', () => proof({ overrides: { payload: { ath: undefined } } }), 'NAVET-DPOP-ATH-MISSING'],
    ['wrong ath', () => proof({ accessToken: 'another-token' }), 'NAVET-DPOP-ATH-MISMATCH'],
    ['no jti', () => proof({ overrides: { payload: { jti: undefined } } }), 'NAVET-DPOP-JTI'],
    ['wrong htm', () => proof({ method: 'POST' }), 'NAVET-DPOP-HTM'],
    ['htu with a query', () => proof({ url: `${url}?x=1` }), 'NAVET-DPOP-HTU'],
    ['htu of another host', () => proof({ url: url.replace('navet.test', 'evil.test') }), 'NAVET-DPOP-HTU'],
    ['iat in the past', () => proof({ iat: Math.floor(Date.now() / 1000) - 300 }), 'NAVET-DPOP-IAT-PAST'],
    ['iat in the future', () => proof({ iat: Math.floor(Date.now() / 1000) + 300 }), 'NAVET-DPOP-IAT-FUTURE'],
  ])('%s', async (_label, make, code) => {
    expect(await codeOf(verifyDpopProof(check(await make())))).toBe(code);
  });

  test('alg none is refused', async () => {
    const valid = await proof();
    const [, payload] = valid.split('.');
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk }));
    expect(await codeOf(verifyDpopProof(check(`${header}.${payload}.`)))).toBe('NAVET-DPOP-ALG');
  });

  test('HS256 signed with a secret is refused as symmetric', async () => {
    const forged = await new SignJWT({ jti: 'x', htm: 'GET', htu: url, iat: Math.floor(Date.now() / 1000) })
      .setProtectedHeader({ alg: 'HS256', typ: 'dpop+jwt', jwk: key.publicJwk } as never)
      .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
    expect(await codeOf(verifyDpopProof(check(forged)))).toBe('NAVET-DPOP-SYMMETRIC-ALG');
  });

  test('a private key in the jwk header is refused', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwk = await exportJWK(privateKey);
    expect(
      await codeOf(
        verifyDpopProof(check(await proof({ overrides: { header: { jwk: privateJwk } } }), { expectedJkt: undefined })),
      ),
    ).toBe('NAVET-DPOP-PRIVATE-KEY');
  });

  test('a proof by another key than the token is bound to is refused', async () => {
    const other = await makeDpopKey();
    expect(await codeOf(verifyDpopProof(check(await makeDpopProof(other, { method: 'GET', url, accessToken }))))).toBe(
      'NAVET-DPOP-JKT-MISMATCH',
    );
  });

  test('a proof whose signature does not match its jwk is refused', async () => {
    const other = await makeDpopKey();
    const forged = await makeDpopProof(other, {
      method: 'GET',
      url,
      accessToken,
      overrides: { header: { jwk: key.publicJwk } },
    });
    expect(await codeOf(verifyDpopProof(check(forged)))).toBe('NAVET-DPOP-SIGNATURE');
  });

  test('a replayed proof is refused', async () => {
    const once = await proof();
    expect(await codeOf(verifyDpopProof(check(once)))).toBe('accepted');
    expect(await codeOf(verifyDpopProof(check(once)))).toBe('NAVET-DPOP-REPLAY');
  });

  test('the sandbox clock decides what is old', async () => {
    const inAnHour = new Date(Date.now() + 3600_000);
    expect(await codeOf(verifyDpopProof(check(await proof(), { now: inAnHour })))).toBe('NAVET-DPOP-IAT-PAST');
    expect(
      await codeOf(
        verifyDpopProof(check(await proof({ iat: Math.floor(inAnHour.getTime() / 1000) }), { now: inAnHour })),
      ),
    ).toBe('accepted');
  });
});

describe('DPoP nonces at the token endpoint', () => {
  const tokenUrl = `http://navet.test/sandboxes/${sandbox}/helseid/connect/token`;
  const tokenCheck = (proofJwt: string, now = new Date(), forSandbox = sandbox): DpopCheck => ({
    sandbox: forSandbox,
    proof: proofJwt,
    method: 'POST',
    url: tokenUrl,
    now,
    replay: state,
    nonce: { required: true, nonces },
  });

  test('no nonce → use_dpop_nonce with a DPoP-Nonce header; the nonce then works', async () => {
    let error: unknown;
    try {
      await verifyDpopProof(tokenCheck(await makeDpopProof(key, { method: 'POST', url: tokenUrl })));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TrustError);
    const trustError = error as TrustError;
    expect(trustError.error).toBe('use_dpop_nonce');
    const nonce = trustError.headers['DPoP-Nonce'];
    expect(nonce).toBeTruthy();
    expect(
      await codeOf(verifyDpopProof(tokenCheck(await makeDpopProof(key, { method: 'POST', url: tokenUrl, nonce })))),
    ).toBe('accepted');
  });

  test('a nonce of another sandbox is refused', async () => {
    const foreign = await nonces.issue(`${sandbox}-other`, new Date());
    expect(
      await codeOf(
        verifyDpopProof(tokenCheck(await makeDpopProof(key, { method: 'POST', url: tokenUrl, nonce: foreign }))),
      ),
    ).toBe('NAVET-DPOP-NONCE');
  });

  test('a nonce of the previous window is accepted, an older one refused', async () => {
    const now = new Date();
    const fiveMinutesAgo = await nonces.issue(sandbox, new Date(now.getTime() - 5 * 60_000));
    const halfAnHourAgo = await nonces.issue(sandbox, new Date(now.getTime() - 30 * 60_000));
    expect(await nonces.isValid(sandbox, fiveMinutesAgo, now)).toBe(true);
    expect(await nonces.isValid(sandbox, halfAnHourAgo, now)).toBe(false);
  });
});
