import { createSandbox, startTestNavet, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string };
let fhir: string;

beforeAll(async () => {
  server = await startTestNavet({ NAVET_MAX_BODY: '20kb' });
  sandbox = await createSandbox(server);
  fhir = `/sandboxes/${sandbox.name}/fhir`;
});
afterAll(() => server.close());

function expectOutcome(
  res: { status: number; body: { resourceType: string; issue: { details: { text: string } }[] } },
  status: number,
  text: RegExp,
) {
  expect(res.status).toBe(status);
  expect(res.body.resourceType).toBe('OperationOutcome');
  expect(res.body.issue[0].details.text).toMatch(text);
}

describe('bad input gets a 4xx OperationOutcome and changes nothing', () => {
  test('malformed JSON → 400', async () => {
    const res = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .set('Content-Type', 'application/fhir+json')
      .send('{"resourceType": "Patient",');
    expectOutcome(res, 400, /not valid JSON/);
  });

  test('a body of another resource type than the URL → 400', async () => {
    const res = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Observation', status: 'final', code: { text: 'x' } });
    expectOutcome(res, 400, /body is a Observation/);
  });

  test('an unknown resourceType → 400 naming it', async () => {
    const res = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Patientt' });
    expectOutcome(res, 400, /"Patientt" is not a FHIR R4 resource type/);
  });

  test('an unknown resource type in the URL → 404', async () => {
    const res = await server.http.get(`${fhir}/Dragon/1`).set('Authorization', sandbox.auth);
    expectOutcome(res, 404, /'Dragon' is not a FHIR R4 resource type/);
  });

  test('an invalid element is named by its path', async () => {
    const res = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Patient', birthDate: '1969-13-45', name: [{ given: 'Line' }], colour: 'blue' });
    expect(res.status).toBe(400);
    const issues = res.body.issue as { expression: string[]; details: { text: string } }[];
    expect(issues.map((i) => i.expression[0])).toEqual(
      expect.arrayContaining(['Patient.birthDate', 'Patient.name[0].given', 'Patient']),
    );
    expect(issues.find((i) => i.expression[0] === 'Patient.birthDate')?.details.text).toMatch(/not a FHIR date/);
    expect(issues.find((i) => i.expression[0] === 'Patient')?.details.text).toMatch(/no element 'colour'/);
  });

  test('a contained resource is validated too', async () => {
    const res = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Patient', contained: [{ resourceType: 'Organization', id: 'o', active: 'yes' }] });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression[0]).toBe('Patient.contained[0].active');
  });

  test('a body over the size limit → 413', async () => {
    const res = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Patient', name: [{ text: 'x'.repeat(30000) }] });
    expectOutcome(res, 413, /larger than the limit/);
  });

  test('a body that is not JSON → 415', async () => {
    const res = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .set('Content-Type', 'application/xml')
      .send('<Patient/>');
    expectOutcome(res, 415, /application\/fhir\+json/);
  });

  test('an id that does not exist → 404', async () => {
    expectOutcome(
      await server.http.get(`${fhir}/Patient/nope`).set('Authorization', sandbox.auth),
      404,
      /does not exist/,
    );
    expectOutcome(
      await server.http.get(`${fhir}/Patient/nope/_history/1`).set('Authorization', sandbox.auth),
      404,
      /no version 1/,
    );
  });

  test('an invalid id → 400', async () => {
    expectOutcome(
      await server.http.get(`${fhir}/Patient/${'x'.repeat(65)}`).set('Authorization', sandbox.auth),
      400,
      /not a valid FHIR id/,
    );
  });

  test('a sandbox that does not exist → 404', async () => {
    expectOutcome(
      await server.http.get('/sandboxes/no-such-sandbox/fhir/Patient').set('Authorization', sandbox.auth),
      404,
      /no sandbox named 'no-such-sandbox'/,
    );
  });

  test('a path Navet does not serve → 404 that says where things are', async () => {
    expectOutcome(await server.http.get('/nowhere'), 404, /sandbox services live under \/sandboxes\/<name>/);
    expectOutcome(await server.http.get('/api/sandboxes/x/nothing/here'), 404, /No admin endpoint/);
  });

  test('a missing or wrong admin key → 401 with WWW-Authenticate', async () => {
    const missing = await server.http.get(`${fhir}/Patient`);
    expectOutcome(missing, 401, /admin key/);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    const wrong = await server.http.get(`${fhir}/Patient`).set('Authorization', 'Bearer navet_adm_wrong');
    expectOutcome(wrong, 401, /not the admin key/);
  });

  test("another sandbox's admin key does not open this sandbox", async () => {
    const other = await createSandbox(server);
    expectOutcome(await server.http.get(`${fhir}/Patient`).set('Authorization', other.auth), 401, /not the admin key/);
  });

  test('an unknown search parameter → 400 naming it; lenient handling ignores it with a warning', async () => {
    expectOutcome(
      await server.http.get(`${fhir}/Patient?favourite-colour=blue`).set('Authorization', sandbox.auth),
      400,
      /no search parameter 'favourite-colour'/,
    );
    const lenient = await server.http
      .get(`${fhir}/Patient?favourite-colour=blue`)
      .set('Authorization', sandbox.auth)
      .set('Prefer', 'handling=lenient');
    expect(lenient.status).toBe(200);
    expect(lenient.body.entry.at(-1).search.mode).toBe('outcome');
  });

  test('a malformed date → 400', async () => {
    expectOutcome(
      await server.http.get(`${fhir}/Patient?birthdate=ge2020-99`).set('Authorization', sandbox.auth),
      400,
      /not a FHIR date/,
    );
  });

  test('AuditEvent cannot be written through the admin API', async () => {
    const res = await server.http
      .post(`${fhir}/AuditEvent`)
      .set('Authorization', sandbox.auth)
      .send({
        resourceType: 'AuditEvent',
        type: { code: '110110' },
        recorded: '2026-01-01T00:00:00Z',
        agent: [{ requestor: true }],
        source: { observer: { display: 'x' } },
      });
    expectOutcome(res, 400, /written by Navet itself/);
  });

  test('an unsupported interaction → 405', async () => {
    expectOutcome(
      await server.http.patch(`${fhir}/Patient/1`).set('Authorization', sandbox.auth).send([]),
      405,
      /not supported/,
    );
  });

  test('none of the refused writes above stored anything', async () => {
    const res = await server.http.get(`${fhir}/Patient?_summary=count`).set('Authorization', sandbox.auth);
    expect(res.body.total).toBe(0);
  });
});
