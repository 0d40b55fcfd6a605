import { createSandbox, startTestNavet, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string };
let fhir: string;
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';

const get = (path: string) => server.http.get(`${fhir}/${path}`).set('Authorization', sandbox.auth);
const ids = (bundle: { entry?: { resource: { id: string }; search: { mode: string } }[] }) =>
  (bundle.entry ?? []).filter((e) => e.search.mode === 'match').map((e) => e.resource.id);

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server);
  fhir = `/sandboxes/${sandbox.name}/fhir`;
  const people = [
    {
      id: 'line',
      family: 'Danser',
      given: 'Line',
      gender: 'female',
      birthDate: '1969-11-13',
      fnr: '13116900216',
      city: 'Bodø',
      gp: 'Practitioner/gp-1',
    },
    {
      id: 'malin',
      family: 'Bogen',
      given: 'Malin Fos',
      gender: 'female',
      birthDate: '1990-11-12',
      fnr: '12119000465',
      city: 'Bergen',
      gp: 'Practitioner/gp-1',
    },
    {
      id: 'harry',
      family: 'Handel',
      given: 'Harry',
      gender: 'male',
      birthDate: '1970-07-08',
      fnr: '08077000292',
      city: 'Tromsø',
      gp: 'Practitioner/gp-2',
    },
    {
      id: 'gry',
      family: 'Telokk',
      given: 'Gry',
      gender: 'female',
      birthDate: '1979-05-12',
      fnr: '12057900499',
      city: 'Oslo',
      gp: 'Practitioner/gp-2',
    },
  ];
  const entry = [
    {
      resource: { resourceType: 'Practitioner', id: 'gp-1', name: [{ family: 'Vits', given: ['Grønn'] }] },
      request: { method: 'PUT', url: 'Practitioner/gp-1' },
    },
    {
      resource: { resourceType: 'Practitioner', id: 'gp-2', name: [{ family: 'Koman', given: ['Magnar'] }] },
      request: { method: 'PUT', url: 'Practitioner/gp-2' },
    },
    ...people.map((p) => ({
      resource: {
        resourceType: 'Patient',
        id: p.id,
        gender: p.gender,
        birthDate: p.birthDate,
        name: [{ family: p.family, given: p.given.split(' ') }],
        identifier: [{ system: FNR, value: p.fnr }],
        address: [{ city: p.city }],
        generalPractitioner: [{ reference: p.gp }],
      },
      request: { method: 'PUT', url: `Patient/${p.id}` },
    })),
    {
      resource: {
        resourceType: 'Observation',
        id: 'obs-1',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
        subject: { reference: 'Patient/line' },
        effectiveDateTime: '2026-03-01T10:00:00Z',
        valueQuantity: { value: 5.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      },
      request: { method: 'PUT', url: 'Observation/obs-1' },
    },
    {
      resource: {
        resourceType: 'Observation',
        id: 'obs-2',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
        subject: { reference: 'Patient/harry' },
        effectiveDateTime: '2025-01-01T10:00:00Z',
        valueQuantity: { value: 9.1, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      },
      request: { method: 'PUT', url: 'Observation/obs-2' },
    },
  ];
  const res = await server.http
    .post(fhir)
    .set('Authorization', sandbox.auth)
    .send({ resourceType: 'Bundle', type: 'transaction', entry });
  if (res.status !== 200) throw new Error(JSON.stringify(res.body));
});
afterAll(() => server.close());

describe('FHIR search', () => {
  test('token: identifier with system|value and bare value', async () => {
    expect(ids((await get(`Patient?identifier=${FNR}|13116900216`)).body)).toEqual(['line']);
    expect(ids((await get('Patient?identifier=08077000292')).body)).toEqual(['harry']);
    expect(ids((await get('Patient?identifier=http://other|08077000292')).body)).toEqual([]);
    expect(ids((await get('Patient?gender=male')).body)).toEqual(['harry']);
    expect(ids((await get('Patient?gender:not=female')).body)).toEqual(['harry']);
  });

  test('string: starts-with, case and accent insensitive; :exact and :contains', async () => {
    expect(ids((await get('Patient?family=dan')).body)).toEqual(['line']);
    expect(ids((await get('Patient?address-city=bodo')).body)).toEqual(['line']);
    expect(ids((await get('Patient?family:exact=danser')).body)).toEqual([]);
    expect(ids((await get('Patient?family:exact=Danser')).body)).toEqual(['line']);
    expect(ids((await get('Patient?name:contains=oge')).body)).toEqual(['malin']);
    expect(ids((await get('Patient?given=Malin,Gry&_sort=-family')).body)).toEqual(['gry', 'malin']);
  });

  test('date with prefixes', async () => {
    expect(ids((await get('Patient?birthdate=1969-11-13')).body)).toEqual(['line']);
    expect(ids((await get('Patient?birthdate=1970')).body)).toEqual(['harry']);
    expect(ids((await get('Patient?birthdate=ge1979-01-01&_sort=birthdate')).body)).toEqual(['gry', 'malin']);
    expect(ids((await get('Patient?birthdate=lt1970-01-01')).body)).toEqual(['line']);
    expect(ids((await get('Patient?birthdate=gt1969-11-13&birthdate=le1979-05-12&_sort=-birthdate')).body)).toEqual([
      'gry',
      'harry',
    ]);
    expect(ids((await get('Patient?birthdate=ne1970-07-08&_sort=birthdate')).body)).toEqual(['line', 'gry', 'malin']);
    expect(ids((await get('Observation?date=ge2026-01-01')).body)).toEqual(['obs-1']);
  });

  test('quantity with prefix', async () => {
    expect(ids((await get('Observation?value-quantity=gt6')).body)).toEqual(['obs-2']);
    expect(ids((await get('Observation?value-quantity=5.4|http://unitsofmeasure.org|mmol/L')).body)).toEqual(['obs-1']);
  });

  test('reference: Type/id, bare id, and chained', async () => {
    expect(ids((await get('Patient?general-practitioner=Practitioner/gp-1&_sort=_id')).body)).toEqual([
      'line',
      'malin',
    ]);
    expect(ids((await get('Observation?subject=Patient/harry')).body)).toEqual(['obs-2']);
    expect(ids((await get('Observation?patient=line')).body)).toEqual(['obs-1']);
    expect(ids((await get(`Observation?patient.identifier=${FNR}|08077000292`)).body)).toEqual(['obs-2']);
    expect(ids((await get('Observation?subject:Patient.family=dan')).body)).toEqual(['obs-1']);
  });

  test('_id, _lastUpdated, :missing', async () => {
    expect(ids((await get('Patient?_id=line,gry&_sort=_id')).body)).toEqual(['gry', 'line']);
    expect((await get('Patient?_lastUpdated=gt2000-01-01&_summary=count')).body.total).toBe(4);
    expect((await get('Patient?_lastUpdated=lt2000-01-01&_summary=count')).body.total).toBe(0);
    expect(ids((await get('Practitioner?identifier:missing=true&_sort=_id')).body)).toEqual(['gp-1', 'gp-2']);
  });

  test('paging with _count gives total and next/previous links that work', async () => {
    const first = await get('Patient?_count=3&_sort=_id');
    expect(first.body.total).toBe(4);
    expect(ids(first.body)).toEqual(['gry', 'harry', 'line']);
    const next = first.body.link.find((l: { relation: string }) => l.relation === 'next').url as string;
    expect(next).toMatch(/^http:\/\/navet\.test\/sandboxes\/.+\/fhir\/Patient\?/);
    const second = await server.http.get(next.replace('http://navet.test', '')).set('Authorization', sandbox.auth);
    expect(ids(second.body)).toEqual(['malin']);
    expect(second.body.link.find((l: { relation: string }) => l.relation === 'next')).toBeUndefined();
    expect(second.body.link.find((l: { relation: string }) => l.relation === 'previous')).toBeDefined();
  });

  test('_include and _revinclude', async () => {
    const included = await get('Patient?_id=line&_include=Patient:general-practitioner');
    expect(
      included.body.entry.map((e: { resource: { id: string }; search: { mode: string } }) => [
        e.resource.id,
        e.search.mode,
      ]),
    ).toEqual([
      ['line', 'match'],
      ['gp-1', 'include'],
    ]);
    const rev = await get('Patient?_id=harry&_revinclude=Observation:subject');
    expect(rev.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['harry', 'obs-2']);
  });

  test('_summary=count and _elements', async () => {
    const count = await get('Patient?gender=female&_summary=count');
    expect(count.body.total).toBe(3);
    expect(count.body.entry).toBeUndefined();
    const elements = await get('Patient?_id=line&_elements=gender');
    expect(Object.keys(elements.body.entry[0].resource).sort()).toEqual(['gender', 'id', 'meta', 'resourceType']);
  });

  test('POST _search with a form body works like GET', async () => {
    const res = await server.http
      .post(`${fhir}/Patient/_search`)
      .set('Authorization', sandbox.auth)
      .type('form')
      .send({ identifier: `${FNR}|12057900499` });
    expect(res.status).toBe(200);
    expect(ids(res.body)).toEqual(['gry']);
  });

  test('deleted resources disappear from search', async () => {
    await server.http
      .put(`${fhir}/Patient/temp`)
      .set('Authorization', sandbox.auth)
      .send({ resourceType: 'Patient', id: 'temp', name: [{ family: 'Midlertidig' }] });
    expect(ids((await get('Patient?family=midlertidig')).body)).toEqual(['temp']);
    await server.http.delete(`${fhir}/Patient/temp`).set('Authorization', sandbox.auth);
    expect(ids((await get('Patient?family=midlertidig')).body)).toEqual([]);
  });
});
