import { makeDpopProof } from '../../src/trust/dpop-client';
import { FNR_SYSTEM, HARRY_HANDEL, GRY_TELOKK, patientId, seedDocument } from '../helpers/documents';
import { getToken, koman, type TokenResult } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string };
let gryId: string;
const SCOPE = 'nhn:phr/mhd/read-documentreferences';

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  gryId = await patientId(server, sandbox.auth, sandbox.name, GRY_TELOKK);
  await seedDocument(server, sandbox.auth, sandbox.name, gryId, {
    title: 'Epikrise kardiologi',
    date: '2026-03-01T10:00:00Z',
  });
  await seedDocument(server, sandbox.auth, sandbox.name, gryId, {
    title: 'Epikrise ortopedi',
    date: '2026-05-01T10:00:00Z',
  });
  await seedDocument(server, sandbox.auth, sandbox.name, gryId, {
    title: 'Sperret notat',
    date: '2026-06-01T10:00:00Z',
    blocked: true,
  });
});
afterAll(() => server.close());

const searchPath = () => `/sandboxes/${sandbox.name}/pjd/R4/fhir/DocumentReference/_search`;

async function token(details: unknown = [koman()]): Promise<TokenResult> {
  const result = await getToken(server.http, sandbox.name, { scope: SCOPE, details });
  expect(result.status).toBe(200);
  return result;
}

async function findDocuments(
  t: TokenResult,
  form: Record<string, string>,
  headers: Record<string, string> = { 'nhn-source-system': 'Demo EPJ 1.0' },
  clockOffsetSeconds = 0,
) {
  const iat = Math.floor(Date.now() / 1000) + clockOffsetSeconds;
  const proof = await makeDpopProof(t.dpopKey, {
    method: 'POST',
    url: `${TEST_BASE_URL}${searchPath()}`,
    accessToken: t.body.access_token,
    iat,
  });
  let request = server.http
    .post(searchPath())
    .type('form')
    .set('Authorization', `DPoP ${t.body.access_token}`)
    .set('DPoP', proof);
  for (const [name, value] of Object.entries(headers)) request = request.set(name, value);
  return request.send(form);
}

async function auditEvents(query: string) {
  const found = await server.http
    .get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?${query}`)
    .set('Authorization', sandbox.auth);
  expect(found.status).toBe(200);
  return (found.body.entry ?? []).map((e: { resource: Record<string, unknown> }) => e.resource);
}

describe('ITI-67 writes the access log', () => {
  test('a document search logs one AuditEvent shaped after the trust-framework profile, filled from the attestation', async () => {
    const t = await token();
    const res = await findDocuments(
      t,
      { 'patient.identifier': GRY_TELOKK, status: 'current' },
      { 'nhn-source-system': 'Demo EPJ 1.0', 'nhn-event-id': 'evt-profile-1' },
    );
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(2);
    expect(res.headers['nhn-securitylabel-nors-count']).toBe('1');

    const [event] = await auditEvents('event-id=evt-profile-1');
    expect(event.meta.profile).toEqual(['http://hl7.no/fhir/StructureDefinition/no-domain-Trustframework-Auditevent']);
    expect(event.type.code).toBe('110110');
    expect(event.action).toBe('R');
    expect(event.outcome).toBe('0');
    expect(event.subtype[0].code).toBe('ITI-67');
    const contained = Object.fromEntries(event.contained.map((r: { id: string }) => [r.id, r]));
    expect(contained.practitioner.identifier).toEqual([
      { system: FNR_SYSTEM, value: '04056600324' },
      { system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '9144900' },
    ]);
    expect(contained.practitioner.name[0].text).toBe('Magnar Koman');
    expect(contained.practitioner.qualification[0].code.coding[0]).toMatchObject({
      system: 'urn:oid:2.16.578.1.12.4.1.1.9060',
      code: 'LE',
    });
    expect(contained['legal-entity'].identifier[0].value).toBe('993467049');
    expect(contained['legal-entity'].name).toMatch(/universitetssykehus/i);
    expect(contained['point-of-care'].identifier[0].value).toBe('874716782');
    expect(contained.agent.practitioner.reference).toBe('#practitioner');
    expect(contained.patient.identifier[0].value).toBe(GRY_TELOKK);
    expect(contained.encounter.serviceType.coding[0].code).toBe('S03');
    expect(event.agent[0]).toMatchObject({ who: { reference: '#agent' }, altId: '9144900', requestor: true });
    expect(event.agent[0].policy).toHaveLength(1);
    expect(event.agent[1]).toMatchObject({
      who: { identifier: { value: 'demo-hospital-system' } },
      name: 'Demo EPJ 1.0',
      requestor: false,
    });
    expect(event.purposeOfEvent[0].coding.map((c: { code: string }) => c.code)).toEqual(['TREAT', 'BEHANDLER']);
    const careRelation = event.extension.find((e: { url: string }) =>
      e.url.endsWith('carerelation-metadata-extension'),
    );
    expect(careRelation.extension.map((e: { url: string }) => e.url)).toEqual([
      'decision-ref-id',
      'decision-ref-user-selected',
      'toa',
    ]);
    const patientEntity = event.entity.find((e: { role?: { code: string } }) => e.role?.code === '1');
    expect(patientEntity.what).toEqual({
      reference: `Patient/${gryId}`,
      identifier: { system: FNR_SYSTEM, value: GRY_TELOKK },
    });
    const seen = event.entity
      .filter((e: { role?: { code: string } }) => e.role?.code === '4')
      .map((e: { what: { reference: string } }) => e.what.reference);
    expect(seen.sort()).toEqual(
      res.body.entry.map((e: { resource: { id: string } }) => `DocumentReference/${e.resource.id}`).sort(),
    );
    const query = event.entity.find((e: { role?: { code: string } }) => e.role?.code === '24');
    expect(Buffer.from(query.query, 'base64').toString()).toContain(`patient.identifier=${GRY_TELOKK}`);
  });

  test('the log entry is written with the sandbox clock', async () => {
    // a token got now stays valid for 600 s, so move the clock 300 s on after getting it
    const t = await token();
    await server.http
      .put(`/api/sandboxes/${sandbox.name}/clock`)
      .set('Authorization', sandbox.auth)
      .send({ offsetSeconds: 300 });
    try {
      const res = await findDocuments(
        t,
        { 'patient.identifier': GRY_TELOKK },
        { 'nhn-source-system': 'x', 'nhn-event-id': 'evt-clock' },
        300,
      );
      expect(res.status).toBe(200);
      const [event] = await auditEvents('event-id=evt-clock');
      expect(Math.abs(Date.parse(event.recorded) - (Date.now() + 300_000))).toBeLessThan(30_000);
    } finally {
      await server.http
        .put(`/api/sandboxes/${sandbox.name}/clock`)
        .set('Authorization', sandbox.auth)
        .send({ offsetSeconds: 0 });
    }
  });

  test('a rejected request that names a patient is logged as a failure with the rule and reason', async () => {
    const t = await token([koman({ patients: [{ identifier: { id: HARRY_HANDEL, system: FNR_SYSTEM } }] })]);
    const res = await findDocuments(
      t,
      { 'patient.identifier': GRY_TELOKK },
      { 'nhn-source-system': 'x', 'nhn-event-id': 'evt-rejected' },
    );
    expect(res.status).toBe(403);
    expect(res.body.issue[0].details.coding[0].code).toBe('ATT-4');
    const [event] = await auditEvents('event-id=evt-rejected');
    expect(event.outcome).toBe('4');
    expect(event.outcomeDesc).toMatch(/^ATT-4: .*attest the patient you ask about/);
    expect(event.contained.find((r: { id: string }) => r.id === 'patient').identifier[0].value).toBe(GRY_TELOKK);
    expect(event.agent[1].who.identifier.value).toBe('demo-hospital-system');
    // the rejected attestation names no one: only the verified client is in the entry
    expect(event.contained.map((r: { resourceType: string }) => r.resourceType)).toEqual(['Patient']);
    expect(event.agent[0].who.display).toMatch(/not verified/);
    expect(await auditEvents('practitioner-identifier=04056600324&event-id=evt-rejected')).toEqual([]);
  });

  test('a request without a token that names a patient is logged with an unidentified caller', async () => {
    const res = await server.http
      .post(searchPath())
      .type('form')
      .set('nhn-event-id', 'evt-no-token')
      .send({ 'patient.identifier': GRY_TELOKK });
    expect(res.status).toBe(401);
    const [event] = await auditEvents('event-id=evt-no-token');
    expect(event.outcome).toBe('4');
    expect(event.outcomeDesc).toMatch(/^NAVET-TOKEN-MISSING/);
    expect(event.agent).toHaveLength(1);
    expect(event.agent[0].who.display).toMatch(/Unidentified caller/);
  });

  test('a missing nhn-source-system header is refused and logged', async () => {
    const t = await token();
    const res = await findDocuments(t, { 'patient.identifier': GRY_TELOKK }, { 'nhn-event-id': 'evt-no-source' });
    expect(res.status).toBe(400);
    expect(res.body.issue[0].expression).toEqual(['nhn-source-system']);
    const [event] = await auditEvents('event-id=evt-no-source');
    expect(event.outcomeDesc).toMatch(/^NAVET-PJD-SOURCE-SYSTEM/);
  });

  test('AuditEvents cannot be created, changed or deleted through the FHIR API', async () => {
    const [event] = await auditEvents('event-id=evt-profile-1');
    const fhir = `/sandboxes/${sandbox.name}/fhir`;
    const put = await server.http
      .put(`${fhir}/AuditEvent/${event.id}`)
      .set('Authorization', sandbox.auth)
      .send({ ...event, outcome: '8' });
    const del = await server.http.delete(`${fhir}/AuditEvent/${event.id}`).set('Authorization', sandbox.auth);
    const post = await server.http
      .post(`${fhir}/AuditEvent`)
      .set('Authorization', sandbox.auth)
      .send({ ...event, id: undefined });
    const inBundle = await server.http
      .post(fhir)
      .set('Authorization', sandbox.auth)
      .send({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ request: { method: 'DELETE', url: `AuditEvent/${event.id}` } }],
      });
    for (const res of [put, del, post, inBundle]) {
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('NAVET-READ-ONLY-TYPE');
    }
    const again = await server.http.get(`${fhir}/AuditEvent/${event.id}`).set('Authorization', sandbox.auth);
    expect(again.status).toBe(200);
    expect(again.body.outcome).toBe('0');
    expect(again.body.meta.versionId).toBe('1');
  });
});

describe('the operators search the access log', () => {
  const audit = (query: string, auth = sandbox.auth) =>
    server.http.get(`/api/sandboxes/${sandbox.name}/audit?${query}`).set('Authorization', auth);
  const ids = (res: { body: { entry?: { resource: { id: string } }[] } }) =>
    (res.body.entry ?? []).map((e) => e.resource.id);

  beforeAll(async () => {
    // a look-up by another system for another patient, so that each filter has something to leave out
    const other = await getToken(server.http, sandbox.name, {
      clientId: 'demo-gp-system',
      scope: SCOPE,
      details: [
        koman({
          practitioner: {
            identifier: { id: '05898597468', system: FNR_SYSTEM },
            hpr_nr: { id: '565501872', system: 'urn:oid:2.16.578.1.12.4.1.4.4' },
            authorization: { code: 'LE', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
            legal_entity: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
            point_of_care: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
          },
        }),
      ],
    });
    expect(other.status).toBe(200);
    const gpLookUp = await findDocuments(
      other,
      { 'patient.identifier': HARRY_HANDEL },
      { 'nhn-source-system': 'GP', 'nhn-event-id': 'evt-gp' },
    );
    expect(gpLookUp.body.issue ?? []).toEqual([]);
    expect(gpLookUp.status).toBe(200);
  });

  test('by patient, practitioner, organisation, client, service, outcome and time, newest first', async () => {
    const all = await audit('');
    expect(all.status).toBe(200);
    expect(all.body.total).toBeGreaterThanOrEqual(6);
    const times = all.body.entry.map((e: { resource: { recorded: string } }) => e.resource.recorded);
    expect([...times].sort().reverse()).toEqual(times);

    const harry = await audit(`patient=${HARRY_HANDEL}`);
    expect(harry.body.total).toBe(1);
    expect(ids(await audit('practitioner=565501872'))).toEqual(ids(harry)); // Grønn Vits by HPR number
    expect(ids(await audit('practitioner=05898597468'))).toEqual(ids(harry)); // and by fødselsnummer
    expect(ids(await audit('organization=100100673'))).toEqual(ids(harry));
    expect(ids(await audit('client=demo-gp-system'))).toEqual(ids(harry));
    const koman9144900 = await audit('practitioner=9144900');
    expect(koman9144900.body.total).toBe(all.body.total - 3); // all but the GP's, the unidentified caller's and the rejected attestation's
    expect((await audit('organisation=874716782')).body.total).toBe(koman9144900.body.total);
    expect((await audit('service=pjd')).body.total).toBe(all.body.total);
    const failures = await audit('outcome=failure');
    expect(failures.body.total).toBe(3);
    expect(failures.body.entry.every((e: { resource: { outcome: string } }) => e.resource.outcome !== '0')).toBe(true);
    expect((await audit('outcome=success')).body.total).toBe(all.body.total - 3);
    expect((await audit(`from=${encodeURIComponent(new Date(Date.now() + 3600_000).toISOString())}`)).body.total).toBe(
      0,
    );
    expect((await audit('to=2000-01-01')).body.total).toBe(0);
    expect((await audit(`patient=${GRY_TELOKK}&outcome=failure&client=demo-hospital-system`)).body.total).toBe(2);
  });

  test('paged with links in the same terms', async () => {
    const first = await audit('service=pjd&_count=2');
    expect(first.body.entry).toHaveLength(2);
    const next = first.body.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    expect(next).toContain('/audit?service=pjd&_count=2&_page=2');
    const second = await server.http.get(next.replace(TEST_BASE_URL, '')).set('Authorization', sandbox.auth);
    expect(second.status).toBe(200);
    expect(ids(second).some((id: string) => ids(first).includes(id))).toBe(false);
  });

  test('a bad filter or key gets a clear error', async () => {
    const unknown = await audit('colour=blue');
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(['colour']);
    expect(unknown.body.issue[0].details.text).toContain('practitioner');
    expect((await audit('outcome=maybe')).status).toBe(400);
    expect((await audit('from=yesterday')).status).toBe(400);
    expect((await audit('service=email')).status).toBe(400);
    expect((await audit('_page=0')).status).toBe(400);
    expect((await audit('', 'Bearer wrong')).status).toBe(401);
  });
});

test('prototype names are not filters of the access log', async () => {
  for (const query of ['constructor=1', 'toString=1', 'service=constructor', 'hasOwnProperty=x']) {
    const res = await server.http
      .get(`/api/sandboxes/${sandbox.name}/audit?${query}`)
      .set('Authorization', sandbox.auth);
    expect(res.status).toBe(400);
  }
});
