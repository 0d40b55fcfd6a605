import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { makeDpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { FNR_SYSTEM, HARRY_HANDEL, GRY_TELOKK, patientId, seedDocument } from '../helpers/documents';
import {
  ASSERTION_TYPE,
  clientAssertion,
  demoClient,
  getToken,
  koman,
  type TokenResult,
} from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';
import { seedToken } from '../../src/sandbox/seed/resources';

let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let gryDocuments: string[];
let hospital: TokenResult;
const KOMAN_FNR = '04056600324';

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  const gryId = await patientId(server, sandbox.auth, sandbox.name, GRY_TELOKK);
  gryDocuments = [
    await seedDocument(server, sandbox.auth, sandbox.name, gryId, {
      title: 'Epikrise kardiologi',
      date: '2026-03-01T10:00:00Z',
    }),
    await seedDocument(server, sandbox.auth, sandbox.name, gryId, {
      title: 'Epikrise ortopedi',
      date: '2026-05-01T10:00:00Z',
    }),
  ];
  hospital = await getToken(server.http, sandbox.name, {
    scope: 'nhn:phr/mhd/read-documentreferences',
    details: [koman()],
  });
  expect(hospital.status).toBe(200);
});
afterAll(() => server.close());

const citizenBase = () => `/sandboxes/${sandbox.name}/citizen`;

/** A citizen's user token from the test-token service (Bearer: no DPoP key given). */
async function citizenToken(pid: string): Promise<string> {
  const res = await server.http
    .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
    .set('X-Auth-Key', sandbox.adminKey)
    .send({ clientId: 'demo-citizen-app', scopes: ['navet:citizen'], user: { pid } });
  expect(res.status).toBe(200);
  return res.body.access_token;
}

const asCitizen = (token: string) => ({
  get: (path: string) => server.http.get(`${citizenBase()}${path}`).set('Authorization', `Bearer ${token}`),
  put: (path: string, body?: object) =>
    server.http.put(`${citizenBase()}${path}`).set('Authorization', `Bearer ${token}`).send(body),
  post: (path: string, body: object) =>
    server.http.post(`${citizenBase()}${path}`).set('Authorization', `Bearer ${token}`).send(body),
  delete: (path: string) => server.http.delete(`${citizenBase()}${path}`).set('Authorization', `Bearer ${token}`),
});

async function hospitalFinds(nin: string) {
  const path = `/sandboxes/${sandbox.name}/pjd/R4/fhir/DocumentReference/_search`;
  const proof = await makeDpopProof(hospital.dpopKey, {
    method: 'POST',
    url: `${TEST_BASE_URL}${path}`,
    accessToken: hospital.body.access_token,
  });
  const res = await server.http
    .post(path)
    .type('form')
    .set('Authorization', `DPoP ${hospital.body.access_token}`)
    .set('DPoP', proof)
    .set('nhn-source-system', 'DIPS Arena')
    .send({ 'patient.identifier': nin });
  expect(res.status).toBe(200);
  return res;
}

describe('the citizen logs in and reads who has looked', () => {
  test('log in through the test identity provider (PAR, PKCE, DPoP) and see the hospital doctor who looked, by name and never by number', async () => {
    await hospitalFinds(GRY_TELOKK);

    const issuer = `${TEST_BASE_URL}/sandboxes/${sandbox.name}/helseid`;
    const app = demoClient('demo-citizen-app');
    const verifier = randomBytes(32).toString('base64url');
    const pushed = await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/connect/par`)
      .type('form')
      .send({
        client_id: app.clientId,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(app.privateJwk, app.clientId, issuer),
        response_type: 'code',
        redirect_uri: 'http://localhost:3000/callback',
        scope: 'openid profile helseid://scopes/identity/pid navet:citizen',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      });
    expect(pushed.status).toBe(201);
    const login = await server.http
      .get(`/sandboxes/${sandbox.name}/helseid/connect/authorize`)
      .query({ client_id: app.clientId, request_uri: pushed.body.request_uri, test_pid: GRY_TELOKK });
    expect(login.status).toBe(302);
    const code = new URL(login.headers.location).searchParams.get('code') as string;
    const key = await makeDpopKey();
    const tokenUrl = `${issuer}/connect/token`;
    const exchange = async (nonce?: string) =>
      server.http
        .post(`/sandboxes/${sandbox.name}/helseid/connect/token`)
        .type('form')
        .set('DPoP', await makeDpopProof(key, { method: 'POST', url: tokenUrl, nonce }))
        .send({
          grant_type: 'authorization_code',
          code,
          redirect_uri: 'http://localhost:3000/callback',
          code_verifier: verifier,
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: await clientAssertion(app.privateJwk, app.clientId, issuer),
        });
    let token = await exchange();
    if (token.body.error === 'use_dpop_nonce') token = await exchange(token.headers['dpop-nonce']);
    expect(token.status).toBe(200);
    expect(decodeJwt(token.body.access_token)).toMatchObject({
      aud: 'navet:citizen',
      'helseid://claims/identity/pid': GRY_TELOKK,
    });

    const path = `${citizenBase()}/access-log`;
    const proof = await makeDpopProof(key, {
      method: 'GET',
      url: `${TEST_BASE_URL}${path}`,
      accessToken: token.body.access_token,
    });
    const log = await server.http.get(path).set('Authorization', `DPoP ${token.body.access_token}`).set('DPoP', proof);
    expect(log.status).toBe(200);
    expect(log.body.total).toBe(1);
    expect(log.body.entries[0]).toMatchObject({
      service: 'Pasientens journaldokumenter',
      seen: 'Dokumentliste',
      documentsOrEntries: 2,
      organisation: expect.stringMatching(/universitetssykehus/i),
      practitioner: { name: 'Magnar Koman', role: 'Lege' },
      purpose: 'Behandling',
      system: expect.stringContaining('hospital'),
    });
    expect(JSON.stringify(log.body)).not.toContain(KOMAN_FNR);
  });

  test('newest first and paged; failed attempts are not shown as looks', async () => {
    await hospitalFinds(GRY_TELOKK);
    await server.http
      .post(`/sandboxes/${sandbox.name}/pjd/R4/fhir/DocumentReference/_search`)
      .type('form')
      .send({ 'patient.identifier': GRY_TELOKK }); // no token: 401, logged as failure
    const gry = asCitizen(await citizenToken(GRY_TELOKK));
    const all = await gry.get('/access-log');
    expect(all.body.total).toBe(2);
    expect(all.body.entries[0].time >= all.body.entries[1].time).toBe(true);
    const first = await gry.get('/access-log?_count=1');
    expect(first.body.entries).toHaveLength(1);
    expect(first.body.link.find((l: { relation: string }) => l.relation === 'next').url).toContain('_page=2');
    const second = await gry.get('/access-log?_count=1&_page=2');
    expect(second.body.entries[0].time).toBe(all.body.entries[1].time);
    expect((await gry.get('/access-log?_count=0')).status).toBe(400);
  });

  test("a citizen never sees another person's log or documents", async () => {
    const harry = asCitizen(await citizenToken(HARRY_HANDEL));
    const log = await harry.get('/access-log');
    expect(log.status).toBe(200);
    expect(log.body.total).toBe(0);
    const harryDocuments = (await harry.get('/documents')).body.documents as { id: string }[];
    expect(harryDocuments.length).toBeGreaterThan(0); // his own seeded documents
    expect(harryDocuments.map((d) => d.id)).not.toContain(gryDocuments[0]);
    expect(harryDocuments.every((d) => d.id.startsWith(`doc-${seedToken(HARRY_HANDEL)}-`))).toBe(true);
    const blockOther = await harry.put(`/privacy/blocked-documents/${gryDocuments[0]}`);
    expect(blockOther.status).toBe(404);
    expect(blockOther.body.issue[0].details.coding[0].code).toBe('NAVET-CITIZEN-DOCUMENT-NOT-FOUND');
    const gryView = await asCitizen(await citizenToken(GRY_TELOKK)).get('/documents');
    expect(gryView.body.documents.every((d: { blocked: boolean }) => !d.blocked)).toBe(true);
    const harryChoices = await harry.get('/privacy');
    expect(harryChoices.body.blockedDocuments).toEqual([]);
  });

  test('the citizen API needs a citizen login', async () => {
    expect((await server.http.get(`${citizenBase()}/access-log`)).status).toBe(401);
    const system = await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'demo-citizen-app', scopes: ['navet:citizen'] });
    const noCitizen = await server.http
      .get(`${citizenBase()}/access-log`)
      .set('Authorization', `Bearer ${system.body.access_token}`);
    expect(noCitizen.status).toBe(403);
    expect(noCitizen.body.issue[0].details.coding[0].code).toBe('NAVET-CITIZEN-LOGIN');
    // a system that attests a practitioner does not make that person a citizen here
    const hospital = demoClient('demo-hospital-system');
    const reader = await server.http
      .post(`/api/sandboxes/${sandbox.name}/clients`)
      .set('Authorization', sandbox.auth)
      .send({
        name: 'Hospital system with the citizen scope',
        jwks: hospital.config.jwks,
        scopes: ['navet:citizen'],
        organization: { parent: '993467049', child: '874716782' },
      });
    const attested = await getToken(server.http, sandbox.name, {
      clientId: reader.body.clientId,
      privateJwk: hospital.privateJwk,
      scope: 'navet:citizen',
      details: [koman()],
    });
    expect(attested.status).toBe(200);
    const path = `${citizenBase()}/privacy/kjernejournal-reservation`;
    const proof = await makeDpopProof(attested.dpopKey, {
      method: 'PUT',
      url: `${TEST_BASE_URL}${path}`,
      accessToken: attested.body.access_token,
    });
    const asSystem = await server.http
      .put(path)
      .set('Authorization', `DPoP ${attested.body.access_token}`)
      .set('DPoP', proof)
      .send({ reserved: true });
    expect(asSystem.status).toBe(403);
    expect(asSystem.body.issue[0].details.coding[0].code).toBe('NAVET-CITIZEN-LOGIN');
    const pjdToken = await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'demo-gp-system', scopes: ['nhn:phr/mhd/read-documentreferences'], user: { pid: GRY_TELOKK } });
    const wrongAudience = await server.http
      .get(`${citizenBase()}/access-log`)
      .set('Authorization', `Bearer ${pjdToken.body.access_token}`);
    expect(wrongAudience.status).toBe(401);
    expect(wrongAudience.body.issue[0].details.coding[0].code).toBe('NAVET-TOKEN-AUDIENCE');
  });
});

describe("the citizen's privacy choices take effect on the next request", () => {
  test('blocking a document hides it from the next document search and counts it in the NORS header; unblocking brings it back', async () => {
    const gry = asCitizen(await citizenToken(GRY_TELOKK));
    const before = await hospitalFinds(GRY_TELOKK);
    expect(before.body.total).toBe(2);
    expect(before.headers['nhn-securitylabel-nors-count']).toBe('0');

    const blocked = await gry.put(`/privacy/blocked-documents/${gryDocuments[0]}`);
    expect(blocked.status).toBe(200);
    expect(blocked.body.blockedDocuments.map((d: { documentId: string }) => d.documentId)).toEqual([gryDocuments[0]]);
    const after = await hospitalFinds(GRY_TELOKK);
    expect(after.body.total).toBe(1);
    expect(after.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual([gryDocuments[1]]);
    expect(after.headers['nhn-securitylabel-nors-count']).toBe('1');
    expect(after.headers['hit-securitylabel-nors-count']).toBe('1');
    const stored = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/DocumentReference/${gryDocuments[0]}`)
      .set('Authorization', sandbox.auth);
    expect(stored.body.securityLabel.map((l: { coding: { code: string }[] }) => l.coding[0].code)).toEqual(['NORS']);
    const consents = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/Consent?patient:identifier=${FNR_SYSTEM}|${GRY_TELOKK}&status=active`)
      .set('Authorization', sandbox.auth);
    expect(consents.body.entry[0].resource.provision.data[0].reference.reference).toBe(
      `DocumentReference/${gryDocuments[0]}`,
    );
    expect(
      (await gry.get('/documents')).body.documents.find((d: { id: string }) => d.id === gryDocuments[0]).blocked,
    ).toBe(true);

    const unblocked = await gry.delete(`/privacy/blocked-documents/${gryDocuments[0]}`);
    expect(unblocked.status).toBe(200);
    expect(unblocked.body.blockedDocuments).toEqual([]);
    const again = await hospitalFinds(GRY_TELOKK);
    expect(again.body.total).toBe(2);
    expect(again.headers['nhn-securitylabel-nors-count']).toBe('0');
    expect((await gry.delete(`/privacy/blocked-documents/${gryDocuments[0]}`)).status).toBe(404);
  });

  test('reservation against Kjernejournal and blocked lab results switch on and off, stored as Consents', async () => {
    const gry = asCitizen(await citizenToken(GRY_TELOKK));
    const reserved = await gry.put('/privacy/kjernejournal-reservation', { reserved: true });
    expect(reserved.status).toBe(200);
    expect(reserved.body.kjernejournalReservation.reserved).toBe(true);
    expect((await gry.put('/privacy/kjernejournal-reservation', { reserved: true })).status).toBe(200); // twice is once
    const labs = await gry.put('/privacy/lab-results', { blocked: true });
    expect(labs.body.labResults.blocked).toBe(true);
    const consents = await server.http
      .get(
        `/sandboxes/${sandbox.name}/fhir/Consent?patient:identifier=${FNR_SYSTEM}|${GRY_TELOKK}&status=active&category=https://navet.example/fhir/CodeSystem/privacy-choice|kjernejournal-reservation`,
      )
      .set('Authorization', sandbox.auth);
    expect(consents.body.total).toBe(1);
    expect(consents.body.entry[0].resource.provision.type).toBe('deny');

    const lifted = await gry.put('/privacy/kjernejournal-reservation', { reserved: false });
    expect(lifted.body.kjernejournalReservation.reserved).toBe(false);
    expect(lifted.body.labResults.blocked).toBe(true);
    expect((await gry.put('/privacy/lab-results', { blocked: false })).body.labResults.blocked).toBe(false);
    expect((await gry.put('/privacy/lab-results', { blocked: 'yes' })).status).toBe(400);
  });

  test('a proxy (fullmakt) is noted and removed; bad input is refused', async () => {
    const gry = asCitizen(await citizenToken(GRY_TELOKK));
    const added = await gry.post('/privacy/proxies', {
      proxyNin: HARRY_HANDEL,
      proxyName: 'Harry Handel',
      relationship: 'power-of-attorney',
      validUntil: '2099-12-31',
    });
    expect(added.status).toBe(201);
    expect(added.body.proxies).toEqual([
      expect.objectContaining({
        id: added.body.id,
        proxyNin: HARRY_HANDEL,
        proxyName: 'Harry Handel',
        relationship: 'power-of-attorney',
        validUntil: '2099-12-31',
      }),
    ]);
    const harry = asCitizen(await citizenToken(HARRY_HANDEL));
    expect((await harry.delete(`/privacy/proxies/${added.body.id}`)).status).toBe(404); // not Harry's to remove
    expect((await harry.get('/access-log')).body.total).toBe(0); // a proxy note gives no access here
    expect((await gry.delete(`/privacy/proxies/${added.body.id}`)).body.proxies).toEqual([]);

    for (const body of [
      { proxyNin: '123', relationship: 'parent' },
      { proxyNin: HARRY_HANDEL, relationship: 'neighbour' },
      { proxyNin: GRY_TELOKK, relationship: 'parent' },
      { proxyNin: HARRY_HANDEL, relationship: 'parent', validUntil: 'soon' },
    ]) {
      const res = await gry.post('/privacy/proxies', body);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    expect((await gry.get('/privacy')).body.proxies).toEqual([]);
  });
});
