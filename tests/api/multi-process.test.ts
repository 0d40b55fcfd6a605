import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { signClientAssertion } from '../../src/trust/client-assertion-signer';
import { demoAttestation } from '../../src/trust/demo-attestation';
import { demoHospitalClient } from '../../src/bench/pjd-benchmarks';
import { type DpopKey, makeDpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { freePort, uniqueSandboxName } from '../helpers/test-navet';

/**
 * Navet as several processes on one database (what `navet serve` does with NAVET_WORKERS, and what a load
 * balancer in front of several Navets does): nothing per process may matter. Two `navet serve` processes
 * share the database (SQLite file, or DATABASE_URL) and one public URL, a round-robin proxy in front of
 * both (the URL scenario runs and rehearsals call back to); a test's own requests go to either directly.
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

/** The public URL: a proxy sending each request to the next process in turn. */
function roundRobin(port: number, targets: () => string[]): Promise<http.Server> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const list = targets();
    const target = new URL(req.url ?? '/', list[next++ % list.length]);
    const forwarded = http.request(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** A POST from another loopback address (another client, to the rate limit). */
function postFrom(localAddress: string, url: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

const OPEN_CREATIONS_PER_MINUTE = 5;
/** A municipality of 2,000 (as in the rehearsal test): quick to build. */
const SMALL_MUNICIPALITY = {
  kommunenummer: '9998',
  name: 'Øvingsvik kommune',
  population: 2000,
  postalCode: '9998',
  city: 'Øvingsvik',
  pjdTermsSigned: true,
  units: [{ kind: 'home-care', name: 'Hjemmetjenesten Øvingsvik' }],
  gpOffices: [{ name: 'Øvingsvik legesenter', gps: 2 }],
  hospitalTrust: { name: 'Øvingsvik sykehus HF', hospitals: [{ name: 'Øvingsvik sykehus' }] },
  recordSystems: [
    { id: 'gp-epj', name: 'Fastlegesystem', usedBy: ['gp-office'], services: ['pll', 'pjd', 'critical-information'] },
    { id: 'municipal-epj', name: 'Kommunal EPJ', usedBy: ['home-care'], services: ['pll'] },
    { id: 'hospital-epj', name: 'Sykehussystem', usedBy: ['hospital'], services: ['pll', 'pjd'] },
  ],
};
let publicUrl = '';

async function startServe(dataDir: string, workers: number): Promise<Serve> {
  const port = await freePort();
  const child: ChildProcess = spawn(tsx, [path.join(root, 'src', 'main.ts'), 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      NAVET_BASE_URL: publicUrl,
      NAVET_OPEN_CREATIONS_PER_MINUTE: String(OPEN_CREATIONS_PER_MINUTE),
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
  let proxy: http.Server;
  let issuer: string;
  const readPath = `/sandboxes/${sandbox}/critical-information/AllergyIntolerance`;

  /** A KJ read through the full chain at one process, with a proof for the public URL. */
  const read = async (at: Serve, proof?: string) =>
    fetch(`${at.origin}${readPath}`, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop:
          proof ?? (await makeDpopProof(key, { method: 'GET', url: `${publicUrl}${readPath}`, accessToken: token })),
        'nhn-source-system': 'multi-test',
        'nhn-patient-nin': MALIN_BOGEN,
      },
    });

  beforeAll(async () => {
    const proxyPort = await freePort();
    publicUrl = `http://127.0.0.1:${proxyPort}`;
    issuer = `${publicUrl}/sandboxes/${sandbox}/helseid`;
    proxy = await roundRobin(proxyPort, () => [a.origin, b.origin]);
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
    await new Promise((resolve) => proxy.close(resolve));
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
    const proof = await makeDpopProof(key, { method: 'GET', url: `${publicUrl}${readPath}`, accessToken: token });
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

  test("a privacy choice stored through one process is heeded by the other's next read (its kept Consents are dropped)", async () => {
    const before = await read(b);
    expect(before.status).toBe(200);
    expect(JSON.stringify(await before.json())).not.toContain('NAVET-KJ-RESERVED');
    const stored = await fetch(`${a.origin}/sandboxes/${sandbox}/fhir/Consent`, {
      method: 'POST',
      headers: { ...admin, 'Content-Type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [
          {
            coding: [
              { system: 'https://navet.example/fhir/CodeSystem/privacy-choice', code: 'kjernejournal-reservation' },
            ],
          },
        ],
        patient: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: MALIN_BOGEN } },
        dateTime: '2026-01-01T00:00:00Z',
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
        provision: { type: 'deny' },
      }),
    });
    expect(stored.status).toBe(201);
    const reserved = await read(b);
    expect(JSON.stringify(await reserved.json())).toContain('NAVET-KJ-RESERVED');
    const { id } = (await stored.json()) as { id: string };
    expect(
      (await fetch(`${a.origin}/sandboxes/${sandbox}/fhir/Consent/${id}`, { method: 'DELETE', headers: admin })).status,
    ).toBe(204);
    expect(JSON.stringify(await (await read(b)).json())).not.toContain('NAVET-KJ-RESERVED');
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

  /** Polls `path` at `at` until its status is no longer running (or creating); every poll must be answered. */
  const pollToEnd = async (at: Serve, path: string, headers: Record<string, string>) => {
    for (;;) {
      const answer = await fetch(`${at.origin}${path}`, { headers });
      expect(answer.status).toBe(200);
      const body = (await answer.json()) as Record<string, any>;
      if (body.status !== 'running' && body.status !== 'creating') return body;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  // KNOWN BUG (SQLite only, intermittent: 3 runs of 4): with the scenario's calls going to both processes in
  // turn, a critical-information write (gp-registers-allergy) can answer 500 after a 2–6 s wait for SQLite's
  // write lock. Passes on PostgreSQL.
  test('a scenario run started at one process is followed to its end at the other', async () => {
    // the sandbox as seeded (the tests above changed it)
    expect((await fetch(`${a.origin}/api/sandboxes/${sandbox}/reset`, { method: 'POST', headers: admin })).status).toBe(
      200,
    );
    const started = await fetch(`${a.origin}/api/sandboxes/${sandbox}/scenario-runs`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ scenario: 'critical-information' }),
    });
    expect(started.status).toBe(201);
    const { id } = (await started.json()) as { id: string };
    const run = await pollToEnd(b, `/api/sandboxes/${sandbox}/scenario-runs/${id}`, admin);
    expect(run.steps.length).toBeGreaterThan(0);
    const failed = run.steps.filter((step: { status: string }) => step.status !== 'passed');
    expect({ status: run.status, failed, checks: run.checks }).toMatchObject({ status: 'passed', failed: [] });
  }, 120_000);

  test("a sandbox creation's status is answered by the other process, which refuses a second creation of the name", async () => {
    const name = uniqueSandboxName('multi-new');
    const created = await fetch(`${a.origin}/api/sandboxes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, seed: 'fixtures', generator: { syntheticPatients: 300 } }),
    });
    expect(created.status).toBe(202);
    const { adminKey, statusUrl } = (await created.json()) as { adminKey: string; statusUrl: string };
    const path = new URL(statusUrl).pathname;
    const headers = { authorization: `Bearer ${adminKey}` };
    const first = (await (await fetch(`${b.origin}${path}`, { headers })).json()) as { status: string };
    expect(first.status).toBe('creating');
    const again = await fetch(`${b.origin}/api/sandboxes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, seed: 'fixtures', generator: { syntheticPatients: 0 } }),
    });
    expect(again.status).toBe(409);
    expect((await pollToEnd(b, path, headers)).status).toBe('ready');
    await fetch(`${b.origin}/api/sandboxes/${name}`, { method: 'DELETE', headers });
  }, 240_000);

  test('a rehearsal started at one process is read, stopped and reported at the other', async () => {
    const name = uniqueSandboxName('multi-reh');
    const created = await fetch(`${a.origin}/api/sandboxes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', prefer: 'wait' },
      body: JSON.stringify({ name, seed: 'municipality', municipality: SMALL_MUNICIPALITY }),
    });
    expect(created.status).toBe(201);
    const headers = { authorization: `Bearer ${((await created.json()) as { adminKey: string }).adminKey}` };
    const started = await fetch(`${a.origin}/api/sandboxes/${name}/rehearsals`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ hours: 8, speed: 60 }),
    });
    expect(started.status).toBe(201);
    const path = `/api/sandboxes/${name}/rehearsals/${((await started.json()) as { id: string }).id}`;
    // a second one is refused at the other process too
    const second = await fetch(`${b.origin}/api/sandboxes/${name}/rehearsals`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ hours: 1, speed: 3600 }),
    });
    expect(second.status).toBe(400);
    // the other process sees it run: its progress grows
    for (let running: Record<string, any> = {}; !(running.progress?.flowsStarted > 0);) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      running = (await (await fetch(`${b.origin}${path}`, { headers })).json()) as Record<string, any>;
      expect(running.status).toBe('running');
    }
    expect((await fetch(`${b.origin}${path}/stop`, { method: 'POST', headers })).status).toBe(200);
    const done = await pollToEnd(b, path, headers);
    expect(done.status).toBe('stopped');
    expect(done.progress.flowsStarted).toBeLessThan(done.progress.flowsPlanned);
    const report = (await (await fetch(`${b.origin}${path}/report`, { headers })).json()) as Record<string, any>;
    expect(report.rehearsal.status).toBe('stopped');
    await fetch(`${b.origin}/api/sandboxes/${name}`, { method: 'DELETE', headers });
  }, 240_000);

  test('the open-creation rate limit counts the creations of one client at both processes together', async () => {
    // from another loopback address: a client of its own; an invalid name still counts as a try
    const statuses: number[] = [];
    for (let i = 0; i <= OPEN_CREATIONS_PER_MINUTE; i++) {
      const at = i % 2 === 0 ? a : b;
      statuses.push(
        await postFrom('127.0.0.2', `${at.origin}/api/sandboxes`, { name: 'Not A Name', seed: 'fixtures' }),
      );
    }
    expect(statuses).toEqual([...Array(OPEN_CREATIONS_PER_MINUTE).fill(400), 429]);
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
