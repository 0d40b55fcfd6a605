import { PrivacyChoiceStore } from '../../src/citizen/privacy-choices';
import { FEST_MEDICINES } from '../../src/services/medication-list/fest-catalogue';
import { getToken, koman, type TokenResult } from '../helpers/helseid-client';
import {
  addStatement,
  bundleOf,
  clone,
  getParameters,
  INGRID_SOLHEIM,
  param,
  pllIdOf,
  pllVersionOf,
  resourcesOf,
  sectionOf,
  sendParameters,
  sfmCall,
  sfmTokens,
  SFM_SCOPE,
  TROY_HAMMER,
  vits,
} from '../helpers/sfm';
import { createSandbox, patientIdOf, startTestNavet, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let hospital: TokenResult;
let gp: TokenResult;
let homeCare: TokenResult;
const sfm = () => `/sandboxes/${sandbox.name}/sfm`;
const paracet = FEST_MEDICINES.find((m) => m.name.startsWith('Paracet')) as (typeof FEST_MEDICINES)[number];

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  ({ hospital, gp, homeCare } = await sfmTokens(server, sandbox.name));
  for (const t of [hospital, gp, homeCare]) expect(t.body).toHaveProperty('access_token');
});
afterAll(() => server.close());

const getMedication = (t: TokenResult, body: unknown) =>
  sfmCall(server, t, 'POST', `${sfm()}/Patient/$getMedication`, body);
const sendMedication = (t: TokenResult, body: unknown) =>
  sfmCall(server, t, 'POST', `${sfm()}/Patient/$sendMedication`, body);
const listVersion = async (nin: string) =>
  Number(
    (
      await server.http
        .get(`/sandboxes/${sandbox.name}/fhir/List/pll-${await patientIdOf(server, sandbox, nin)}`)
        .set('Authorization', sandbox.auth)
    ).body.meta?.versionId ?? 0,
  );
const settings = (body: unknown) =>
  server.http
    .put(`/api/sandboxes/${sandbox.name}/settings/sfm`)
    .set('Authorization', sandbox.auth)
    .send(body as object);
const auditCount = async (nin: string, code: string) => {
  const res = await server.http
    .get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?patient-identifier=${nin}&_count=500`)
    .set('Authorization', sandbox.auth);
  return (res.body.entry ?? []).filter(
    (e: { resource: { subtype: { code: string }[] } }) => e.resource.subtype[0].code === code,
  ).length;
};

describe('$getMedication', () => {
  test('answers the PLL as a document Bundle with FEST/ATC-coded medicines, KJ allergies, PLL info, timestamps and flags', async () => {
    const res = await getMedication(hospital, getParameters(TROY_HAMMER));
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Parameters');
    const bundle = bundleOf(res.body);
    expect(bundle).toMatchObject({
      resourceType: 'Bundle',
      type: 'document',
      meta: { profile: ['http://ehelse.no/fhir/StructureDefinition/sfm-MedicationBundle'] },
    });
    const composition = bundle.entry[0].resource;
    expect(composition.type.coding[0]).toMatchObject({ system: 'http://loinc.org', code: '11503-0' });
    expect(composition.section.map((s: { code: { coding: { code: string }[] } }) => s.code.coding[0].code)).toEqual([
      'sectionMedication',
      'sectionOtherPrescriptions',
      'sectionAllergies',
      'sectionDispense',
      'sectionPLLinfo',
    ]);
    const statements = resourcesOf(bundle, 'MedicationStatement');
    expect(statements.length).toBeGreaterThanOrEqual(4);
    for (const s of statements) {
      expect(s.identifier.map((i: { type: { text: string } }) => i.type.text).sort()).toEqual(['PLL', 'ReseptId']);
      expect(s.dosage[0].text).toEqual(expect.any(String));
      const medication = bundle.entry.find(
        (e: { fullUrl: string }) => e.fullUrl === s.medicationReference.reference,
      ).resource;
      expect(medication.code.coding[0]).toMatchObject({
        system: 'http://ehelse.no/fhir/CodeSystem/FEST',
        code: expect.stringMatching(/^ID_[0-9A-F-]{36}$/),
        display: expect.any(String),
      });
      expect(medication.code.coding[1].system).toBe('http://www.whocc.no/atc');
      expect(medication.form.coding[0].system).toBe('urn:oid:2.16.578.1.12.4.1.1.7448');
      expect(s.subject.reference).toBe(
        bundle.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Patient').fullUrl,
      );
    }
    expect(sectionOf(bundle, 'sectionMedication').entry).toHaveLength(statements.length);
    const allergy = resourcesOf(bundle, 'AllergyIntolerance')[0];
    expect(allergy.meta.profile).toEqual(['http://nhn.no/kj/fhir/StructureDefinition/KjAllergyIntolerance']);
    expect(allergy.category).toEqual(['medication']);
    expect(pllVersionOf(bundle)).toBe('3'); // the seeded history: GP, hospital, GP
    expect(param(res.body, 'KJHentetTidspunkt').valueDateTime).toEqual(expect.any(String));
    expect(param(res.body, 'RFHentetTidspunkt').valueDateTime).toEqual(expect.any(String));
    expect(param(res.body, 'KJHarLegemidler').valueBoolean).toBe(true);
    expect(param(res.body, 'RFHarLaste').valueBoolean).toBe(false);
    expect(param(res.body, 'KJFeilkode')).toBeUndefined();
    expect(await auditCount(TROY_HAMMER, 'getMedication')).toBeGreaterThanOrEqual(1);
  });

  test('historyTimestamp gives the list as it was then', async () => {
    const history = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/List/pll-${await patientIdOf(server, sandbox, TROY_HAMMER)}/_history`)
      .set('Authorization', sandbox.auth);
    const first = history.body.entry.find(
      (e: { resource: { meta: { versionId: string } } }) => e.resource.meta.versionId === '1',
    ).resource;
    const res = await getMedication(
      hospital,
      getParameters(TROY_HAMMER, [{ name: 'historyTimestamp', valueDateTime: first.date }]),
    );
    expect(res.status).toBe(200);
    expect(pllVersionOf(bundleOf(res.body))).toBe('1');
    expect(resourcesOf(bundleOf(res.body), 'MedicationStatement')).toHaveLength(first.entry.length);
  });

  test('consent and reservation: no KJ consent or a reserved patient gets a KJ error and nothing from KJ; RF answers as usual', async () => {
    const noConsent = await getMedication(hospital, getParameters(TROY_HAMMER, []));
    expect(param(noConsent.body, 'KJFeilkode').valueCoding).toMatchObject({
      system: 'http://ehelse.no/fhir/CodeSystem/sfm-kj-rf-error-code',
      code: 'KJ-NO-CONSENT',
    });
    expect(resourcesOf(bundleOf(noConsent.body), 'MedicationStatement').length).toBeGreaterThan(0);

    const choices = new PrivacyChoiceStore(server.navet.sandboxes.store);
    await choices.setSwitch(
      sandbox.name,
      TROY_HAMMER,
      await patientIdOf(server, sandbox, TROY_HAMMER),
      'kjernejournal-reservation',
      true,
      new Date().toISOString(),
    );
    try {
      const reserved = await getMedication(hospital, getParameters(TROY_HAMMER));
      expect(reserved.status).toBe(200);
      expect(param(reserved.body, 'KJFeilkode').valueCoding.code).toBe('KJ-RESERVED');
      expect(param(reserved.body, 'KJHentetTidspunkt')).toBeUndefined();
      expect(param(reserved.body, 'KJHarLegemidler')).toBeUndefined();
      expect(resourcesOf(bundleOf(reserved.body), 'AllergyIntolerance')).toEqual([]);
      expect(resourcesOf(bundleOf(reserved.body), 'MedicationDispense')).toEqual([]);
      expect(resourcesOf(bundleOf(reserved.body), 'MedicationStatement').length).toBeGreaterThan(0);
      expect(param(reserved.body, 'RFHentetTidspunkt')).toBeDefined();
    } finally {
      await choices.setSwitch(
        sandbox.name,
        TROY_HAMMER,
        await patientIdOf(server, sandbox, TROY_HAMMER),
        'kjernejournal-reservation',
        false,
        new Date().toISOString(),
      );
    }
  });

  test('locked prescriptions and dispenses are shown only with SamtykkeLasteResepter / SamtykkeSperretLegemidler', async () => {
    const without = await getMedication(hospital, getParameters(INGRID_SOLHEIM));
    expect(param(without.body, 'RFHarLaste').valueBoolean).toBe(true);
    expect(param(without.body, 'KJHarLaste').valueBoolean).toBe(true);
    const withConsent = await getMedication(
      hospital,
      getParameters(INGRID_SOLHEIM, [
        { name: 'SamtykkeKjernejournal', valueCoding: { code: 'HPAKUTT' } },
        { name: 'SamtykkeLasteResepter', valueBoolean: true },
        { name: 'SamtykkeSperretLegemidler', valueBoolean: true },
      ]),
    );
    expect(resourcesOf(bundleOf(withConsent.body), 'MedicationStatement').length).toBe(
      resourcesOf(bundleOf(without.body), 'MedicationStatement').length + 1,
    );
    expect(resourcesOf(bundleOf(withConsent.body), 'MedicationDispense').length).toBe(
      resourcesOf(bundleOf(without.body), 'MedicationDispense').length + 1,
    );
  });

  test('bad input: a 400 naming the element, and the rejected look-up is logged', async () => {
    const cases: [unknown, string, string][] = [
      [{ resourceType: 'Bundle' }, 'NAVET-SFM-PARAMETERS', 'Parameters'],
      [{ resourceType: 'Parameters', parameter: {} }, 'NAVET-SFM-PARAMETERS', 'Parameters.parameter'],
      [
        { resourceType: 'Parameters', parameter: [{ name: 'pasient' }] },
        'NAVET-SFM-PARAMETERS',
        'Parameters.parameter[0].name',
      ],
      [{ resourceType: 'Parameters', parameter: [] }, 'NAVET-SFM-PATIENT', 'Parameters.parameter'],
      [getParameters('123'), 'NAVET-SFM-PATIENT', 'Parameters.parameter[0].resource.identifier'],
      [
        getParameters(TROY_HAMMER, [{ name: 'SamtykkeKjernejournal', valueCode: 'JA' }]),
        'NAVET-SFM-CONSENT',
        'Parameters.parameter[1]',
      ],
      [
        getParameters(TROY_HAMMER, [{ name: 'SamtykkeLasteResepter', valueString: 'yes' }]),
        'NAVET-SFM-PARAMETERS',
        'Parameters.parameter[1].valueCode',
      ],
    ];
    for (const [body, code, expression] of cases) {
      const res = await getMedication(hospital, body);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].details.coding[0].code).toBe(code);
      expect(res.body.issue[0].expression).toEqual([expression]);
    }
    const malformed = await getMedication(hospital, '{"resourceType": "Parameters",');
    expect(malformed.status).toBe(400);
    expect(malformed.body.issue[0].details.coding[0].code).toBe('NAVET-MALFORMED-JSON');
    expect((await getMedication(hospital, getParameters('13116900217'))).status).toBe(404);
  });

  test('without an SFM token there is nothing; a multi-tenant client must name its journal', async () => {
    const res = await server.http.post(`${sfm()}/Patient/$getMedication`).send(getParameters(TROY_HAMMER));
    expect(res.status).toBe(401);
    const pjdToken = await getToken(server.http, sandbox.name, {
      scope: 'nhn:phr/mhd/read-documentreferences',
      details: [koman()],
    });
    expect((await getMedication(pjdToken, getParameters(TROY_HAMMER))).status).toBe(401);

    const client = await server.http
      .post(`/api/sandboxes/${sandbox.name}/clients`)
      .set('Authorization', sandbox.auth)
      .send({
        clientId: 'sfm-multi',
        name: 'Multi-tenant EPR',
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
        scopes: [SFM_SCOPE],
        organization: { parent: '993467049', child: '874716782' },
        tenancy: 'multi-tenant',
        dpop: false,
      });
    expect(client.status).toBe(201);
    const token = await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'sfm-multi', scopes: [SFM_SCOPE], attestation: koman() });
    expect(token.status).toBe(200);
    const refused = await server.http
      .post(`${sfm()}/Patient/$getMedication`)
      .set('Authorization', `Bearer ${token.body.access_token}`)
      .send(getParameters(TROY_HAMMER));
    expect(refused.status).toBe(403);
    expect(refused.body.issue[0].details.coding[0].code).toBe('NAVET-SFM-JOURNAL-ID');
  });
});

describe('reconciliation: get → change → send → get', () => {
  test('a full cycle makes one new PLL version that the next look-up shows', async () => {
    const before = await listVersion(TROY_HAMMER);
    const got = await getMedication(hospital, getParameters(TROY_HAMMER));
    const bundle = bundleOf(got.body);
    const statements = resourcesOf(bundle, 'MedicationStatement');
    statements[0].dosage = [{ text: '1 tablett morgen og 1 tablett kveld' }];
    statements[1].status = 'stopped';
    const newPll = addStatement(bundle, paracet.festId, paracet.name, '1 tablett ved behov, maks 4 per døgn');
    const sent = await sendMedication(hospital, sendParameters(bundle));
    expect(sent.body.issue ?? []).toEqual([]);
    expect(sent.status).toBe(200);
    const result = param(sent.body, 'PllResult');
    expect(result.part.find((p: { name: string }) => p.name === 'resultCode').valueString).toBe('OK');
    expect(result.part.find((p: { name: string }) => p.name === 'PllmessageID').valueString).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.part.find((p: { name: string }) => p.name === 'pllVersion').valueString).toBe(String(before + 1));
    expect(param(sent.body, 'prescriptionCount').valueInteger).toBe(1);
    expect(param(sent.body, 'recallCount').valueInteger).toBe(1);
    expect(sent.body.parameter.filter((p: { name: string }) => p.name === 'prescriptionOperationResult')).toHaveLength(
      2,
    );
    expect(await listVersion(TROY_HAMMER)).toBe(before + 1);

    const again = bundleOf((await getMedication(gp, getParameters(TROY_HAMMER))).body);
    expect(pllVersionOf(again)).toBe(String(before + 1));
    const now = resourcesOf(again, 'MedicationStatement');
    expect(now.map(pllIdOf)).toContain(newPll);
    expect(now.map(pllIdOf)).not.toContain(pllIdOf(statements[1]));
    expect(now.find((s) => pllIdOf(s) === pllIdOf(statements[0]))?.dosage[0].text).toBe(
      '1 tablett morgen og 1 tablett kveld',
    );
    expect(now).toHaveLength(statements.length);
    expect(await auditCount(TROY_HAMMER, 'sendMedication')).toBe(1);

    // the same organisation may send again on top of its own version
    const second = bundleOf((await getMedication(hospital, getParameters(TROY_HAMMER))).body);
    resourcesOf(second, 'MedicationStatement')[0].note = [{ text: 'Kontrollert ved utskrivning' }];
    expect((await sendMedication(hospital, sendParameters(second))).status).toBe(200);
    expect(await listVersion(TROY_HAMMER)).toBe(before + 2);
  });

  test('two prescribers send from the same version at the same moment: exactly one new version, the other refused with who and when', async () => {
    const before = await listVersion(INGRID_SOLHEIM);
    const [fromHospital, fromGp] = await Promise.all([
      getMedication(hospital, getParameters(INGRID_SOLHEIM)),
      getMedication(gp, getParameters(INGRID_SOLHEIM)),
    ]);
    const a = bundleOf(fromHospital.body);
    const b = bundleOf(fromGp.body);
    resourcesOf(a, 'MedicationStatement')[0].dosage = [{ text: '2 tabletter morgen' }];
    addStatement(b, paracet.festId, paracet.name, '1 tablett ved behov');
    const results = await Promise.all([
      sendMedication(hospital, sendParameters(a)),
      sendMedication(gp, sendParameters(b)),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const refused = results.find((r) => r.status === 409) as (typeof results)[number];
    expect(refused.body.issue[0].details.coding[0].code).toBe('NAVET-SFM-PLL-CONFLICT');
    const winner = results[0].status === 200 ? 'Oslo universitetssykehus' : 'Fagersta Testlegekontor';
    expect(refused.body.issue[0].details.text).toContain(winner);
    expect(refused.body.issue[0].details.text).toContain(`version ${before + 1}`);
    expect(await listVersion(INGRID_SOLHEIM)).toBe(before + 1);
    // the loser's stale bundle stays refused; after a new look-up it goes through
    const loser = results[0].status === 200 ? gp : hospital;
    const stale = results[0].status === 200 ? b : a;
    expect((await sendMedication(loser, sendParameters(stale))).status).toBe(409);
    const fresh = bundleOf((await getMedication(loser, getParameters(INGRID_SOLHEIM))).body);
    expect((await sendMedication(loser, sendParameters(fresh))).status).toBe(200);
    expect(await listVersion(INGRID_SOLHEIM)).toBe(before + 2);

    // three sends (two from one organisation) from one version, several rounds: always exactly one winner
    for (let round = 0; round < 3; round++) {
      const start = await listVersion(INGRID_SOLHEIM);
      const [h, g] = await Promise.all([
        getMedication(hospital, getParameters(INGRID_SOLHEIM)),
        getMedication(gp, getParameters(INGRID_SOLHEIM)),
      ]);
      const bundles = [bundleOf(h.body), bundleOf(g.body), clone(bundleOf(h.body))];
      bundles.forEach((bundle, i) => {
        resourcesOf(bundle, 'MedicationStatement')[0].dosage = [
          { text: `${round + 1} tablett(er) morgen, variant ${i}` },
        ];
      });
      const raced = await Promise.all([
        sendMedication(hospital, sendParameters(bundles[0])),
        sendMedication(gp, sendParameters(bundles[1])),
        sendMedication(hospital, sendParameters(bundles[2])),
      ]);
      expect(raced.map((r) => r.status).sort()).toEqual([200, 409, 409]);
      expect(await listVersion(INGRID_SOLHEIM)).toBe(start + 1);
    }
  });

  test('a missing head-of-chain statement is refused and stores nothing', async () => {
    const before = await listVersion(TROY_HAMMER);
    const bundle = bundleOf((await getMedication(hospital, getParameters(TROY_HAMMER))).body);
    const section = sectionOf(bundle, 'sectionMedication');
    const dropped = section.entry.pop();
    bundle.entry = bundle.entry.filter((e: { fullUrl: string }) => e.fullUrl !== dropped.reference);
    const res = await sendMedication(hospital, sendParameters(bundle));
    expect(res.status).toBe(422);
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-SFM-HEAD-OF-CHAIN');
    expect(await listVersion(TROY_HAMMER)).toBe(before);
  });

  test('bad input: another patient, a missing section, a statement without PLL id, an unknown FEST id, malformed Parameters — a 4xx naming the element, no new version', async () => {
    const before = await listVersion(TROY_HAMMER);
    const base = bundleOf((await getMedication(hospital, getParameters(TROY_HAMMER))).body);
    const ingrid = bundleOf((await getMedication(hospital, getParameters(INGRID_SOLHEIM))).body);
    const statementIndex = (b: typeof base) =>
      b.entry.findIndex(
        (e: { resource: { resourceType: string } }) => e.resource.resourceType === 'MedicationStatement',
      );
    const cases: { name: string; body: unknown; status: number; code: string; expression?: RegExp }[] = [];

    const otherSubject = clone(base);
    otherSubject.entry[statementIndex(otherSubject)].resource.subject = {
      reference: `Patient/${await patientIdOf(server, sandbox, '12119000465')}`,
    };
    cases.push({
      name: 'statement of another patient',
      body: sendParameters(otherSubject),
      status: 400,
      code: 'NAVET-SFM-OTHER-PATIENT',
      expression: /^Bundle\.entry\[\d+\]\.resource\.subject$/,
    });

    const borrowed = clone(ingrid);
    const troysPll = pllIdOf(resourcesOf(base, 'MedicationStatement')[0]);
    addStatement(borrowed, paracet.festId, paracet.name, '1 tablett');
    borrowed.entry[borrowed.entry.length - 1].resource.identifier[1].value = troysPll;
    cases.push({
      name: "another patient's PLL id",
      body: sendParameters(borrowed),
      status: 400,
      code: 'NAVET-SFM-OTHER-PATIENT',
      expression: /identifier$/,
    });

    const noSection = clone(base);
    noSection.entry[0].resource.section = noSection.entry[0].resource.section.filter(
      (s: { code: { coding: { code: string }[] } }) => s.code.coding[0].code !== 'sectionMedication',
    );
    cases.push({
      name: 'missing sectionMedication',
      body: sendParameters(noSection),
      status: 400,
      code: 'NAVET-SFM-SECTION-MISSING',
      expression: /^Bundle\.entry\[0\]\.resource\.section$/,
    });

    const noPll = clone(base);
    noPll.entry[statementIndex(noPll)].resource.identifier = noPll.entry[
      statementIndex(noPll)
    ].resource.identifier.filter((i: { type: { text: string } }) => i.type.text !== 'PLL');
    cases.push({
      name: 'statement without PLL id',
      body: sendParameters(noPll),
      status: 400,
      code: 'NAVET-SFM-PLL-ID-MISSING',
      expression: /^Bundle\.entry\[\d+\]\.resource\.identifier$/,
    });

    const unknownFest = clone(base);
    addStatement(unknownFest, 'ID_00000000-0000-0000-0000-000000000000', 'Ukjent', '1 tablett');
    cases.push({
      name: 'unknown FEST id',
      body: sendParameters(unknownFest),
      status: 400,
      code: 'NAVET-SFM-UNKNOWN-FEST',
      expression: /^Bundle\.entry\[\d+\]\.resource\.code\.coding$/,
    });

    const noComposition = clone(base);
    noComposition.entry = noComposition.entry.slice(1);
    cases.push({
      name: 'no Composition',
      body: sendParameters(noComposition),
      status: 400,
      code: 'NAVET-SFM-COMPOSITION-MISSING',
      expression: /^Bundle\.entry$/,
    });

    cases.push({
      name: 'a bare Bundle',
      body: base,
      status: 400,
      code: 'NAVET-SFM-PARAMETERS',
      expression: /^Parameters$/,
    });
    cases.push({
      name: 'no medication parameter',
      body: { resourceType: 'Parameters', parameter: [] },
      status: 400,
      code: 'NAVET-SFM-PARAMETERS',
    });
    cases.push({
      name: 'medication is not a Bundle',
      body: { resourceType: 'Parameters', parameter: [{ name: 'medication', resource: { resourceType: 'List' } }] },
      status: 400,
      code: 'NAVET-SFM-PARAMETERS',
      expression: /^Parameters\.parameter\[0\]\.resource$/,
    });
    cases.push({
      name: 'malformed JSON',
      body: '{"resourceType": "Parameters", "parameter": [',
      status: 400,
      code: 'NAVET-MALFORMED-JSON',
    });

    for (const item of cases) {
      const res = await sendMedication(hospital, item.body);
      expect([item.name, res.status]).toEqual([item.name, item.status]);
      const issue = res.body.issue.find(
        (i: { details: { coding: { code: string }[] } }) => i.details.coding[0].code === item.code,
      );
      expect([item.name, issue?.details.coding[0].code]).toEqual([item.name, item.code]);
      if (item.expression)
        expect([item.name, issue.expression[0]]).toEqual([item.name, expect.stringMatching(item.expression)]);
    }
    expect(await listVersion(TROY_HAMMER)).toBe(before);
  });

  test('the 4-hour rule: no send without a recent RF look-up by the same organisation', async () => {
    const own = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const path = `/sandboxes/${own.name}/sfm/Patient`;
    const token = async () =>
      getToken(server.http, own.name, { scope: SFM_SCOPE, details: [vits()], clientId: 'demo-gp-system' });
    const hospitalToken = (await sfmTokens(server, own.name)).hospital;
    const bundle = bundleOf(
      (await sfmCall(server, hospitalToken, 'POST', `${path}/$getMedication`, getParameters(TROY_HAMMER))).body,
    );
    // the GP never looked Troy Hammer up
    const never = await sfmCall(server, await token(), 'POST', `${path}/$sendMedication`, sendParameters(bundle));
    expect(never.status).toBe(422);
    expect(never.body.issue[0].details.coding[0].code).toBe('NAVET-SFM-NO-LOOKUP');
    // a look-up while RF is down does not count
    await server.http
      .put(`/api/sandboxes/${own.name}/settings/sfm`)
      .set('Authorization', own.auth)
      .send({ reseptformidleren: { mode: 'unavailable' } });
    const gpToken = await token();
    await sfmCall(server, gpToken, 'POST', `${path}/$getMedication`, getParameters(TROY_HAMMER));
    expect((await sfmCall(server, gpToken, 'POST', `${path}/$sendMedication`, sendParameters(bundle))).status).toBe(
      422,
    );
    await server.http.put(`/api/sandboxes/${own.name}/settings/sfm`).set('Authorization', own.auth).send({});
    // the hospital's look-up made 5 hours ago by the sandbox clock (its record edited through the admin FHIR API)
    const record = `/sandboxes/${own.name}/fhir/Basic/sfm-lookup-993467049-${await patientIdOf(server, own, TROY_HAMMER)}`;
    const lookup = (await server.http.get(record).set('Authorization', own.auth)).body;
    const at = lookup.extension.find((e: { url: string }) => e.url.endsWith('/looked-up-at'));
    at.valueDateTime = new Date(Date.now() - 5 * 3600_000).toISOString();
    const put = await server.http.put(record).set('Authorization', own.auth).type('application/fhir+json').send(lookup);
    expect([put.status, put.body.issue]).toEqual([200, undefined]);
    const later = hospitalToken;
    const late = await sfmCall(server, later, 'POST', `${path}/$sendMedication`, sendParameters(bundle));
    expect(late.status).toBe(422);
    expect(late.body.issue[0].details.text).toContain('more than 4 hours ago');
    const fresh = bundleOf(
      (await sfmCall(server, later, 'POST', `${path}/$getMedication`, getParameters(TROY_HAMMER))).body,
    );
    expect((await sfmCall(server, later, 'POST', `${path}/$sendMedication`, sendParameters(fresh))).status).toBe(200);
  });
});

describe('partial failures (failure injection per sandbox)', () => {
  afterEach(async () => {
    await settings({});
  });

  test('Kjernejournal unavailable: KJFeilkode, and the PLL from RF is still there', async () => {
    expect((await settings({ kjernejournal: { mode: 'unavailable' } })).status).toBe(200);
    const res = await getMedication(hospital, getParameters(TROY_HAMMER));
    expect(res.status).toBe(200);
    expect(param(res.body, 'KJFeilkode').valueCoding.code).toBe('KJ-UNAVAILABLE');
    expect(param(res.body, 'RFM96Feilkode')).toBeUndefined();
    expect(param(res.body, 'RFHentetTidspunkt')).toBeDefined();
    expect(resourcesOf(bundleOf(res.body), 'MedicationStatement').length).toBeGreaterThan(0);
    expect(resourcesOf(bundleOf(res.body), 'AllergyIntolerance')).toEqual([]);
  });

  test('Reseptformidleren unavailable: RFM96Feilkode, no list, and the KJ half is still there', async () => {
    await settings({ reseptformidleren: { mode: 'unavailable' } });
    const res = await getMedication(hospital, getParameters(TROY_HAMMER));
    expect(res.status).toBe(200);
    expect(param(res.body, 'RFM96Feilkode').valueCoding).toMatchObject({
      system: 'http://ehelse.no/fhir/CodeSystem/sfm-kj-rf-error-code',
      code: 'RF-UNAVAILABLE',
    });
    expect(param(res.body, 'RFM912Feilkode').valueCoding.code).toBe('RF-UNAVAILABLE');
    expect(param(res.body, 'RFHentetTidspunkt')).toBeUndefined();
    expect(resourcesOf(bundleOf(res.body), 'MedicationStatement')).toEqual([]);
    expect(resourcesOf(bundleOf(res.body), 'AllergyIntolerance').length).toBeGreaterThan(0);
    expect(param(res.body, 'KJHentetTidspunkt')).toBeDefined();
  });

  test('slow and timing-out backends', async () => {
    await settings({
      reseptformidleren: { mode: 'slow', delayMs: 400 },
      kjernejournal: { mode: 'timeout', delayMs: 200 },
    });
    const started = Date.now();
    const res = await getMedication(hospital, getParameters(TROY_HAMMER));
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(param(res.body, 'RFM96Feilkode')).toBeUndefined();
    expect(param(res.body, 'KJFeilkode').valueCoding.code).toBe('KJ-TIMEOUT');
    expect(resourcesOf(bundleOf(res.body), 'MedicationStatement').length).toBeGreaterThan(0);
  });

  test('the settings API checks its input and needs the admin key', async () => {
    const bad = await settings({ kjernejournal: { mode: 'down' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issue[0].expression).toEqual(['kjernejournal.mode']);
    expect((await settings({ reseptformidleren: { mode: 'slow', delayMs: -1 } })).body.issue[0].expression).toEqual([
      'reseptformidleren.delayMs',
    ]);
    expect((await server.http.put(`/api/sandboxes/${sandbox.name}/settings/sfm`).send({})).status).toBe(401);
    expect(
      (await server.http.get(`/api/sandboxes/${sandbox.name}/settings/sfm`).set('Authorization', sandbox.auth)).body
        .kjernejournal.mode,
    ).toBe('available');
  });
});

describe('data sharing for home care', () => {
  const ticketFor = (t: TokenResult, nin: string) =>
    sfmCall(server, t, 'POST', `${sfm()}/api/PatientTicket`, { patientPid: nin });

  test('session, patient ticket, the list with its statements and medicines, a medicine by FEST id — each read logged', async () => {
    const session = await sfmCall(server, homeCare, 'POST', `${sfm()}/api/Session/create`);
    expect(session.status).toBe(201);
    expect(session.body.sessionId).toEqual(expect.any(String));
    const ticket = await ticketFor(homeCare, TROY_HAMMER);
    expect(ticket.status).toBe(201);
    const id = ticket.body.patientTicket as string;
    const listReads = await auditCount(TROY_HAMMER, 'List');

    const full = await sfmCall(server, homeCare, 'GET', `${sfm()}/List?patientTicket=${id}&summary=false`);
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    const list = full.body.entry[0].resource;
    expect(list).toMatchObject({ resourceType: 'List', subject: { identifier: { value: TROY_HAMMER } } });
    const statements = full.body.entry.filter(
      (e: { resource: { resourceType: string } }) => e.resource.resourceType === 'MedicationStatement',
    );
    expect(statements).toHaveLength(list.entry.length);
    expect(
      full.body.entry.some((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Medication'),
    ).toBe(true);
    const summary = await sfmCall(server, homeCare, 'GET', `${sfm()}/List?patientTicket=${id}&summary=true`);
    expect(summary.body.entry).toHaveLength(1);
    const administration = await sfmCall(
      server,
      homeCare,
      'GET',
      `${sfm()}/List?patientTicket=${id}&_query=administration&from=2026-01-01&to=2026-12-31`,
    );
    expect(administration.body).toMatchObject({ type: 'searchset', total: 0 });
    expect(await auditCount(TROY_HAMMER, 'List')).toBe(listReads + 3);

    const medication = await sfmCall(
      server,
      homeCare,
      'GET',
      `${sfm()}/Medication?_id=${paracet.festId}&patientTicket=${id}`,
    );
    expect(medication.status).toBe(200);
    expect(medication.body.entry[0].resource.code.coding[0]).toMatchObject({
      code: paracet.festId,
      display: paracet.name,
    });
    expect(await auditCount(TROY_HAMMER, 'Medication')).toBe(1);
    expect(
      (await sfmCall(server, homeCare, 'GET', `${sfm()}/Medication?_id=ID_00000000-0000-0000-0000-000000000000`)).body
        .total,
    ).toBe(0);
  });

  test('tickets: required, unknown, of another organisation, expired', async () => {
    expect((await sfmCall(server, homeCare, 'GET', `${sfm()}/List?summary=false`)).status).toBe(400);
    expect((await sfmCall(server, homeCare, 'GET', `${sfm()}/List?patientTicket=nope`)).status).toBe(404);
    const ticket = (await ticketFor(homeCare, TROY_HAMMER)).body.patientTicket;
    expect((await sfmCall(server, gp, 'GET', `${sfm()}/List?patientTicket=${ticket}`)).status).toBe(404);
    expect((await ticketFor(homeCare, '123')).status).toBe(400);
    expect((await ticketFor(homeCare, '13116900217')).status).toBe(404);
    const other = await getToken(server.http, sandbox.name, {
      clientId: 'demo-home-care-system',
      scope: SFM_SCOPE,
      details: [vits('958935420', '883953142')],
    });
    expect((await sfmCall(server, other, 'GET', `${sfm()}/List?patientTicket=${ticket}`)).status).toBe(200);
  });
});

describe('privacy and integrity', () => {
  test('a blocked health worker and a restricted Kjernejournal get a KJ error and nothing from KJ, as in Kjernejournal itself', async () => {
    const choices = new PrivacyChoiceStore(server.navet.sandboxes.store);
    const id = await choices.blockPractitioner(
      sandbox.name,
      TROY_HAMMER,
      await patientIdOf(server, sandbox, TROY_HAMMER),
      { hprNumber: '9144900' },
      new Date().toISOString(),
    );
    try {
      const blocked = await getMedication(hospital, getParameters(TROY_HAMMER));
      expect(param(blocked.body, 'KJFeilkode').valueCoding.code).toBe('KJ-HPR-BLOCKED');
      expect(resourcesOf(bundleOf(blocked.body), 'AllergyIntolerance')).toEqual([]);
      expect(
        resourcesOf(
          bundleOf(await getMedication(gp, getParameters(TROY_HAMMER)).then((r) => r.body)),
          'AllergyIntolerance',
        ).length,
      ).toBeGreaterThan(0);
    } finally {
      await choices.unblockPractitioner(sandbox.name, TROY_HAMMER, id, new Date().toISOString());
    }
    await choices.setSwitch(
      sandbox.name,
      TROY_HAMMER,
      await patientIdOf(server, sandbox, TROY_HAMMER),
      'kjernejournal-restriction',
      true,
      new Date().toISOString(),
    );
    try {
      const ordinary = await getMedication(hospital, getParameters(TROY_HAMMER));
      expect(param(ordinary.body, 'KJFeilkode').valueCoding.code).toBe('KJ-RESTRICTED');
      expect(resourcesOf(bundleOf(ordinary.body), 'AllergyIntolerance')).toEqual([]);
      const emergency = await getMedication(
        hospital,
        getParameters(TROY_HAMMER, [{ name: 'SamtykkeKjernejournal', valueCoding: { code: 'HPAKUTT' } }]),
      );
      expect(param(emergency.body, 'KJFeilkode')).toBeUndefined();
      expect(resourcesOf(bundleOf(emergency.body), 'AllergyIntolerance').length).toBeGreaterThan(0);
    } finally {
      await choices.setSwitch(
        sandbox.name,
        TROY_HAMMER,
        await patientIdOf(server, sandbox, TROY_HAMMER),
        'kjernejournal-restriction',
        false,
        new Date().toISOString(),
      );
    }
  });

  test('a fødselsnummer sent as a number is refused, not looked up', async () => {
    const body = getParameters(TROY_HAMMER);
    (body.parameter[0].resource as { identifier: { value: unknown }[] }).identifier[0].value = Number(TROY_HAMMER);
    const res = await getMedication(hospital, body);
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-SFM-PATIENT');
  });

  test('a malformed medication Bundle gets a 400 naming the element, never a 500, and no new version', async () => {
    const before = await listVersion(TROY_HAMMER);
    const bundle = bundleOf((await getMedication(hospital, getParameters(TROY_HAMMER))).body);
    const composition = bundle.entry[0].resource;
    composition.section = composition.section[0];
    const res = await sendMedication(hospital, sendParameters(bundle));
    expect(res.status).toBe(400);
    expect(res.body.issue.flatMap((i: { expression?: string[] }) => i.expression ?? []).join(' ')).toContain('section');
    expect(await listVersion(TROY_HAMMER)).toBe(before);
  });

  test('a send cannot claim a newer PLL version than its look-up saw', async () => {
    const seenByGp = bundleOf((await getMedication(gp, getParameters(TROY_HAMMER))).body);
    const byHospital = bundleOf((await getMedication(hospital, getParameters(TROY_HAMMER))).body);
    resourcesOf(byHospital, 'MedicationStatement')[0].note = [{ text: 'Endret av sykehuset' }];
    expect((await sendMedication(hospital, sendParameters(byHospital))).status).toBe(200);
    const current = await listVersion(TROY_HAMMER);
    const info = resourcesOf(seenByGp, 'Basic')[0].extension.find((e: { url: string }) =>
      e.url.endsWith('/pll-version'),
    );
    info.valueString = String(current);
    const res = await sendMedication(gp, sendParameters(seenByGp));
    expect(res.status).toBe(409);
    expect(await listVersion(TROY_HAMMER)).toBe(current);
  });
});
