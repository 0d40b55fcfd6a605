import { makeDpopProof } from '../../src/trust/dpop-client';
import { KJ_PROFILES } from '../../src/services/critical-info/kj-codes';
import { getToken, koman, type TokenResult, vits } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

/** Kjernejournal's critical-information API through real HTTP with real tokens (DPoP + attestation). */
const OLAV_BAKKE = '48882807579'; // critical-information test patient: one seeded entry of every type
const ASTRID_HAUGEN = '45920040881';
const GRY_TELOKK = '12057900499';
const HARRY_HANDEL = '08077000292';
const MALIN_BOGEN = '12119000465';
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const DNR = 'urn:oid:2.16.578.1.12.4.1.4.2';
const KJ = 'http://nhn.no/kj/fhir/';
const CATEGORY = `${KJ}CodeSystem/CriticalInformationCategory`;

let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let hospital: TokenResult;
let gp: TokenResult;
const base = () => `/sandboxes/${sandbox.name}/critical-information`;

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  hospital = await getToken(server.http, sandbox.name, { scope: 'nhn:kjernejournal/api', details: [koman()] });
  gp = await getToken(server.http, sandbox.name, {
    clientId: 'demo-gp-system',
    scope: 'nhn:kjernejournal/api',
    details: [vits()],
  });
  expect(hospital.status).toBe(200);
  expect(gp.status).toBe(200);
});
afterAll(() => server.close());

type Method = 'get' | 'post' | 'put' | 'delete';
async function call(
  method: Method,
  path: string,
  options: { nin?: string; body?: object; headers?: Record<string, string>; token?: TokenResult } = {},
) {
  const t = options.token ?? hospital;
  const url = `${base()}${path}`;
  const proof = await makeDpopProof(t.dpopKey, {
    method: method.toUpperCase(),
    url: `${TEST_BASE_URL}${url.split('?')[0]}`,
    accessToken: t.body.access_token,
  });
  let request = server.http[method](url).set({
    Authorization: `DPoP ${t.body.access_token}`,
    DPoP: proof,
    'nhn-source-system': 'Test EPJ',
    ...options.headers,
  });
  if (options.nin) request = request.set('nhn-patient-nin', options.nin);
  if (options.body) request = request.type('application/fhir+json').send(options.body);
  return request;
}

const adminCount = async (type: string) =>
  (await server.http.get(`/sandboxes/${sandbox.name}/fhir/${type}?_summary=count`).set('Authorization', sandbox.auth))
    .body.total as number;

function drugReaction(nin?: string, extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'AllergyIntolerance',
    meta: { profile: [`${KJ}StructureDefinition/KjAllergyIntolerance`] },
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
    },
    verificationStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' }],
    },
    category: ['medication'],
    criticality: 'high',
    code: {
      coding: [
        {
          system: `${KJ}CodeSystem/ActiveSubstance`,
          code: 'ID_0B9C7E51-2A8D-4C3F-A1B2-3C4D5E6F7A8B',
          display: 'Fenoksymetylpenicillin',
          userSelected: true,
        },
      ],
    },
    ...(nin ? { patient: { identifier: { system: FNR, value: nin } } } : {}),
    ...extra,
  };
}

function condition(category: string, profile: string, code: Record<string, unknown>, nin?: string) {
  return {
    resourceType: 'Condition',
    meta: { profile: [`${KJ}StructureDefinition/${profile}`] },
    clinicalStatus: {
      coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }],
    },
    category: [{ coding: [{ system: CATEGORY, code: category }] }],
    code,
    ...(nin ? { subject: { identifier: { system: FNR, value: nin } } } : {}),
  };
}

describe('status and reads', () => {
  it('answers the status of a patient with critical information, and logs the look-up', async () => {
    const res = await call('post', '/status', {
      body: { nin: OLAV_BAKKE },
      headers: { 'nhn-event-id': 'kj-status-1' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      patientNIN: OLAV_BAKKE,
      hasCriticalInformation: true,
      hasActiveCriticalInformation: true,
      privacySettings: { reservation: false, restriction: false },
      hprNumberBlocked: false,
    });
    for (const key of [
      'allergyIntoleranceDate',
      'conditionCriticalMedicalConditionDate',
      'conditionInfectionDate',
      'conditionComplicationsOfAnesthesiaDate',
      'flagDate',
    ]) {
      expect(Date.parse(res.body.dateChanged[key])).toBeLessThanOrEqual(Date.parse(res.body.lastChangedDateTime));
    }
    const log = await server.http
      .get(`/api/sandboxes/${sandbox.name}/audit?event-id=kj-status-1`)
      .set('Authorization', sandbox.auth);
    expect(log.body.entry).toHaveLength(1);
    expect(JSON.stringify(log.body.entry[0].resource)).toContain(OLAV_BAKKE);
  });

  it('says a patient without entries has none', async () => {
    const res = await call('post', '/status', { body: { nin: '05076600324' } });
    expect(res.body).toMatchObject({
      hasCriticalInformation: false,
      hasActiveCriticalInformation: false,
      lastChangedDateTime: null,
    });
  });

  it('reads allergies by type, conditions by type, and flags; every seeded entry is valid against its profile', async () => {
    const allergies = await call('get', '/AllergyIntolerance', { nin: OLAV_BAKKE });
    expect(allergies.status).toBe(200);
    expect(
      allergies.body.entry.map((e: { resource: { category: string[] } }) => e.resource.category[0]).sort(),
    ).toEqual(expect.arrayContaining(['medication']));
    expect(allergies.body.total).toBe(2);
    const drug = await call('get', '/AllergyIntolerance?criticalInfoType=DrugReaction', { nin: OLAV_BAKKE });
    expect(drug.body.entry.map((e: { resource: { category: string[] } }) => e.resource.category)).toEqual([
      ['medication'],
    ]);
    const infections = await call('get', '/Conditions?criticalInfoType=Infection', { nin: OLAV_BAKKE });
    expect(infections.body.total).toBe(1);
    expect(infections.body.entry[0].resource.category[0].coding[0].code).toBe('10');
    const conditions = await call('get', '/Conditions', { nin: OLAV_BAKKE });
    expect(conditions.body.total).toBe(5);
    const flags = await call('get', '/Flag', { nin: OLAV_BAKKE });
    expect(flags.body.total).toBe(1);
    for (const entry of [...allergies.body.entry, ...conditions.body.entry, ...flags.body.entry]) {
      const resource = entry.resource;
      expect(KJ_PROFILES.validate(resource, resource.meta.profile[0])).toEqual([]);
      expect(
        resource.contained.find((c: { id: string }) => c.id === 'recorderRef').practitioner.identifier.system,
      ).toBe('urn:oid:2.16.578.1.12.4.1.4.4');
    }
  });

  it('seeds several versions for some entries, readable as history and by version', async () => {
    const ids: { type: string; nin: string; id: string; version: number }[] = [];
    for (const [path, type] of [
      ['/AllergyIntolerance', 'AllergyIntolerance'],
      ['/Conditions', 'Condition'],
      ['/Flag', 'Flag'],
    ]) {
      for (const nin of [OLAV_BAKKE, ASTRID_HAUGEN]) {
        const res = await call('get', path, { nin });
        for (const e of res.body.entry)
          ids.push({ type, nin, id: e.resource.id, version: Number(e.resource.meta.versionId) });
      }
    }
    const changed = ids.filter((i) => i.version > 1);
    expect(changed.length).toBeGreaterThan(0);
    const { type, nin, id, version } = changed[0];
    const history = await call('get', `/${type}/${id}/_history`, { nin });
    expect(history.body.type).toBe('history');
    expect(
      history.body.entry.map((e: { resource: { meta: { versionId: string } } }) => Number(e.resource.meta.versionId)),
    ).toEqual(Array.from({ length: version }, (_, i) => version - i));
    const first = await call('get', `/${type}/${id}/_history/1`, { nin });
    expect(first.status).toBe(200);
    expect(first.body.meta.versionId).toBe('1');
    expect(first.body.contained.some((c: { id: string }) => c.id === 'updaterRef')).toBe(false);
  });

  it('refuses reads without a patient, with an unknown type or parameter, and for another patient', async () => {
    const noPatient = await call('get', '/AllergyIntolerance');
    expect(noPatient.status).toBe(400);
    expect(noPatient.body.issue[0].expression).toEqual(['nhn-patient-nin']);
    const badType = await call('get', '/Conditions?criticalInfoType=Broken', { nin: OLAV_BAKKE });
    expect(badType.status).toBe(400);
    expect(badType.body.issue[0].details.text).toContain('TransplantsAndOtherForeignBodies');
    expect((await call('get', '/AllergyIntolerance?criticalInfoType=Infection', { nin: OLAV_BAKKE })).status).toBe(400);
    expect((await call('get', '/Flag?_count=3', { nin: OLAV_BAKKE })).status).toBe(400);
    expect((await call('get', '/Flag', { nin: '1234' })).status).toBe(400);
    const someone = (await call('get', '/AllergyIntolerance', { nin: OLAV_BAKKE })).body.entry[0].resource.id;
    const other = await call('get', `/AllergyIntolerance/${someone}`, { nin: ASTRID_HAUGEN });
    expect(other.status).toBe(403);
    expect(other.body.issue[0].details.coding[0].code).toBe('NAVET-KJ-OTHER-PATIENT');
    expect((await call('get', '/AllergyIntolerance/no-such-entry', { nin: OLAV_BAKKE })).status).toBe(404);
  });

  it('accepts the older hit-* header names', async () => {
    const url = `${base()}/Flag`;
    const proof = await makeDpopProof(hospital.dpopKey, {
      method: 'GET',
      url: `${TEST_BASE_URL}${url}`,
      accessToken: hospital.body.access_token,
    });
    const res = await server.http.get(url).set({
      Authorization: `DPoP ${hospital.body.access_token}`,
      DPoP: proof,
      'hit-source-system': 'Old EPJ',
      'hit-patient-nin': OLAV_BAKKE,
      'hit-access-basis': 'akutt',
    });
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(1);
  });

  it('needs the Kjernejournal scope, an attestation and nhn-source-system', async () => {
    const pjdToken = await getToken(server.http, sandbox.name, {
      scope: 'nhn:phr/mhd/read-documentreferences',
      details: [koman()],
    });
    expect((await call('get', '/Flag', { nin: OLAV_BAKKE, token: pjdToken })).status).toBe(401);
    const unattested = await getToken(server.http, sandbox.name, { scope: 'nhn:kjernejournal/api' });
    const res = await call('get', '/Flag', { nin: OLAV_BAKKE, token: unattested });
    expect(res.status).toBe(403);
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-ATTESTATION-MISSING');
    const url = `${base()}/Flag`;
    const proof = await makeDpopProof(hospital.dpopKey, {
      method: 'GET',
      url: `${TEST_BASE_URL}${url}`,
      accessToken: hospital.body.access_token,
    });
    const noSource = await server.http
      .get(url)
      .set({ Authorization: `DPoP ${hospital.body.access_token}`, DPoP: proof, 'nhn-patient-nin': OLAV_BAKKE });
    expect(noSource.status).toBe(400);
    expect(noSource.body.issue[0].expression).toEqual(['nhn-source-system']);
  });
});

describe('the full cycle: create, read, update, conflict, delete', () => {
  it('runs as a record system runs it', async () => {
    // create, naming the patient by both header and identifier; a forged recorder is replaced
    const forged = drugReaction(GRY_TELOKK, {
      contained: [
        {
          resourceType: 'PractitionerRole',
          id: 'recorderRef',
          practitioner: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '1' } },
        },
      ],
      recorder: { reference: '#recorderRef' },
    });
    const created = await call('post', '/AllergyIntolerance', { nin: GRY_TELOKK, body: forged });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.headers.location).toBe(`${TEST_BASE_URL}${base()}/AllergyIntolerance/${id}/_history/1`);
    expect(created.body.meta.versionId).toBe('1');
    const recorder = created.body.contained.find((c: { id: string }) => c.id === 'recorderRef');
    expect(recorder.practitioner.identifier.value).toBe('9144900');
    expect(recorder.organization.identifier.value).toBe('874716782');
    expect(recorder.code[0].coding[0]).toMatchObject({
      system: `${KJ}CodeSystem/CategoriesOfHealthProfessionals`,
      code: 'LE',
    });
    expect(created.body.patient).toEqual({ identifier: { system: FNR, value: GRY_TELOKK } });
    expect(
      created.body.extension.find((e: { url: string }) => e.url.endsWith('KjUpdatedDateTime')).valueDateTime,
    ).toBeDefined();

    const read = await call('get', `/AllergyIntolerance/${id}`, { nin: GRY_TELOKK });
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe('W/"1"');

    // update by the GP, based on version 1
    const changed = { ...read.body, criticality: 'unable-to-assess', note: [{ text: 'Usikker reaksjon' }] };
    const updated = await call('put', `/AllergyIntolerance/${id}`, { nin: GRY_TELOKK, body: changed, token: gp });
    expect(updated.status).toBe(200);
    expect(updated.body.meta.versionId).toBe('2');
    expect(
      updated.body.contained.find((c: { id: string }) => c.id === 'recorderRef').practitioner.identifier.value,
    ).toBe('9144900');
    expect(
      updated.body.contained.find((c: { id: string }) => c.id === 'updaterRef').practitioner.identifier.value,
    ).toBe('565501872');
    expect(updated.body.recordedDate).toBe(created.body.recordedDate);

    // a stale version: 409 naming the current one; nothing changes
    const stale = await call('put', `/AllergyIntolerance/${id}`, {
      nin: GRY_TELOKK,
      body: { ...read.body, criticality: 'low' },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.issue[0].details.coding[0].code).toBe('NAVET-KJ-VERSION-CONFLICT');
    expect(stale.body.issue[0].details.text).toContain('the current version is 2');
    // If-Match works as well as meta.versionId; without either the update is refused
    const { meta: _meta, ...withoutMeta } = updated.body;
    expect((await call('put', `/AllergyIntolerance/${id}`, { nin: GRY_TELOKK, body: withoutMeta })).status).toBe(400);
    const byIfMatch = await call('put', `/AllergyIntolerance/${id}`, {
      nin: GRY_TELOKK,
      body: { ...withoutMeta, criticality: 'high' },
      headers: { 'If-Match': 'W/"2"' },
    });
    expect(byIfMatch.status).toBe(200);
    expect(byIfMatch.body.meta.versionId).toBe('3');

    // category and code are fixed; entered-in-error is not an update
    const newCategory = await call('put', `/AllergyIntolerance/${id}`, {
      nin: GRY_TELOKK,
      body: { ...byIfMatch.body, category: ['food'] },
    });
    expect(newCategory.status).toBe(400);
    expect(newCategory.body.issue[0].expression).toEqual(['AllergyIntolerance.category']);
    const newCode = await call('put', `/AllergyIntolerance/${id}`, {
      nin: GRY_TELOKK,
      body: { ...byIfMatch.body, code: { text: 'Annet' } },
    });
    expect(newCode.body.issue[0].expression).toEqual(['AllergyIntolerance.code']);
    const eie = await call('put', `/AllergyIntolerance/${id}`, {
      nin: GRY_TELOKK,
      body: {
        ...byIfMatch.body,
        verificationStatus: {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
              code: 'entered-in-error',
            },
          ],
        },
      },
    });
    expect(eie.status).toBe(400);
    expect(eie.body.issue[0].details.coding[0].code).toBe('NAVET-KJ-ENTERED-IN-ERROR-BY-WRITE');
    // another patient's entry cannot be changed through this patient
    expect((await call('put', `/AllergyIntolerance/${id}`, { nin: HARRY_HANDEL, body: byIfMatch.body })).status).toBe(
      403,
    );

    // delete: an old version cannot be deleted; the latest becomes entered-in-error (a new version)
    const old = await call('delete', `/AllergyIntolerance/${id}/_history/2`, { nin: GRY_TELOKK });
    expect(old.status).toBe(409);
    expect(old.body.issue[0].details.coding[0].code).toBe('NAVET-KJ-DELETE-OLD-VERSION');
    const deleted = await call('delete', `/AllergyIntolerance/${id}/_history/3`, { nin: GRY_TELOKK });
    expect(deleted.status).toBe(200);
    expect(deleted.body.meta.versionId).toBe('4');
    expect(deleted.body.verificationStatus.coding[0].code).toBe('entered-in-error');
    expect((await call('get', `/AllergyIntolerance/${id}`, { nin: GRY_TELOKK })).status).toBe(410);
    const list = await call('get', '/AllergyIntolerance', { nin: GRY_TELOKK });
    expect(list.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).not.toContain(id);
    const history = await call('get', `/AllergyIntolerance/${id}/_history`, { nin: GRY_TELOKK });
    expect(
      history.body.entry.map((e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId),
    ).toEqual(['4', '3', '2', '1']);
    expect((await call('delete', `/AllergyIntolerance/${id}`, { nin: GRY_TELOKK })).status).toBe(410);

    // every step is in the access log
    const log = await server.http
      .get(`/api/sandboxes/${sandbox.name}/audit?patient=${GRY_TELOKK}&service=critical-information&_count=100`)
      .set('Authorization', sandbox.auth);
    const actions = log.body.entry.map((e: { resource: { action: string } }) => e.resource.action);
    for (const action of ['C', 'R', 'U', 'D']) expect(actions).toContain(action);
  });

  it('registers conditions and flags, taking the patient from the header or the identifier alone', async () => {
    const implant = await call('post', '/Condition', {
      nin: MALIN_BOGEN,
      body: condition('6', 'KjConditionTransplantsAndOtherForeignBodies', {
        coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.7110', code: 'Z95.0', display: 'Pacemaker' }],
      }),
    });
    expect(implant.status).toBe(201);
    expect(implant.body.subject.identifier.value).toBe(MALIN_BOGEN);
    const flag = await call('post', '/Flag', {
      body: {
        resourceType: 'Flag',
        status: 'active',
        category: [{ coding: [{ system: CATEGORY, code: '9' }] }],
        code: { text: 'Behandles med cytostatika' },
        subject: { identifier: { system: FNR, value: MALIN_BOGEN } },
        period: { start: '2026-01-01', end: '2027-01-01' },
      },
    });
    expect(flag.status).toBe(201);
    expect(flag.body.meta.profile).toEqual([`${KJ}StructureDefinition/KjFlag`]);
    expect(flag.body.author).toEqual({ reference: '#recorderRef' });
    const status = await call('post', '/status', { body: { nin: MALIN_BOGEN } });
    expect(status.body.dateChanged.flagDate).not.toBeNull();
    expect(status.body.dateChanged.conditionTransplantsAndOtherForeignBodiesDate).not.toBeNull();
    const dnrFlag = await call('get', '/Flag', { nin: ASTRID_HAUGEN });
    expect(dnrFlag.body.entry[0].resource.subject.identifier.system).toBe(DNR);
  });
});

describe('bad input: a specific 4xx, nothing stored', () => {
  // every row has all six values: jest takes a test function with more parameters than the row for a done-callback test
  const cases: [string, string, () => object, number, string, string | undefined][] = [
    [
      'wrong category for the profile',
      '/Condition',
      () =>
        condition(
          '5',
          'KjConditionInfection',
          { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.7110', code: 'B18.1' }] },
          GRY_TELOKK,
        ),
      400,
      'Condition.category',
      undefined,
    ],
    [
      'a code from an unknown system',
      '/Condition',
      () =>
        condition(
          '5',
          'KjConditionCriticalMedicalCondition',
          { coding: [{ system: 'http://snomed.info/sct', code: '91637004' }] },
          GRY_TELOKK,
        ),
      400,
      'Condition.code',
      undefined,
    ],
    [
      'a critical condition without ICD-10 coding',
      '/Condition',
      () => condition('5', 'KjConditionCriticalMedicalCondition', { text: 'Addison' }, GRY_TELOKK),
      400,
      'Condition.code.coding',
      undefined,
    ],
    [
      'a drug reaction coded as another allergy',
      '/AllergyIntolerance',
      () => drugReaction(GRY_TELOKK, { code: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.7514', code: '3' }] } }),
      400,
      'AllergyIntolerance.code',
      undefined,
    ],
    [
      'an unknown criticality',
      '/AllergyIntolerance',
      () => drugReaction(GRY_TELOKK, { criticality: 'extreme' }),
      400,
      'AllergyIntolerance.criticality',
      undefined,
    ],
    [
      'a missing criticality',
      '/AllergyIntolerance',
      () => drugReaction(GRY_TELOKK, { criticality: undefined }),
      400,
      'AllergyIntolerance.criticality',
      undefined,
    ],
    [
      'no category',
      '/AllergyIntolerance',
      () => ({ ...drugReaction(GRY_TELOKK), meta: undefined, category: undefined }),
      400,
      'AllergyIntolerance.category',
      undefined,
    ],
    [
      'malformed FHIR',
      '/AllergyIntolerance',
      () => drugReaction(GRY_TELOKK, { criticality: 5, colour: 'red' }),
      400,
      'AllergyIntolerance.criticality',
      undefined,
    ],
    [
      'patient header and identifier disagree',
      '/AllergyIntolerance',
      () => drugReaction(HARRY_HANDEL),
      400,
      'AllergyIntolerance.patient.identifier',
      GRY_TELOKK,
    ],
    ['no patient at all', '/AllergyIntolerance', () => drugReaction(), 400, 'nhn-patient-nin', undefined],
    [
      'entered-in-error on create',
      '/Flag',
      () => ({
        resourceType: 'Flag',
        status: 'entered-in-error',
        category: [{ coding: [{ system: CATEGORY, code: '9' }] }],
        code: { text: 'x' },
        subject: { identifier: { system: FNR, value: GRY_TELOKK } },
      }),
      400,
      'Flag.status',
      undefined,
    ],
    ['the wrong resource type', '/Flag', () => drugReaction(GRY_TELOKK), 400, 'resourceType', undefined],
    [
      'a profile of another resource type',
      '/Condition',
      () => ({
        ...condition('5', 'KjConditionCriticalMedicalCondition', { text: 'x' }, GRY_TELOKK),
        meta: { profile: [`${KJ}StructureDefinition/KjFlag`] },
      }),
      400,
      'Condition.meta.profile',
      undefined,
    ],
  ];
  it.each(cases)('%s', async (_name, path, body, status, expression, headerNin) => {
    const before = await adminCount(path.slice(1));
    const res = await call('post', path, { body: body(), nin: headerNin });
    expect(res.status).toBe(status);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue.flatMap((i: { expression?: string[] }) => i.expression ?? [])).toContain(expression);
    expect(await adminCount(path.slice(1))).toBe(before);
  });

  it('refuses a body that is not JSON', async () => {
    const url = `${base()}/AllergyIntolerance`;
    const proof = await makeDpopProof(hospital.dpopKey, {
      method: 'POST',
      url: `${TEST_BASE_URL}${url}`,
      accessToken: hospital.body.access_token,
    });
    const res = await server.http
      .post(url)
      .set({
        Authorization: `DPoP ${hospital.body.access_token}`,
        DPoP: proof,
        'nhn-source-system': 'x',
        'nhn-patient-nin': GRY_TELOKK,
        'Content-Type': 'application/fhir+json',
      })
      .send('{"resourceType":');
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('checks nhn-user-role', async () => {
    const role = (value: string) =>
      call('post', '/AllergyIntolerance', {
        nin: GRY_TELOKK,
        body: drugReaction(GRY_TELOKK),
        headers: { 'nhn-user-role': value },
      });
    expect((await role('not json')).status).toBe(400);
    const other = await role(
      encodeURIComponent(JSON.stringify({ system: 'urn:oid:2.16.578.1.12.4.1.1.9060', code: 'SP' })),
    );
    expect(other.status).toBe(400);
    expect(other.body.issue[0].details.text).toContain('attestation');
    expect(
      (await role(encodeURIComponent(JSON.stringify({ system: 'urn:oid:2.16.578.1.12.4.1.1.9060', code: 'LE' }))))
        .status,
    ).toBe(201);
  });
});

describe('privacy', () => {
  async function citizenToken(pid: string): Promise<string> {
    const res = await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'demo-citizen-app', scopes: ['navet:citizen'], user: { pid } });
    expect(res.status).toBe(200);
    return res.body.access_token;
  }
  const citizen = (token: string, method: 'put' | 'post' | 'delete', path: string, body?: object) =>
    server.http[method](`/sandboxes/${sandbox.name}/citizen${path}`).set('Authorization', `Bearer ${token}`).send(body);

  it('a reservation hides everything and refuses writes; lifting it shows the entries again', async () => {
    const token = await citizenToken(ASTRID_HAUGEN);
    expect((await citizen(token, 'put', '/privacy/kjernejournal-reservation', { reserved: true })).status).toBe(200);
    const status = await call('post', '/status', { body: { nin: ASTRID_HAUGEN } });
    expect(status.body).toMatchObject({
      hasCriticalInformation: false,
      lastChangedDateTime: null,
      privacySettings: { reservation: true },
    });
    const reads = await Promise.all(
      ['/AllergyIntolerance', '/Conditions', '/Flag'].map((path) => call('get', path, { nin: ASTRID_HAUGEN })),
    );
    for (const read of reads) {
      expect(read.status).toBe(200);
      expect(read.body.total).toBe(0);
      expect(read.body.entry.map((e: { search: { mode: string } }) => e.search.mode)).toEqual(['outcome']);
    }
    const write = await call('post', '/AllergyIntolerance', { nin: ASTRID_HAUGEN, body: drugReaction() });
    expect(write.status).toBe(403);
    expect(write.body.issue[0].details.coding[0].code).toBe('NAVET-KJ-RESERVED');
    await citizen(token, 'put', '/privacy/kjernejournal-reservation', { reserved: false });
    expect((await call('get', '/Flag', { nin: ASTRID_HAUGEN })).body.total).toBe(1);
  });

  it('a blocked health worker is told so by status and refused by reads', async () => {
    const token = await citizenToken(OLAV_BAKKE);
    const blocked = await citizen(token, 'post', '/privacy/blocked-practitioners', {
      hprNumber: '9144900',
      name: 'Magnar Koman',
    });
    expect(blocked.status).toBe(201);
    const status = await call('post', '/status', { body: { nin: OLAV_BAKKE } });
    expect(status.body.hprNumberBlocked).toBe(true);
    const read = await call('get', '/Conditions', { nin: OLAV_BAKKE });
    expect(read.status).toBe(403);
    expect(read.body.issue[0].details.coding[0].code).toBe('NAVET-KJ-HPR-BLOCKED');
    // another health worker still sees the entries
    expect((await call('get', '/Conditions', { nin: OLAV_BAKKE, token: gp })).status).toBe(200);
    expect((await citizen(token, 'delete', `/privacy/blocked-practitioners/${blocked.body.id}`)).status).toBe(200);
    expect((await call('get', '/Conditions', { nin: OLAV_BAKKE })).status).toBe(200);
  });

  it('a restricted Kjernejournal opens only in emergency care', async () => {
    const token = await citizenToken(OLAV_BAKKE);
    await citizen(token, 'put', '/privacy/kjernejournal-restriction', { restricted: true });
    const status = await call('post', '/status', { body: { nin: OLAV_BAKKE } });
    expect(status.body).toMatchObject({
      hasCriticalInformation: false,
      lastChangedDateTime: null,
      privacySettings: { restriction: true },
    });
    const emergencyStatus = await call('post', '/status', {
      body: { nin: OLAV_BAKKE },
      headers: { 'nhn-access-basis': 'AKUTT' },
    });
    expect(emergencyStatus.body.hasCriticalInformation).toBe(true);
    const ordinary = await call('get', '/Flag', { nin: OLAV_BAKKE });
    expect(ordinary.status).toBe(403);
    expect(ordinary.body.issue[0].details.coding[0].code).toBe('NAVET-KJ-RESTRICTED');
    expect((await call('get', '/Flag', { nin: OLAV_BAKKE, headers: { 'nhn-access-basis': 'AKUTT' } })).status).toBe(
      200,
    );
    await citizen(token, 'put', '/privacy/kjernejournal-restriction', { restricted: false });
  });
});

describe('concurrency', () => {
  async function newEntry(nin: string): Promise<string> {
    const res = await call('post', '/Condition', {
      nin,
      body: condition('10', 'KjConditionInfection', { text: 'Bærer av MRSA' }),
    });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  it('two updates from the same version: exactly one wins, the other gets the conflict', async () => {
    const id = await newEntry(HARRY_HANDEL);
    const current = (await call('get', `/Condition/${id}`, { nin: HARRY_HANDEL })).body;
    const results = await Promise.all(
      [hospital, gp].map((token, i) =>
        call('put', `/Condition/${id}`, {
          nin: HARRY_HANDEL,
          token,
          body: { ...current, note: [{ text: `Versjon fra klient ${i}` }] },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const history = await call('get', `/Condition/${id}/_history`, { nin: HARRY_HANDEL });
    expect(history.body.total).toBe(2);
    const winner = results.find((r) => r.status === 200)!;
    expect(history.body.entry[0].resource.note).toEqual(winner.body.note);
  });

  it('50 concurrent updaters that retry on conflict leave a gapless version chain with every change', async () => {
    const id = await newEntry(MALIN_BOGEN);
    const updaters = Array.from({ length: 50 }, (_, n) => async () => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const current = (await call('get', `/Condition/${id}`, { nin: MALIN_BOGEN })).body;
        const notes = [...(current.note ?? []), { text: `endring ${n}` }];
        const res = await call('put', `/Condition/${id}`, { nin: MALIN_BOGEN, body: { ...current, note: notes } });
        if (res.status === 200) return attempt;
        expect(res.status).toBe(409);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
      }
      throw new Error(`updater ${n} never won`);
    });
    await Promise.all(updaters.map((update) => update()));
    const history = await call('get', `/Condition/${id}/_history`, { nin: MALIN_BOGEN });
    const versions = history.body.entry.map((e: { resource: { meta: { versionId: string } } }) =>
      Number(e.resource.meta.versionId),
    );
    expect(versions).toEqual(Array.from({ length: 51 }, (_, i) => 51 - i));
    const latest = (await call('get', `/Condition/${id}`, { nin: MALIN_BOGEN })).body;
    expect(latest.note.map((n: { text: string }) => n.text).sort()).toEqual(
      Array.from({ length: 50 }, (_, n) => `endring ${n}`).sort(),
    );
    // each version adds exactly one change to the one before: no update was lost
    for (const entry of history.body.entry)
      expect(entry.resource.note?.length ?? 0).toBe(Number(entry.resource.meta.versionId) - 1);
  }, 120_000);
});
