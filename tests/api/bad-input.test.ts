import { exportJWK, generateKeyPair } from 'jose';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import supertest from 'supertest';
import { createHttpServer } from '../../src/http/http-server';
import { MAX_JSON_DEPTH } from '../../src/http/json-body';
import { patientIdOf, startTestNavet, type TestNavet, uniqueSandboxName, waitForPurge } from '../helpers/test-navet';

/**
 * Issue 14: a bad request from one client gets a 4xx naming what is wrong, never a 5xx, never a frozen
 * event loop (every sandbox shares it), and stores nothing. Every request here goes through a real
 * listening server; every answer is counted, and the heavy ones are timed against /healthz and the
 * event loop's own delay.
 */
const OPERATOR_KEY = 'bad-input-operator';
let navet: TestNavet;
let base: string;
let http: ReturnType<typeof supertest>;
let closeServer: () => Promise<void>;
let demo: { name: string; adminKey: string; auth: string };

const seen = {
  requests: 0,
  serverErrors: [] as string[],
  longestBlockMs: 0,
  longestDelayMs: 0,
  longestHealthzMs: 0,
  idleHealthzMs: 0,
  idleBlockMs: 0,
  blocks: [] as string[],
};
/** The longest the server's event loop may be held by one request: /healthz (and every sandbox) waits that long. */
const MAX_BLOCK_MS = 100;
/**
 * The CPU measure does not see a loop asleep in a blocking call (e.g. SQLite sleeping on its write lock,
 * held by the worker's seed): /healthz must answer within the same bound, in wall time less the time the main
 * thread waited for a core (/proc/thread-self/schedstat), which is the machine's load.
 */
const MAX_HEALTHZ_MS = 100;

/**
 * CPU time the main thread has run, in ms (Linux, in clock ticks of 10 ms). The event loop is held for as
 * long as its thread runs without coming back to it; time the OS gives to other processes is not a block.
 */
function mainThreadCpuMs(): number {
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
/** How long the main thread has waited on the OS's run queue for a core, in ms (the machine's load, not a block). */
function mainThreadQueuedMs(): number {
  return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]) / 1e6;
}

type Answer = {
  status: number;
  body: Record<string, unknown> & { issue?: { code: string; details?: { coding?: { code: string }[] } }[] };
  headers: Record<string, string>;
};

function count(label: string, res: Answer): Answer {
  seen.requests += 1;
  if (res.status >= 500) seen.serverErrors.push(`${label} → ${res.status}`);
  return res;
}

/** Status, FHIR issue type and Navet code of an OperationOutcome answer. */
function expectOutcome(res: Answer, status: number, issueCode: string, navetCode: string): void {
  expect({
    status: res.status,
    resourceType: res.body.resourceType,
    code: res.body.issue?.[0]?.code,
    navetCode: res.body.issue?.[0]?.details?.coding?.[0]?.code,
  }).toEqual({ status, resourceType: 'OperationOutcome', code: issueCode, navetCode });
  expect(JSON.stringify(res.body)).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
}

function expectOAuthError(res: Answer, status: number, error: string, errorCode: string): void {
  expect({ status: res.status, error: res.body.error, errorCode: res.body.error_code }).toEqual({
    status,
    error,
    errorCode,
  });
}

/**
 * Runs a request while /healthz is asked every 20 ms, recording the longest /healthz wait, the event
 * loop's longest delay (wall time, which includes moments the OS ran other processes) and its longest
 * block: the CPU time its thread ran between two turns of the loop (a timer every 5 ms marks the turns).
 */
async function whileHealthzIsAsked<T>(work: () => Promise<T>): Promise<{
  result: T;
  healthzMs: number;
  delayMs: number;
  blockMs: number;
  tookMs: number;
  queuedMs: number;
  gcMs: number;
}> {
  const begun = performance.now();
  // the jest process holds client and server in one heap: a long garbage collection shows here, beside a block
  let gcMs = 0;
  const collections = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs = Math.max(gcMs, entry.duration);
  });
  collections.observe({ entryTypes: ['gc'] });
  const queuedBefore = mainThreadQueuedMs();
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let blockMs = 0;
  let lastCpu = mainThreadCpuMs();
  const turns = setInterval(() => {
    const cpu = mainThreadCpuMs();
    blockMs = Math.max(blockMs, cpu - lastCpu);
    lastCpu = cpu;
  }, 5);
  let running = true;
  let healthzMs = 0;
  const poll = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      healthzMs = Math.max(healthzMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    const result = await work();
    return {
      result,
      healthzMs,
      delayMs: histogram.max / 1e6,
      blockMs,
      tookMs: performance.now() - begun,
      queuedMs: mainThreadQueuedMs() - queuedBefore,
      gcMs,
    };
  } finally {
    collections.disconnect();
    running = false;
    await poll;
    clearInterval(turns);
    histogram.disable();
  }
}

/** Records what one measurement saw; the event loop must not have been held longer than MAX_BLOCK_MS. */
function expectNoBlock(
  label: string,
  measured: { healthzMs: number; delayMs: number; blockMs: number; tookMs: number; queuedMs: number; gcMs: number },
): void {
  seen.longestBlockMs = Math.max(seen.longestBlockMs, measured.blockMs);
  seen.longestDelayMs = Math.max(seen.longestDelayMs, measured.delayMs);
  seen.longestHealthzMs = Math.max(seen.longestHealthzMs, measured.healthzMs);
  seen.blocks.push(
    `${label}: ${measured.blockMs} ms (delay ${measured.delayMs.toFixed(1)} ms, /healthz ${measured.healthzMs.toFixed(1)} ms, took ${measured.tookMs.toFixed(0)} ms, waited for a core ${measured.queuedMs.toFixed(0)} ms, longest garbage collection ${measured.gcMs.toFixed(0)} ms)`,
  );
  expect({
    label,
    heldTheEventLoop: measured.blockMs > MAX_BLOCK_MS,
    // the time the main thread stood in the OS's queue for a core is the machine's load, not Navet's; a loop
    // asleep in a blocking call or busy with CPU is not in that queue, so it counts in full
    healthzStalled: measured.healthzMs - measured.queuedMs > MAX_HEALTHZ_MS,
  }).toEqual({ label, heldTheEventLoop: false, healthzStalled: false });
}

/** Sends a heavy request once while /healthz is asked: it must not hold the event loop (MAX_BLOCK_MS). */
async function heavy(label: string, work: () => Promise<Answer>): Promise<Answer> {
  const measured = await whileHealthzIsAsked(work);
  expectNoBlock(label, measured);
  return count(label, measured.result);
}

/** Creates a fixtures sandbox on this (operator-key) Navet and waits for it. */
async function createSeeded(
  generator: Record<string, number>,
): Promise<{ name: string; adminKey: string; auth: string }> {
  const res = await http
    .post('/api/sandboxes')
    .set('Authorization', `Bearer ${OPERATOR_KEY}`)
    .set('Prefer', 'wait')
    .send({ name: uniqueSandboxName('seeded'), seed: 'fixtures', generator });
  expect(res.status).toBe(201);
  return { name: res.body.name, adminKey: res.body.adminKey, auth: `Bearer ${res.body.adminKey}` };
}

const resources = (name = demo.name) => navet.navet.sandboxes.store.countResources(name);

/** The JSON text of an extension nested `depth` levels deep in a Patient (too deep for JSON.stringify). */
function deeplyNestedText(depth: number): string {
  const open = '{"url":"http://example.org/nest","extension":['.repeat(depth);
  return `{"resourceType":"Patient","extension":[${open}{"url":"http://example.org/leaf","valueString":"x"}${']}'.repeat(depth)}]}`;
}

/** An extension nested `depth` levels deep inside an otherwise valid resource. */
function deeplyNested(depth: number): Record<string, unknown> {
  let extension: Record<string, unknown> = { url: 'http://example.org/leaf', valueString: 'x' };
  for (let i = 0; i < depth; i++) extension = { url: 'http://example.org/nest', extension: [extension] };
  return { resourceType: 'Patient', extension: [extension] };
}

/** A DPoP proof whose header carries `jwk` as given (the signature is never reached). */
function proofWithJwk(jwk: unknown): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ typ: 'dpop+jwt', alg: 'ES256', jwk })}.${part({ jti: 'x', htm: 'POST', htu: 'http://navet.test/', iat: Math.floor(Date.now() / 1000) })}.c2ln`;
}

/** A raw HTTP/1.1 request, for heads too large for a client library to send politely. */
function rawRequest(path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers }, (res) => {
      let text = '';
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: text ? JSON.parse(text) : {},
          headers: res.headers as Record<string, string>,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  navet = await startTestNavet({ NAVET_OPERATOR_KEY: OPERATOR_KEY });
  const server = createHttpServer(navet.navet.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  http = supertest(base);
  closeServer = () => new Promise((resolve) => server.close(() => resolve()));
  demo = await createSeeded({ syntheticPatients: 20 });
  const idle = await whileHealthzIsAsked(() => new Promise((resolve) => setTimeout(resolve, 3000)));
  seen.idleHealthzMs = idle.healthzMs;
  seen.idleBlockMs = idle.blockMs;
});

afterAll(async () => {
  // the figures of the closing note of issue 14
  console.log(
    `bad-input suite: ${seen.requests} bad requests, ${seen.serverErrors.length} answers of 5xx, longest event-loop block ${seen.longestBlockMs} ms of CPU (idle: ${seen.idleBlockMs} ms), longest event-loop delay ${seen.longestDelayMs.toFixed(1)} ms, longest /healthz wait ${seen.longestHealthzMs.toFixed(1)} ms (idle: ${seen.idleHealthzMs.toFixed(1)} ms)\n${seen.blocks.join('\n')}`,
  );
  await closeServer();
  await navet.close();
});

describe('bad percent-encoding in any path segment → 400, also without credentials', () => {
  test.each([
    ['a sandbox name', () => '/api/sandboxes/%E0%A4%A'],
    ['a sandbox in a service path', () => '/sandboxes/%E0%A4%A/fhir/metadata'],
    ['a FHIR id', () => `/sandboxes/${demo.name}/fhir/Patient/%E0%A4%A`],
    ['a FHIR type', () => `/sandboxes/${demo.name}/fhir/%C0%AF/1`],
    ['a snapshot label', () => `/api/sandboxes/${demo.name}/snapshots/%E0%A4%A/restore`],
    ['a client id', () => `/api/sandboxes/${demo.name}/clients/%E0%A4%A`],
    ['a client id, deeper', () => `/api/sandboxes/${demo.name}/clients/%E0%A4%A/jwks`],
  ])('%s', async (_label, path) => {
    const before = await resources();
    for (const method of ['get', 'post', 'put', 'delete'] as const) {
      expectOutcome(
        count(path(), await http[method](path()).set('Authorization', demo.auth)),
        400,
        'invalid',
        'NAVET-BAD-PERCENT-ENCODING',
      );
      // without credentials: refused for the encoding or for the missing key, never a 5xx
      const anonymous = count(path(), await http[method](path()));
      expect([400, 401]).toContain(anonymous.status);
      expect(anonymous.body.resourceType).toBe('OperationOutcome');
    }
    expect(await resources()).toBe(before);
  });
});

describe('an out-of-range clock is refused before anything is stored', () => {
  test.each([
    [{ offsetSeconds: 1e300 }],
    [{ offsetSeconds: 8.64e12 }],
    [{ offsetSeconds: -1e300 }],
    [{ now: '275760-09-13T00:00:00Z' }],
    [{ now: '+100000-01-01T00:00:00Z' }],
  ])('%j', async (body) => {
    const res = count(
      'clock',
      await http.put(`/api/sandboxes/${demo.name}/clock`).set('Authorization', demo.auth).send(body),
    );
    expect(res.status).toBe(400);
    expect(res.body.issue?.[0]?.details?.coding?.[0]?.code).toMatch(/^NAVET-CLOCK(-RANGE)?$/);
    const clock = count('clock', await http.get(`/api/sandboxes/${demo.name}/clock`).set('Authorization', demo.auth));
    expect(clock.body.offsetSeconds).toBe(0);
    expect(
      count('metadata', await http.get(`/sandboxes/${demo.name}/fhir/metadata`).set('Authorization', demo.auth)).status,
    ).toBe(200);
  });
});

describe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels → 400 before any recursive walk, nothing stored`, () => {
  const deep = deeplyNestedText(10_000);
  // endpoints with a 64 kB body limit get 1,000 levels (47 kB)
  const shallower = deeplyNestedText(1_000);
  const cases: [string, () => string, () => Record<string, string>][] = [
    ['FHIR create', () => `/sandboxes/${demo.name}/fhir/Patient`, () => ({ Authorization: demo.auth })],
    ['FHIR transaction', () => `/sandboxes/${demo.name}/fhir`, () => ({ Authorization: demo.auth })],
    ['FHIR update', () => `/sandboxes/${demo.name}/fhir/Patient/deep`, () => ({ Authorization: demo.auth })],
    ['critical information', () => `/sandboxes/${demo.name}/critical-information/AllergyIntolerance`, () => ({})],
    ['$sendMedication', () => `/sandboxes/${demo.name}/sfm/Patient/$sendMedication`, () => ({})],
    ['PPS submission', () => `/sandboxes/${demo.name}/pps`, () => ({})],
    ['PJD ITI-65', () => `/sandboxes/${demo.name}/pjd/R4/fhir`, () => ({})],
    [
      'create-test-token switches',
      () => `/sandboxes/${demo.name}/helseid/create-test-token`,
      () => ({ 'X-Auth-Key': demo.adminKey }),
    ],
    ['client registration', () => `/api/sandboxes/${demo.name}/clients`, () => ({ Authorization: demo.auth })],
    ['sandbox creation', () => '/api/sandboxes', () => ({ Authorization: `Bearer ${OPERATOR_KEY}` })],
    ['service settings', () => `/api/sandboxes/${demo.name}/settings/sfm`, () => ({ Authorization: demo.auth })],
  ];
  test.each(cases)('%s', async (label, path, headers) => {
    const before = await resources();
    const method = label === 'FHIR update' || label === 'service settings' ? 'put' : 'post';
    const body =
      label === 'create-test-token switches'
        ? `{"clientId":"demo-gp-system","switches":${shallower}}`
        : label === 'service settings'
          ? shallower
          : deep;
    const res = await heavy(label, () =>
      http[method](path()).set(headers()).set('Content-Type', 'application/json').send(body),
    );
    expectOutcome(res, 400, 'too-costly', 'NAVET-JSON-TOO-DEEP');
    expect(await resources()).toBe(before);
  });

  test(`${MAX_JSON_DEPTH} levels are still read (a valid resource that deep is stored)`, async () => {
    const res = count(
      'depth',
      await http
        .post(`/sandboxes/${demo.name}/fhir/Patient`)
        .set('Authorization', demo.auth)
        .send(deeplyNested(MAX_JSON_DEPTH / 2 - 3)),
    );
    expect(res.status).toBe(201);
  });
});

describe('searches beyond the limits → 400 naming the limit, at once', () => {
  const fhir = () => `/sandboxes/${demo.name}/fhir`;
  // [label, type, query (sent as GET and as POST _search), code, the limit named]
  test.each([
    [
      'a chain of 200 partof',
      'Organization',
      `${'partof.'.repeat(200)}name=x`,
      'NAVET-SEARCH-CHAIN-TOO-LONG',
      /at most 4/,
    ],
    [
      '2,100 _sort keys',
      'Patient',
      `_sort=${Array.from({ length: 2100 }, (_, i) => (i % 2 ? '-birthdate' : 'family')).join(',')}`,
      'NAVET-SEARCH-TOO-MANY-SORT-KEYS',
      /at most 8/,
    ],
    [
      '300 _sort keys',
      'Patient',
      `_sort=${Array.from({ length: 300 }, () => 'family').join(',')}`,
      'NAVET-SEARCH-TOO-MANY-SORT-KEYS',
      /at most 8/,
    ],
    [
      '30 _include',
      'PractitionerRole',
      Array.from({ length: 30 }, () => '_include=PractitionerRole:organization').join('&'),
      'NAVET-SEARCH-TOO-MANY-INCLUDES',
      /at most 20/,
    ],
    [
      '150 parameters',
      'Patient',
      Array.from({ length: 150 }, (_, i) => `family=a${i}`).join('&'),
      'NAVET-SEARCH-TOO-MANY-PARAMS',
      /at most 100/,
    ],
  ])('%s', async (label, type, query, navetCode, limit) => {
    const posted = await heavy(label, () =>
      http.post(`${fhir()}/${type}/_search`).set('Authorization', demo.auth).type('form').send(query),
    );
    expectOutcome(posted, 400, 'invalid', navetCode);
    expect(JSON.stringify(posted.body)).toMatch(limit);
    const got = await heavy(label, () => http.get(`${fhir()}/${type}?${query}`).set('Authorization', demo.auth));
    // as a URL: the limit, or 414/431 for a URL too long, or 400 for more repeats than a query string holds
    expect([400, 414, 431]).toContain(got.status);
    expect(got.body.resourceType).toBe('OperationOutcome');
  });

  test.each([['99999999999999999999'], ['9223372036854775807'], ['1000000001'], ['-1'], ['1e3']])(
    '_history?_offset=%s',
    async (offset) => {
      for (const path of ['/_history', '/Patient/_history']) {
        const res = await heavy(`history ${offset}`, () =>
          http.get(`${fhir()}${path}?_offset=${offset}`).set('Authorization', demo.auth),
        );
        expectOutcome(res, 400, 'invalid', 'NAVET-HISTORY-PARAM');
      }
    },
  );
});

describe('a malformed DPoP jwk header → invalid_dpop_proof', () => {
  const jwks = [
    { kty: 'EC' },
    [],
    { kty: 5 },
    'key',
    { kty: 'RSA', n: 1, e: [] },
    { kty: 'EC', crv: 'P-256', x: {}, y: 'y' },
    null,
  ];

  test.each(jwks.map((jwk) => [jwk]))('at the token endpoint, without credentials: %j', async (jwk) => {
    const res = count(
      'token dpop',
      await http
        .post(`/sandboxes/${demo.name}/helseid/connect/token`)
        .type('form')
        .set('DPoP', proofWithJwk(jwk))
        .send({ grant_type: 'client_credentials' }),
    );
    expectOAuthError(res, 400, 'invalid_dpop_proof', 'NAVET-DPOP-JWK');
  });

  test('at a guarded service, with a DPoP-bound token', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const token = count(
      'test token',
      await http
        .post(`/sandboxes/${demo.name}/helseid/create-test-token`)
        .set('X-Auth-Key', demo.adminKey)
        .send({
          clientId: 'demo-hospital-system',
          scopes: ['nhn:phr/mhd/read-documentreferences'],
          dpopJwk: await exportJWK(publicKey),
        }),
    );
    expect(token.body.token_type).toBe('DPoP');
    for (const jwk of jwks) {
      for (const path of ['/pjd/pingauth']) {
        const res = count(
          'guard dpop',
          await http
            .get(`/sandboxes/${demo.name}${path}`)
            .set('Authorization', `DPoP ${token.body.access_token}`)
            .set('DPoP', proofWithJwk(jwk)),
        );
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/error="invalid_dpop_proof"/);
      }
    }
  });
});

describe('create-test-token switches of the wrong type → 400 invalid_request naming the switch', () => {
  test.each([
    [{ header: { alg: 'none' } }, /header/],
    [{ header: { crit: ['b64'] } }, /header/],
    [{ header: 'JWT' }, /header/],
    [{ omitAttestationFields: 5 }, /omitAttestationFields/],
    [{ omitAttestationFields: ['__proto__'] }, /omitAttestationFields/],
    [{ omitAttestationFields: ['constructor'] }, /omitAttestationFields/],
    [{ expired: 'yes' }, /expired/],
    [{ signWithInvalidKey: 1 }, /signWithInvalidKey/],
    [{ favourite: true }, /favourite/],
    [[], /switches/],
    ['on', /switches/],
  ])('%j', async (switches, named) => {
    const res = count(
      'switches',
      await http
        .post(`/sandboxes/${demo.name}/helseid/create-test-token`)
        .set('X-Auth-Key', demo.adminKey)
        .send({ clientId: 'demo-gp-system', switches }),
    );
    expectOAuthError(res, 400, 'invalid_request', 'NAVET-TEST-TOKEN-SWITCH');
    expect(res.body.error_description).toMatch(named);
  });

  test.each([[0], [-5], [1e300], ['600'], [1.5]])('lifetimeSeconds %j', async (lifetimeSeconds) => {
    const res = count(
      'lifetime',
      await http
        .post(`/sandboxes/${demo.name}/helseid/create-test-token`)
        .set('X-Auth-Key', demo.adminKey)
        .send({ clientId: 'demo-hospital-system', scopes: ['nhn:phr/mhd/read-documentreferences'], lifetimeSeconds }),
    );
    expectOAuthError(res, 400, 'invalid_request', 'NAVET-TEST-TOKEN-LIFETIME');
  });
});

describe('sandbox creation seeds in a worker: the server keeps answering', () => {
  test('202 with the admin key once and a status URL; the status goes to ready while /healthz answers', async () => {
    const name = uniqueSandboxName('big');
    const measured = await whileHealthzIsAsked(async () => {
      const res = count(
        'create',
        await http
          .post('/api/sandboxes')
          .set('Authorization', `Bearer ${OPERATOR_KEY}`)
          .send({ name, seed: 'fixtures', generator: { syntheticPatients: 400, seed: 3 } }),
      );
      expect(res.status).toBe(202);
      expect(res.body.adminKey).toMatch(/^navet_adm_/);
      expect(res.headers.location).toBe(res.body.statusUrl);
      const statusPath = new URL(res.body.statusUrl as string).pathname;
      for (;;) {
        const status = count('status', await http.get(statusPath).set('Authorization', `Bearer ${res.body.adminKey}`));
        expect(status.status).toBe(200);
        expect(status.body.adminKey).toBeUndefined();
        if (status.body.status === 'ready') return status;
        expect(status.body.status).toBe('creating');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    expectNoBlock('create 400 patients in the worker', measured);
    const created = measured.result;
    expect((created.body.sandbox as { name: string }).name).toBe(name);
    expect(await navet.navet.sandboxes.store.countResources(name)).toBeGreaterThan(400);
  }, 240_000);

  test('writes on the main thread while the worker stores a seed, then purges it: /healthz never waits', async () => {
    /** One good and one bad write to the demo sandbox, timed against /healthz; both are answered, never 5xx. */
    const writeBoth = async (label: string) => {
      const good = await heavy(`${label}: FHIR create`, () =>
        http
          .post(`/sandboxes/${demo.name}/fhir/Patient`)
          .set('Authorization', demo.auth)
          .send({ resourceType: 'Patient', name: [{ family: 'Venter' }] }),
      );
      expect(good.status).toBe(201);
      const bad = await heavy(`${label}: clock out of range`, () =>
        http.put(`/api/sandboxes/${demo.name}/clock`).set('Authorization', demo.auth).send({ offsetSeconds: 1e300 }),
      );
      expect(bad.status).toBe(400);
    };
    // the first create of the process loads what creates need (not what is measured here)
    count(
      'warm-up',
      await http
        .post(`/sandboxes/${demo.name}/fhir/Patient`)
        .set('Authorization', demo.auth)
        .send({ resourceType: 'Patient' }),
    );
    const name = uniqueSandboxName('busy');
    const res = count(
      'create',
      await http
        .post('/api/sandboxes')
        .set('Authorization', `Bearer ${OPERATOR_KEY}`)
        .send({ name, seed: 'fixtures', generator: { syntheticPatients: 1000, seed: 4 } }),
    );
    expect(res.status).toBe(202);
    const statusPath = new URL(res.body.statusUrl as string).pathname;
    // writes go on until the seed is ready; those while it is stored (its transaction holds the write lock) count
    let writesWhileStoring = 0;
    for (;;) {
      const status = count('status', await http.get(statusPath).set('Authorization', `Bearer ${res.body.adminKey}`));
      if (status.body.status !== 'creating') break;
      await writeBoth('while a seed is stored');
      if ((status.body.progress as { phase?: string } | undefined)?.phase === 'storing') writesWhileStoring += 1;
    }
    const deleted = count(
      'delete',
      await http.delete(`/api/sandboxes/${name}`).set('Authorization', `Bearer ${res.body.adminKey}`),
    );
    expect(deleted.status).toBe(204);
    const purging = async () =>
      (await navet.navet.database.db
        .selectFrom('sandbox_purges')
        .select('name')
        .where('name', '=', name)
        .executeTakeFirst()) !== undefined;
    let writesWhilePurging = 0;
    while (await purging()) {
      await writeBoth('while a purge runs');
      writesWhilePurging += 1;
    }
    expect({ writesWhileStoring: writesWhileStoring > 0, writesWhilePurging: writesWhilePurging > 0 }).toEqual({
      writesWhileStoring: true,
      writesWhilePurging: true,
    });
  }, 240_000);

  test('Prefer: wait → 201 when ready; the status URL wants the admin key', async () => {
    const name = uniqueSandboxName('wait');
    const res = count(
      'create',
      await http
        .post('/api/sandboxes')
        .set('Authorization', `Bearer ${OPERATOR_KEY}`)
        .set('Prefer', 'wait')
        .send({ name, seed: 'fixtures', generator: { syntheticPatients: 0 } }),
    );
    expect(res.status).toBe(201);
    expect(count('status', await http.get(`/api/sandboxes/${name}/creation`)).status).toBe(401);
    expect(
      count(
        'status',
        await http.get(`/api/sandboxes/${name}/creation`).set('Authorization', `Bearer ${res.body.adminKey}`),
      ).body.status,
    ).toBe('ready');
  });

  test('a failed creation reports its outcome and leaves nothing', async () => {
    const name = uniqueSandboxName('twice');
    const first = count(
      'create',
      await http
        .post('/api/sandboxes')
        .set('Authorization', `Bearer ${OPERATOR_KEY}`)
        .send({ name, seed: 'fixtures', generator: { syntheticPatients: 0 } }),
    );
    const second = count(
      'create',
      await http
        .post('/api/sandboxes')
        .set('Authorization', `Bearer ${OPERATOR_KEY}`)
        .send({ name, seed: 'fixtures', generator: { syntheticPatients: 0 } }),
    );
    expect([first.status, second.status]).toEqual([202, 409]);
  });

  test('unknown generator keys and a generator of the wrong type → 400 naming them, nothing created', async () => {
    for (const [generator, expression] of [
      [{ syntheticPatient: 5 }, 'generator.syntheticPatient'],
      [{ seed: 1, colour: 'red' }, 'generator.colour'],
      [[1], 'generator'],
      ['big', 'generator'],
    ] as const) {
      const name = uniqueSandboxName('gen');
      const res = count(
        'generator',
        await http
          .post('/api/sandboxes')
          .set('Authorization', `Bearer ${OPERATOR_KEY}`)
          .send({ name, seed: 'fixtures', generator }),
      );
      expectOutcome(res, 400, 'invalid', 'NAVET-SANDBOX-GENERATOR');
      expect(res.body.issue?.[0]).toMatchObject({ expression: [expression] });
      expect(await navet.navet.sandboxes.find(name)).toBeUndefined();
    }
  });
});

describe('without NAVET_OPERATOR_KEY, creation is capped', () => {
  let open: TestNavet;
  beforeAll(async () => {
    open = await startTestNavet({
      NAVET_OPEN_CREATIONS_PER_MINUTE: '3',
      NAVET_BASE_URL: `http://open-${process.pid}-${Date.now()}.test`,
    });
  });
  afterAll(() => open.close());

  test('sizes above the open limits → 400 naming the setting; nothing created', async () => {
    for (const [generator, key] of [
      [{ syntheticPatients: 3000 }, 'syntheticPatients'],
      [{ documentsPerPatient: 20 }, 'documentsPerPatient'],
      [{ labReportsPerPatient: 50 }, 'labReportsPerPatient'],
    ] as const) {
      const name = uniqueSandboxName('open');
      const res = count(
        'open create',
        await open.http.post('/api/sandboxes').send({ name, seed: 'fixtures', generator }),
      );
      expectOutcome(res, 400, 'invalid', 'NAVET-SANDBOX-OPEN-LIMIT');
      expect(res.body.issue?.[0]).toMatchObject({ expression: [`generator.${key}`] });
      expect(await open.navet.sandboxes.find(name)).toBeUndefined();
    }
  });

  test('a municipality description above the open limits → 400 naming the element; nothing created', async () => {
    const roomy = await startTestNavet();
    const description = { kommunenummer: '9999', name: 'Storby kommune', population: 1_000_000 };
    for (const [municipality, element] of [
      [description, 'municipality.population'],
      [
        {
          ...description,
          population: 2000,
          units: Array.from({ length: 51 }, (_, i) => ({ kind: 'home-care', name: `Sone ${i}` })),
        },
        'municipality.units',
      ],
    ] as const) {
      const name = uniqueSandboxName('open');
      const res = count(
        'open municipality',
        await roomy.http.post('/api/sandboxes').send({ name, seed: 'municipality', municipality }),
      );
      expectOutcome(res, 400, 'invalid', 'NAVET-SANDBOX-OPEN-LIMIT');
      expect(res.body.issue?.[0]).toMatchObject({ expression: [element] });
      expect(await roomy.navet.sandboxes.find(name)).toBeUndefined();
    }
    await roomy.close();
  });

  test('seeded creations per minute per client are limited → 429', async () => {
    const limited = await startTestNavet({
      NAVET_OPEN_CREATIONS_PER_MINUTE: '3',
      NAVET_BASE_URL: `http://limited-${process.pid}-${Date.now()}.test`,
    });
    const answers: number[] = [];
    for (let i = 0; i < 4; i++) {
      // refused creations count too: the limit is on asking
      const res = count(
        'rate',
        await limited.http
          .post('/api/sandboxes')
          .send({ name: uniqueSandboxName('rate'), seed: 'fixtures', generator: { referenceDate: 'soon' } }),
      );
      answers.push(res.status);
      if (res.status === 429) expectOutcome(res, 429, 'throttled', 'NAVET-SANDBOX-RATE-LIMIT');
    }
    expect(answers).toEqual([400, 400, 400, 429]);
    // an empty sandbox costs nothing and is not limited
    expect(
      count('rate', await limited.http.post('/api/sandboxes').send({ name: uniqueSandboxName('rate'), seed: 'empty' }))
        .status,
    ).toBe(201);
    await limited.close();
  });
});

describe('oversized heads → 431 and URLs → 414, with an answer instead of a reset connection', () => {
  test('a 20 kB header → 431', async () => {
    const res = count('431', await rawRequest('/healthz', { 'X-Big': 'x'.repeat(20_000) }));
    expectOutcome(res, 431, 'too-costly', 'NAVET-HEADERS-TOO-LARGE');
  });

  test('a 10,000-character URL → 414', async () => {
    const res = count(
      '414',
      await rawRequest(`/sandboxes/${demo.name}/fhir/Patient?family=${'a'.repeat(10_000)}`, {
        Authorization: demo.auth,
      }),
    );
    expectOutcome(res, 414, 'too-costly', 'NAVET-URL-TOO-LONG');
  });
});

describe('a wrong method on a known path → 405 with Allow', () => {
  const cases: ['put' | 'delete' | 'patch' | 'get', () => string, string][] = [
    ['put', () => `/sandboxes/${demo.name}/pjd/ping`, 'GET, HEAD'],
    ['delete', () => '/api/sandboxes', 'GET, HEAD, POST'],
    ['patch', () => `/api/sandboxes/${demo.name}/clock`, 'GET, HEAD, PUT'],
    ['delete', () => `/sandboxes/${demo.name}/helseid/connect/token`, 'POST'],
    ['get', () => `/api/sandboxes/${demo.name}/reset`, 'POST'],
  ];
  test.each(cases)('%s %s', async (method, path, allow) => {
    const res = count('405', await http[method](path()).set('Authorization', demo.auth));
    expectOutcome(res, 405, 'not-supported', 'NAVET-METHOD-NOT-ALLOWED');
    expect(res.headers.allow).toBe(allow);
  });

  test('an unknown path is still 404', async () => {
    expectOutcome(count('404', await http.get('/nothing/here')), 404, 'not-found', 'NAVET-NO-SUCH-PATH');
  });
});

describe('POST _search takes a form: a JSON body is refused, not ignored', () => {
  test.each([
    ['PPS', () => `/sandboxes/${demo.name}/pps/DiagnosticReport/_search`],
    ['PPS backdoor', () => `/sandboxes/${demo.name}/pps/backdoor/Observation/_search`],
    ['PJD ITI-67', () => `/sandboxes/${demo.name}/pjd/R4/fhir/DocumentReference/_search`],
    ['FHIR API', () => `/sandboxes/${demo.name}/fhir/Patient/_search`],
  ])('%s', async (_label, path) => {
    const res = count(
      'json search',
      await http.post(path()).set('Authorization', demo.auth).send({ date: 'ge2021-01-01' }),
    );
    expectOutcome(res, 415, 'not-supported', 'NAVET-CONTENT-TYPE');
  });
});

describe('seeded ids carry no national id', () => {
  test('Patient, critical information, lab reports and documents of a test person', async () => {
    const nin = '13116900216';
    const id = await patientIdOf(navet, demo, nin);
    expect(id).not.toContain(nin);
    const everything = count(
      'everything',
      await http.get(`/sandboxes/${demo.name}/fhir/Patient/${id}`).set('Authorization', demo.auth),
    );
    expect(everything.status).toBe(200);
    for (const type of [
      'DocumentReference',
      'DiagnosticReport',
      'AllergyIntolerance',
      'Condition',
      'MedicationStatement',
      'List',
    ]) {
      const found = count(
        type,
        await http.get(`/sandboxes/${demo.name}/fhir/${type}?_count=1000&_elements=id`).set('Authorization', demo.auth),
      );
      for (const entry of (found.body.entry as { resource: { id: string } }[] | undefined) ?? [])
        expect(entry.resource.id).not.toMatch(/\d{11}/);
    }
  });

  test('the same seed gives the same ids', async () => {
    const again = await createSeeded({ syntheticPatients: 20 });
    expect(await patientIdOf(navet, again, '48882807579')).toBe(await patientIdOf(navet, demo, '48882807579'));
  });
});

describe('delete is gone at once, purges everything and gives the space back', () => {
  test('no rows are left in any table, and SQLite has no free pages left over', async () => {
    const doomed = await createSeeded({ syntheticPatients: 100 });
    const deleted = [doomed.name];
    // a snapshot to purge too (taken before: snapshots are another request class)
    await http
      .post(`/api/sandboxes/${doomed.name}/snapshots`)
      .set('Authorization', doomed.auth)
      .send({ label: 'kept' });
    const res = await heavy('delete', () =>
      http.delete(`/api/sandboxes/${doomed.name}`).set('Authorization', doomed.auth),
    );
    expect(res.status).toBe(204);
    expect(
      count('deleted', await http.get(`/api/sandboxes/${doomed.name}`).set('Authorization', doomed.auth)).status,
    ).toBe(404);
    // the rows go in the worker's purge after the answer (each attempt's, before the space is counted)
    for (const name of deleted) await waitForPurge(navet, name);
    const db = navet.navet.database.db;
    for (const table of [
      'resources',
      'resource_versions',
      'search_index',
      'snapshots',
      'snapshot_resources',
      'snapshot_resource_versions',
      'snapshot_search_index',
      'signing_keys',
      'clients',
      'trust_state',
      'service_settings',
    ] as const) {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .where('sandbox', '=', doomed.name)
        .executeTakeFirstOrThrow();
      expect({ table, rows: Number(row.n) }).toEqual({ table, rows: 0 });
    }
    if (navet.navet.database.engine === 'sqlite') {
      const { sql } = await import('kysely');
      const free = await sql<{ freelist_count: number }>`pragma freelist_count`.execute(db);
      expect(Number(free.rows[0].freelist_count)).toBe(0);
      const vacuum = await sql<{ auto_vacuum: number }>`pragma auto_vacuum`.execute(db);
      expect(Number(vacuum.rows[0].auto_vacuum)).toBe(2);
    }
  });
});

test('no bad request got a 5xx', () => {
  expect(seen.requests).toBeGreaterThan(100);
  expect(seen.serverErrors).toEqual([]);
});
