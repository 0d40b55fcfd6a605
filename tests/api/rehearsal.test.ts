import { createSandbox } from '../helpers/test-navet';
import { type ListeningNavet, startListeningNavet, waitForRun } from '../helpers/listening-navet';

/** Rehearsals over the HTTP API against a listening Navet: rates, faults, stop, bounds and the readiness report. */
let server: ListeningNavet;
beforeAll(async () => {
  server = await startListeningNavet();
});
afterAll(() => server.close());

const SMALL = {
  kommunenummer: '9998',
  name: 'Øvingsvik kommune',
  population: 2000,
  postalCode: '9998',
  city: 'Øvingsvik',
  pjdTermsSigned: true,
  units: [
    { kind: 'home-care', name: 'Hjemmetjenesten Øvingsvik' },
    { kind: 'out-of-hours', name: 'Øvingsvik legevakt' },
  ],
  gpOffices: [{ name: 'Øvingsvik legesenter', gps: 2 }],
  hospitalTrust: { name: 'Øvingsvik sykehus HF', hospitals: [{ name: 'Øvingsvik sykehus' }] },
  recordSystems: [
    {
      id: 'gp-epj',
      name: 'Fastlegesystem',
      usedBy: ['gp-office'],
      services: ['pll', 'pjd', 'critical-information', 'lab-results'],
    },
    { id: 'municipal-epj', name: 'Kommunal EPJ', usedBy: ['home-care'], services: ['pll'] },
    { id: 'legevakt-epj', name: 'Legevaktsystem', usedBy: ['out-of-hours'], services: ['pll', 'critical-information'] },
    { id: 'hospital-epj', name: 'Sykehussystem', usedBy: ['hospital'], services: ['pll', 'pjd', 'lab-results'] },
  ],
};

async function rehearse(sandbox: { name: string; auth: string }, body: Record<string, unknown>) {
  const created = await server.http
    .post(`/api/sandboxes/${sandbox.name}/rehearsals`)
    .set('Authorization', sandbox.auth)
    .send(body);
  expect(created.status).toBe(201);
  const path = `/api/sandboxes/${sandbox.name}/rehearsals/${created.body.id}`;
  return {
    id: created.body.id as string,
    planned: created.body.planned,
    path,
    done: () => waitForRun(server, path, sandbox.auth, 120000),
  };
}

const report = async (sandbox: { auth: string }, path: string, format = 'json') =>
  server.http.get(`${path}/report?format=${format}`).set('Authorization', sandbox.auth);

describe('POST /api/sandboxes/{name}/rehearsals', () => {
  test('an hour at high speed finishes with a readiness report: rates scaled to the population, every flow completed', async () => {
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const run = await rehearse(sandbox, { hours: 1, speed: 3600 });
    // national per day × 2,000 / 5.3 million × 1 h / 8 h, at least one of each
    expect(run.planned).toEqual({
      'medication-reconciliation': 4,
      'home-care-medication-list': 6,
      'critical-information-lookup': 1,
      'discharge-summary': 1,
      'lab-result': 1,
    });
    const done = await run.done();
    expect(done).toMatchObject({
      status: 'finished',
      progress: { flowsPlanned: 13, flowsStarted: 13, flowsCompleted: 13, flowsFailed: 0, simulatedMinutes: 60 },
    });
    const json = (await report(sandbox, run.path)).body;
    expect(json.totals).toEqual({ calls: 27, successes: 27, failures: 0, flowsCompleted: 13, flowsNotCompleted: 0 });
    expect(json.incompleteFlows).toEqual([]);
    const services = json.actors.flatMap((a: { actor: string; services: { service: string }[] }) =>
      a.services.map((s) => `${a.actor.split(' (')[0]} ${s.service}`),
    );
    expect(services).toEqual(
      expect.arrayContaining([
        'GP sfm',
        'GP pjd',
        'GP pps',
        'Home-care nurse sfm',
        'Legevakt doctor critical-information',
        'Hospital doctor pjd',
        'Hospital doctor pps',
      ]),
    );
    for (const actor of json.actors)
      for (const s of actor.services) expect(s.latencyMs.max).toBeGreaterThanOrEqual(s.latencyMs.p50);
    expect(json.prerequisites.map((p: { id: string; ready: boolean }) => [p.id, p.ready])).toEqual([
      ['health-network-membership', true],
      ['kjernejournal-reachable', true],
      ['sfm-integration:gp-epj', true],
      ['sfm-integration:municipal-epj', true],
      ['sfm-integration:legevakt-epj', true],
      ['attestation', true],
      ['pjd-gp-terms', true],
    ]);
    const html = await report(sandbox, run.path, 'html');
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.text).toContain('Readiness report: Øvingsvik kommune (9998, 2,000 inhabitants)');
    expect((await report(sandbox, run.path, 'pdf')).status).toBe(400);
  }, 180000);

  test('Reseptformidleren unavailable for the hour: reconciliations never complete, failing with RF-UNAVAILABLE, and the fault is lifted after', async () => {
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const run = await rehearse(sandbox, {
      hours: 1,
      speed: 3600,
      faults: [{ backend: 'reseptformidleren', mode: 'unavailable', fromMinute: 0, minutes: 60 }],
    });
    expect((await run.done()).status).toBe('finished');
    const json = (await report(sandbox, run.path)).body;
    const reconciliation = json.incompleteFlows.find((f: { flow: string }) => f.flow === 'medication-reconciliation');
    expect(reconciliation.count).toBe(4);
    expect(reconciliation.where.map((w: { code: string; operation: string }) => `${w.operation} ${w.code}`)).toEqual([
      'get-medication RF-UNAVAILABLE',
    ]);
    expect(json.rehearsal.faultLog[0]).toBe('minute 0: reseptformidleren unavailable');
    const settings = await server.http
      .get(`/api/sandboxes/${sandbox.name}/settings/sfm`)
      .set('Authorization', sandbox.auth);
    expect(settings.body.reseptformidleren.mode).toBe('available');
  }, 180000);

  test("a record system graded in a conformance session of the same sandbox: the readiness report carries that session's verdict", async () => {
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const clients = (await server.http.get(`/api/sandboxes/${sandbox.name}/clients`).set('Authorization', sandbox.auth))
      .body.clients as { clientId: string }[];
    const sessions = `/api/sandboxes/${sandbox.name}/conformance/sessions`;
    const opened = await server.http
      .post(sessions)
      .set('Authorization', sandbox.auth)
      .send({ clientId: clients[0].clientId, profiles: ['helseid-client'] });
    expect(opened.status).toBe(201);
    // graded with no traffic: its required requirements are skipped, so the session did not pass
    expect(
      (await server.http.post(`${sessions}/${opened.body.id}/finish`).set('Authorization', sandbox.auth)).status,
    ).toBe(200);
    const graded = await server.http
      .get(`${sessions}/${opened.body.id}/report?format=json`)
      .set('Authorization', sandbox.auth);
    expect(graded.body.verdict).not.toBe('passed');
    const run = await rehearse(sandbox, { hours: 1, speed: 3600, conformanceSessions: [opened.body.id] });
    expect((await run.done()).status).toBe('finished');
    const json = (await report(sandbox, run.path)).body;
    expect(json.conformance).toEqual([
      expect.objectContaining({
        session: opened.body.id,
        available: true,
        verdict: graded.body.verdict,
        client: clients[0].clientId,
      }),
    ]);
  }, 180000);

  test('a slow PJD for the hour: the report shows the PJD latency under the fault, and the delay is lifted after', async () => {
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const run = await rehearse(sandbox, {
      hours: 1,
      speed: 3600,
      faults: [{ backend: 'pjd', mode: 'slow', fromMinute: 0, minutes: 60, delayMs: 1500 }],
    });
    expect((await run.done()).status).toBe('finished');
    const json = (await report(sandbox, run.path)).body;
    expect(json.rehearsal.faultLog[0]).toBe('minute 0: pjd slow');
    expect(json.totals.flowsNotCompleted).toBe(0);
    expect(json.faultImpact).toHaveLength(1);
    const impact = json.faultImpact[0];
    expect(impact.fault).toBe('pjd slow 1500 ms, minutes 0–60');
    expect(impact.during.service).toBe('pjd');
    expect(impact.during.calls).toBeGreaterThanOrEqual(2);
    expect(impact.during.successes).toBe(impact.during.calls);
    expect(impact.during.latencyMs.p50).toBeGreaterThanOrEqual(1500);
    expect(impact.outside.calls).toBe(0);
    const pjdFigures = json.actors.flatMap((a: { services: { service: string; latencyMs: { p50: number } }[] }) =>
      a.services.filter((s) => s.service === 'pjd'),
    );
    expect(pjdFigures.length).toBeGreaterThan(0);
    for (const figures of pjdFigures) expect(figures.latencyMs.p50).toBeGreaterThanOrEqual(1500);
    // the other services were not slowed
    const sfm = json.actors.flatMap((a: { services: { service: string; latencyMs: { p50: number } }[] }) =>
      a.services.filter((s) => s.service === 'sfm'),
    );
    for (const figures of sfm) expect(figures.latencyMs.p50).toBeLessThan(1500);
    expect((await report(sandbox, run.path, 'html')).text).toContain(
      '<td>pjd slow 1500 ms, minutes 0–60</td><td>pjd</td>',
    );
    const settings = await server.http
      .get(`/api/sandboxes/${sandbox.name}/settings/pjd`)
      .set('Authorization', sandbox.auth);
    expect(settings.body).toMatchObject({ delayMs: 0, unavailable: false });
  }, 180000);

  test('a municipality not ready: not a health-network member, a system without the attestation, no PJD terms — each prerequisite says why', async () => {
    const notReady = {
      ...SMALL,
      kommunenummer: '9997',
      healthNetworkMember: false,
      pjdTermsSigned: false,
      recordSystems: SMALL.recordSystems.map((s) =>
        s.id === 'legevakt-epj'
          ? { ...s, attestation: false }
          : s.id === 'municipal-epj'
            ? { ...s, services: ['critical-information'] }
            : s,
      ),
    };
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: notReady });
    const run = await rehearse(sandbox, { hours: 1, speed: 3600, conformanceSessions: ['session-from-issue-16'] });
    expect((await run.done()).status).toBe('finished');
    const json = (await report(sandbox, run.path)).body;
    const byId = Object.fromEntries(json.prerequisites.map((p: { id: string }) => [p.id, p]));
    expect(byId['health-network-membership']).toMatchObject({
      ready: false,
      evidence: expect.arrayContaining(['not a member: Øvingsvik kommune']),
    });
    expect(byId['sfm-integration:municipal-epj']).toMatchObject({
      ready: false,
      evidence: expect.arrayContaining(['0 of 1 installations registered with e-helse:sfm.api/sfm.api2']),
    });
    expect(byId.attestation.ready).toBe(false);
    expect(byId.attestation.evidence[0]).toContain('configured without the attestation');
    expect(byId['pjd-gp-terms'].ready).toBe(false);
    const where = json.incompleteFlows.flatMap((f: { flow: string; where: { code: string }[] }) =>
      f.where.map((w) => `${f.flow} ${w.code}`),
    );
    expect(where).toEqual(
      expect.arrayContaining([
        'home-care-medication-list NAVET-SCOPE-NOT-ALLOWED',
        'critical-information-lookup NAVET-ATTESTATION-MISSING',
      ]),
    );
    // a session the sandbox does not have: the report says so instead of inventing a verdict
    expect(json.conformance).toEqual([
      { session: 'session-from-issue-16', available: true, note: 'session not found (404 NAVET-CONFORMANCE-SESSION)' },
    ]);
  }, 180000);

  test('a long rehearsal can be stopped, and its report covers what ran', async () => {
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const run = await rehearse(sandbox, { hours: 8, speed: 60 });
    expect(
      (
        await server.http
          .post(`/api/sandboxes/${sandbox.name}/rehearsals`)
          .set('Authorization', sandbox.auth)
          .send({ hours: 1, speed: 3600 })
      ).status,
    ).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stop = await server.http.post(`${run.path}/stop`).set('Authorization', sandbox.auth);
    expect(stop.status).toBe(200);
    const done = await run.done();
    expect(done.status).toBe('stopped');
    expect(done.progress.flowsStarted).toBeLessThan(done.progress.flowsPlanned);
    const json = (await report(sandbox, run.path)).body;
    expect(json.rehearsal.status).toBe('stopped');
    expect(json.rehearsal.faultLog.at(-1)).toMatch(/flows not started \(stopped\)$/);
  }, 180000);

  test('bad options, a sandbox that is not a municipality, an unknown rehearsal', async () => {
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const path = `/api/sandboxes/${sandbox.name}/rehearsals`;
    for (const [body, text] of [
      [{ hours: 100 }, 'hours must be a number from 0.25 to 24'],
      [{ hours: 8, speed: 2 }, 'a rehearsal runs at most 900 s: raise speed'],
      [
        { faults: [{ backend: 'helsenorge', mode: 'slow', fromMinute: 0, minutes: 5 }] },
        'faults[0].backend must be kjernejournal, reseptformidleren or pjd',
      ],
      [
        { faults: [{ backend: 'pjd', mode: 'timeout', fromMinute: 0, minutes: 5 }] },
        'faults[0].mode must be slow or unavailable for pjd',
      ],
    ] as const) {
      const res = await server.http.post(path).set('Authorization', sandbox.auth).send(body);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].details.text).toContain(text);
    }
    const demo = await createSandbox(server, { seed: 'empty' });
    const refused = await server.http
      .post(`/api/sandboxes/${demo.name}/rehearsals`)
      .set('Authorization', demo.auth)
      .send({});
    expect(refused.status).toBe(400);
    expect(refused.body.issue[0].details.coding[0].code).toBe('NAVET-REHEARSAL-SANDBOX');
    expect((await server.http.get(`${path}/nope`).set('Authorization', sandbox.auth)).status).toBe(404);
    expect((await server.http.post(path).send({})).status).toBe(401);
  });

  test('the Bodø preset: a one-hour rehearsal at speed 3600 finishes with a report', async () => {
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: { preset: 'bodo' } });
    const run = await rehearse(sandbox, { hours: 1, speed: 3600 });
    const started = Date.now();
    const done = await run.done();
    expect(done.status).toBe('finished');
    const json = (await report(sandbox, run.path)).body;
    expect(json.municipality).toEqual({ name: 'Bodø kommune', kommunenummer: '1804', population: 53000 });
    expect(json.totals.flowsCompleted).toBe(done.progress.flowsPlanned);
    process.stdout.write(`Bodø, 1 h at speed 3600: ${json.totals.calls} calls in ${Date.now() - started} ms\n`);
  }, 240000);
});
