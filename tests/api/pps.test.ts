import { makeDpopProof } from '../../src/trust/dpop-client';
import { FNR_SYSTEM, GRY_TELOKK, HARRY_HANDEL, LINE_DANSER, patientId } from '../helpers/documents';
import { getToken, type TokenResult } from '../helpers/helseid-client';
import { EHELSE, gpAttestation, labBundle } from '../helpers/lab-results';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let lab: TokenResult;
let gp: TokenResult;
const pps = () => `/sandboxes/${sandbox.name}/pps`;
type Entry = { resource: { resourceType: string; id: string; [k: string]: unknown }; search: { mode: string } };

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  lab = await getToken(server.http, sandbox.name, { clientId: 'demo-lab-system', scope: 'navet:pps/submit-result' });
  gp = await getToken(server.http, sandbox.name, { clientId: 'demo-gp-system', scope: 'nhn:pps/provesvar-read', details: [gpAttestation()] });
  expect(lab.status).toBe(200);
  expect(gp.status).toBe(200);
});
afterAll(() => server.close());

async function dpop(t: TokenResult, method: string, path: string): Promise<Record<string, string>> {
  return { Authorization: `DPoP ${t.body.access_token}`, DPoP: await makeDpopProof(t.dpopKey, { method, url: `${TEST_BASE_URL}${path.split('?')[0]}`, accessToken: t.body.access_token }) };
}

async function submit(body: unknown, t = lab) {
  return server.http.post(pps()).type('application/fhir+json').set(await dpop(t, 'POST', pps())).send(body as object);
}

/** A form-encoded search as the real clients send it; `form` may repeat names. */
async function search(type: string, form: [string, string][], nin = GRY_TELOKK, headers: Record<string, string> = {}, t = gp) {
  const path = `${pps()}/${type}/_search`;
  const request = server.http.post(path).type('form').set(await dpop(t, 'POST', path)).set(headers);
  if (nin) request.set('person-id', nin);
  return request.send(new URLSearchParams(form).toString());
}

const resources = (body: { entry?: Entry[] }, mode?: string) => (body.entry ?? []).filter((e) => !mode || e.search.mode === mode).map((e) => e.resource);
const count = async (type: string) => (await server.http.get(`/sandboxes/${sandbox.name}/fhir/${type}?_summary=count`).set('Authorization', sandbox.auth)).body.total as number;
const RECENT: [string, string] = ['date', 'ge2026-06-01'];

describe('a lab submits, a GP searches with includes', () => {
  let reportId: string;

  test('the lab\'s transaction Bundle is stored whole, with the subject by FNR', async () => {
    const res = await submit(labBundle({ nin: GRY_TELOKK, reportId: 'R-100' }));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry).toHaveLength(7);
    expect(res.body.entry.every((e: { response: { status: string } }) => e.response.status === '201 Created')).toBe(true);
    reportId = res.body.entry[0].fullUrl.split('/').pop();
    const stored = await server.http.get(`/sandboxes/${sandbox.name}/fhir/DiagnosticReport/${reportId}`).set('Authorization', sandbox.auth);
    const gryId = await patientId(server, sandbox.auth, sandbox.name, GRY_TELOKK);
    expect(stored.body.subject).toEqual({ reference: `Patient/${gryId}`, identifier: { system: FNR_SYSTEM, value: GRY_TELOKK } });
    expect(stored.body.result).toHaveLength(2);
    expect(stored.body.meta.tag).toEqual(expect.arrayContaining([{ system: 'https://navet.example/fhir/CodeSystem/pps-source', code: '974557746' }, expect.objectContaining({ code: 'NPU19748' })]));
  });

  test('DiagnosticReport search: the match, its specimen, its request and (iterate) the requester', async () => {
    const res = await search('DiagnosticReport', [RECENT, ['_include', 'DiagnosticReport:specimen'], ['_include', 'DiagnosticReport:based-on'], ['_include:iterate', 'ServiceRequest:requester']], GRY_TELOKK, { 'correlation-id': 'corr-1', 'access-basis': 'behandling' });
    expect(res.status).toBe(200);
    expect(res.headers['correlation-id']).toBe('corr-1');
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(resources(res.body, 'match').map((r) => r.id)).toEqual([reportId]);
    const included = resources(res.body, 'include');
    expect(included.map((r) => r.resourceType).sort()).toEqual(['PractitionerRole', 'ServiceRequest', 'Specimen']);
    expect((included.find((r) => r.resourceType === 'PractitionerRole')?.practitioner as { identifier: { value: string } }).identifier.value).toBe('565501872');
    // without the iterate, no requester
    const flat = await search('DiagnosticReport', [RECENT, ['_include', 'DiagnosticReport:based-on']]);
    expect(resources(flat.body, 'include').map((r) => r.resourceType)).toEqual(['ServiceRequest']);
  });

  test('GET works as well, and Observation search with _include and _revinclude', async () => {
    const path = `${pps()}/DiagnosticReport`;
    const res = await server.http.get(`${path}?date=gt2026-10-01&_include=DiagnosticReport:result`).set(await dpop(gp, 'GET', path)).set('person-id', GRY_TELOKK);
    expect(res.status).toBe(200);
    expect(resources(res.body, 'include').map((r) => r.resourceType)).toEqual(['Observation', 'Observation']);
    const observations = await search('Observation', [RECENT, ['_tag', `${EHELSE('7280')}|NPU19748`], ['_include', 'Observation:report']]);
    expect(observations.status).toBe(200);
    expect(resources(observations.body, 'match').map((r) => (r.code as { coding: { code: string }[] }).coding[0].code)).toEqual(['NPU19748']);
    expect(resources(observations.body, 'include').map((r) => r.id)).toEqual([reportId]);
    const reverse = await search('DiagnosticReport', [RECENT, ['_revinclude', 'Observation:report']]);
    expect(resources(reverse.body, 'include')).toHaveLength(2);
  });

  test('date prefixes, _id, _count and _skip', async () => {
    expect((await search('DiagnosticReport', [['date', 'lt2026-10-01'], ['_id', reportId]])).body.total).toBe(0);
    expect((await search('DiagnosticReport', [['date', 'eq2026-10-05'], ['_id', reportId]])).body.total).toBe(1);
    await submit(labBundle({ nin: GRY_TELOKK, reportId: 'R-101', collected: '2026-10-07T08:00:00+02:00' }));
    const first = await search('DiagnosticReport', [RECENT, ['_count', '1']]);
    expect(first.body.total).toBe(2);
    expect(resources(first.body, 'match')).toHaveLength(1);
    expect(first.body.link.find((l: { relation: string }) => l.relation === 'next').url).toContain('_skip=1');
    const second = await search('DiagnosticReport', [RECENT, ['_count', '1'], ['_skip', '1']]);
    expect(resources(second.body, 'match')[0].id).not.toBe(resources(first.body, 'match')[0].id);
    // newest first
    expect(resources(first.body, 'match')[0].effectiveDateTime).toBe('2026-10-07T08:00:00+02:00');
  });

  test('every search is in the patient\'s access log', async () => {
    const res = await search('DiagnosticReport', [RECENT], GRY_TELOKK, { 'nhn-event-id': 'pps-log-1' });
    expect(res.status).toBe(200);
    const events = await server.http.get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?event-id=pps-log-1`).set('Authorization', sandbox.auth);
    expect(events.body.total).toBe(1);
    const event = events.body.entry[0].resource;
    expect(event.subtype[0].code).toBe('PPS-SEARCH');
    expect(event.source.observer.identifier.value).toBe('pps');
    expect(event.contained.find((r: { id: string }) => r.id === 'patient').identifier[0].value).toBe(GRY_TELOKK);
    expect(event.contained.find((r: { id: string }) => r.id === 'practitioner').identifier).toEqual(expect.arrayContaining([{ system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '565501872' }]));
  });

  test('the seeded sandbox has results for most patients, none in another patient\'s answer', async () => {
    const totals = await Promise.all([LINE_DANSER, HARRY_HANDEL, GRY_TELOKK].map(async (nin) => (await search('DiagnosticReport', [['date', 'lt2026-01-02']], nin)).body.total as number));
    expect(totals.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    const harry = await search('DiagnosticReport', [['_count', '200']], HARRY_HANDEL);
    expect(resources(harry.body, 'match').every((r) => (r.subject as { identifier: { value: string } }).identifier.value === HARRY_HANDEL)).toBe(true);
  });
});

describe('the citizen blocks, and the GP no longer sees', () => {
  test('blocked results are hidden and an outcome entry says so; unblocking shows them again', async () => {
    const token = await server.http.post(`/sandboxes/${sandbox.name}/helseid/create-test-token`).set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'demo-citizen-app', scopes: ['navet:citizen'], user: { pid: GRY_TELOKK } });
    const citizen = (blocked: boolean) => server.http.put(`/sandboxes/${sandbox.name}/citizen/privacy/lab-results`).set('Authorization', `Bearer ${token.body.access_token}`).send({ blocked });
    expect((await search('DiagnosticReport', [RECENT])).body.total).toBeGreaterThan(0);
    expect((await citizen(true)).status).toBe(200);
    for (const type of ['DiagnosticReport', 'Observation']) {
      const res = await search(type, [RECENT, ...(type === 'DiagnosticReport' ? [['_include', 'DiagnosticReport:specimen'] as [string, string]] : [])]);
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(0);
      expect(resources(res.body, 'match')).toEqual([]);
      expect(resources(res.body, 'include')).toEqual([]);
      const outcome = resources(res.body, 'outcome');
      expect(outcome).toHaveLength(1);
      expect(outcome[0]).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'suppressed' }] });
    }
    expect((await citizen(false)).status).toBe(200);
    const again = await search('DiagnosticReport', [RECENT]);
    expect(again.body.total).toBeGreaterThan(0);
    expect(resources(again.body, 'outcome')).toEqual([]);
  });
});

describe('source stages', () => {
  const settings = (body: unknown) => server.http.put(`/api/sandboxes/${sandbox.name}/settings/pps`).set('Authorization', sandbox.auth).send(body as object);

  test('a lab source in manual submission / quality assurance is received but not shown for care', async () => {
    expect((await settings({ sourceStages: { 974557746: 'manual-quality-assurance' } })).status).toBe(200);
    expect((await search('DiagnosticReport', [RECENT])).body.total).toBe(0);
    expect((await search('Observation', [RECENT])).body.total).toBe(0);
    expect((await settings({ sourceStages: { 974557746: 'minimum-care' } })).status).toBe(200);
    expect((await search('DiagnosticReport', [RECENT])).body.total).toBeGreaterThan(0);
    expect((await settings({ sourceStages: {} })).body).toEqual({ backdoorEnabled: false, sourceStages: {} });
  });

  test('settings need the admin key and valid stages', async () => {
    expect((await server.http.put(`/api/sandboxes/${sandbox.name}/settings/pps`).send({ backdoorEnabled: true })).status).toBe(401);
    const bad = await settings({ sourceStages: { 974557746: 'soon' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].expression).toEqual(['sourceStages.974557746']);
    expect((await settings({ backdoorEnabled: 'yes' })).status).toBe(400);
  });
});

describe('the test backdoor', () => {
  const backdoor = (nin: string) => server.http.post(`${pps()}/backdoor/DiagnosticReport/_search`).type('form')
    .set({ 'x-nilar-patient': nin, 'x-nilar-requester-hpr': '4128168', 'x-nilar-requester-name': 'Test Lege', 'x-nilar-organisation': '974557746', 'x-nilar-correlation-id': 'backdoor-1' })
    .send('date=ge2026-06-01');

  test('switched off unless the sandbox enables it; then it answers without a token and is logged', async () => {
    const off = await backdoor(GRY_TELOKK);
    expect(off.status).toBe(403);
    expect(off.body.issue[0].details.coding[0].code).toBe('NAVET-PPS-BACKDOOR-OFF');
    await server.http.put(`/api/sandboxes/${sandbox.name}/settings/pps`).set('Authorization', sandbox.auth).send({ backdoorEnabled: true });
    const on = await backdoor(GRY_TELOKK);
    expect(on.status).toBe(200);
    expect(on.body.total).toBeGreaterThan(0);
    expect(on.body.entry[0].fullUrl).toContain('/pps/backdoor/DiagnosticReport/');
    const events = await server.http.get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?event-id=backdoor-1`).set('Authorization', sandbox.auth);
    expect(events.body.total).toBe(1);
    expect(events.body.entry[0].resource.agent[0].altId).toBe('4128168');
    expect((await backdoor('12345678901')).status).toBe(400);
    await server.http.put(`/api/sandboxes/${sandbox.name}/settings/pps`).set('Authorization', sandbox.auth).send({ backdoorEnabled: false });
  });
});

describe('corrected results supersede earlier ones visibly', () => {
  test('a known report identifier needs status corrected; the correction is a new version and drops what it no longer holds', async () => {
    const nin = HARRY_HANDEL;
    const first = await submit(labBundle({ nin, reportId: 'R-200' }));
    expect(first.status).toBe(200);
    const id = first.body.entry[0].fullUrl.split('/').pop();
    const observations = await count('Observation');
    const again = await submit(labBundle({ nin, reportId: 'R-200' }));
    expect(again.status).toBe(409);
    expect(again.body.issue[0].details.coding[0].code).toBe('NAVET-PPS-DUPLICATE-REPORT');
    expect(await count('Observation')).toBe(observations);
    const corrected = await submit(labBundle({ nin, reportId: 'R-200', status: 'corrected', results: [['NPU02319', 12.4, 'g/dL']] }));
    expect(corrected.status).toBe(200);
    expect(corrected.body.entry[0].response).toMatchObject({ status: '200 OK' });
    expect(corrected.body.entry[0].response.location).toMatch(new RegExp(`/DiagnosticReport/${id}/_history/2$`));
    const res = await search('DiagnosticReport', [RECENT, ['_include', 'DiagnosticReport:result']], nin);
    expect(resources(res.body, 'match')).toHaveLength(1);
    const report = resources(res.body, 'match')[0];
    expect(report).toMatchObject({ id, status: 'corrected', meta: { versionId: '2' } });
    expect(report.extension).toEqual(expect.arrayContaining([{ url: 'https://navet.example/fhir/StructureDefinition/pps-supersedes', valueReference: { reference: `DiagnosticReport/${id}/_history/1` } }]));
    expect(resources(res.body, 'include').map((o) => (o.valueQuantity as { value: number }).value)).toEqual([12.4]);
    const all = await search('Observation', [RECENT], nin);
    expect(resources(all.body, 'match').map((o) => o.status).sort()).toEqual(['cancelled', 'cancelled', 'corrected']);
  });
});

describe('the profiles catch what they must; bad input stores nothing', () => {
  const rejected = async (body: unknown, expression: string, code = 'NAVET-PPS-PROFILE', status = 400) => {
    const before = await count('DiagnosticReport');
    const res = await submit(body);
    expect(res.status).toBe(status);
    const issue = res.body.issue.find((i: { expression?: string[] }) => i.expression?.[0] === expression);
    expect(issue).toBeDefined();
    expect(issue.details.coding[0].code).toBe(code);
    expect(issue.details.text.length).toBeGreaterThan(20);
    expect(await count('DiagnosticReport')).toBe(before);
  };

  test('a report without category', () => rejected(labBundle({ nin: GRY_TELOKK, reportId: 'B-1', omitCategory: true }), 'Bundle.entry[0].resource.category'));
  test('an Observation with a non-UCUM unit', () => rejected(labBundle({ nin: GRY_TELOKK, reportId: 'B-2', results: [['NPU02319', 13, 'gram per decilitre']] }), 'Bundle.entry[5].resource.valueQuantity'));
  test('an Observation code from an unknown system', () => rejected(labBundle({ nin: GRY_TELOKK, reportId: 'B-3', codeSystem: 'http://loinc.org' }), 'Bundle.entry[5].resource.code'));
  test('a specimen without accession identifier', () => rejected(labBundle({ nin: GRY_TELOKK, reportId: 'B-4', omitAccession: true }), 'Bundle.entry[1].resource.accessionIdentifier'));
  test('a subject that is not a valid FNR', () => rejected(labBundle({ nin: '12057900498', reportId: 'B-5' }), 'Bundle.entry[0].resource.subject.identifier.value', 'NAVET-PPS-SUBMISSION'));
  test('a literal subject reference that does not exist', () => rejected(labBundle({ subject: { reference: 'Patient/nobody' }, reportId: 'B-6' }), 'Bundle.entry[0].resource.subject.reference', 'NAVET-PPS-SUBMISSION', 404));

  test('all three URL forms of the Volven code systems are accepted, and a literal Patient reference', async () => {
    const gryId = await patientId(server, sandbox.auth, sandbox.name, GRY_TELOKK);
    for (const [i, system] of ['http://helsedir.no/fhir/CodeSystem/no-kodeverk-8202', 'urn:oid:2.16.578.1.12.4.1.1.8202'].entries()) {
      const res = await submit(labBundle({ subject: { reference: `Patient/${gryId}` }, reportId: `F-${i}`, categorySystem: system, codeSystem: ['http://helsedir.no/fhir/CodeSystem/no-kodeverk-7280', 'urn:oid:2.16.578.1.12.4.1.1.7280'][i], collected: '2026-06-02T08:00:00Z' }));
      expect(res.status).toBe(200);
    }
  });

  test('submitting needs the submit scope; searching needs a read scope', async () => {
    const asGp = await submit(labBundle({ nin: GRY_TELOKK, reportId: 'S-1' }), gp);
    expect(asGp.status).toBe(403);
    const labReader = await getToken(server.http, sandbox.name, { clientId: 'demo-lab-system', scope: 'navet:pps/submit-result' });
    expect((await search('DiagnosticReport', [RECENT], GRY_TELOKK, {}, labReader)).status).toBe(403);
    const noToken = await server.http.post(`${pps()}/DiagnosticReport/_search`).type('form').set('person-id', GRY_TELOKK).send('date=ge2026-01-01');
    expect(noToken.status).toBe(401);
  });

  test.each([
    ['an unknown search parameter', [['code', 'NPU02319']], GRY_TELOKK, 'code', 'NAVET-SEARCH-UNKNOWN-PARAM'],
    ['a malformed date', [['date', 'ge2026-13-45']], GRY_TELOKK, 'date', 'NAVET-SEARCH-DATE'],
    ['an include the spec does not name', [['_include', 'DiagnosticReport:subject']], GRY_TELOKK, '_include', 'NAVET-SEARCH-INCLUDE'],
    ['a person-id that is not a valid FNR/D-number', [], '12057900498', 'person-id', 'NAVET-PPS-PERSON-ID'],
    ['no person-id', [], '', 'person-id', 'NAVET-PPS-PERSON-ID'],
    ['a negative _skip', [['_skip', '-1']], GRY_TELOKK, '_skip', 'NAVET-SEARCH-PARAM-VALUE'],
  ])('%s: 400 naming it', async (_name, form, nin, expression, code) => {
    const res = await search('DiagnosticReport', form as [string, string][], nin);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual([expression]);
    expect(res.body.issue[0].details.coding[0].code).toBe(code);
  });
});

test('metadata answers GET and POST with the CapabilityStatement', async () => {
  for (const method of ['get', 'post'] as const) {
    const res = await server.http[method](`${pps()}/metadata`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect(res.body.rest[0].resource[0].searchInclude).toContain('DiagnosticReport:specimen');
  }
});
