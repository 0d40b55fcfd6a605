import { makeDpopProof } from '../../src/trust/dpop-client';
import { LINE_DANSER } from '../helpers/documents';
import { getToken, koman, type TokenResult } from '../helpers/helseid-client';
import { bundleOf, getParameters, INGRID_SOLHEIM, param, resourcesOf, SFM_SCOPE } from '../helpers/sfm';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

/** Service request shapes from NHN's pages and samples, replayed unchanged (each test names its source). */
let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let reader: TokenResult;
let fetcher: TokenResult;
let sfm: TokenResult;
const pjd = () => `/sandboxes/${sandbox.name}/pjd`;

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  [reader, fetcher, sfm] = await Promise.all(
    ['nhn:phr/mhd/read-documentreferences', 'nhn:phr/mhd/read-document', SFM_SCOPE].map((scope) =>
      getToken(server.http, sandbox.name, { scope, details: [koman()] }),
    ),
  );
});
afterAll(() => server.close());

async function dpop(t: TokenResult, method: string, path: string) {
  return {
    Authorization: `DPoP ${t.body.access_token}`,
    DPoP: await makeDpopProof(t.dpopKey, {
      method,
      url: `${TEST_BASE_URL}${path.split('?')[0]}`,
      accessToken: t.body.access_token,
    }),
  };
}

describe('PJD paths as the pages and samples write them', () => {
  /** utviklerportal, PJD "Find Document References": the example POST, its headers and its form body. */
  const findAt = async (path: string) =>
    server.http
      .post(`${pjd()}${path}`)
      .set(await dpop(reader, 'POST', `${pjd()}${path}`))
      .set({
        'Content-Type': 'application/x-www-form-urlencoded',
        Accept: 'application/fhir+json; fhirVersion=4.0',
        'nhn-source-system': 'EPJ System 1.0',
        'nhn-event-id': 'vendor-shape-1',
      })
      .send(`patient.identifier=${LINE_DANSER}&status=current`);

  test.each([
    ['/fhir/DocumentReference/_search', "the find page's example (no R4)"],
    [
      '/fhir/documentreference/_search',
      'Pasientens-journaldokumenter NativeClients/SimpleNativeClientWithDPoP/Program.cs ApiUrl',
    ],
    [
      '/R4/fhir/documentreference/_search',
      'Pasientens-journaldokumenter PatientHealthRecordsEPJ appsettings.json GetDocumentReferencesApiUrl',
    ],
    ['/R4/fhir/DocumentReference/_search', "the find page's endpoint"],
  ])('POST %s (%s)', async (path) => {
    const res = await findAt(path);
    expect(res.body.issue ?? []).toEqual([]);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Bundle');
    expect(res.body.entry.length).toBeGreaterThan(0);
  });

  test("the demo EPJ's search: _count, _page, _sort=-date and its headers (PatientHealthRecordsEPJ/.../Controllers/DocumentsController.cs)", async () => {
    const path = `${pjd()}/R4/fhir/documentreference/_search`;
    const res = await server.http
      .post(path)
      .set(await dpop(reader, 'POST', path))
      .set({
        Accept: 'application/fhir+json; fhirVersion=4.0',
        'nhn-source-system': 'PJD Test EPJ 1.0',
        'nhn-event-id': 'a3c1f7de-0d7e-4f43-9d53-2f2d8a1b9e10',
      })
      .type('form')
      .send(`patient.identifier=${LINE_DANSER}&status=current&_count=10&_page=1&_sort=-date`);
    expect(res.status).toBe(200);
    expect(res.headers['nhn-securitylabel-nors-count']).toBeDefined();
    const dates = res.body.entry.map((e: { resource: { date: string } }) => e.resource.date);
    expect(dates).toEqual([...dates].sort().reverse());
  });

  test('GET //mhd/document with the retrieve page\'s headers (utviklerportal, PJD "Retrieve Document": its endpoint has a double slash)', async () => {
    const found = await findAt('/fhir/DocumentReference/_search');
    const urls: string[] = found.body.entry.map(
      (e: { resource: { content: { attachment: { url: string } }[] } }) => e.resource.content[0].attachment.url,
    );
    const link = new URL(urls.find((url) => url?.includes('/mhd/document?')) as string);
    const path = `${pjd()}//mhd/document${link.search}`;
    const res = await server.http
      .get(path)
      .set(await dpop(fetcher, 'GET', path))
      .set({
        Accept: 'application/pdf;',
        'nhn-patient-nin': LINE_DANSER,
        'nhn-source-system': 'EPJ System 1.0',
        'nhn-event-id': 'vendor-shape-2',
      });
    expect(res.status).toBe(200);
  });
});

describe("Kjernejournal critical information as the API pages' curl examples send it", () => {
  const kj = () => `/sandboxes/${sandbox.name}/critical-information`;
  const bearer = async () =>
    (
      await server.http
        .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
        .set('X-Auth-Key', sandbox.adminKey)
        .send({ clientId: 'demo-hospital-system', scopes: ['nhn:kjernejournal/api'], attestation: koman() })
    ).body.access_token as string;

  test('read: nhn-user-role form-encoded with newlines and "+" for spaces (utviklerportal, critical information "Read type")', async () => {
    const res = await server.http.get(`${kj()}/AllergyIntolerance`).set({
      Authorization: `Bearer ${await bearer()}`,
      'Content-Type': 'application/fhir+json; charset=UTF-8',
      Accept: 'application/fhir+json',
      'nhn-user-role':
        '%7B%0A++++%22system%22%3A+%22urn%3Aoid%3A2.16.578.1.12.4.1.1.9060%22%2C%0A++++%22code%22%3A+%22LE%22%0A%7D',
      'nhn-access-basis': 'SAMTYKKE',
      'nhn-source-system': 'My system name',
      'nhn-patient-nin': LINE_DANSER,
    });
    expect(res.body.issue ?? []).toEqual([]);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Bundle');
  });

  test('status: hit-source-system, hit-patient-pid and {"nin"} (utviklerportal, critical information "Status")', async () => {
    const res = await server.http
      .post(`${kj()}/status`)
      .set({
        Authorization: `Bearer ${await bearer()}`,
        'hit-source-system': 'My EPJ system name',
        'hit-patient-pid': LINE_DANSER,
      })
      .send(`{"nin":"${LINE_DANSER}"}`);
    expect(res.body.issue ?? []).toEqual([]);
    expect(res.status).toBe(200);
    expect(res.body.patientNIN).toBe(LINE_DANSER);
  });
});

describe('SFM getMedication parameters typed as the SFM Basis OperationDefinition types them (simplifier.net SFMAPIBasis getMedication)', () => {
  const getMedication = async (body: unknown) => {
    const path = `/sandboxes/${sandbox.name}/sfm/Patient/$getMedication`;
    return server.http
      .post(path)
      .type('application/fhir+json')
      .set(await dpop(sfm, 'POST', path))
      .send(body as object);
  };
  const counts = (body: Record<string, unknown>) => ({
    statements: resourcesOf(bundleOf(body), 'MedicationStatement').length,
    dispenses: resourcesOf(bundleOf(body), 'MedicationDispense').length,
  });

  test('SamtykkeSperretLegemidler and SamtykkeLasteResepter as code (sfm-kj-consentcodes), IncludeOriginal 0..* code; booleans still work', async () => {
    const consent = { name: 'SamtykkeKjernejournal', valueCode: 'HPAKUTT' };
    const asCodes = await getMedication(
      getParameters(INGRID_SOLHEIM, [
        consent,
        { name: 'SamtykkeSperretLegemidler', valueCode: 'HPMOTTATTSAMTYKKE' },
        { name: 'SamtykkeLasteResepter', valueCode: 'HPAKUTT' },
        { name: 'IncludeOriginal', valueCode: 'include_reseptdok' },
        { name: 'IncludeOriginal', valueCode: 'include_reseptdok' },
      ]),
    );
    expect(asCodes.body.issue ?? []).toEqual([]);
    expect(asCodes.status).toBe(200);
    const asBooleans = await getMedication(
      getParameters(INGRID_SOLHEIM, [
        consent,
        { name: 'SamtykkeSperretLegemidler', valueBoolean: true },
        { name: 'SamtykkeLasteResepter', valueBoolean: true },
        { name: 'IncludeOriginal', valueBoolean: true },
      ]),
    );
    const without = await getMedication(getParameters(INGRID_SOLHEIM, [consent]));
    expect(counts(asCodes.body)).toEqual(counts(asBooleans.body));
    expect(counts(asCodes.body).statements).toBe(counts(without.body).statements + 1);
    expect(counts(asCodes.body).dispenses).toBe(counts(without.body).dispenses + 1);
    expect(param(without.body, 'RFHarLaste').valueBoolean).toBe(true);
  });

  test('a code outside the value set is a 400 naming the parameter', async () => {
    const res = await getMedication(
      getParameters(INGRID_SOLHEIM, [{ name: 'IncludeOriginal', valueCode: 'include_everything' }]),
    );
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['Parameters.parameter[1].valueCode']);
    expect(res.body.issue[0].diagnostics ?? res.body.issue[0].details.text).toContain('include_reseptdok');
  });
});
