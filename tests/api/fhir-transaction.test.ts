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

const count = async (type: string) =>
  (await server.http.get(`${fhir}/${type}?_summary=count`).set('Authorization', sandbox.auth)).body.total as number;

describe('transaction and batch Bundles', () => {
  test('a transaction creates everything and resolves urn:uuid references', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:6b4d3c1e-0000-4000-8000-000000000001',
          resource: { resourceType: 'Patient', name: [{ family: 'Fos' }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          fullUrl: 'urn:uuid:6b4d3c1e-0000-4000-8000-000000000002',
          resource: {
            resourceType: 'Condition',
            subject: { reference: 'urn:uuid:6b4d3c1e-0000-4000-8000-000000000001' },
            code: { text: 'Astma' },
          },
          request: { method: 'POST', url: 'Condition' },
        },
      ],
    };
    const res = await server.http.post(fhir).set('Authorization', sandbox.auth).send(bundle);
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual([
      '201 Created',
      '201 Created',
    ]);
    const patientId = res.body.entry[0].resource.id;
    expect(res.body.entry[1].resource.subject.reference).toBe(`Patient/${patientId}`);
    expect(res.body.entry[0].response.location).toBe(`Patient/${patientId}/_history/1`);
    const search = await server.http
      .get(`${fhir}/Condition?subject=Patient/${patientId}`)
      .set('Authorization', sandbox.auth);
    expect(search.body.total).toBe(1);
  });

  test('a transaction with one bad entry is refused whole and leaves nothing behind', async () => {
    const before = await count('Patient');
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Patient', name: [{ family: 'Skal-ikke-finnes' }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { resourceType: 'Patient', id: 'p1', name: [{ family: 'Heller-ikke' }] },
          request: { method: 'PUT', url: 'Patient/p1' },
        },
        {
          resource: { resourceType: 'Patient', id: 'p2', gender: 'unknown', birthDate: 'yesterday' },
          request: { method: 'PUT', url: 'Patient/p2' },
        },
      ],
    };
    const res = await server.http.post(fhir).set('Authorization', sandbox.auth).send(bundle);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression[0]).toBe('Bundle.entry[2].resource.birthDate');
    expect(await count('Patient')).toBe(before);
  });

  test('a transaction that fails while writing (stale If-Match) rolls back the writes before it', async () => {
    await server.http
      .put(`${fhir}/Patient/stable`)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Patient', id: 'stable', gender: 'female' });
    const before = await count('Patient');
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Patient', name: [{ family: 'Rulles-tilbake' }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: { resourceType: 'Patient', id: 'stable', gender: 'male' },
          request: { method: 'PUT', url: 'Patient/stable', ifMatch: 'W/"7"' },
        },
      ],
    };
    const res = await server.http.post(fhir).set('Authorization', sandbox.auth).send(bundle);
    expect(res.status).toBe(412);
    expect(res.body.issue[0].details.text).toMatch(/^entry\[1\]/);
    expect(await count('Patient')).toBe(before);
    const stable = await server.http.get(`${fhir}/Patient/stable`).set('Authorization', sandbox.auth);
    expect(stable.body.gender).toBe('female');
    expect(stable.body.meta.versionId).toBe('1');
  });

  test('an unresolvable urn:uuid reference is refused', async () => {
    const res = await server.http
      .post(fhir)
      .set('Authorization', sandbox.auth)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: {
              resourceType: 'Condition',
              subject: { reference: 'urn:uuid:00000000-0000-4000-8000-00000000dead' },
              code: { text: 'x' },
            },
            request: { method: 'POST', url: 'Condition' },
          },
        ],
      });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toMatch(/not the fullUrl of any entry/);
  });

  test('conditional create inside a transaction reuses the match', async () => {
    const entry = {
      resource: {
        resourceType: 'Organization',
        name: 'Andeby Legevakt',
        identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: '100100223' }],
      },
      request: {
        method: 'POST',
        url: 'Organization',
        ifNoneExist: 'identifier=urn:oid:2.16.578.1.12.4.1.4.101|100100223',
      },
    };
    const first = await server.http
      .post(fhir)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Bundle', type: 'transaction', entry: [entry] });
    const second = await server.http
      .post(fhir)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Bundle', type: 'transaction', entry: [entry] });
    expect(first.body.entry[0].response.status).toBe('201 Created');
    expect(second.body.entry[0].response.status).toBe('200 OK');
    expect(second.body.entry[0].resource.id).toBe(first.body.entry[0].resource.id);
  });

  test('a batch runs entries independently and reports each outcome', async () => {
    const res = await server.http
      .post(fhir)
      .set('Authorization', sandbox.auth)
      .send({
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          {
            resource: { resourceType: 'Patient', name: [{ family: 'Batch' }] },
            request: { method: 'POST', url: 'Patient' },
          },
          { request: { method: 'GET', url: 'Patient/does-not-exist' } },
          { request: { method: 'GET', url: 'Patient?family=batch' } },
        ],
      });
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('batch-response');
    expect(res.body.entry[0].response.status).toBe('201 Created');
    expect(res.body.entry[1].response.status).toBe('404');
    expect(res.body.entry[1].response.outcome.resourceType).toBe('OperationOutcome');
    expect(res.body.entry[2].resource.total).toBe(1);
  });

  test('a Bundle of another type is refused', async () => {
    const res = await server.http
      .post(fhir)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Bundle', type: 'collection' });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['Bundle.type']);
  });
});
