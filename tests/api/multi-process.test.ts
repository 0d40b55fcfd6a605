import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signClientAssertion } from '../../src/trust/client-assertion-signer';
import { demoAttestation } from '../../src/trust/demo-attestation';
import { demoHospitalClient } from '../../src/bench/pjd-benchmarks';
import { type DpopKey, makeDpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { freePort, TEST_BASE_URL, uniqueSandboxName } from '../helpers/test-navet';

/**
 * Navet as several processes on one database (what `navet serve` does with NAVET_WORKERS, and what a load
 * balancer in front of several Navets does): nothing per process may matter. Two `navet serve` processes
 * share the database (SQLite file, or DATABASE_URL) and one public URL; a client's requests go to either.
 */
const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const FORM = 'application/x-www-form-urlencoded';
const SCOPE = 'nhn:kjernejournal/api';
const KOMAN = '04056600324';
const MALIN_BOGEN = '12119000465';

interface Serve {
  origin: string;
  stop(): Promise<void>;
}

async function startServe(dataDir: string, workers: number): Promise<Serve> {
  const port = await freePort();
  const child: ChildProcess = spawn(tsx, [path.join(root, 'src', 'main.ts'), 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      NAVET_BASE_URL: TEST_BASE_URL,
      NAVET_DATA_DIR: dataDir,
      NAVET_DEMO_SANDBOX: '',
      NAVET_LOG_LEVEL: 'silent',
      NAVET_WORKERS: String(workers),
    },
    stdio: 'ignore',
  });
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 1200 || child.exitCode !== null) throw new Error('navet serve did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    origin,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('several Navet processes on one database', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'navet-multi-'));
  let a: Serve;
  let b: Serve;
  const sandbox = uniqueSandboxName('multi');
  let admin: Record<string, string>;
  let key: DpopKey;
  let token: string;
  const issuer = `${TEST_BASE_URL}/sandboxes/${sandbox}/helseid`;
  const readPath = `/sandboxes/${sandbox}/critical-information/AllergyIntolerance`;

  /** A KJ read through the full chain at one process, with a proof for the public URL. */
  const read = async (at: Serve, proof?: string) =>
    fetch(`${at.origin}${readPath}`, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop:
          proof ??
          (await makeDpopProof(key, { method: 'GET', url: `${TEST_BASE_URL}${readPath}`, accessToken: token })),
        'nhn-source-system': 'multi-test',
        'nhn-patient-nin': MALIN_BOGEN,
      },
    });

  beforeAll(async () => {
    [a, b] = await Promise.all([startServe(dataDir, 1), startServe(dataDir, 1)]);
    const created = await fetch(`${a.origin}/api/sandboxes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait' },
      body: JSON.stringify({ name: sandbox, seed: 'fixtures', generator: { syntheticPatients: 0 } }),
    });
    expect(created.status).toBe(201);
    admin = { authorization: `Bearer ${((await created.json()) as { adminKey: string }).adminKey}` };
    key = await makeDpopKey();
  }, 240_000);

  afterAll(async () => {
    await fetch(`${a.origin}/api/sandboxes/${sandbox}`, { method: 'DELETE', headers: admin });
    await Promise.all([a.stop(), b.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a token issued by one process is accepted by the other, its DPoP nonce included', async () => {
    const client = demoHospitalClient();
    const ask = async (at: Serve, nonce?: string) =>
      fetch(`${at.origin}/sandboxes/${sandbox}/helseid/connect/token`, {
        method: 'POST',
        headers: {
          'content-type': FORM,
          dpop: await makeDpopProof(key, { method: 'POST', url: `${issuer}/connect/token`, nonce }),
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          scope: SCOPE,
          client_assertion: await signClientAssertion(client.privateJwk, client.clientId, issuer, {
            extraClaims: { assertion_details: [demoAttestation()] },
          }),
        }).toString(),
      });
    const first = await ask(a);
    // the nonce one process hands out is good at the other
    const nonce = first.headers.get('dpop-nonce') ?? undefined;
    const issued = first.status === 200 ? first : await ask(b, nonce);
    expect(issued.status).toBe(200);
    token = ((await issued.json()) as { access_token: string }).access_token;
    expect((await read(a)).status).toBe(200);
    expect((await read(b)).status).toBe(200);
  });

  test('a DPoP proof used at one process is refused as a replay at the other', async () => {
    const proof = await makeDpopProof(key, { method: 'GET', url: `${TEST_BASE_URL}${readPath}`, accessToken: token });
    expect((await read(a, proof)).status).toBe(200);
    const replayed = await read(b, proof);
    expect(replayed.status).toBe(401);
    expect(JSON.stringify(await replayed.json())).toContain('NAVET-DPOP-REPLAY');
  });

  test('a registry change made through one process is seen by the other on its next request (its read cache is dropped)', async () => {
    // b has read the practitioner of the attestation (and kept it); a deletes that practitioner
    expect((await read(b)).status).toBe(200);
    const found = await fetch(`${a.origin}/sandboxes/${sandbox}/fhir/Practitioner?identifier=${KOMAN}`, {
      headers: admin,
    });
    const practitioner = ((await found.json()) as { entry: { resource: { id: string } }[] }).entry[0].resource;
    expect(
      (
        await fetch(`${a.origin}/sandboxes/${sandbox}/fhir/Practitioner/${practitioner.id}`, {
          method: 'DELETE',
          headers: admin,
        })
      ).status,
    ).toBe(204);
    const refused = await read(b);
    expect(refused.status).toBe(403);
    expect(JSON.stringify(await refused.json())).toContain('ATT-11');
    // and a reset through b brings the practitioner back for a
    expect((await fetch(`${b.origin}/api/sandboxes/${sandbox}/reset`, { method: 'POST', headers: admin })).status).toBe(
      200,
    );
    expect((await read(a)).status).toBe(200);
  });

  test("the sandbox clock set through one process is the other's clock", async () => {
    const set = await fetch(`${a.origin}/api/sandboxes/${sandbox}/clock`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ offsetSeconds: 86400 }),
    });
    expect(set.status).toBe(200);
    const clock = (await (await fetch(`${b.origin}/api/sandboxes/${sandbox}/clock`, { headers: admin })).json()) as {
      offsetSeconds: number;
    };
    expect(clock.offsetSeconds).toBe(86400);
    // a day on, the token has expired at either process
    const expired = await read(b);
    expect(expired.status).toBe(401);
    expect(JSON.stringify(await expired.json())).toContain('NAVET-TOKEN-EXPIRED');
    await fetch(`${a.origin}/api/sandboxes/${sandbox}/clock`, {
      method: 'PUT',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ offsetSeconds: 0 }),
    });
  });

  test('navet serve with NAVET_WORKERS=2 answers the full chain from both workers on one port', async () => {
    const both = await startServe(dataDir, 2);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => read(both)));
      expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    } finally {
      await both.stop();
    }
  }, 240_000);
});
