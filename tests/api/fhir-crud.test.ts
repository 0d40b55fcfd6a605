import { createSandbox, startTestNavet, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string };
let fhir: string;

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server);
  fhir = `/sandboxes/${sandbox.name}/fhir`;
});
afterAll(() => server.close());

const patient = {
  resourceType: 'Patient',
  name: [{ family: 'Danser', given: ['Line'] }],
  gender: 'female',
  birthDate: '1969-11-13',
};

describe('FHIR REST API: create, read, update, delete, history', () => {
  test('create answers 201 with Location, ETag, Last-Modified and the stored resource', async () => {
    const res = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .set('Content-Type', 'application/fhir+json')
      .send(patient);
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.meta.versionId).toBe('1');
    expect(res.headers.etag).toBe('W/"1"');
    expect(res.headers.location).toBe(`http://navet.test${fhir}/Patient/${res.body.id}/_history/1`);
    expect(new Date(res.headers['last-modified']).getTime()).toBeGreaterThan(0);

    const read = await server.http.get(`${fhir}/Patient/${res.body.id}`).set('Authorization', sandbox.auth);
    expect(read.status).toBe(200);
    expect(read.body.name[0].family).toBe('Danser');
    expect(read.headers.etag).toBe('W/"1"');
  });

  test('update with the current If-Match makes version 2; a stale If-Match gets 412 and changes nothing', async () => {
    const created = await server.http.post(`${fhir}/Patient`).set('Authorization', sandbox.auth).send(patient);
    const id = created.body.id;
    const updated = await server.http
      .put(`${fhir}/Patient/${id}`)
      .set('Authorization', sandbox.auth)
      .set('If-Match', 'W/"1"')
      .send({ ...patient, id, gender: 'other' });
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).toBe('2');

    const stale = await server.http
      .put(`${fhir}/Patient/${id}`)
      .set('Authorization', sandbox.auth)
      .set('If-Match', 'W/"1"')
      .send({ ...patient, id, gender: 'male' });
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    expect(stale.body.issue[0].details.text).toContain('current version is 2');

    const read = await server.http.get(`${fhir}/Patient/${id}`).set('Authorization', sandbox.auth);
    expect(read.body.gender).toBe('other');

    const v1 = await server.http.get(`${fhir}/Patient/${id}/_history/1`).set('Authorization', sandbox.auth);
    expect(v1.status).toBe(200);
    expect(v1.body.gender).toBe('female');

    const history = await server.http.get(`${fhir}/Patient/${id}/_history`).set('Authorization', sandbox.auth);
    expect(history.body.type).toBe('history');
    expect(history.body.total).toBe(2);
    expect(history.body.entry.map((e: { response: { etag: string } }) => e.response.etag)).toEqual(['W/"2"', 'W/"1"']);
  });

  test('update to a new id creates the resource (201); a body id that differs from the URL is refused', async () => {
    const created = await server.http
      .put(`${fhir}/Patient/client-chosen-1`)
      .set('Authorization', sandbox.auth)
      .send({ ...patient, id: 'client-chosen-1' });
    expect(created.status).toBe(201);
    const mismatch = await server.http
      .put(`${fhir}/Patient/client-chosen-1`)
      .set('Authorization', sandbox.auth)
      .send({ ...patient, id: 'other' });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.issue[0].expression).toEqual(['Patient.id']);
  });

  test('delete answers 204; read then answers 410 Gone and the history keeps the deletion', async () => {
    const created = await server.http.post(`${fhir}/Patient`).set('Authorization', sandbox.auth).send(patient);
    const id = created.body.id;
    expect((await server.http.delete(`${fhir}/Patient/${id}`).set('Authorization', sandbox.auth)).status).toBe(204);
    const read = await server.http.get(`${fhir}/Patient/${id}`).set('Authorization', sandbox.auth);
    expect(read.status).toBe(410);
    expect(read.body.resourceType).toBe('OperationOutcome');
    const history = await server.http.get(`${fhir}/Patient/${id}/_history`).set('Authorization', sandbox.auth);
    expect(history.body.entry[0].request.method).toBe('DELETE');
  });

  test('Prefer: return=minimal answers without a body; return=OperationOutcome with an outcome', async () => {
    const minimal = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .set('Prefer', 'return=minimal')
      .send(patient);
    expect(minimal.status).toBe(201);
    expect(minimal.text).toBe('');
    expect(minimal.headers.location).toMatch(/\/Patient\/.+\/_history\/1$/);
    const outcome = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .set('Prefer', 'return=OperationOutcome')
      .send(patient);
    expect(outcome.body.resourceType).toBe('OperationOutcome');
    expect(outcome.body.issue[0].severity).toBe('information');
  });

  test('conditional create with If-None-Exist returns the existing resource instead of a duplicate', async () => {
    const body = { ...patient, identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '12119000465' }] };
    const first = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .set('If-None-Exist', 'identifier=urn:oid:2.16.578.1.12.4.1.4.1|12119000465')
      .send(body);
    expect(first.status).toBe(201);
    const second = await server.http
      .post(`${fhir}/Patient`)
      .set('Authorization', sandbox.auth)
      .set('If-None-Exist', 'identifier=urn:oid:2.16.578.1.12.4.1.4.1|12119000465')
      .send(body);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
  });

  test('type history and system history list versions', async () => {
    const type = await server.http.get(`${fhir}/Patient/_history?_count=2`).set('Authorization', sandbox.auth);
    expect(type.body.type).toBe('history');
    expect(type.body.entry).toHaveLength(2);
    expect(type.body.total).toBeGreaterThan(2);
    const system = await server.http.get(`${fhir}/_history`).set('Authorization', sandbox.auth);
    expect(system.body.total).toBe(type.body.total);
  });

  test('metadata is a CapabilityStatement listing the search parameters', async () => {
    const res = await server.http.get(`${fhir}/metadata`).set('Authorization', sandbox.auth);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    const patientEntry = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'Patient');
    expect(patientEntry.searchParam.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['identifier', 'name', 'birthdate', '_id']),
    );
    const audit = res.body.rest[0].resource.find((r: { type: string }) => r.type === 'AuditEvent');
    expect(audit.interaction.map((i: { code: string }) => i.code)).not.toContain('delete');
  });

  test('_format=json is honoured and _format=xml is refused with 406', async () => {
    expect((await server.http.get(`${fhir}/metadata?_format=json`).set('Authorization', sandbox.auth)).status).toBe(
      200,
    );
    const xml = await server.http.get(`${fhir}/Patient?_format=xml`).set('Authorization', sandbox.auth);
    expect(xml.status).toBe(406);
    expect(xml.body.resourceType).toBe('OperationOutcome');
  });
});
