import { makeDpopProof } from '../../src/trust/dpop-client';
import { isUcumUnit } from '../../src/fhir/ucum';
import { FNR_SYSTEM, GRY_TELOKK, HARRY_HANDEL } from '../helpers/documents';
import { getToken, type TokenResult } from '../helpers/helseid-client';
import { gpAttestation } from '../helpers/lab-results';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

/**
 * Lab-result searches show only the named patient's results, even when stored references point elsewhere
 * (labs write the references; a tester can store anything through the FHIR API), and odd searches get 4xx.
 */
let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let gp: TokenResult;
type Entry = {
  resource: { resourceType: string; id: string; subject?: { identifier?: { value?: string } } };
  search: { mode: string };
};

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  gp = await getToken(server.http, sandbox.name, {
    clientId: 'demo-gp-system',
    scope: 'nhn:pps/provesvar-read',
    details: [gpAttestation()],
  });
  expect(gp.status).toBe(200);
});
afterAll(() => server.close());

async function search(type: string, form: [string, string][], nin = GRY_TELOKK) {
  const path = `/sandboxes/${sandbox.name}/pps/${type}/_search`;
  const proof = await makeDpopProof(gp.dpopKey, {
    method: 'POST',
    url: `${TEST_BASE_URL}${path}`,
    accessToken: gp.body.access_token,
  });
  return server.http
    .post(path)
    .type('form')
    .set({ Authorization: `DPoP ${gp.body.access_token}`, DPoP: proof, 'person-id': nin })
    .send(new URLSearchParams(form).toString());
}

const admin = (method: 'get' | 'post', path: string, body?: object) => {
  const request = server.http[method](`/sandboxes/${sandbox.name}/fhir/${path}`).set('Authorization', sandbox.auth);
  return body ? request.type('application/fhir+json').send(body) : request;
};

const subjectOf = (nin: string) => ({ identifier: { system: FNR_SYSTEM, value: nin } });

describe('includes never reach beyond the named patient', () => {
  let harrysObservation: string;
  let grysReport: string;

  beforeAll(async () => {
    const observation = await admin('post', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Harrys HbA1c' },
      subject: subjectOf(HARRY_HANDEL),
      effectiveDateTime: '2026-10-01T08:00:00Z',
    });
    expect(observation.status).toBe(201);
    harrysObservation = observation.body.id;
    const report = await admin('post', 'DiagnosticReport', {
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { text: 'Grys rapport' },
      subject: subjectOf(GRY_TELOKK),
      effectiveDateTime: '2026-10-02T08:00:00Z',
      result: [{ reference: `Observation/${harrysObservation}` }],
      performer: [{ reference: 'Consent/anything' }],
    });
    expect(report.status).toBe(201);
    grysReport = report.body.id;
  });

  it("a report of one patient that references another patient's result does not include it", async () => {
    const res = await search('DiagnosticReport', [
      ['_id', grysReport],
      ['_include', 'DiagnosticReport:result'],
    ]);
    expect(res.status).toBe(200);
    const entries = res.body.entry as Entry[];
    expect(entries.filter((e) => e.search.mode === 'match').map((e) => e.resource.id)).toEqual([grysReport]);
    expect(entries.some((e) => e.resource.id === harrysObservation)).toBe(false);
    for (const entry of entries)
      if (entry.resource.subject) expect(entry.resource.subject.identifier?.value).toBe(GRY_TELOKK);
  });

  it("a result of another patient that points at this patient's report is not revincluded", async () => {
    const foreign = await admin('post', 'Observation', {
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Harrys kreatinin' },
      subject: subjectOf(HARRY_HANDEL),
      effectiveDateTime: '2026-10-03T08:00:00Z',
      extension: [
        {
          url: 'http://nhn.no/fhir/nilar/StructureDefinition/diagnosticreportref',
          valueReference: { reference: `DiagnosticReport/${grysReport}` },
        },
      ],
    });
    expect(foreign.status).toBe(201);
    const res = await search('DiagnosticReport', [
      ['_id', grysReport],
      ['_revinclude', 'Observation:report'],
    ]);
    expect(res.status).toBe(200);
    expect((res.body.entry as Entry[]).some((e) => e.resource.id === foreign.body.id)).toBe(false);
  });
});

describe('odd searches get a 4xx, never a 500', () => {
  it('refuses a parameter with hundreds of values, and a search with hundreds of parameters', async () => {
    const many = await search('DiagnosticReport', [['_tag', Array.from({ length: 1001 }, () => 'a').join(',')]]);
    expect(many.status).toBe(400);
    expect(many.body.issue[0].details.coding[0].code).toBe('NAVET-SEARCH-TOO-MANY-VALUES');
    const ids = await search('DiagnosticReport', [['_id', ','.repeat(30000)]]);
    expect(ids.status).toBeLessThan(500);
    const params = await search(
      'DiagnosticReport',
      Array.from({ length: 150 }, (): [string, string] => ['_tag', 'x']),
    );
    expect(params.status).toBe(400);
    const form = await search(
      'DiagnosticReport',
      Array.from({ length: 1200 }, (_, i): [string, string] => [`p${i}`, 'x']),
    );
    expect(form.status).toBe(413);
    expect(form.body.resourceType).toBe('OperationOutcome');
  });
});

describe('UCUM units', () => {
  it("takes real units and refuses JavaScript's own names", () => {
    for (const unit of ['mmol/L', '10*9/L', 'g/dL', 'mm[Hg]']) expect(isUcumUnit(unit)).toBe(true);
    for (const unit of ['constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty', 'mmol / L', 'furlongs'])
      expect(isUcumUnit(unit)).toBe(false);
  });
});
