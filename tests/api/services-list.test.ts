import { patientDataEndpoints } from '../../src/audit/service-module';
import { serviceUrls } from '../../src/sandbox/service-urls';
import { PATIENT_DATA_ENDPOINTS } from '../../src/services/patient-data-endpoints';
import { SANDBOX_SEEDING } from '../../src/services/seeders';
import { SERVICES } from '../../src/services/services';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

/** SERVICES is the one list of a sandbox's services: the app, the URLs, the audited list and the seeds follow it. */
let server: TestNavet;
let sandbox: { name: string; auth: string };
beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
});
afterAll(() => server.close());

test('the service URLs of a sandbox are its base and each service at its base', async () => {
  const urls = serviceUrls(TEST_BASE_URL, sandbox.name, SERVICES);
  const root = `${TEST_BASE_URL}/sandboxes/${sandbox.name}`;
  expect(Object.keys(urls)).toEqual(['fhir', 'helseid', ...SERVICES.map((s) => s.key), 'citizen']);
  for (const service of SERVICES) expect(urls[service.key]).toBe(`${root}/${service.base}`);
  const res = await server.http.get(`/api/sandboxes/${sandbox.name}`).set('Authorization', sandbox.auth);
  expect(res.status).toBe(200);
  // what vendors read: these names and values, in this order
  const listed = {
    fhir: `${root}/fhir`,
    helseid: `${root}/helseid`,
    pjd: `${root}/pjd`,
    criticalInformation: `${root}/critical-information`,
    sfm: `${root}/sfm`,
    pps: `${root}/pps`,
    citizen: `${root}/citizen`,
  };
  expect(Object.entries(res.body.services)).toEqual(Object.entries(listed));
  expect(Object.entries(urls)).toEqual(Object.entries(listed));
});

test('the audited list is every patient-data endpoint of every service, and nothing else', () => {
  expect(Object.keys(PATIENT_DATA_ENDPOINTS)).toEqual(SERVICES.map((s) => s.base));
  for (const service of SERVICES) {
    const flagged = service.endpoints.filter((e) => e.patientData);
    expect(flagged.length).toBeGreaterThan(0);
    expect(PATIENT_DATA_ENDPOINTS[service.base]).toEqual(flagged);
    expect(patientDataEndpoints(service)).toEqual(flagged);
  }
});

test('each service seeds through the list, in its order', () => {
  expect(SANDBOX_SEEDING.builders).toEqual(SERVICES.flatMap((s) => (s.seed ? [s.seed] : [])));
  expect(SANDBOX_SEEDING.builders).toHaveLength(4);
});

test('every endpoint of every service is mounted where the list says', async () => {
  let checked = 0;
  for (const service of SERVICES)
    for (const endpoint of service.endpoints) {
      const path = endpoint.path.replace(/:\w+/g, 'x');
      const res = await server.http[endpoint.method](`/sandboxes/${sandbox.name}/${service.base}${path}`);
      // served: answered by the endpoint (a guard's 401, a disabled backdoor's 403, ...), not the fallback
      const route = `${endpoint.method} ${path}`;
      const code: unknown = res.body?.issue?.[0]?.navetCode;
      expect({ route, fallback: code === 'NAVET-NO-SUCH-PATH' || code === 'NAVET-METHOD-NOT-ALLOWED' }).toEqual({
        route,
        fallback: false,
      });
      expect(res.status).not.toBe(404);
      checked++;
    }
  expect(checked).toBeGreaterThan(40);
});

test('the settings API of each service with settings is mounted at its path', async () => {
  for (const service of SERVICES.filter((s) => s.settings)) {
    const res = await server.http
      .get(`/api/sandboxes/${sandbox.name}/settings/${service.settings?.path}`)
      .set('Authorization', sandbox.auth);
    expect([service.key, res.status]).toEqual([service.key, 200]);
  }
});
