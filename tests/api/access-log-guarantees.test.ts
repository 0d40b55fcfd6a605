import { sql } from 'kysely';
import { makeDpopProof } from '../../src/trust/dpop-client';
import { GRY_TELOKK, HARRY_HANDEL, patientId, provideBundle, seedDocument } from '../helpers/documents';
import { getToken, koman, type TokenResult } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string };
let t: TokenResult;

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  const gryId = await patientId(server, sandbox.auth, sandbox.name, GRY_TELOKK);
  await seedDocument(server, sandbox.auth, sandbox.name, gryId, { title: 'Epikrise', date: '2026-03-01T10:00:00Z' });
  t = await getToken(server.http, sandbox.name, { scope: 'nhn:phr/mhd/read-documentreferences', details: [koman()] });
  expect(t.status).toBe(200);
});
afterAll(() => server.close());

async function findDocuments(nin: string, eventId: string) {
  const path = `/sandboxes/${sandbox.name}/pjd/R4/fhir/DocumentReference/_search`;
  const proof = await makeDpopProof(t.dpopKey, {
    method: 'POST',
    url: `${TEST_BASE_URL}${path}`,
    accessToken: t.body.access_token,
  });
  return server.http
    .post(path)
    .type('form')
    .set('Authorization', `DPoP ${t.body.access_token}`)
    .set('DPoP', proof)
    .set('nhn-source-system', 'Demo EPJ')
    .set('nhn-event-id', eventId)
    .send({ 'patient.identifier': nin });
}

async function countAuditEvents(query: string): Promise<number> {
  const res = await server.http
    .get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?${query}&_summary=count`)
    .set('Authorization', sandbox.auth);
  return res.body.total;
}

/** Makes the database refuse this sandbox's AuditEvent rows, as a full disk or a lost table would. */
async function breakAuditWrites(): Promise<() => Promise<void>> {
  const { db, engine } = server.navet.database;
  const trigger = `fail_audit_${sandbox.name.replace(/-/g, '_')}`;
  if (engine === 'sqlite') {
    await sql
      .raw(
        `create trigger ${trigger} before insert on resources when new.resource_type = 'AuditEvent' and new.sandbox = '${sandbox.name}' begin select raise(abort, 'disk I/O error'); end`,
      )
      .execute(db);
    return async () => {
      await sql.raw(`drop trigger ${trigger}`).execute(db);
    };
  }
  await sql
    .raw(
      `create function ${trigger}() returns trigger language plpgsql as $$ begin if new.resource_type = 'AuditEvent' and new.sandbox = '${sandbox.name}' then raise exception 'disk I/O error'; end if; return new; end $$`,
    )
    .execute(db);
  await sql
    .raw(`create trigger ${trigger} before insert on resources for each row execute function ${trigger}()`)
    .execute(db);
  return async () => {
    await sql.raw(`drop trigger ${trigger} on resources`).execute(db);
    await sql.raw(`drop function ${trigger}()`).execute(db);
  };
}

test('when the access log cannot be written the request fails and no patient data is returned', async () => {
  const repair = await breakAuditWrites();
  try {
    const res = await findDocuments(GRY_TELOKK, 'evt-broken');
    expect(res.status).toBe(503);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-AUDIT-UNAVAILABLE');
    expect(JSON.stringify(res.body)).not.toContain('DocumentReference');
    expect(JSON.stringify(res.body)).not.toContain('Epikrise');
  } finally {
    await repair();
  }
  expect(await countAuditEvents('event-id=evt-broken')).toBe(0);
  const after = await findDocuments(GRY_TELOKK, 'evt-repaired');
  expect(after.status).toBe(200);
  expect(after.body.total).toBe(1);
  expect(await countAuditEvents('event-id=evt-repaired')).toBe(1);
});

test('a publication whose log entry cannot be written is not stored either', async () => {
  const publisher = await getToken(server.http, sandbox.name, {
    scope: 'navet:pjd/provide-document',
    details: [koman()],
  });
  const count = async () =>
    (
      await server.http
        .get(`/sandboxes/${sandbox.name}/fhir/DocumentReference?_summary=count`)
        .set('Authorization', sandbox.auth)
    ).body.total;
  const before = await count();
  const path = `/sandboxes/${sandbox.name}/pjd/R4/fhir`;
  const repair = await breakAuditWrites();
  try {
    const proof = await makeDpopProof(publisher.dpopKey, {
      method: 'POST',
      url: `${TEST_BASE_URL}${path}`,
      accessToken: publisher.body.access_token,
    });
    const res = await server.http
      .post(path)
      .type('application/fhir+json')
      .set('Authorization', `DPoP ${publisher.body.access_token}`)
      .set('DPoP', proof)
      .set('nhn-source-system', 'Demo DIPS')
      .send(provideBundle(GRY_TELOKK, Buffer.from('%PDF-1.4 audit').toString('base64')));
    expect(res.status).toBe(503);
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-AUDIT-UNAVAILABLE');
  } finally {
    await repair();
  }
  expect(await count()).toBe(before);
});

test('200 parallel look-ups produce exactly 200 access-log entries', async () => {
  const before = await countAuditEvents(`patient-identifier=${HARRY_HANDEL}`);
  const responses = await Promise.all(
    Array.from({ length: 200 }, (_, i) => findDocuments(HARRY_HANDEL, `evt-parallel-${i}`)),
  );
  expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
  expect(await countAuditEvents(`patient-identifier=${HARRY_HANDEL}`)).toBe(before + 200);
  expect(await countAuditEvents('event-id=evt-parallel-0,evt-parallel-99,evt-parallel-199')).toBe(3);
});
