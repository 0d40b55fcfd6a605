import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { createSandbox } from '../helpers/test-navet';
import { type ListeningNavet, startListeningNavet, waitForRun } from '../helpers/listening-navet';

/**
 * The shipped scenarios over the HTTP API, on a fresh seeded sandbox each, and each broken on purpose
 * (a wrong scope, a blocked or reserved patient, a missing re-read) failing at the step where it should.
 */
let server: ListeningNavet;
beforeAll(async () => {
  server = await startListeningNavet();
});
afterAll(() => server.close());

const SHIPPED = [
  'critical-information',
  'discharge',
  'kjernejournal-reservation',
  'lab-results',
  'legemiddelsamstemming',
];
const scenarioText = (name: string) =>
  readFileSync(path.resolve(__dirname, '..', '..', 'fixtures', 'scenarios', `${name}.yaml`), 'utf8');

/** The scenario's YAML with a change made through the yaml library (comments and layout kept). */
function changed(name: string, edit: (doc: ReturnType<typeof parseDocument>) => void): string {
  const doc = parseDocument(scenarioText(name));
  edit(doc);
  return doc.toString();
}

async function run(body: Record<string, unknown>, sandbox?: { name: string; auth: string }) {
  const target = sandbox ?? (await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } }));
  const created = await server.http
    .post(`/api/sandboxes/${target.name}/scenario-runs`)
    .set('Authorization', target.auth)
    .send(body);
  expect(created.status).toBe(201);
  expect(typeof created.body.id).toBe('string');
  return waitForRun(server, `/api/sandboxes/${target.name}/scenario-runs/${created.body.id}`, target.auth);
}

function failedStep(result: Record<string, any>) {
  expect(result.status).toBe('failed');
  return (result.steps as Record<string, any>[]).find((s) => s.status !== 'passed') as Record<string, any>;
}

describe('GET /api/scenarios', () => {
  test('lists the five shipped scenarios with their titles', async () => {
    const res = await server.http.get('/api/scenarios');
    expect(res.status).toBe(200);
    expect(res.body.scenarios.map((s: { name: string }) => s.name)).toEqual(SHIPPED);
    for (const s of res.body.scenarios) expect(s.title.length).toBeGreaterThan(10);
  });
});

describe.each(SHIPPED)('scenario %s over the API', (name) => {
  test('passes on a fresh seeded sandbox, every step with actor, service, operation, status and time', async () => {
    const result = await run({ scenario: name });
    expect(result.steps.filter((s: { status: string }) => s.status !== 'passed')).toEqual([]);
    expect(result.checks.filter((c: { status: string }) => c.status !== 'passed')).toEqual([]);
    expect(result.status).toBe('passed');
    for (const step of result.steps) {
      expect(step).toEqual(
        expect.objectContaining({
          actor: expect.any(String),
          service: expect.any(String),
          operation: expect.any(String),
          status: 'passed',
          ms: expect.any(Number),
        }),
      );
    }
  });
});

describe('each scenario broken on purpose fails at the right step, naming the rule', () => {
  test('discharge: a GP system registered without the document-list scope is refused at the search (NAVET-TOKEN-SCOPE)', async () => {
    const yaml = changed('discharge', (doc) => doc.setIn(['actors', 'gp', 'scopes'], ['nhn:phr/mhd/read-document']));
    const step = failedStep(await run({ yaml }));
    expect(step).toMatchObject({
      id: 'gp-finds-documents',
      status: 'failed',
      httpStatus: 403,
      rule: 'NAVET-TOKEN-SCOPE',
    });
  });

  test("legemiddelsamstemming: without the re-read, the GP's second send conflicts (NAVET-SFM-PLL-CONFLICT)", async () => {
    const yaml = changed('legemiddelsamstemming', (doc) => {
      const steps = doc.get('steps') as { items: { get(key: string): unknown }[] };
      steps.items = steps.items.filter((item) => item.get('id') !== 'gp-re-reads-list');
    });
    const step = failedStep(await run({ yaml }));
    expect(step).toMatchObject({
      id: 'gp-sends-again',
      status: 'failed',
      httpStatus: 409,
      rule: 'NAVET-SFM-PLL-CONFLICT',
    });
  });

  test('critical information: an out-of-hours system without the Kjernejournal scope is refused at the read', async () => {
    const yaml = changed('critical-information', (doc) =>
      doc.setIn(['actors', 'legevakt', 'scopes'], ['e-helse:sfm.api/sfm.api2']),
    );
    const step = failedStep(await run({ yaml }));
    expect(step).toMatchObject({ id: 'legevakt-reads-allergies', status: 'failed', rule: 'NAVET-SCOPE-NOT-ALLOWED' });
  });

  test("lab results: a patient who blocked lab results beforehand makes the GP's first search find nothing", async () => {
    const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const block = [
      'name: block-first',
      'title: Gry Telokk blocks her lab results',
      'actors:',
      '  citizen:',
      '    title: Citizen Gry Telokk',
      '    citizen: { fnr: "12057900499" }',
      'steps:',
      '  - id: block',
      '    actor: citizen',
      '    call: citizen.block-lab-results',
      '    with: { blocked: true }',
    ].join('\n');
    expect((await run({ yaml: block }, sandbox)).status).toBe('passed');
    const result = await run({ scenario: 'lab-results' }, sandbox);
    const step = failedStep(result);
    expect(step.id).toBe('gp-finds-result');
    expect(step.message).toContain("does not hold: entry.resource.where(resourceType = 'DiagnosticReport'");
    // the cleanup ran all the same: the block is lifted and the scenario passes next time
    expect(result.steps.at(-1)).toMatchObject({ id: 'citizen-unblocks-lab-results', cleanup: true, status: 'passed' });
    expect((await run({ scenario: 'lab-results' }, sandbox)).status).toBe('passed');
  });

  test("Kjernejournal reservation: without the citizen's reservation the GP's status shows none", async () => {
    const yaml = changed('kjernejournal-reservation', (doc) => {
      const steps = doc.get('steps') as { items: { get(key: string): unknown }[] };
      steps.items = steps.items.filter((item) => item.get('id') !== 'citizen-reserves');
    });
    const step = failedStep(await run({ yaml }));
    expect(step).toMatchObject({ id: 'gp-reads-status', status: 'failed', httpStatus: 200 });
    expect(step.message).toContain('privacySettings.reservation = true');
  });
});

describe('bad input to the scenario-run API', () => {
  test('a YAML with an unknown actor and an unknown operation gets 422 naming each line', async () => {
    const sandbox = await createSandbox(server);
    const yaml =
      'name: bad\ntitle: Bad\nactors:\n  gp:\n    title: GP\n    organisation: { legalEntity: "100100673" }\n    practitioner: { hpr: "565501872" }\nsteps:\n  - id: one\n    actor: nobody\n    call: pjd.find-everything\n';
    const res = await server.http
      .post(`/api/sandboxes/${sandbox.name}/scenario-runs`)
      .set('Authorization', sandbox.auth)
      .send({ yaml });
    expect(res.status).toBe(422);
    const texts = res.body.issue.map((i: { details: { text: string } }) => i.details.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^line 10, column 12: steps\.0\.actor: no actor named 'nobody'/),
        expect.stringMatching(/^line 11, column 11: steps\.0\.call: no operation 'pjd\.find-everything'/),
      ]),
    );
  });

  test('neither or both of scenario and yaml, an unknown scenario, no admin key, an unknown run', async () => {
    const sandbox = await createSandbox(server);
    const path = `/api/sandboxes/${sandbox.name}/scenario-runs`;
    expect((await server.http.post(path).set('Authorization', sandbox.auth).send({})).status).toBe(400);
    expect(
      (await server.http.post(path).set('Authorization', sandbox.auth).send({ scenario: 'discharge', yaml: 'x' }))
        .status,
    ).toBe(400);
    const unknown = await server.http.post(path).set('Authorization', sandbox.auth).send({ scenario: 'no-such' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.issue[0].details.coding[0].code).toBe('NAVET-SCENARIO-UNKNOWN');
    expect((await server.http.post(path).send({ scenario: 'discharge' })).status).toBe(401);
    expect((await server.http.get(`${path}/not-a-run`).set('Authorization', sandbox.auth)).status).toBe(404);
  });
});
