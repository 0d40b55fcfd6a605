import { makeDpopProof } from '../../src/trust/dpop-client';
import { renderPdf } from '../../src/services/documents/document-pdf';
import { GRY_TELOKK, LINE_DANSER, provideBundle } from '../helpers/documents';
import { getToken, koman, type TokenResult } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

/** PJD's delay and unavailability settings (for rehearsing a slow or absent PJD), through real HTTP. */
let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let reader: TokenResult;
let publisher: TokenResult;
const pjd = () => `/sandboxes/${sandbox.name}/pjd`;
const settings = () => `/api/sandboxes/${sandbox.name}/settings/pjd`;
const put = (body: unknown) =>
  server.http
    .put(settings())
    .set('Authorization', sandbox.auth)
    .send(body as object);

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  [reader, publisher] = await Promise.all(
    ['nhn:phr/mhd/read-documentreferences', 'navet:pjd/provide-document'].map((scope) =>
      getToken(server.http, sandbox.name, { scope, details: [koman()] }),
    ),
  );
  for (const t of [reader, publisher]) expect(t.status).toBe(200);
});
afterAll(() => server.close());

async function dpop(t: TokenResult, method: string, path: string): Promise<Record<string, string>> {
  return {
    Authorization: `DPoP ${t.body.access_token}`,
    DPoP: await makeDpopProof(t.dpopKey, { method, url: `${TEST_BASE_URL}${path}`, accessToken: t.body.access_token }),
  };
}

async function find() {
  const path = `${pjd()}/R4/fhir/DocumentReference/_search`;
  return server.http
    .post(path)
    .type('form')
    .set(await dpop(reader, 'POST', path))
    .set('nhn-source-system', 'Test EPJ')
    .send({ 'patient.identifier': LINE_DANSER });
}

describe('PUT /api/sandboxes/{name}/settings/pjd: delayMs and unavailable', () => {
  afterEach(async () => {
    await put({ delayMs: 0, unavailable: false, allowedAuthorizations: {} });
  });

  test('with delayMs, ITI-67 answers after the delay while the event loop stays free; other settings are kept', async () => {
    expect((await put({ allowedAuthorizations: { 993467049: ['LE', 'PS'] } })).status).toBe(200);
    const set = await put({ delayMs: 800 });
    expect(set.status).toBe(200);
    expect(set.body).toEqual({ allowedAuthorizations: { 993467049: ['LE', 'PS'] }, delayMs: 800 });
    const started = Date.now();
    const slow = find();
    // a ping sent while the search waits is answered at once: the wait is not a busy loop
    await new Promise((resolve) => setTimeout(resolve, 100));
    const pingStarted = Date.now();
    expect((await server.http.get(`${pjd()}/ping`)).status).toBe(200);
    expect(Date.now() - pingStarted).toBeLessThan(500);
    const res = await slow;
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    await put({ delayMs: 0 });
    const quick = Date.now();
    expect((await find()).status).toBe(200);
    expect(Date.now() - quick).toBeLessThan(800);
  });

  test('unavailable: ITI-67 and ITI-65 answer 503 with an OperationOutcome and Retry-After, and nothing is published', async () => {
    expect((await put({ unavailable: true })).status).toBe(200);
    const res = await find();
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-PJD-UNAVAILABLE');
    const count = async () =>
      (
        await server.http
          .get(`/sandboxes/${sandbox.name}/fhir/DocumentReference?_summary=count`)
          .set('Authorization', sandbox.auth)
      ).body.total;
    const before = await count();
    const path = `${pjd()}/R4/fhir`;
    const pdf = Buffer.from(
      await renderPdf({
        title: 'Epikrise',
        header: ['Pasient: Gry Telokk'],
        paragraphs: ['Under fault.'],
        date: '2026-10-01T08:00:00Z',
      }),
    ).toString('base64');
    const published = await server.http
      .post(path)
      .type('application/fhir+json')
      .set(await dpop(publisher, 'POST', path))
      .set('nhn-source-system', 'Test DIPS')
      .send(provideBundle(GRY_TELOKK, pdf));
    expect(published.status).toBe(503);
    expect(await count()).toBe(before);
    await put({ unavailable: false });
    expect((await find()).status).toBe(200);
  });

  test('bad values are refused with a 400 naming the field, and nothing is stored', async () => {
    await put({ delayMs: 250 });
    for (const [body, field] of [
      [{ delayMs: -1 }, 'delayMs'],
      [{ delayMs: 30001 }, 'delayMs'],
      [{ delayMs: '500' }, 'delayMs'],
      [{ delayMs: 1.5 }, 'delayMs'],
      [{ unavailable: 'yes' }, 'unavailable'],
      [{ delay: 5 }, 'delay'],
      [{ delayMs: 100, allowedAuthorizations: { 123: ['LE'] } }, 'allowedAuthorizations.123'],
    ] as const) {
      const res = await put(body);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression).toEqual([field]);
      expect(res.body.issue[0].details.text).toContain(field.split('.')[0]);
    }
    expect((await put({})).status).toBe(400);
    expect((await server.http.get(settings()).set('Authorization', sandbox.auth)).body).toEqual({
      allowedAuthorizations: {},
      delayMs: 250,
      unavailable: false,
    });
  });
});
