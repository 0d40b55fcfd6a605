import { createSandbox, patientIdOf, startTestNavet, type TestNavet } from '../helpers/test-navet';
import { ensureDemoSandbox } from '../../src/navet';

let server: TestNavet;
beforeAll(async () => {
  server = await startTestNavet();
});
afterAll(() => server.close());

const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const DNR = 'urn:oid:2.16.578.1.12.4.1.4.2';
const HPR = 'urn:oid:2.16.578.1.12.4.1.4.4';
const ENH = 'urn:oid:2.16.578.1.12.4.1.4.101';

describe('a sandbox seeded from the fixtures', () => {
  let sandbox: { name: string; auth: string };
  const get = (path: string) =>
    server.http.get(`/sandboxes/${sandbox.name}/fhir/${path}`).set('Authorization', sandbox.auth);

  beforeAll(async () => {
    sandbox = await createSandbox(server, { seed: 'fixtures' });
  });

  test('holds the public test persons with their numbers and names', async () => {
    const line = await get(`Patient?identifier=${FNR}|13116900216`);
    expect(line.body.total).toBe(1);
    expect(line.body.entry[0].resource.name[0].family).toBe('Danser');
    expect((await get(`Patient?identifier=${FNR}|25039296929`)).body.entry[0].resource.name[0].family).toBe('Hammer');
    expect((await get(`Patient?identifier=${DNR}|48882807579`)).body.total).toBe(1);
  });

  test('holds the test practitioners with HPR number and Volven 9060 authorisation, and their roles', async () => {
    const res = await get(`Practitioner?identifier=${HPR}|565501872&_revinclude=PractitionerRole:practitioner`);
    const practitioner = res.body.entry[0].resource;
    expect(practitioner.name[0].family).toBe('Vits');
    expect(practitioner.identifier).toEqual(
      expect.arrayContaining([expect.objectContaining({ system: FNR, value: '05898597468' })]),
    );
    expect(practitioner.qualification[0].code.coding[0]).toEqual(
      expect.objectContaining({ system: 'urn:oid:2.16.578.1.12.4.1.1.9060', code: 'LE' }),
    );
    expect(
      res.body.entry.filter(
        (e: { resource: { resourceType: string } }) => e.resource.resourceType === 'PractitionerRole',
      ).length,
    ).toBeGreaterThan(0);
  });

  test('holds the test organisations as main unit and sub-unit', async () => {
    const sub = await get(`Organization?identifier=${ENH}|874716782&_include=Organization:partof`);
    expect(
      sub.body.entry.map((e: { resource: { identifier: { value: string }[] } }) => e.resource.identifier[0].value),
    ).toEqual(['874716782', '993467049']);
  });

  test('has a few hundred synthetic patients with synthetic (month + 80) numbers', async () => {
    const count = await get('Patient?_summary=count');
    expect(count.body.total).toBeGreaterThanOrEqual(300);
    const page = await get('Patient?_count=50&_sort=_id');
    const synthetic = page.body.entry
      .map((e: { resource: { identifier: { value: string }[] } }) => e.resource.identifier[0].value)
      .filter((v: string) => Number(v.slice(2, 4)) > 80);
    expect(synthetic.length).toBeGreaterThan(10);
  });

  test('reset brings back deleted seed data and removes new data', async () => {
    const line = `Patient/${await patientIdOf(server, sandbox, '13116900216')}`;
    await get(line);
    await server.http.delete(`/sandboxes/${sandbox.name}/fhir/${line}`).set('Authorization', sandbox.auth);
    await server.http
      .post(`/sandboxes/${sandbox.name}/fhir/Patient`)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Patient', name: [{ family: 'Tilbakestilles' }] });
    expect((await get(line)).status).toBe(410);
    const reset = await server.http.post(`/api/sandboxes/${sandbox.name}/reset`).set('Authorization', sandbox.auth);
    expect(reset.status).toBe(200);
    expect((await get(line)).status).toBe(200);
    expect((await get('Patient?family=tilbakestilles')).body.total).toBe(0);
  });

  test('two sandboxes from the same seed hold byte-identical data', async () => {
    const other = await createSandbox(server, { seed: 'fixtures' });
    const a = await get('Patient?_count=100&_sort=_id');
    const b = await server.http
      .get(`/sandboxes/${other.name}/fhir/Patient?_count=100&_sort=_id`)
      .set('Authorization', other.auth);
    expect(JSON.stringify(a.body.entry.map((e: { resource: unknown }) => e.resource))).toBe(
      JSON.stringify(b.body.entry.map((e: { resource: unknown }) => e.resource)),
    );
  });
});

test('a sandbox of 1,000 synthetic patients is created and reset', async () => {
  const big = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 1000, seed: 7 } });
  const count = await server.http
    .get(`/sandboxes/${big.name}/fhir/Patient?_summary=count`)
    .set('Authorization', big.auth);
  expect(count.body.total).toBeGreaterThanOrEqual(1000);
  const reset = await server.http.post(`/api/sandboxes/${big.name}/reset`).set('Authorization', big.auth);
  expect(reset.status).toBe(200);
  expect(
    (await server.http.get(`/sandboxes/${big.name}/fhir/Patient?_summary=count`).set('Authorization', big.auth)).body
      .total,
  ).toBe(count.body.total);
});

test('the demo sandbox is created once and takes NAVET_DEMO_ADMIN_KEY', async () => {
  const demo = await startTestNavet({
    NAVET_DEMO_SANDBOX: `demo-${process.pid}-${Date.now().toString(36)}`,
    NAVET_DEMO_ADMIN_KEY: 'known-demo-key',
  });
  try {
    const first = await ensureDemoSandbox(demo.navet);
    expect(first).toEqual(expect.objectContaining({ created: true, adminKey: 'known-demo-key' }));
    const second = await ensureDemoSandbox(demo.navet);
    expect(second?.created).toBe(false);
    const res = await demo.http
      .get(`/sandboxes/${first?.name}/fhir/Patient?identifier=12057900499`)
      .set('Authorization', 'Bearer known-demo-key');
    expect(res.body.entry[0].resource.name[0].family).toBe('Telokk');
    await demo.navet.sandboxes.delete(first?.name as string);
  } finally {
    await demo.close();
  }
});
