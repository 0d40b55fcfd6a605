import type { Router } from 'express';
import type { PatientDataEndpoint } from '../../src/audit/patient-data-route';
import { mountService } from '../../src/audit/service-module';
import { citizenRouter } from '../../src/citizen/citizen-router';
import { SERVICES } from '../../src/services/services';
import { KJ_RESOURCE_TYPES } from '../../src/services/critical-info/kj-codes';
import { PATIENT_DATA_ENDPOINTS } from '../../src/services/patient-data-endpoints';
import { makeDpopProof } from '../../src/trust/dpop-client';
import { FEST_MEDICINES } from '../../src/services/medication-list/fest-catalogue';
import { getParameters as sfmGetParameters } from '../helpers/sfm';
import { labBundle } from '../helpers/lab-results';
import { LINE_DANSER, patientId, provideBundle, seedDocument } from '../helpers/documents';
import { attestationFor, getToken, type TokenResult } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';
import { seededDocumentId } from '../helpers/test-navet';

/**
 * Walks every service endpoint: each route of a service is either a patient-data endpoint (and a call
 * to it leaves an AuditEvent) or listed here as one that returns no patient data, with the reason.
 */
const NO_PATIENT_DATA: Record<string, string> = {
  'pjd GET /ping': 'health check without auth',
  'pjd GET /pingauth': 'token check; no patient',
  'sfm GET /metadata': 'CapabilityStatement without auth',
  'sfm POST /api/Session/create': 'a data-sharing session; no patient',
  'citizen GET /access-log': "the citizen's own log, read by the citizen (not a health-personnel access)",
  'citizen GET /documents': "the citizen's own document list, read by the citizen",
  'citizen GET /privacy': "the citizen's own choices",
  'citizen PUT /privacy/kjernejournal-reservation': "the citizen's own choice",
  'citizen PUT /privacy/lab-results': "the citizen's own choice",
  'citizen PUT /privacy/kjernejournal-restriction': "the citizen's own choice",
  'citizen POST /privacy/blocked-practitioners': "the citizen's own choice",
  'citizen DELETE /privacy/blocked-practitioners/:id': "the citizen's own choice",
  'citizen PUT /privacy/blocked-documents/:documentId': "the citizen's own choice",
  'citizen DELETE /privacy/blocked-documents/:documentId': "the citizen's own choice",
  'citizen POST /privacy/proxies': "the citizen's own choice",
  'citizen DELETE /privacy/proxies/:id': "the citizen's own choice",
  'pps GET /metadata': 'CapabilityStatement',
  'pps POST /metadata': 'CapabilityStatement',
  'pps GET /backdoor/metadata': 'CapabilityStatement',
  'pps POST /backdoor/metadata': 'CapabilityStatement',
};

/** PPS searches for Line Danser: behind the guard, or through the test backdoor (no token). */
const ppsSearch = (method: 'GET' | 'POST', backdoor = false) => ({
  scope: 'nhn:pps/provesvar-read',
  send: async (t: TokenResult, url: string, eventId: string) => {
    const request =
      method === 'POST' ? server.http.post(url).type('form').send('_count=5') : server.http.get(`${url}?_count=5`);
    if (backdoor)
      return request.set({
        'x-nilar-patient': LINE_DANSER,
        'x-nilar-requester-hpr': '4128168',
        'x-nilar-correlation-id': eventId,
      });
    return request
      .set(await dpop(t, method, url))
      .set('person-id', LINE_DANSER)
      .set('nhn-event-id', eventId);
  },
});

/** How to call each patient-data endpoint for Line Danser with the demo hospital's token. */
const EXAMPLES: Record<
  string,
  {
    scope: string;
    clientId?: string;
    send: (t: TokenResult, url: string, eventId: string) => Promise<{ status: number }>;
  }
> = {
  'pjd POST /R4/fhir/DocumentReference/_search': {
    scope: 'nhn:phr/mhd/read-documentreferences',
    send: async (t, url, eventId) =>
      server.http
        .post(url)
        .type('form')
        .set(await dpop(t, 'POST', url))
        .set('nhn-source-system', 'walk')
        .set('nhn-event-id', eventId)
        .send({ 'patient.identifier': LINE_DANSER }),
  },
  'pjd GET /R4/fhir/DocumentReference': {
    scope: 'nhn:phr/mhd/read-documentreferences',
    send: async (t, url, eventId) =>
      server.http
        .get(`${url}?patient.identifier=${LINE_DANSER}`)
        .set(await dpop(t, 'GET', url))
        .set('nhn-source-system', 'walk')
        .set('nhn-event-id', eventId),
  },
  'pjd GET /mhd/document': {
    scope: 'nhn:phr/mhd/read-document',
    send: async (t, url, eventId) => retrieve(t, url, eventId),
  },
  'pjd GET /mhd/iti68/document': {
    scope: 'nhn:phr/mhd/read-document',
    send: async (t, url, eventId) => retrieve(t, url, eventId),
  },
  'pjd POST /R4/fhir': {
    scope: 'navet:pjd/provide-document',
    send: async (t, url, eventId) =>
      server.http
        .post(url)
        .type('application/fhir+json')
        .set(await dpop(t, 'POST', url))
        .set('nhn-source-system', 'walk')
        .set('nhn-event-id', eventId)
        .send(provideBundle(LINE_DANSER, Buffer.from('%PDF-1.4 walk').toString('base64'))),
  },
  'pjd POST /R4/fhir/DocumentReference/:id/$deprecate': {
    scope: 'navet:pjd/provide-document',
    send: async (t, url, eventId) => {
      // Line Danser's first seeded document was published by Rikshospitalet, where Magnar Koman works
      const path = url.replace(':id', seededDocumentId(LINE_DANSER, 1));
      return server.http
        .post(path)
        .set(await dpop(t, 'POST', path))
        .set('nhn-source-system', 'walk')
        .set('nhn-patient-nin', LINE_DANSER)
        .set('nhn-event-id', eventId);
    },
  },
  'sfm POST /Patient/$getMedication': {
    scope: 'e-helse:sfm.api/sfm.api2',
    send: async (t, url, eventId) =>
      server.http
        .post(url)
        .type('application/fhir+json')
        .set(await dpop(t, 'POST', url))
        .set('nhn-event-id', eventId)
        .send(sfmGetParameters(LINE_DANSER)),
  },
  'sfm POST /Patient/$sendMedication': { scope: 'e-helse:sfm.api/sfm.api2', send: sfmSend },
  'sfm POST /api/PatientTicket': {
    scope: 'e-helse:sfm.api/sfm.api2',
    send: async (t, url, eventId) =>
      server.http
        .post(url)
        .set(await dpop(t, 'POST', url))
        .set('nhn-event-id', eventId)
        .send({ patientPid: LINE_DANSER }),
  },
  'sfm GET /List': {
    scope: 'e-helse:sfm.api/sfm.api2',
    send: (t, url, eventId) => sfmTicketRead(t, url, eventId, 'summary=false'),
  },
  'sfm GET /Medication': {
    scope: 'e-helse:sfm.api/sfm.api2',
    send: (t, url, eventId) => sfmTicketRead(t, url, eventId, `_id=${FEST_MEDICINES[0].festId}`),
  },
  'pps POST /DiagnosticReport/_search': ppsSearch('POST'),
  'pps GET /DiagnosticReport': ppsSearch('GET'),
  'pps POST /Observation/_search': ppsSearch('POST'),
  'pps GET /Observation': ppsSearch('GET'),
  'pps POST /backdoor/DiagnosticReport/_search': ppsSearch('POST', true),
  'pps GET /backdoor/DiagnosticReport': ppsSearch('GET', true),
  'pps POST /backdoor/Observation/_search': ppsSearch('POST', true),
  'pps GET /backdoor/Observation': ppsSearch('GET', true),
  'pps POST /': {
    scope: 'navet:pps/submit-result',
    clientId: 'demo-lab-system',
    send: async (t, url, eventId) => {
      const path = url.replace(/\/$/, '');
      return server.http
        .post(path)
        .type('application/fhir+json')
        .set(await dpop(t, 'POST', path))
        .set('nhn-event-id', eventId)
        .send(labBundle({ nin: LINE_DANSER, reportId: 'walk-1' }));
    },
  },
};

/** Critical information: each call works on an entry of Line Danser made for it. */
const KJ_SCOPE = 'nhn:kjernejournal/api';
const KJ_BODIES: Record<string, (nin: string) => object> = {
  AllergyIntolerance: (nin) => ({
    resourceType: 'AllergyIntolerance',
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
    },
    category: ['food'],
    criticality: 'low',
    code: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.7514', code: '5' }] },
    patient: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: nin } },
  }),
  Condition: (nin) => ({
    resourceType: 'Condition',
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    category: [{ coding: [{ system: 'http://nhn.no/kj/fhir/CodeSystem/CriticalInformationCategory', code: '10' }] }],
    code: { text: 'Smitte' },
    subject: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: nin } },
  }),
  Flag: (nin) => ({
    resourceType: 'Flag',
    status: 'active',
    category: [{ coding: [{ system: 'http://nhn.no/kj/fhir/CodeSystem/CriticalInformationCategory', code: '9' }] }],
    code: { text: 'Cytostatika' },
    subject: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: nin } },
  }),
};
const kjCall = async (
  t: TokenResult,
  method: 'get' | 'post' | 'put' | 'delete',
  url: string,
  eventId: string,
  body?: object,
) => {
  let request = server.http[method](url)
    .set(await dpop(t, method.toUpperCase(), url.split('?')[0]))
    .set({ 'nhn-source-system': 'walk', 'nhn-patient-nin': LINE_DANSER, 'nhn-event-id': eventId });
  if (body) request = request.type('application/fhir+json').send(body);
  return request;
};
/** Makes an entry for Line Danser and returns the endpoint's URL with its id (and version 1). */
async function kjEntry(
  t: TokenResult,
  url: string,
  type: string,
): Promise<{ url: string; entry: Record<string, unknown> }> {
  const root = url.slice(0, url.indexOf(`/${type}/`));
  const created = await kjCall(t, 'post', `${root}/${type}`, `setup-${Math.random()}`, KJ_BODIES[type](LINE_DANSER));
  expect(created.status).toBe(201);
  return { url: url.replace(':id', created.body.id).replace(':vid', '1'), entry: created.body };
}
for (const [path, query] of [
  ['/AllergyIntolerance', ''],
  ['/Conditions', '?criticalInfoType=Infection'],
  ['/Condition', ''],
  ['/Flag', ''],
]) {
  EXAMPLES[`critical-information GET ${path}`] = {
    scope: KJ_SCOPE,
    send: async (t, url, eventId) => kjCall(t, 'get', `${url}${query}`, eventId),
  };
}
EXAMPLES['critical-information POST /status'] = {
  scope: KJ_SCOPE,
  send: async (t, url, eventId) => kjCall(t, 'post', url, eventId, { nin: LINE_DANSER }),
};
for (const type of KJ_RESOURCE_TYPES) {
  const withEntry =
    (method: 'get' | 'put' | 'delete', body?: (entry: Record<string, unknown>) => object) =>
    async (t: TokenResult, url: string, eventId: string) => {
      const made = await kjEntry(t, url, type);
      return kjCall(t, method, made.url, eventId, body?.(made.entry));
    };
  Object.assign(EXAMPLES, {
    [`critical-information POST /${type}`]: {
      scope: KJ_SCOPE,
      send: async (t: TokenResult, url: string, eventId: string) =>
        kjCall(t, 'post', url, eventId, KJ_BODIES[type](LINE_DANSER)),
    },
    [`critical-information GET /${type}/:id`]: { scope: KJ_SCOPE, send: withEntry('get') },
    [`critical-information GET /${type}/:id/_history`]: { scope: KJ_SCOPE, send: withEntry('get') },
    [`critical-information GET /${type}/:id/_history/:vid`]: { scope: KJ_SCOPE, send: withEntry('get') },
    [`critical-information PUT /${type}/:id`]: { scope: KJ_SCOPE, send: withEntry('put', (entry) => entry) },
    [`critical-information DELETE /${type}/:id`]: { scope: KJ_SCOPE, send: withEntry('delete') },
    [`critical-information DELETE /${type}/:id/_history/:vid`]: { scope: KJ_SCOPE, send: withEntry('delete') },
  });
}

/** SFM: a look-up first (the 4-hour rule), then the Bundle it answered, sent back. */
async function sfmSend(t: TokenResult, url: string, eventId: string) {
  const base = url.replace('/Patient/$sendMedication', '');
  const looked = await server.http
    .post(`${base}/Patient/$getMedication`)
    .type('application/fhir+json')
    .set(await dpop(t, 'POST', `${base}/Patient/$getMedication`))
    .send(sfmGetParameters(LINE_DANSER));
  const bundle = looked.body.parameter.find((p: { name: string }) => p.name === 'medication').resource;
  return server.http
    .post(url)
    .type('application/fhir+json')
    .set(await dpop(t, 'POST', url))
    .set('nhn-event-id', eventId)
    .send({ resourceType: 'Parameters', parameter: [{ name: 'medication', resource: bundle }] });
}

/** SFM data sharing: a patient ticket for Line Danser (its own access), then the read. */
async function sfmTicketRead(t: TokenResult, url: string, eventId: string, query: string) {
  const ticketUrl = url.replace(/\/(List|Medication)$/, '/api/PatientTicket');
  const ticket = await server.http
    .post(ticketUrl)
    .set(await dpop(t, 'POST', ticketUrl))
    .send({ patientPid: LINE_DANSER });
  return server.http
    .get(`${url}?patientTicket=${ticket.body.patientTicket}&${query}`)
    .set(await dpop(t, 'GET', url))
    .set('nhn-event-id', eventId);
}

/** ITI-68 of Line Danser's first seeded document, by the link its DocumentReference gives. */
async function retrieve(t: TokenResult, url: string, eventId: string) {
  const doc = await server.http
    .get(`/sandboxes/${sandbox.name}/fhir/DocumentReference/${seededDocumentId(LINE_DANSER, 1)}`)
    .set('Authorization', sandbox.auth);
  const query = doc.body.content[0].attachment.url.split('?')[1];
  return server.http
    .get(`${url}?${query}`)
    .set(await dpop(t, 'GET', url))
    .set('nhn-source-system', 'walk')
    .set('nhn-patient-nin', LINE_DANSER)
    .set('nhn-event-id', eventId);
}

let server: TestNavet;
let sandbox: { name: string; auth: string };

async function dpop(t: TokenResult, method: string, url: string): Promise<Record<string, string>> {
  return {
    Authorization: `DPoP ${t.body.access_token}`,
    DPoP: await makeDpopProof(t.dpopKey, { method, url: `${TEST_BASE_URL}${url}`, accessToken: t.body.access_token }),
  };
}

function routesOf(service: string, router: Router): string[] {
  return router.stack
    .filter((layer) => layer.route)
    .flatMap((layer) => {
      const route = layer.route as unknown as { path: string; methods: Record<string, boolean> };
      return Object.keys(route.methods)
        .filter((m) => m !== '_all')
        .map((method) => `${service} ${method.toUpperCase()} ${route.path}`);
    });
}

const keyOf = (service: string, endpoint: PatientDataEndpoint) =>
  `${service} ${endpoint.method.toUpperCase()} ${endpoint.path}`;

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  await seedDocument(
    server,
    sandbox.auth,
    sandbox.name,
    await patientId(server, sandbox.auth, sandbox.name, LINE_DANSER),
    { title: 'Epikrise', date: '2026-01-01T09:00:00Z' },
  );
  await server.http
    .put(`/api/sandboxes/${sandbox.name}/settings/pps`)
    .set('Authorization', sandbox.auth)
    .send({ backdoorEnabled: true });
});
afterAll(() => server.close());

test('every route of every service is a patient-data endpoint or declared to hold no patient data', () => {
  const deps = {
    services: server.navet.trust,
    store: server.navet.sandboxes.store,
    issuerOf: () => '',
    baseUrl: '',
    accessLog: server.navet.accessLog,
    maxBody: '1mb',
  };
  const routes = [
    ...SERVICES.flatMap((service) =>
      routesOf(
        service.base,
        mountService(service, { ...deps, settings: service.settings?.store(server.navet.database.db) }, () => ''),
      ),
    ),
    ...routesOf('citizen', citizenRouter({ ...deps, citizenUrl: () => '' })),
  ];
  const patientData = Object.entries(PATIENT_DATA_ENDPOINTS).flatMap(([service, endpoints]) =>
    endpoints.map((e) => keyOf(service, e)),
  );
  expect(routes.length).toBeGreaterThan(10);
  expect(routes.filter((r) => !patientData.includes(r) && !(r in NO_PATIENT_DATA))).toEqual([]);
  expect(patientData.filter((r) => !routes.includes(r))).toEqual([]);
});

describe.each(
  Object.entries(PATIENT_DATA_ENDPOINTS).flatMap(([service, endpoints]) =>
    endpoints.map((endpoint) => [keyOf(service, endpoint), service, endpoint] as const),
  ),
)('%s', (key, service, endpoint) => {
  test('a successful call leaves exactly one AuditEvent for the patient, with its interaction', async () => {
    const example = EXAMPLES[key];
    expect(example).toBeDefined(); // a new patient-data endpoint needs an example call here
    const t = await getToken(server.http, sandbox.name, {
      clientId: example.clientId,
      scope: example.scope,
      details: [attestationFor(example.clientId ?? 'demo-hospital-system')],
    });
    expect(t.status).toBe(200);
    const eventId = `walk-${key.replace(/\W+/g, '-')}`;
    const res = await example.send(t, `/sandboxes/${sandbox.name}/${service}${endpoint.path}`, eventId);
    expect(res.status).toBeLessThan(300);
    const events = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?event-id=${eventId}`)
      .set('Authorization', sandbox.auth);
    expect(events.body.total).toBe(1);
    const event = events.body.entry[0].resource;
    expect(event.outcome).toBe('0');
    expect(event.subtype[0].code).toBe(endpoint.interaction.code);
    expect(event.contained.find((r: { id: string }) => r.id === 'patient').identifier[0].value).toBe(LINE_DANSER);
  });
});
