import { createHash } from 'node:crypto';
import { makeDpopProof } from '../../src/trust/dpop-client';
import { renderPdf } from '../../src/services/documents/document-pdf';
import { FNR_SYSTEM, HARRY_HANDEL, LINE_DANSER, provideBundle } from '../helpers/documents';
import { getToken, koman, type TokenResult } from '../helpers/helseid-client';
import { createSandbox, patientIdOf, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';
import { seededDocumentId } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let reader: TokenResult;
let fetcher: TokenResult;
let publisher: TokenResult;
const pjd = () => `/sandboxes/${sandbox.name}/pjd`;

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  [reader, fetcher, publisher] = await Promise.all(
    ['nhn:phr/mhd/read-documentreferences', 'nhn:phr/mhd/read-document', 'navet:pjd/provide-document'].map((scope) =>
      getToken(server.http, sandbox.name, { scope, details: [koman()] }),
    ),
  );
  for (const t of [reader, fetcher, publisher]) expect(t.status).toBe(200);
  // a client with the kjernejournalforskriften scope too, for the scope rules (Bearer tokens from the test-token service)
  const client = await server.http
    .post(`/api/sandboxes/${sandbox.name}/clients`)
    .set('Authorization', sandbox.auth)
    .send({
      clientId: 'kj-reader',
      name: 'KJ reader',
      jwks: {
        keys: [
          {
            kty: 'EC',
            crv: 'P-256',
            x: 'Az-iVCze9K0pbjr3iQAHlEiqZ46YkV20XXErX3PB1F8',
            y: 'BsFHVz5PZwvbRw1hqIvLH7MAX7nvQCpsnP2FgoTHiWw',
          },
        ],
      },
      scopes: ['nhn:phr/mhd/read-documentreferences', 'nhn:phr/mhd/read-documentreferences/kjernejournalforskriften'],
      organization: { parent: '993467049', child: '874716782' },
      tenancy: 'single-tenant',
      dpop: false,
    });
  expect(client.status).toBe(201);
});
afterAll(() => server.close());

async function dpopHeaders(t: TokenResult, method: string, path: string): Promise<Record<string, string>> {
  return {
    Authorization: `DPoP ${t.body.access_token}`,
    DPoP: await makeDpopProof(t.dpopKey, {
      method,
      url: `${TEST_BASE_URL}${path.split('?')[0]}`,
      accessToken: t.body.access_token,
    }),
  };
}

async function find(form: Record<string, string>, headers: Record<string, string> = {}, t = reader) {
  const path = `${pjd()}/R4/fhir/DocumentReference/_search`;
  return server.http
    .post(path)
    .type('form')
    .set(await dpopHeaders(t, 'POST', path))
    .set({ 'nhn-source-system': 'Test EPJ', ...headers })
    .send(form);
}

async function findByGet(query: string, t = reader) {
  const path = `${pjd()}/R4/fhir/DocumentReference`;
  return server.http
    .get(`${path}?${query}`)
    .set(await dpopHeaders(t, 'GET', path))
    .set('nhn-source-system', 'Test EPJ');
}

/** ITI-68 by an absolute link, as a client follows content.attachment.url. */
async function retrieve(url: string, nin: string | undefined, headers: Record<string, string> = {}) {
  const path = url.replace(TEST_BASE_URL, '');
  let request = server.http
    .get(path)
    .set(await dpopHeaders(fetcher, 'GET', path))
    .set({ 'nhn-source-system': 'Test EPJ', ...headers })
    .buffer(true)
    .parse((res, done) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done(null, Buffer.concat(chunks)));
    });
  if (nin) request = request.set('nhn-patient-nin', nin);
  return request;
}

async function kjToken(toa: number): Promise<string> {
  const res = await server.http
    .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
    .set('X-Auth-Key', sandbox.adminKey)
    .send({
      clientId: 'kj-reader',
      scopes: ['nhn:phr/mhd/read-documentreferences/kjernejournalforskriften'],
      attestation: koman({ toa }),
    });
  expect(res.status).toBe(200);
  return res.body.access_token;
}

async function publish(body: unknown, t = publisher) {
  const path = `${pjd()}/R4/fhir`;
  return server.http
    .post(path)
    .type('application/fhir+json')
    .set(await dpopHeaders(t, 'POST', path))
    .set('nhn-source-system', 'Test DIPS')
    .send(body as object);
}

const documentCount = async () =>
  (
    await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/DocumentReference?_summary=count`)
      .set('Authorization', sandbox.auth)
  ).body.total;

describe('ITI-67 find document references', () => {
  test('the seeded documents look like the real ones, and each link retrieves exactly the bytes described', async () => {
    const res = await find({ 'patient.identifier': LINE_DANSER, status: 'current' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 8 });
    const epikrise = res.body.entry
      .map((e: { resource: Record<string, unknown> }) => e.resource)
      .find((d: { type: { coding: { code: string }[] } }) => d.type.coding[0].code === 'A03-2');
    expect(epikrise.category[0].coding[0]).toMatchObject({ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A00-1' });
    expect(epikrise.securityLabel[0].coding[0]).toEqual({ system: 'urn:oid:2.16.578.1.12.4.1.1.9603', code: 'N' });
    const institution = epikrise.contained.find((r: { id: string }) => r.id === 'institution');
    expect(institution.type[0].coding[0].system).toBe('2.16.578.1.12.4.1.4.101');
    expect(institution.identifier[0].system).toBe('urn:oid:2.16.578.1.12.4.1.4.101');
    expect(epikrise.contained.find((r: { id: string }) => r.id === 'department').type[0].coding[0].system).toBe(
      '2.16.578.1.12.4.1.4.102',
    );
    expect(
      epikrise.contained.find((r: { resourceType: string }) => r.resourceType === 'Practitioner').name[0].family,
    ).toBe('Koman');
    expect(epikrise.masterIdentifier.value).toMatch(/^2\.25\.\d+\^doc-/);
    expect(epikrise.context.facilityType.coding[0].system).toBe('urn:oid:2.16.578.1.12.4.1.1.1303');

    for (const entry of res.body.entry) {
      const { attachment } = entry.resource.content[0];
      expect(attachment.url).toMatch(
        new RegExp(`^${TEST_BASE_URL}/sandboxes/${sandbox.name}/pjd/mhd/document\\?documentUniqueId=`),
      );
      const bytes = await retrieve(attachment.url, LINE_DANSER);
      expect(bytes.status).toBe(200);
      expect(bytes.headers['content-type']).toContain(attachment.contentType);
      expect(bytes.body.length).toBe(attachment.size);
      expect(createHash('sha1').update(bytes.body).digest('base64')).toBe(attachment.hash);
      if (attachment.contentType === 'application/pdf') expect(bytes.body.subarray(0, 5).toString()).toBe('%PDF-');
      if (entry.resource.content[0].format.code === 'urn:no:kith:xmlstds:henvisning')
        expect(bytes.body.toString()).toContain('http://www.kith.no/xmlstds/henvisning/2012-02-15');
    }
  });

  test('GET with system|value, the MHD filters, sorting and paging', async () => {
    const byGet = await findByGet(`patient.identifier=${encodeURIComponent(`${FNR_SYSTEM}|${LINE_DANSER}`)}`);
    expect(byGet.status).toBe(200);
    expect(byGet.body.total).toBe(8);
    const dates = byGet.body.entry.map((e: { resource: { date: string } }) => e.resource.date);
    expect([...dates].sort().reverse()).toEqual(dates); // newest first by default
    expect(
      (await find({ 'patient.identifier': LINE_DANSER, category: 'urn:oid:2.16.578.1.12.4.1.1.9602|C00-1' })).body
        .total,
    ).toBe(2);
    expect((await find({ 'patient.identifier': LINE_DANSER, type: 'I01-2' })).body.total).toBe(2);
    expect((await find({ 'patient.identifier': LINE_DANSER, 'author.family': 'Reddik' })).body.total).toBe(1);
    expect(
      (await find({ 'patient.identifier': LINE_DANSER, format: 'urn:no:kith:xmlstds:henvisning' })).body.total,
    ).toBe(2);
    expect((await find({ 'patient.identifier': LINE_DANSER, date: 'ge2025-07-01' })).body.total).toBe(4);
    const byOrganisation = await find({ 'patient.identifier': LINE_DANSER, _sort: 'organization,-date' });
    const organisations = byOrganisation.body.entry.map(
      (e: { resource: { contained: { id: string; name: string }[] } }) =>
        e.resource.contained.find((r) => r.id === 'institution')?.name,
    );
    expect([...organisations].sort((a: string, b: string) => a.localeCompare(b, 'nb'))).toEqual(organisations);

    const first = await find({ 'patient.identifier': LINE_DANSER, _count: '3' });
    expect(first.body.entry).toHaveLength(3);
    expect(first.body.total).toBe(8);
    const next = first.body.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    expect(next).toContain('_page=2');
    const path = next.replace(TEST_BASE_URL, '').split('?')[0];
    const second = await server.http
      .get(next.replace(TEST_BASE_URL, ''))
      .set(await dpopHeaders(reader, 'GET', path))
      .set('nhn-source-system', 'Test EPJ');
    expect(second.status).toBe(200);
    expect(second.body.entry).toHaveLength(3);
    expect(second.body.entry[0].resource.id).not.toBe(first.body.entry[0].resource.id);
    expect((await find({ 'patient.identifier': LINE_DANSER, _page: '3', _count: '3' })).body.entry).toHaveLength(2);
  });

  test('an unknown patient has no documents; bad parameters are refused with what to send', async () => {
    expect((await find({ 'patient.identifier': '01010112345' })).body.total).toBe(0);
    const missing = await find({ status: 'current' });
    expect(missing.status).toBe(400);
    expect(missing.body.issue[0].expression).toEqual(['patient.identifier']);
    const unknown = await find({ 'patient.identifier': LINE_DANSER, colour: 'blue' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].expression).toEqual(['colour']);
    expect((await find({ 'patient.identifier': LINE_DANSER, _sort: 'size' })).status).toBe(400);
    expect((await find({ 'patient.identifier': LINE_DANSER, _page: '0' })).status).toBe(400);
    expect((await find({ 'patient.identifier': LINE_DANSER, date: 'yesterday' })).status).toBe(400);
    expect((await find({ 'patient.identifier': 'abc' })).status).toBe(400);
    // names every JavaScript object has are not parameters or sort keys either
    expect((await find({ 'patient.identifier': LINE_DANSER, _sort: 'constructor' })).status).toBe(400);
    expect((await find({ 'patient.identifier': LINE_DANSER, constructor: 'x' })).status).toBe(400);
    expect((await find({ 'patient.identifier': LINE_DANSER, toString: 'y' } as Record<string, string>)).status).toBe(
      400,
    );
  });

  test("a document-block Consent stored by a tester through the FHIR API blocks like the citizen's own choice", async () => {
    const malin = '12119000465';
    const before = await find({ 'patient.identifier': malin });
    const consent = await server.http
      .post(`/sandboxes/${sandbox.name}/fhir/Consent`)
      .set('Authorization', sandbox.auth)
      .send({
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [
          { coding: [{ system: 'https://navet.example/fhir/CodeSystem/privacy-choice', code: 'document-block' }] },
        ],
        patient: { identifier: { system: FNR_SYSTEM, value: malin } },
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTOUT' }] },
        provision: {
          type: 'deny',
          data: [{ meaning: 'instance', reference: { reference: `DocumentReference/${seededDocumentId(malin, 2)}` } }],
        },
      });
    expect(consent.status).toBe(201);
    const after = await find({ 'patient.identifier': malin });
    expect(after.body.total).toBe(before.body.total - 1);
    expect(after.headers['nhn-securitylabel-nors-count']).toBe('1');
    expect(after.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).not.toContain(
      `${seededDocumentId(malin, 2)}`,
    );
    // and one a tester shaped oddly does not break anything
    const odd = await server.http
      .post(`/sandboxes/${sandbox.name}/fhir/Consent`)
      .set('Authorization', sandbox.auth)
      .send({
        resourceType: 'Consent',
        status: 'active',
        scope: { text: 'privacy' },
        category: [{ text: 'note' }],
        patient: { identifier: { system: FNR_SYSTEM, value: malin } },
        policyRule: { text: 'none' },
        provision: { data: [{ meaning: 'instance', reference: { display: 'no reference' } }] },
      });
    expect(odd.status).toBe(201);
    expect((await find({ 'patient.identifier': malin })).status).toBe(200);
  });

  test('under the kjernejournalforskriften scope: the access basis is required and old documents are filtered by the sandbox clock', async () => {
    const path = `${pjd()}/R4/fhir/DocumentReference/_search`;
    // the seed dates its documents back from its reference date, 2026-01-01 at noon: set the clock there
    await server.http
      .put(`/api/sandboxes/${sandbox.name}/clock`)
      .set('Authorization', sandbox.auth)
      .send({ now: '2026-01-01T12:00:00Z' });
    const token = await kjToken(Date.parse('2026-01-01T12:00:00Z') / 1000);
    const search = (headers: Record<string, string>) =>
      server.http
        .post(path)
        .type('form')
        .set('Authorization', `Bearer ${token}`)
        .set({ 'nhn-source-system': 'KJ', ...headers })
        .send({ 'patient.identifier': LINE_DANSER });
    try {
      const noBasis = await search({});
      expect(noBasis.status).toBe(400);
      expect(noBasis.body.issue[0].expression).toEqual(['nhn-access-basis']);
      expect((await search({ 'nhn-access-basis': 'KANSKJE' })).status).toBe(400);
      const filtered = await search({ 'hit-access-basis': 'akutt' }); // old header name, lower case
      expect(filtered.status).toBe(200);
      // the lab report of 800 days ago (C00-1: 1 year), the referral of 540 days (I00-1: 1 year) and the X-ray of 2200 days (E00-1: 5 years) go
      expect(filtered.body.total).toBe(5);
      const categories = filtered.body.entry.map(
        (e: { resource: { category: { coding: { code: string }[] }[] } }) => e.resource.category[0].coding[0].code,
      );
      expect(categories.sort()).toEqual(['A00-1', 'A00-1', 'C00-1', 'E00-1', 'I00-1']);
      // ten years later only the discharge summaries (A00-1: unlimited) remain
      await server.http
        .put(`/api/sandboxes/${sandbox.name}/clock`)
        .set('Authorization', sandbox.auth)
        .send({ now: '2036-06-01T00:00:00Z' });
      const later = await server.http
        .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
        .set('X-Auth-Key', sandbox.adminKey)
        .send({
          clientId: 'kj-reader',
          scopes: ['nhn:phr/mhd/read-documentreferences/kjernejournalforskriften'],
          attestation: koman({ toa: Math.floor(Date.parse('2036-06-01T00:00:00Z') / 1000) }),
        });
      const res = await server.http
        .post(path)
        .type('form')
        .set('Authorization', `Bearer ${later.body.access_token}`)
        .set({ 'nhn-source-system': 'KJ', 'nhn-access-basis': 'AKUTT' })
        .send({ 'patient.identifier': LINE_DANSER });
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(2);
    } finally {
      await server.http
        .put(`/api/sandboxes/${sandbox.name}/clock`)
        .set('Authorization', sandbox.auth)
        .send({ offsetSeconds: 0 });
    }
  });

  test('the two list scopes exclude each other', async () => {
    const both = await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({
        clientId: 'kj-reader',
        scopes: ['nhn:phr/mhd/read-documentreferences', 'nhn:phr/mhd/read-documentreferences/kjernejournalforskriften'],
        attestation: koman(),
      });
    const res = await server.http
      .post(`${pjd()}/R4/fhir/DocumentReference/_search`)
      .type('form')
      .set('Authorization', `Bearer ${both.body.access_token}`)
      .set({ 'nhn-source-system': 'KJ', 'nhn-access-basis': 'AKUTT' })
      .send({ 'patient.identifier': LINE_DANSER });
    expect(res.status).toBe(403);
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-PJD-SCOPES-EXCLUSIVE');
  });

  test('a per-organisation allow-list of personnel categories', async () => {
    const settings = `/api/sandboxes/${sandbox.name}/settings/pjd`;
    expect(
      (
        await server.http
          .put(settings)
          .set('Authorization', sandbox.auth)
          .send({ allowedAuthorizations: { 993467049: ['PS'] } })
      ).status,
    ).toBe(200);
    try {
      const refused = await find({ 'patient.identifier': LINE_DANSER });
      expect(refused.status).toBe(403);
      expect(refused.body.issue[0].details.text).toMatch(/993467049 lets only PS .* authorisation is LE/);
      await server.http
        .put(settings)
        .set('Authorization', sandbox.auth)
        .send({ allowedAuthorizations: { 993467049: ['LE', 'PS'] } });
      expect((await find({ 'patient.identifier': LINE_DANSER })).status).toBe(200);
      expect((await server.http.get(settings).set('Authorization', sandbox.auth)).body).toEqual({
        allowedAuthorizations: { 993467049: ['LE', 'PS'] },
      });
      expect(
        (
          await server.http
            .put(settings)
            .set('Authorization', sandbox.auth)
            .send({ allowedAuthorizations: { 123: ['LE'] } })
        ).status,
      ).toBe(400);
      expect(
        (
          await server.http
            .put(settings)
            .set('Authorization', sandbox.auth)
            .send({ allowedAuthorizations: { 993467049: [] } })
        ).status,
      ).toBe(400);
      expect(
        (await server.http.put(settings).set('Authorization', 'Bearer wrong').send({ allowedAuthorizations: {} }))
          .status,
      ).toBe(401);
    } finally {
      await server.http.put(settings).set('Authorization', sandbox.auth).send({ allowedAuthorizations: {} });
    }
  });
});

describe('ITI-68 retrieve document', () => {
  const linkOf = async (id: string) => {
    const doc = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/DocumentReference/${id}`)
      .set('Authorization', sandbox.auth);
    return `${TEST_BASE_URL}${pjd()}/${doc.body.content[0].attachment.url}`;
  };

  test('the old path and the old patient header work too', async () => {
    const url = (await linkOf(`${seededDocumentId(LINE_DANSER, 1)}`)).replace('/mhd/document?', '/mhd/iti68/document?');
    const res = await retrieve(url, undefined, { 'hit-patient-pid': LINE_DANSER });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
  });

  test('the wrong patient, an unknown document, a wrong repository, path tricks and a missing header are refused', async () => {
    const url = await linkOf(`${seededDocumentId(LINE_DANSER, 1)}`);
    const other = await retrieve(url, HARRY_HANDEL);
    expect(other.status).toBe(403);
    expect(JSON.parse(other.body.toString()).issue[0].details.coding[0].code).toBe('NAVET-PJD-PATIENT-MISMATCH');
    const noPatient = await retrieve(url, undefined);
    expect(noPatient.status).toBe(400);
    expect(JSON.parse(noPatient.body.toString()).issue[0].expression).toEqual(['nhn-patient-nin']);
    const unknown = await retrieve(
      url.replace(/documentUniqueId=[^&]+/, 'documentUniqueId=1.2.3%5Enothing'),
      LINE_DANSER,
    );
    expect(unknown.status).toBe(404);
    expect(
      (await retrieve(url.replace(/repositoryUniqueId=[^&]+/, 'repositoryUniqueId=1.2.3'), LINE_DANSER)).status,
    ).toBe(404);
    expect(
      (await retrieve(url.replace(/homeCommunityId=[^&]+/, 'homeCommunityId=urn:oid:1.2.3'), LINE_DANSER)).status,
    ).toBe(404);
    expect(
      (await retrieve(url.replace(/documentUniqueId=[^&]+/, 'documentUniqueId=..%2F..%2Fetc%2Fpasswd'), LINE_DANSER))
        .status,
    ).toBe(404);
    expect((await retrieve(url.replace(/documentUniqueId=[^&]+&/, ''), LINE_DANSER)).status).toBe(400);
  });

  test('a document the patient has blocked is neither listed nor retrievable, and is counted', async () => {
    const url = await linkOf(`${seededDocumentId(HARRY_HANDEL, 1)}`);
    const before = await find({ 'patient.identifier': HARRY_HANDEL });
    expect(before.headers['nhn-securitylabel-nors-count']).toBe('0');
    const citizen = await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'demo-citizen-app', scopes: ['navet:citizen'], user: { pid: HARRY_HANDEL } });
    expect(
      (
        await server.http
          .put(`/sandboxes/${sandbox.name}/citizen/privacy/blocked-documents/${seededDocumentId(HARRY_HANDEL, 1)}`)
          .set('Authorization', `Bearer ${citizen.body.access_token}`)
      ).status,
    ).toBe(200);
    const after = await find({ 'patient.identifier': HARRY_HANDEL });
    expect(after.body.total).toBe(before.body.total - 1);
    expect(after.headers['nhn-securitylabel-nors-count']).toBe('1');
    const blocked = await retrieve(url, HARRY_HANDEL);
    expect(blocked.status).toBe(403);
    expect(JSON.parse(blocked.body.toString()).issue[0].details.coding[0].code).toBe('NAVET-PJD-DOCUMENT-BLOCKED');
  });
});

describe("ITI-65 provide document bundle (the sandbox's source side)", () => {
  test('publish, then find, then retrieve, with size and hash computed by Navet; a replacement supersedes', async () => {
    const pdf = await renderPdf({
      title: 'Epikrise fra testen',
      header: ['Pasient: Gry Telokk'],
      paragraphs: ['Alt vel.'],
      date: '2026-10-01T08:00:00Z',
    });
    const res = await publish(provideBundle('12057900499', Buffer.from(pdf).toString('base64')));
    expect(res.status).toBe(200);
    expect(res.body.type).toBe('transaction-response');
    expect(res.body.entry.map((e: { response: { status: string } }) => e.response.status)).toEqual([
      '201 Created',
      '201 Created',
      '201 Created',
    ]);
    const id = res.body.entry[1].response.location.match(/DocumentReference\/([^/]+)/)[1];

    const found = await find({ 'patient.identifier': '12057900499' });
    expect(found.body.total).toBe(1);
    const published = found.body.entry[0].resource;
    expect(published.id).toBe(id);
    expect(published.content[0].attachment).toMatchObject({
      size: pdf.length,
      hash: createHash('sha1').update(pdf).digest('base64'),
      contentType: 'application/pdf',
    });
    expect(published.contained.find((r: { id: string }) => r.id === 'institution').name).toMatch(/Rikshospitalet/);
    expect(published.contained.find((r: { id: string }) => r.id === 'author').identifier[0].value).toBe('9144900');
    const bytes = await retrieve(published.content[0].attachment.url, '12057900499');
    expect(Buffer.compare(bytes.body, Buffer.from(pdf))).toBe(0);

    const replacement = await publish(
      provideBundle('12057900499', Buffer.from(pdf).toString('base64'), { relatesTo: id }),
    );
    expect(replacement.status).toBe(200);
    const old = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/DocumentReference/${id}`)
      .set('Authorization', sandbox.auth);
    expect(old.body.status).toBe('superseded');
    expect((await find({ 'patient.identifier': '12057900499', status: 'current' })).body.total).toBe(1);
    const again = await publish(provideBundle('12057900499', Buffer.from(pdf).toString('base64'), { relatesTo: id }));
    expect(again.status).toBe(422);
  });

  test('bad metadata, an unknown patient, a wrong hash or size, a non-PDF: a specific error and nothing stored', async () => {
    const pdf = Buffer.from('%PDF-1.4 minimal').toString('base64');
    const before = await documentCount();
    const cases: [unknown, number, string][] = [
      [provideBundle(LINE_DANSER, pdf, { category: 'Q00-1' }), 400, 'category'],
      [provideBundle(LINE_DANSER, pdf, { type: 'C01-2' }), 400, 'type'],
      [provideBundle('01010112345', pdf), 404, 'subject.identifier'],
      [provideBundle(LINE_DANSER, Buffer.from('hello').toString('base64')), 400, 'attachment'],
      [provideBundle(LINE_DANSER, pdf, { contentType: 'image/png' }), 400, 'contentType'],
      [
        provideBundle(LINE_DANSER, pdf, {
          extra: {
            subject: {
              reference: `Patient/${await patientIdOf(server, sandbox, HARRY_HANDEL)}`,
              identifier: { system: FNR_SYSTEM, value: LINE_DANSER },
            },
          },
        }),
        400,
        'subject',
      ],
      [
        provideBundle(LINE_DANSER, pdf, {
          extra: { securityLabel: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9603', code: 'SECRET' }] }] },
        }),
        400,
        'securityLabel',
      ],
      [{ resourceType: 'Bundle', type: 'batch', entry: [] }, 400, 'Bundle'],
      [provideBundle(LINE_DANSER, pdf, { extra: { date: '2026-10-01' } }), 400, 'date'],
      [provideBundle(LINE_DANSER, pdf, { extra: { masterIdentifier: { value: 'a,b|c' } } }), 400, 'masterIdentifier'],
      [
        provideBundle(LINE_DANSER, pdf, {
          extra: { subject: { identifier: { system: FNR_SYSTEM, value: [LINE_DANSER] } } },
        }),
        400,
        'subject.identifier',
      ],
      [
        (() => {
          const bundle = provideBundle(LINE_DANSER, pdf, {
            extra: { masterIdentifier: { value: '2.16.578.1^dup-1' } },
          });
          return {
            ...bundle,
            entry: [...bundle.entry, { ...bundle.entry[1], fullUrl: 'urn:uuid:8d2f4a10-0000-4000-8000-000000000009' }],
          };
        })(),
        409,
        'masterIdentifier',
      ],
      [
        (() => {
          const bundle = provideBundle(LINE_DANSER, pdf);
          (bundle.entry[1].resource as { content: { format: { code: string } }[] }).content[0].format.code =
            'constructor';
          return bundle;
        })(),
        400,
        'format',
      ],
      [
        {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            null,
            7,
            {
              resource: {
                resourceType: 'DocumentReference',
                subject: { reference: 5 },
                securityLabel: 'x',
                relatesTo: 5,
                content: 'y',
                category: 'z',
                masterIdentifier: { value: 3 },
              },
            },
          ],
        },
        400,
        'Bundle.entry',
      ],
    ];
    for (const [body, status, element] of cases) {
      const res = await publish(body);
      expect({ status: res.status, element: res.body.issue?.[0]?.expression?.[0] }).toEqual({
        status,
        element: expect.stringContaining(element),
      });
    }
    const withWrongHash = provideBundle(LINE_DANSER, pdf) as {
      entry: { resource: { content?: { attachment: Record<string, unknown> }[] } }[];
    };
    (withWrongHash.entry[1].resource.content as { attachment: Record<string, unknown> }[])[0].attachment.hash = 'AAAA';
    (withWrongHash.entry[1].resource.content as { attachment: Record<string, unknown> }[])[0].attachment.size = 3;
    const wrong = await publish(withWrongHash);
    expect(wrong.status).toBe(400);
    expect(wrong.body.issue.map((i: { expression: string[] }) => i.expression[0].split('.').pop())).toEqual([
      'size',
      'hash',
    ]);
    expect(await documentCount()).toBe(before);
  });

  test('only the publishing institution deprecates a document; it then leaves the current list', async () => {
    const malin = '12119000465';
    const path = (id: string) => `${pjd()}/R4/fhir/DocumentReference/${id}/$deprecate`;
    const deprecate = async (id: string, nin: string) =>
      server.http
        .post(path(id))
        .set(await dpopHeaders(publisher, 'POST', path(id)))
        .set({ 'nhn-source-system': 'Test DIPS', 'nhn-patient-nin': nin });
    // doc 2 is Haukeland's lab report: Rikshospitalet may not deprecate it
    const notOurs = await deprecate(`${seededDocumentId(malin, 2)}`, malin);
    expect(notOurs.status).toBe(403);
    expect(notOurs.body.issue[0].details.coding[0].code).toBe('NAVET-PJD-NOT-PUBLISHER');
    expect((await deprecate(`${seededDocumentId(malin, 1)}`, LINE_DANSER)).status).toBe(403);
    expect((await deprecate('no-such-document', malin)).status).toBe(404);
    const before = (await find({ 'patient.identifier': malin, status: 'current' })).body.total;
    const done = await deprecate(`${seededDocumentId(malin, 1)}`, malin);
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('superseded');
    expect((await find({ 'patient.identifier': malin, status: 'current' })).body.total).toBe(before - 1);
    expect((await deprecate(`${seededDocumentId(malin, 1)}`, malin)).status).toBe(403);
  });

  test('publishing needs the provide scope', async () => {
    const res = await publish(provideBundle(LINE_DANSER, Buffer.from('%PDF-1.4').toString('base64')), reader);
    expect(res.status).toBe(403);
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-TOKEN-SCOPE');
  });
});
