import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isValidOrgnr } from '../../src/sandbox/fodselsnummer';
import { createSandbox, startTestNavet, type TestNavet, uniqueSandboxName } from '../helpers/test-navet';

/** A municipality's own sandbox: presets, a full description, the schema's refusals, the staff list. */
let server: TestNavet;
beforeAll(async () => {
  server = await startTestNavet();
});
afterAll(() => server.close());

const ORGNR = 'urn:oid:2.16.578.1.12.4.1.4.101';
const SMALL = {
  kommunenummer: '9999',
  name: 'Testvik kommune',
  population: 2000,
  postalCode: '9999',
  city: 'Testvik',
  units: [
    { kind: 'home-care', name: 'Hjemmetjenesten Testvik' },
    { kind: 'out-of-hours', name: 'Testvik legevakt' },
  ],
  gpOffices: [{ name: 'Testvik legesenter', gps: 2 }],
  hospitalTrust: { name: 'Testvik sykehus HF', hospitals: [{ name: 'Testvik sykehus' }] },
  pharmacies: [{ name: 'Apotek Testvik', multidose: true }],
  recordSystems: [{ id: 'gp-epj', name: 'Fastlegesystem', usedBy: ['gp-office'], services: ['pll', 'pjd'] }],
};

const count = async (sandbox: { name: string; auth: string }, query: string) =>
  (
    await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/${query}${query.includes('?') ? '&' : '?'}_summary=count`)
      .set('Authorization', sandbox.auth)
  ).body.total as number;

describe('POST /api/sandboxes with seed "municipality"', () => {
  test('the Bodø preset builds in seconds: the kommune, its units, 48 GPs, the hospital trust, pharmacies and a patient cohort', async () => {
    const started = Date.now();
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: { preset: 'bodo' } });
    const ms = Date.now() - started;
    expect(ms).toBeLessThan(60000);
    const described = await server.http.get(`/api/sandboxes/${sandbox.name}`).set('Authorization', sandbox.auth);
    expect(described.body).toMatchObject({
      seed: 'municipality',
      municipality: { name: 'Bodø kommune', kommunenummer: '1804', population: 53000 },
    });
    const kommune = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/Organization?name:exact=Bodø kommune`)
      .set('Authorization', sandbox.auth);
    const orgnr = kommune.body.entry[0].resource.identifier.find((i: { system: string }) => i.system === ORGNR).value;
    expect(isValidOrgnr(orgnr)).toBe(true);
    expect(orgnr).toMatch(/^31804/);
    expect(kommune.body.entry[0].resource.meta.tag).toEqual([expect.objectContaining({ code: 'HTEST' })]);
    expect(await count(sandbox, `Organization?partof.identifier=${ORGNR}|${orgnr}`)).toBe(4 + 5 + 1 + 2);
    expect(
      await count(sandbox, 'Organization?type=https://navet.example/fhir/CodeSystem/organisation-kind|gp-office'),
    ).toBe(10);
    expect(
      await count(sandbox, 'Organization?type=https://navet.example/fhir/CodeSystem/organisation-kind|pharmacy'),
    ).toBe(8);
    expect(await count(sandbox, 'Organization?name:exact=Nordlandssykehuset HF')).toBe(1);
    expect(await count(sandbox, 'Patient')).toBe(1590);
    expect(await count(sandbox, 'PractitionerRole?role=urn:oid:2.16.578.1.12.4.1.1.9060|SP')).toBeGreaterThan(20);
    const clients = await server.http.get(`/api/sandboxes/${sandbox.name}/clients`).set('Authorization', sandbox.auth);
    expect(clients.body.clients.map((c: { clientId: string }) => c.clientId)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^gp-epj-3\d{8}$/),
        expect.stringMatching(/^municipal-epj-3\d{8}$/),
        expect.stringMatching(/^hospital-epj-3\d{8}$/),
      ]),
    );
    process.stdout.write(`Bodø preset built in ${ms} ms\n`);
  }, 120000);

  test.each([
    ['bergen', '4601', 291000],
    ['tromso', '5501', 78000],
    ['bodo', '1804', 53000],
    ['hammerfest', '5603', 11400],
    ['rana', '1833', 26500],
    ['sarpsborg', '3105', 59000],
  ])('preset %s has kommunenummer %s and population %d', (preset, nr, population) => {
    const description = JSON.parse(
      readFileSync(path.resolve(__dirname, '..', '..', 'fixtures', 'municipalities', `${preset}.json`), 'utf8'),
    );
    expect(description).toMatchObject({ kommunenummer: nr, population });
  });

  test('a full description builds the same way, and the same description gives the same organisation numbers', async () => {
    const a = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const b = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const orgnrs = async (s: { name: string; auth: string }) =>
      (
        await server.http
          .get(`/sandboxes/${s.name}/fhir/Organization?_count=50&_sort=name`)
          .set('Authorization', s.auth)
      ).body.entry.map((e: { resource: { identifier: { value: string }[] } }) => e.resource.identifier[0].value);
    expect(await orgnrs(a)).toEqual(await orgnrs(b));
    expect((await orgnrs(a)).every(isValidOrgnr)).toBe(true);
    expect(await count(a, 'Patient')).toBe(300);
  }, 60000);

  test('a description the schema refuses gets 400 naming the element, and nothing is created', async () => {
    const name = uniqueSandboxName('mun');
    const res = await server.http.post('/api/sandboxes').send({
      name,
      seed: 'municipality',
      municipality: { ...SMALL, kommunenummer: '99', gpOffices: [{ name: 'X', gps: 0 }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-MUNICIPALITY');
    expect(res.body.issue[0].details.text).toMatch(/^municipality\.kommunenummer: must match pattern/);
    expect(res.body.issue[0].expression).toEqual(
      expect.arrayContaining(['municipality.kommunenummer', 'municipality.gpOffices.0.gps']),
    );
    expect((await server.http.get('/api/sandboxes')).body.sandboxes.map((s: { name: string }) => s.name)).not.toContain(
      name,
    );
    const preset = await server.http
      .post('/api/sandboxes')
      .send({ name, seed: 'municipality', municipality: { preset: 'atlantis' } });
    expect(preset.status).toBe(400);
    expect(preset.body.issue[0].details.text).toContain('bergen, bodo, hammerfest, rana, sarpsborg, tromso');
  });
});

describe('POST /api/sandboxes/{name}/staff (CSV)', () => {
  test('imports the staff list as Practitioners with a role at their unit; bad rows are all named and nothing is stored', async () => {
    const sandbox = await createSandbox(server, { seed: 'municipality', municipality: SMALL });
    const csv =
      'name,hpr,authorisation,unit\nKari Nordmann,1234567,SP,Hjemmetjenesten Testvik\nOla Johan Hansen,7654321,LE,Testvik legevakt\n';
    const ok = await server.http
      .post(`/api/sandboxes/${sandbox.name}/staff`)
      .set('Authorization', sandbox.auth)
      .type('text/csv')
      .send(csv);
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ imported: 2 });
    const kari = await server.http
      .get(
        `/sandboxes/${sandbox.name}/fhir/Practitioner?identifier=urn:oid:2.16.578.1.12.4.1.4.4|1234567&_revinclude=PractitionerRole:practitioner`,
      )
      .set('Authorization', sandbox.auth);
    expect(kari.body.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType)).toEqual([
      'Practitioner',
      'PractitionerRole',
    ]);
    expect(kari.body.entry[0].resource.name[0]).toMatchObject({ given: ['Kari'], family: 'Nordmann' });
    expect(kari.body.entry[0].resource.qualification[0].code.coding[0].code).toBe('SP');

    const bad =
      'name,hpr,authorisation,unit\nPer Pettersen,99,SP,Hjemmetjenesten Testvik\nAnne Berg,2222222,XYZ,Testvik legevakt\nBjørn Dahl,3333333,LE,Nowhere\n';
    const refused = await server.http
      .post(`/api/sandboxes/${sandbox.name}/staff`)
      .set('Authorization', sandbox.auth)
      .type('text/csv')
      .send(bad);
    expect(refused.status).toBe(400);
    expect(refused.body.issue.map((i: { expression: string[] }) => i.expression[0])).toEqual([
      'row[2].hpr',
      'row[3].authorisation',
      'row[4].unit',
    ]);
    expect(await count(sandbox, 'Practitioner?identifier=urn:oid:2.16.578.1.12.4.1.4.4|2222222')).toBe(0);
    expect((await server.http.post(`/api/sandboxes/${sandbox.name}/staff`).type('text/csv').send(csv)).status).toBe(
      401,
    );
  }, 60000);
});
