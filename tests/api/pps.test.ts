import { makeDpopProof } from '../../src/trust/dpop-client';
import { FNR_SYSTEM, GRY_TELOKK, HARRY_HANDEL, LINE_DANSER, patientId } from '../helpers/documents';
import { getToken, type TokenResult } from '../helpers/helseid-client';
import { EHELSE, gpAttestation, labBundle, NILAR } from '../helpers/lab-results';
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
  gp = await getToken(server.http, sandbox.name, {
    clientId: 'demo-gp-system',
    scope: 'nhn:pps/provesvar-read',
    details: [gpAttestation()],
  });
  expect(lab.status).toBe(200);
  expect(gp.status).toBe(200);
});
afterAll(() => server.close());

async function dpop(t: TokenResult, method: string, path: string): Promise<Record<string, string>> {
  return {
    Authorization: `DPoP ${t.body.access_token}`,
    DPoP: await makeDpopProof(t.dpopKey, {
      method,
      url: `${TEST_BASE_URL}${path.split('?')[0]}`,
      accessToken: t.body.access_token,
    }),
  };
}

async function submit(body: unknown, t = lab) {
  return server.http
    .post(pps())
    .type('application/fhir+json')
    .set(await dpop(t, 'POST', pps()))
    .send(body as object);
}

/** A form-encoded search as the real clients send it; `form` may repeat names. */
async function search(
  type: string,
  form: [string, string][],
  nin = GRY_TELOKK,
  headers: Record<string, string> = {},
  t = gp,
) {
  const path = `${pps()}/${type}/_search`;
  const request = server.http
    .post(path)
    .type('form')
    .set(await dpop(t, 'POST', path))
    .set(headers);
  if (nin) request.set('person-id', nin);
  return request.send(new URLSearchParams(form).toString());
}

const resources = (body: { entry?: Entry[] }, mode?: string) =>
  (body.entry ?? []).filter((e) => !mode || e.search.mode === mode).map((e) => e.resource);
const count = async (type: string) =>
  (await server.http.get(`/sandboxes/${sandbox.name}/fhir/${type}?_summary=count`).set('Authorization', sandbox.auth))
    .body.total as number;
const RECENT: [string, string] = ['date', 'ge2026-06-01'];

describe('a lab submits, a GP searches with includes', () => {
  let reportId: string;

  test("the lab's transaction Bundle is stored whole, with the subject by FNR", async () => {
    const res = await submit(labBundle({ nin: GRY_TELOKK, reportId: 'R-100' }));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry).toHaveLength(7);
    expect(res.body.entry.every((e: { response: { status: string } }) => e.response.status === '201 Created')).toBe(
      true,
    );
    reportId = res.body.entry[0].fullUrl.split('/').pop();
    const stored = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/DiagnosticReport/${reportId}`)
      .set('Authorization', sandbox.auth);
    const gryId = await patientId(server, sandbox.auth, sandbox.name, GRY_TELOKK);
    expect(stored.body.subject).toEqual({
      reference: `Patient/${gryId}`,
      identifier: { system: FNR_SYSTEM, value: GRY_TELOKK },
    });
    expect(stored.body.result).toHaveLength(2);
    expect(stored.body.meta.tag).toEqual(
      expect.arrayContaining([
        { system: 'https://navet.example/fhir/CodeSystem/pps-source', code: '974557746' },
        expect.objectContaining({ code: 'NPU19748' }),
      ]),
    );
  });

  test('DiagnosticReport search: the match, its specimen, its request and (iterate) the requester', async () => {
    const res = await search(
      'DiagnosticReport',
      [
        RECENT,
        ['_include', 'DiagnosticReport:specimen'],
        ['_include', 'DiagnosticReport:based-on'],
        ['_include:iterate', 'ServiceRequest:requester'],
      ],
      GRY_TELOKK,
      { 'correlation-id': 'corr-1', 'access-basis': 'behandling' },
    );
    expect(res.status).toBe(200);
    expect(res.headers['correlation-id']).toBe('corr-1');
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(resources(res.body, 'match').map((r) => r.id)).toEqual([reportId]);
    const included = resources(res.body, 'include');
    expect(included.map((r) => r.resourceType).sort()).toEqual(['PractitionerRole', 'ServiceRequest', 'Specimen']);
    expect(
      (included.find((r) => r.resourceType === 'PractitionerRole')?.practitioner as { identifier: { value: string } })
        .identifier.value,
    ).toBe('565501872');
    // without the iterate, no requester
    const flat = await search('DiagnosticReport', [RECENT, ['_include', 'DiagnosticReport:based-on']]);
    expect(resources(flat.body, 'include').map((r) => r.resourceType)).toEqual(['ServiceRequest']);
  });

  test('GET works as well, and Observation search with _include and _revinclude', async () => {
    const path = `${pps()}/DiagnosticReport`;
    const res = await server.http
      .get(`${path}?date=gt2026-10-01&_include=DiagnosticReport:result`)
      .set(await dpop(gp, 'GET', path))
      .set('person-id', GRY_TELOKK);
    expect(res.status).toBe(200);
    expect(resources(res.body, 'include').map((r) => r.resourceType)).toEqual(['Observation', 'Observation']);
    const observations = await search('Observation', [
      RECENT,
      ['_tag', `${EHELSE('7280')}|NPU19748`],
      ['_include', 'Observation:report'],
    ]);
    expect(observations.status).toBe(200);
    expect(
      resources(observations.body, 'match').map((r) => (r.code as { coding: { code: string }[] }).coding[0].code),
    ).toEqual(['NPU19748']);
    expect(resources(observations.body, 'include').map((r) => r.id)).toEqual([reportId]);
    const reverse = await search('DiagnosticReport', [RECENT, ['_revinclude', 'Observation:report']]);
    expect(resources(reverse.body, 'include')).toHaveLength(2);
  });

  test('date prefixes, _id, _count and _skip', async () => {
    expect(
      (
        await search('DiagnosticReport', [
          ['date', 'lt2026-10-01'],
          ['_id', reportId],
        ])
      ).body.total,
    ).toBe(0);
    expect(
      (
        await search('DiagnosticReport', [
          ['date', 'eq2026-10-05'],
          ['_id', reportId],
        ])
      ).body.total,
    ).toBe(1);
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

  test("every search is in the patient's access log", async () => {
    const res = await search('DiagnosticReport', [RECENT], GRY_TELOKK, { 'nhn-event-id': 'pps-log-1' });
    expect(res.status).toBe(200);
    const events = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?event-id=pps-log-1`)
      .set('Authorization', sandbox.auth);
    expect(events.body.total).toBe(1);
    const event = events.body.entry[0].resource;
    expect(event.subtype[0].code).toBe('PPS-SEARCH');
    expect(event.source.observer.identifier.value).toBe('pps');
    expect(event.contained.find((r: { id: string }) => r.id === 'patient').identifier[0].value).toBe(GRY_TELOKK);
    expect(event.contained.find((r: { id: string }) => r.id === 'practitioner').identifier).toEqual(
      expect.arrayContaining([{ system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '565501872' }]),
    );
  });

  test("the seeded sandbox has results for most patients, none in another patient's answer", async () => {
    const totals = await Promise.all(
      [LINE_DANSER, HARRY_HANDEL, GRY_TELOKK].map(
        async (nin) => (await search('DiagnosticReport', [['date', 'lt2026-01-02']], nin)).body.total as number,
      ),
    );
    expect(totals.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
    const harry = await search('DiagnosticReport', [['_count', '200']], HARRY_HANDEL);
    expect(
      resources(harry.body, 'match').every(
        (r) => (r.subject as { identifier: { value: string } }).identifier.value === HARRY_HANDEL,
      ),
    ).toBe(true);
  });
});

describe('the citizen blocks, and the GP no longer sees', () => {
  test('blocked results are hidden and an outcome entry says so; unblocking shows them again', async () => {
    const token = await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'demo-citizen-app', scopes: ['navet:citizen'], user: { pid: GRY_TELOKK } });
    const citizen = (blocked: boolean) =>
      server.http
        .put(`/sandboxes/${sandbox.name}/citizen/privacy/lab-results`)
        .set('Authorization', `Bearer ${token.body.access_token}`)
        .send({ blocked });
    expect((await search('DiagnosticReport', [RECENT])).body.total).toBeGreaterThan(0);
    expect((await citizen(true)).status).toBe(200);
    for (const type of ['DiagnosticReport', 'Observation']) {
      const res = await search(type, [
        RECENT,
        ...(type === 'DiagnosticReport' ? [['_include', 'DiagnosticReport:specimen'] as [string, string]] : []),
      ]);
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(0);
      expect(resources(res.body, 'match')).toEqual([]);
      expect(resources(res.body, 'include')).toEqual([]);
      const outcome = resources(res.body, 'outcome');
      expect(outcome).toHaveLength(1);
      expect(outcome[0]).toMatchObject({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'information', code: 'suppressed' }],
      });
    }
    expect((await citizen(false)).status).toBe(200);
    const again = await search('DiagnosticReport', [RECENT]);
    expect(again.body.total).toBeGreaterThan(0);
    expect(resources(again.body, 'outcome')).toEqual([]);
  });
});

describe('source stages', () => {
  const settings = (body: unknown) =>
    server.http
      .put(`/api/sandboxes/${sandbox.name}/settings/pps`)
      .set('Authorization', sandbox.auth)
      .send(body as object);

  test('a lab source in manual submission / quality assurance is received but not shown for care', async () => {
    expect((await settings({ sourceStages: { 974557746: 'manual-quality-assurance' } })).status).toBe(200);
    expect((await search('DiagnosticReport', [RECENT])).body.total).toBe(0);
    expect((await search('Observation', [RECENT])).body.total).toBe(0);
    expect((await settings({ sourceStages: { 974557746: 'minimum-care' } })).status).toBe(200);
    expect((await search('DiagnosticReport', [RECENT])).body.total).toBeGreaterThan(0);
    expect((await settings({ sourceStages: {} })).body).toEqual({ backdoorEnabled: false, sourceStages: {} });
  });

  test('settings need the admin key and valid stages', async () => {
    expect(
      (await server.http.put(`/api/sandboxes/${sandbox.name}/settings/pps`).send({ backdoorEnabled: true })).status,
    ).toBe(401);
    const bad = await settings({ sourceStages: { 974557746: 'soon' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].expression).toEqual(['sourceStages.974557746']);
    expect((await settings({ backdoorEnabled: 'yes' })).status).toBe(400);
  });
});

describe('the test backdoor', () => {
  const backdoor = (nin: string) =>
    server.http
      .post(`${pps()}/backdoor/DiagnosticReport/_search`)
      .type('form')
      .set({
        'x-nilar-patient': nin,
        'x-nilar-requester-hpr': '4128168',
        'x-nilar-requester-name': 'Test Lege',
        'x-nilar-organisation': '974557746',
        'x-nilar-correlation-id': 'backdoor-1',
      })
      .send('date=ge2026-06-01');

  test('switched off unless the sandbox enables it; then it answers without a token and is logged', async () => {
    const off = await backdoor(GRY_TELOKK);
    expect(off.status).toBe(403);
    expect(off.body.issue[0].details.coding[0].code).toBe('NAVET-PPS-BACKDOOR-OFF');
    await server.http
      .put(`/api/sandboxes/${sandbox.name}/settings/pps`)
      .set('Authorization', sandbox.auth)
      .send({ backdoorEnabled: true });
    const on = await backdoor(GRY_TELOKK);
    expect(on.status).toBe(200);
    expect(on.body.total).toBeGreaterThan(0);
    expect(on.body.entry[0].fullUrl).toContain('/pps/backdoor/DiagnosticReport/');
    const events = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?event-id=backdoor-1`)
      .set('Authorization', sandbox.auth);
    expect(events.body.total).toBe(1);
    expect(events.body.entry[0].resource.agent[0].altId).toBe('4128168');
    expect((await backdoor('12345678901')).status).toBe(400);
    await server.http
      .put(`/api/sandboxes/${sandbox.name}/settings/pps`)
      .set('Authorization', sandbox.auth)
      .send({ backdoorEnabled: false });
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
    const corrected = await submit(
      labBundle({ nin, reportId: 'R-200', status: 'corrected', results: [['NPU02319', 12.4, 'g/dL']] }),
    );
    expect(corrected.status).toBe(200);
    expect(corrected.body.entry[0].response).toMatchObject({ status: '200 OK' });
    expect(corrected.body.entry[0].response.location).toMatch(new RegExp(`/DiagnosticReport/${id}/_history/2$`));
    const res = await search('DiagnosticReport', [RECENT, ['_include', 'DiagnosticReport:result']], nin);
    expect(resources(res.body, 'match')).toHaveLength(1);
    const report = resources(res.body, 'match')[0];
    expect(report).toMatchObject({ id, status: 'corrected', meta: { versionId: '2' } });
    expect(report.extension).toEqual(
      expect.arrayContaining([
        {
          url: 'https://navet.example/fhir/StructureDefinition/pps-supersedes',
          valueReference: { reference: `DiagnosticReport/${id}/_history/1` },
        },
      ]),
    );
    expect(resources(res.body, 'include').map((o) => (o.valueQuantity as { value: number }).value)).toEqual([12.4]);
    const all = await search('Observation', [RECENT], nin);
    expect(
      resources(all.body, 'match')
        .map((o) => o.status)
        .sort(),
    ).toEqual(['cancelled', 'cancelled', 'corrected']);
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

  test('a report without category', () =>
    rejected(labBundle({ nin: GRY_TELOKK, reportId: 'B-1', omitCategory: true }), 'Bundle.entry[0].resource.category'));
  test('an Observation with a non-UCUM unit', () =>
    rejected(
      labBundle({ nin: GRY_TELOKK, reportId: 'B-2', results: [['NPU02319', 13, 'gram per decilitre']] }),
      'Bundle.entry[5].resource.valueQuantity',
    ));
  test('an Observation code from an unknown system', () =>
    rejected(
      labBundle({ nin: GRY_TELOKK, reportId: 'B-3', codeSystem: 'http://loinc.org' }),
      'Bundle.entry[5].resource.code',
    ));
  test('a specimen without accession identifier', () =>
    rejected(
      labBundle({ nin: GRY_TELOKK, reportId: 'B-4', omitAccession: true }),
      'Bundle.entry[1].resource.accessionIdentifier',
    ));
  test('a subject that is not a valid FNR', () =>
    rejected(
      labBundle({ nin: '12057900498', reportId: 'B-5' }),
      'Bundle.entry[0].resource.subject.identifier.value',
      'NAVET-PPS-SUBMISSION',
    ));
  test('a literal subject reference that does not exist', () =>
    rejected(
      labBundle({ subject: { reference: 'Patient/nobody' }, reportId: 'B-6' }),
      'Bundle.entry[0].resource.subject.reference',
      'NAVET-PPS-SUBMISSION',
      404,
    ));

  test('all three URL forms of the Volven code systems are accepted, and a literal Patient reference', async () => {
    const gryId = await patientId(server, sandbox.auth, sandbox.name, GRY_TELOKK);
    for (const [i, system] of [
      'http://helsedir.no/fhir/CodeSystem/no-kodeverk-8202',
      'urn:oid:2.16.578.1.12.4.1.1.8202',
    ].entries()) {
      const res = await submit(
        labBundle({
          subject: { reference: `Patient/${gryId}` },
          reportId: `F-${i}`,
          categorySystem: system,
          codeSystem: ['http://helsedir.no/fhir/CodeSystem/no-kodeverk-7280', 'urn:oid:2.16.578.1.12.4.1.1.7280'][i],
          collected: '2026-06-02T08:00:00Z',
        }),
      );
      expect(res.status).toBe(200);
    }
  });

  test('submitting needs the submit scope; searching needs a read scope', async () => {
    const asGp = await submit(labBundle({ nin: GRY_TELOKK, reportId: 'S-1' }), gp);
    expect(asGp.status).toBe(403);
    const labReader = await getToken(server.http, sandbox.name, {
      clientId: 'demo-lab-system',
      scope: 'navet:pps/submit-result',
    });
    expect((await search('DiagnosticReport', [RECENT], GRY_TELOKK, {}, labReader)).status).toBe(403);
    const noToken = await server.http
      .post(`${pps()}/DiagnosticReport/_search`)
      .type('form')
      .set('person-id', GRY_TELOKK)
      .send('date=ge2026-01-01');
    expect(noToken.status).toBe(401);
  });

  test.each([
    ['an unknown search parameter', [['code', 'NPU02319']], GRY_TELOKK, 'code', 'NAVET-SEARCH-UNKNOWN-PARAM'],
    ['a malformed date', [['date', 'ge2026-13-45']], GRY_TELOKK, 'date', 'NAVET-SEARCH-DATE'],
    [
      'an include the spec does not name',
      [['_include', 'DiagnosticReport:subject']],
      GRY_TELOKK,
      '_include',
      'NAVET-SEARCH-INCLUDE',
    ],
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

describe('review fixes: what a submission may reference, correct and store', () => {
  const TYPES = ['DiagnosticReport', 'Observation', 'Specimen', 'ServiceRequest'];
  const SOURCE = 'https://navet.example/fhir/CodeSystem/pps-source';
  const counts = async () =>
    Object.fromEntries(await Promise.all(TYPES.map(async (t) => [t, await count(t)] as const)));
  const admin = (path: string) =>
    server.http.get(`/sandboxes/${sandbox.name}/fhir/${path}`).set('Authorization', sandbox.auth);
  type Stored = {
    id: string;
    subject: { reference?: string; identifier: { value: string } };
    identifier: { system: string; value: string }[];
    meta: { versionId: string; tag: { system: string; code: string }[] };
    [k: string]: unknown;
  };
  /** A stored resource of `type` that is not about `nin` (another patient's). */
  const othersResource = async (type: string, nin: string): Promise<Stored> => {
    const res = await admin(`${type}?_count=100`);
    const found = (res.body.entry as { resource: Stored }[])
      .map((e) => e.resource)
      .find((r) => r.subject?.identifier?.value !== nin);
    expect(found).toBeDefined();
    return found as Stored;
  };
  type Bundle = ReturnType<typeof labBundle>;
  type AnyResource = Record<string, unknown>;
  const edit = (bundle: Bundle, index: number, change: (r: AnyResource) => void): Bundle => {
    change(bundle.entry[index].resource as AnyResource);
    return bundle;
  };
  /** Submits, expects `status` and an issue at `expression` (when given), and that nothing was stored. */
  const refused = async (body: unknown, status: number, expression?: string | RegExp, code?: string) => {
    const before = await counts();
    const res = await submit(body);
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    if (expression) {
      const issue = res.body.issue.find((i: { expression?: string[] }) =>
        typeof expression === 'string' ? i.expression?.[0] === expression : expression.test(i.expression?.[0] ?? ''),
      );
      expect(issue).toBeDefined();
      if (code) expect(issue.details.coding[0].code).toBe(code);
    }
    expect(await counts()).toEqual(before);
    return res;
  };

  test("result may not point at another patient's Observation", async () => {
    const other = await othersResource('Observation', GRY_TELOKK);
    await refused(
      edit(labBundle({ nin: GRY_TELOKK, reportId: 'REF-1' }), 0, (r) => {
        r.result = [{ reference: `Observation/${other.id}` }];
      }),
      422,
      'Bundle.entry[0].resource.result[0]',
      'NAVET-PPS-SUBMISSION',
    );
  });

  test('performer may not point at a DocumentReference or a Consent; result not at a Specimen of the Bundle', async () => {
    await refused(
      edit(labBundle({ nin: GRY_TELOKK, reportId: 'REF-2' }), 0, (r) => {
        r.performer = [{ reference: 'DocumentReference/some-document' }];
      }),
      400,
      'Bundle.entry[0].resource.performer[0]',
    );
    await refused(
      edit(labBundle({ nin: GRY_TELOKK, reportId: 'REF-3' }), 0, (r) => {
        r.performer = [{ reference: 'Consent/some-consent' }];
      }),
      400,
      'Bundle.entry[0].resource.performer[0]',
    );
    await refused(
      edit(labBundle({ nin: GRY_TELOKK, reportId: 'REF-4' }), 0, (r) => {
        r.result = [{ reference: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000002' }];
      }),
      400,
      'Bundle.entry[0].resource.result[0]',
    );
  });

  test("an Observation's diagnosticreportref may not point at another patient's DiagnosticReport", async () => {
    const other = await othersResource('DiagnosticReport', GRY_TELOKK);
    await refused(
      edit(labBundle({ nin: GRY_TELOKK, reportId: 'REF-5' }), 5, (r) => {
        r.extension = [
          { url: `${NILAR}/diagnosticreportref`, valueReference: { reference: `DiagnosticReport/${other.id}` } },
        ];
      }),
      422,
      'Bundle.entry[5].resource.extension:diagnosticreportref[0].valueReference',
    );
  });

  test("hasMember may point at the patient's own stored Observation of the same lab, not at a missing one", async () => {
    const first = await submit(labBundle({ nin: LINE_DANSER, reportId: 'REF-6' }));
    expect(first.status).toBe(200);
    const observation = first.body.entry[5].fullUrl.split('/').pop();
    const ok = await submit(
      edit(labBundle({ nin: LINE_DANSER, reportId: 'REF-7' }), 5, (r) => {
        r.hasMember = [{ reference: `Observation/${observation}` }];
      }),
    );
    expect(ok.status).toBe(200);
    await refused(
      edit(labBundle({ nin: LINE_DANSER, reportId: 'REF-8' }), 5, (r) => {
        r.hasMember = [{ reference: 'Observation/does-not-exist' }];
      }),
      422,
      'Bundle.entry[5].resource.hasMember[0]',
    );
    // the same Observation for another patient's report: refused
    await refused(
      edit(labBundle({ nin: GRY_TELOKK, reportId: 'REF-9' }), 5, (r) => {
        r.hasMember = [{ reference: `Observation/${observation}` }];
      }),
      422,
      'Bundle.entry[5].resource.hasMember[0]',
    );
  });

  test("a lab cannot correct another lab's report, nor a report of another patient", async () => {
    const seeded = (await admin(`DiagnosticReport?_tag=${encodeURIComponent(`${SOURCE}|874716782`)}&_count=1`)).body
      .entry?.[0]?.resource as Stored | undefined;
    expect(seeded).toBeDefined();
    const target = seeded as Stored;
    const bundle = labBundle({
      subject: { reference: target.subject.reference },
      reportId: target.identifier[0].value,
      status: 'corrected',
    });
    (bundle.entry[0].resource as AnyResource).identifier = target.identifier;
    await refused(bundle, 409, 'Bundle.entry[0].resource.identifier', 'NAVET-PPS-NOTHING-TO-CORRECT');
    const after = (await admin(`DiagnosticReport/${target.id}`)).body as Stored;
    expect(after.meta.versionId).toBe(target.meta.versionId);
    expect(after.status).toBe(target.status);
    // the lab's own report of Line, corrected as if it were Gry's
    expect((await submit(labBundle({ nin: LINE_DANSER, reportId: 'OWN-1' }))).status).toBe(200);
    await refused(
      labBundle({ nin: GRY_TELOKK, reportId: 'OWN-1', status: 'corrected' }),
      409,
      'Bundle.entry[0].resource.identifier',
      'NAVET-PPS-NOTHING-TO-CORRECT',
    );
  });

  test('appended keeps the earlier results and cancels none; the re-sent Specimen and ServiceRequest are the stored ones', async () => {
    const first = await submit(labBundle({ nin: LINE_DANSER, reportId: 'APP-1' }));
    expect(first.status).toBe(200);
    const [reportId, specimenId, requestId] = [0, 1, 2].map((i) => first.body.entry[i].fullUrl.split('/').pop());
    const before = await counts();
    const addition = labBundle({
      nin: LINE_DANSER,
      reportId: 'APP-1',
      status: 'appended',
      results: [['NPU01960', 140, 'mmol/L']],
    });
    (addition.entry[5].resource as AnyResource).status = 'final';
    const appended = await submit(addition);
    expect(appended.status).toBe(200);
    expect(appended.body.entry[1].fullUrl).toContain(`/Specimen/${specimenId}`);
    expect(appended.body.entry[2].fullUrl).toContain(`/ServiceRequest/${requestId}`);
    expect(await counts()).toEqual({ ...before, Observation: before.Observation + 1 });
    const report = (await admin(`DiagnosticReport/${reportId}`)).body as Stored & {
      result: { reference: string }[];
      specimen: { reference: string }[];
      basedOn: { reference: string }[];
    };
    expect(report.status).toBe('appended');
    expect(report.result).toHaveLength(3);
    expect(report.specimen).toEqual([{ reference: `Specimen/${specimenId}` }]);
    expect(report.basedOn).toEqual([{ reference: `ServiceRequest/${requestId}` }]);
    for (const { reference } of report.result) expect((await admin(reference)).body.status).toBe('final');
    // a correction after it re-uses them too
    const corrected = await submit(labBundle({ nin: LINE_DANSER, reportId: 'APP-1', status: 'corrected' }));
    expect(corrected.status).toBe(200);
    expect((await counts()).Specimen).toBe(before.Specimen);
    expect((await counts()).ServiceRequest).toBe(before.ServiceRequest);
  });

  test('a report identifier with search syntax (, | $ \\) matches only itself', async () => {
    expect((await submit(labBundle({ nin: LINE_DANSER, reportId: 'TOK-1' }))).status).toBe(200);
    const stored = (
      await admin(
        `DiagnosticReport?identifier=${encodeURIComponent('http://nhn.no/fhir/nilar/NamingSystem/ServReportId|TOK-1')}`,
      )
    ).body.entry[0].resource as Stored;
    // unescaped, 'X,TOK-1' would search for X or TOK-1 (any system) and overwrite TOK-1
    await refused(
      labBundle({ nin: LINE_DANSER, reportId: 'X,TOK-1', status: 'corrected' }),
      409,
      'Bundle.entry[0].resource.identifier',
      'NAVET-PPS-NOTHING-TO-CORRECT',
    );
    expect(((await admin(`DiagnosticReport/${stored.id}`)).body as Stored).meta.versionId).toBe('1');
    // and such an identifier is a report of its own, found again exactly
    expect((await submit(labBundle({ nin: LINE_DANSER, reportId: 'A|B,C$D\\E' }))).status).toBe(200);
    expect((await submit(labBundle({ nin: LINE_DANSER, reportId: 'A|B,C$D\\E' }))).status).toBe(409);
  });

  const poison = { toString: 0 };
  test.each([
    [
      'resourceType is an object',
      (b: Bundle) =>
        edit(b, 0, (r) => {
          r.resourceType = poison;
        }),
      'Bundle.entry[0].resource.resourceType',
    ],
    [
      'subject.identifier.system is an object',
      (b: Bundle) =>
        edit(b, 0, (r) => {
          r.subject = { identifier: { system: poison, value: GRY_TELOKK } };
        }),
      'Bundle.entry[0].resource.subject.identifier.system',
    ],
    [
      'subject.identifier.value is an object',
      (b: Bundle) =>
        edit(b, 0, (r) => {
          r.subject = { identifier: { system: FNR_SYSTEM, value: poison } };
        }),
      'Bundle.entry[0].resource.subject.identifier.value',
    ],
    [
      'DiagnosticReport.status is an object',
      (b: Bundle) =>
        edit(b, 0, (r) => {
          r.status = poison;
        }),
      'Bundle.entry[0].resource.status',
    ],
    [
      'a coding system is an object',
      (b: Bundle) =>
        edit(b, 5, (r) => {
          r.code = { coding: [{ system: poison, code: 'NPU02319' }] };
        }),
      'Bundle.entry[5].resource.code.coding[0].system',
    ],
    [
      'valueQuantity.code is an object',
      (b: Bundle) =>
        edit(b, 5, (r) => {
          r.valueQuantity = { value: 1, system: 'http://unitsofmeasure.org', code: poison };
        }),
      'Bundle.entry[5].resource.valueQuantity.code',
    ],
    [
      'a meta.tag system is an object',
      (b: Bundle) =>
        edit(b, 5, (r) => {
          r.meta = { tag: [{ system: poison, code: 'x' }] };
        }),
      'Bundle.entry[5].resource.meta.tag[0].system',
    ],
    [
      'meta.tag holds null',
      (b: Bundle) =>
        edit(b, 5, (r) => {
          r.meta = { tag: [null] };
        }),
      'Bundle.entry[5].resource.meta.tag[0]',
    ],
    [
      'extension is an object',
      (b: Bundle) =>
        edit(b, 5, (r) => {
          r.extension = { url: `${NILAR}/diagnosticreportref` };
        }),
      'Bundle.entry[5].resource.extension',
    ],
    [
      'extension is a string',
      (b: Bundle) =>
        edit(b, 0, (r) => {
          r.extension = 'x';
        }),
      'Bundle.entry[0].resource.extension',
    ],
    [
      'DiagnosticReport.result is an object',
      (b: Bundle) =>
        edit(b, 0, (r) => {
          r.result = {};
        }),
      'Bundle.entry[0].resource.result',
    ],
  ])('malformed: %s gives 400 naming it, stores nothing', async (_name, change, expression) => {
    await refused(change(labBundle({ nin: GRY_TELOKK, reportId: 'MAL-1' })), 400, expression);
  });

  test('malformed: JSON nested 200,000 deep gives 400, stores nothing', async () => {
    const before = await counts();
    const deep = JSON.stringify(labBundle({ nin: GRY_TELOKK, reportId: 'MAL-2' })).replace(
      '"resourceType":"Specimen",',
      `"resourceType":"Specimen","note":${'['.repeat(200_000)}${']'.repeat(200_000)},`,
    );
    const res = await server.http
      .post(pps())
      .type('application/fhir+json')
      .set(await dpop(lab, 'POST', pps()))
      .send(deep);
    expect(res.status).toBe(400);
    // one depth limit for every JSON body (issue 14), checked before the body is parsed
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-JSON-TOO-DEEP');
    expect(await counts()).toEqual(before);
  });
});
