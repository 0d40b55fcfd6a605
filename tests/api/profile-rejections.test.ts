import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FEST_MEDICINES } from '../../src/services/medication-list/fest-catalogue';
import { makeDpopProof } from '../../src/trust/dpop-client';
import { GRY_TELOKK } from '../helpers/documents';
import { getToken, type TokenResult } from '../helpers/helseid-client';
import { EHELSE, labBundle, NILAR } from '../helpers/lab-results';
import { clone, FEST, FNR, SECTION_SYSTEM, sendParameters, sfmCall, sfmTokens, TROY_HAMMER } from '../helpers/sfm';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

/**
 * The golden outcomes of the SFM and PPS profiles: for each rule a request that breaks it, and the
 * OperationOutcome issues a vendor gets back (status, issue code, Navet code, expression, text),
 * compared with profile-rejections.golden.json. A change to the profiles or their engine that changes
 * what a vendor sees fails here. After a deliberate change: UPDATE_GOLDEN=1 npx jest <this file>.
 */
const GOLDEN = path.join(__dirname, 'profile-rejections.golden.json');

type Json = Record<string, any>;
interface Answer {
  status: number;
  issues: { code: string; navetCode?: string; expression?: string[]; text: string }[];
}

let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let hospital: TokenResult;
let lab: TokenResult;

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  ({ hospital } = await sfmTokens(server, sandbox.name));
  lab = await getToken(server.http, sandbox.name, { clientId: 'demo-lab-system', scope: 'navet:pps/submit-result' });
  expect(hospital.status).toBe(200);
  expect(lab.status).toBe(200);
});
afterAll(() => server.close());

const answerOf = (res: { status: number; body: Json }): Answer => ({
  status: res.status,
  issues: (res.body.issue ?? []).map((i: Json) => ({
    code: i.code,
    navetCode: i.details?.coding?.[0]?.code,
    expression: i.expression,
    text: i.details?.text,
  })),
});

// ---- SFM: $sendMedication with one patient's medication Bundle, each case breaking one rule
const medicine = FEST_MEDICINES[0];
function medicationBundle(): Json {
  return {
    resourceType: 'Bundle',
    type: 'document',
    entry: [
      {
        fullUrl: 'urn:uuid:c0000000-0000-4000-8000-000000000001',
        resource: {
          resourceType: 'Composition',
          status: 'final',
          title: 'Legemiddelliste',
          date: '2026-10-01T10:00:00+02:00',
          type: { coding: [{ system: 'http://loinc.org', code: '11503-0' }] },
          author: [{ display: 'Navet' }],
          subject: { reference: 'urn:uuid:c0000000-0000-4000-8000-000000000002' },
          section: [
            {
              title: 'Legemidler',
              code: { coding: [{ system: SECTION_SYSTEM, code: 'sectionMedication' }] },
              entry: [{ reference: 'urn:uuid:c0000000-0000-4000-8000-000000000004' }],
            },
            {
              title: 'Allergier',
              code: { coding: [{ system: SECTION_SYSTEM, code: 'sectionAllergies' }] },
              entry: [{ reference: 'urn:uuid:c0000000-0000-4000-8000-000000000005' }],
            },
            {
              title: 'PLL',
              code: { coding: [{ system: SECTION_SYSTEM, code: 'sectionPLLinfo' }] },
              entry: [{ reference: 'urn:uuid:c0000000-0000-4000-8000-000000000006' }],
            },
          ],
        },
      },
      {
        fullUrl: 'urn:uuid:c0000000-0000-4000-8000-000000000002',
        resource: { resourceType: 'Patient', identifier: [{ system: FNR, value: TROY_HAMMER }] },
      },
      {
        fullUrl: 'urn:uuid:c0000000-0000-4000-8000-000000000003',
        resource: {
          resourceType: 'Medication',
          code: { coding: [{ system: FEST, code: medicine.festId, display: medicine.name }] },
        },
      },
      {
        fullUrl: 'urn:uuid:c0000000-0000-4000-8000-000000000004',
        resource: {
          resourceType: 'MedicationStatement',
          status: 'active',
          identifier: [{ type: { text: 'PLL' }, value: 'b0000000-0000-4000-8000-000000000001' }],
          medicationReference: { reference: 'urn:uuid:c0000000-0000-4000-8000-000000000003' },
          subject: { reference: 'urn:uuid:c0000000-0000-4000-8000-000000000002' },
          dosage: [{ text: '1 tablett morgen' }],
        },
      },
      {
        fullUrl: 'urn:uuid:c0000000-0000-4000-8000-000000000005',
        resource: {
          resourceType: 'AllergyIntolerance',
          category: ['medication'],
          code: { coding: [{ system: 'http://www.whocc.no/atc', code: 'J01CE02' }] },
          patient: { reference: 'urn:uuid:c0000000-0000-4000-8000-000000000002' },
        },
      },
      {
        fullUrl: 'urn:uuid:c0000000-0000-4000-8000-000000000006',
        resource: {
          resourceType: 'Basic',
          code: { coding: [{ system: 'http://ehelse.no/fhir/CodeSystem/sfm-message-type', code: 'M25.1' }] },
        },
      },
    ],
  };
}
const resourceOf = (bundle: Json, type: string): Json =>
  bundle.entry.find((e: Json) => e.resource.resourceType === type).resource;
const sfmCases: Record<string, (b: Json) => void> = {
  'sfm-bundle-1 type is not document': (b) => {
    b.type = 'collection';
  },
  'sfm-bundle-2 no Composition': (b) => {
    b.entry.shift();
  },
  'sfm-bundle-2 two Compositions': (b) => {
    b.entry.push(clone(b.entry[0]));
  },
  'sfm-bundle-3 no Patient': (b) => {
    b.entry.splice(1, 1);
  },
  'sfm-bundle-3 two Patients': (b) => {
    b.entry.push({ resource: { resourceType: 'Patient', identifier: [{ system: FNR, value: '10086148248' }] } });
  },
  'sfm-comp-1 Composition.type not LOINC 11503-0': (b) => {
    resourceOf(b, 'Composition').type = { coding: [{ system: 'http://loinc.org', code: '60591-5' }] };
  },
  'sfm-comp-2 no sectionMedication': (b) => {
    resourceOf(b, 'Composition').section.shift();
  },
  'sfm-comp-2 two sectionMedication': (b) => {
    const c = resourceOf(b, 'Composition');
    c.section.push(clone(c.section[0]));
  },
  'sfm-comp-3 a section of an unknown code': (b) => {
    resourceOf(b, 'Composition').section[1].code.coding[0].code = 'sectionNotes';
  },
  'sfm-comp-3 a section coded in another system': (b) => {
    resourceOf(b, 'Composition').section[2].code.coding[0].system = 'http://loinc.org';
  },
  'sfm-ms-1 no PLL identifier': (b) => {
    resourceOf(b, 'MedicationStatement').identifier[0].type.text = 'ReseptId';
  },
  'sfm-ms-1 a PLL identifier without value': (b) => {
    delete resourceOf(b, 'MedicationStatement').identifier[0].value;
  },
  'sfm-ms-2 status intended': (b) => {
    resourceOf(b, 'MedicationStatement').status = 'intended';
  },
  'sfm-ms-3 no medication': (b) => {
    delete resourceOf(b, 'MedicationStatement').medicationReference;
  },
  'sfm-ms-4 subject without reference or identifier': (b) => {
    resourceOf(b, 'MedicationStatement').subject = { display: 'Troy Hammer' };
  },
  'sfm-ms-5 active without dosage': (b) => {
    delete resourceOf(b, 'MedicationStatement').dosage;
  },
  'sfm-ms-5 active with a dosage of neither text nor timing': (b) => {
    resourceOf(b, 'MedicationStatement').dosage = [{ sequence: 1 }];
  },
  'sfm-med-1 Medication coded outside FEST': (b) => {
    resourceOf(b, 'Medication').code.coding[0].system = 'http://www.whocc.no/atc';
  },
  'sfm-med-1 FEST code not ID_<GUID>': (b) => {
    resourceOf(b, 'Medication').code.coding[0].code = '1234';
  },
  'sfm-med-1 FEST coding without display': (b) => {
    delete resourceOf(b, 'Medication').code.coding[0].display;
  },
  'sfm-pat-1 Patient identified by HPR': (b) => {
    resourceOf(b, 'Patient').identifier[0].system = 'urn:oid:2.16.578.1.12.4.1.4.4';
  },
  'sfm-pat-1 fødselsnummer of 10 digits': (b) => {
    resourceOf(b, 'Patient').identifier[0].value = '2503929692';
  },
  'kj-all-1 allergy without category': (b) => {
    delete resourceOf(b, 'AllergyIntolerance').category;
  },
  'kj-all-1 allergy without code': (b) => {
    delete resourceOf(b, 'AllergyIntolerance').code;
  },
  'sfm-pll-1 PLL info of another message type': (b) => {
    resourceOf(b, 'Basic').code.coding[0].code = 'M1';
  },
  'several rules at once, in several entries': (b) => {
    b.type = 'collection';
    resourceOf(b, 'MedicationStatement').status = 'intended';
    delete resourceOf(b, 'Medication').code.coding[0].display;
  },
};

// ---- PPS: a lab's transaction Bundle (tests/helpers/lab-results.ts), each case breaking one NILAR rule
const entryOf = (b: Json, type: string, n = 0): Json =>
  b.entry.filter((e: Json) => e.resource.resourceType === type)[n].resource;
const report = (b: Json) => entryOf(b, 'DiagnosticReport');
const observation = (b: Json) => entryOf(b, 'Observation');
const ppsCases: Record<string, (b: Json) => void> = {
  'report status done (not R4)': (b) => {
    report(b).status = 'done';
  },
  'report status unknown (R4, not NILAR)': (b) => {
    report(b).status = 'unknown';
  },
  'report without identifier': (b) => {
    delete report(b).identifier;
  },
  'report without category': (b) => {
    delete report(b).category;
  },
  'report with two categories': (b) => {
    report(b).category.push(clone(report(b).category[0]));
  },
  'report category coded in LOINC': (b) => {
    report(b).category[0].coding[0].system = 'http://loinc.org';
  },
  'report category of Volven 8202 without code': (b) => {
    delete report(b).category[0].coding[0].code;
  },
  'report code in another Volven system': (b) => {
    report(b).code.coding[0].system = EHELSE('7280');
  },
  'report without nilar-report-date': (b) => {
    report(b).extension = [];
  },
  'report with two nilar-report-dates': (b) => {
    report(b).extension.push(clone(report(b).extension[0]));
  },
  'report date as a string, not a dateTime': (b) => {
    report(b).extension[0] = { url: `${NILAR}/nilar-report-date`, valueString: 'i går' };
  },
  'report subject identifier of HPR': (b) => {
    report(b).subject = { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: GRY_TELOKK } };
  },
  'report performer without reference or identifier': (b) => {
    report(b).performer = [{ display: 'Fürst' }];
  },
  'observation status pending (not R4)': (b) => {
    observation(b).status = 'pending';
  },
  'observation without diagnosticreportref': (b) => {
    observation(b).extension = [];
  },
  'observation diagnosticreportref without reference': (b) => {
    observation(b).extension[0].valueReference = { display: 'the report' };
  },
  'observation code in LOINC': (b) => {
    observation(b).code.coding[0].system = 'http://loinc.org';
  },
  'observation valueString': (b) => {
    delete observation(b).valueQuantity;
    observation(b).valueString = 'high';
  },
  'observation valueQuantity without value': (b) => {
    delete observation(b).valueQuantity.value;
  },
  'observation valueQuantity not UCUM': (b) => {
    observation(b).valueQuantity.system = 'http://snomed.info/sct';
  },
  'observation valueQuantity without system': (b) => {
    delete observation(b).valueQuantity.system;
  },
  'observation valueQuantity unit mmHg (UCUM has mm[Hg])': (b) => {
    observation(b).valueQuantity.code = 'mmHg';
  },
  'observation valueRange with a unit that is not UCUM': (b) => {
    delete observation(b).valueQuantity;
    observation(b).valueRange = {
      low: { value: 1, system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      high: { value: 2, system: 'http://unitsofmeasure.org', code: 'millimol' },
    };
  },
  'observation valueRange with only a low, not UCUM': (b) => {
    delete observation(b).valueQuantity;
    observation(b).valueRange = { low: { value: 1, code: 'mmol/L' } };
  },
  'observation referenceRange with a bad unit': (b) => {
    observation(b).referenceRange = [
      {
        low: { value: 11.7, system: 'http://unitsofmeasure.org', code: 'g/dL' },
        high: { value: 15.3, system: 'http://unitsofmeasure.org', code: 'gram/dL' },
      },
    ];
  },
  'observation referenceRange with only a high, without value': (b) => {
    observation(b).referenceRange = [{ high: { system: 'http://unitsofmeasure.org', code: 'g/dL' } }];
  },
  'observation interpretation in another system': (b) => {
    observation(b).interpretation[0].coding[0].system =
      'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
  },
  'observation effectivePeriod': (b) => {
    delete observation(b).effectiveDateTime;
    observation(b).effectivePeriod = { start: '2026-10-05T08:15:00+02:00' };
  },
  'specimen without accessionIdentifier': (b) => {
    delete entryOf(b, 'Specimen').accessionIdentifier;
  },
  'specimen accessionIdentifier of blanks': (b) => {
    entryOf(b, 'Specimen').accessionIdentifier.value = '   ';
  },
  'specimen without collected': (b) => {
    delete entryOf(b, 'Specimen').collection;
  },
  'specimen collectedPeriod': (b) => {
    entryOf(b, 'Specimen').collection = { collectedPeriod: { start: '2026-10-05T08:15:00+02:00' } };
  },
  'specimen type in SNOMED CT': (b) => {
    entryOf(b, 'Specimen').type.coding[0].system = 'http://snomed.info/sct';
  },
  'service request status scheduled': (b) => {
    entryOf(b, 'ServiceRequest').status = 'scheduled';
  },
  'service request intent request': (b) => {
    entryOf(b, 'ServiceRequest').intent = 'request';
  },
  'service request requester without reference or identifier': (b) => {
    entryOf(b, 'ServiceRequest').requester = { display: 'Dr. Vits' };
  },
  'practitioner role with a practitioner of another system': (b) => {
    entryOf(b, 'PractitionerRole').practitioner.identifier.system = 'urn:oid:2.16.578.1.12.4.1.2';
  },
  'practitioner role with an organization of another system': (b) => {
    entryOf(b, 'PractitionerRole', 1).organization.identifier.system = 'urn:oid:2.16.578.1.12.4.1.4.4';
  },
  'several rules at once, in several entries': (b) => {
    report(b).status = 'unknown';
    observation(b).valueQuantity.code = 'mmHg';
    entryOf(b, 'Observation', 1).interpretation[0].coding[0].system = 'http://loinc.org';
  },
};

// the other forms the profiles accept
const sfmAccepted: Record<string, (b: Json) => void> = {
  'a D-number': (b) => {
    resourceOf(b, 'Patient').identifier[0] = { system: 'urn:oid:2.16.578.1.12.4.1.4.2', value: '45039296929' };
  },
  'a stopped statement without dosage': (b) => {
    const s = resourceOf(b, 'MedicationStatement');
    s.status = 'stopped';
    delete s.dosage;
  },
  'a subject by identifier': (b) => {
    resourceOf(b, 'MedicationStatement').subject = { identifier: { system: FNR, value: TROY_HAMMER } };
  },
};
const ppsAccepted: Record<string, (b: Json) => void> = {
  'Volven 8202 in its OID form, 7280 in its helsedir form': (b) => {
    report(b).category[0].coding[0].system = 'urn:oid:2.16.578.1.12.4.1.1.8202';
    observation(b).code.coding[0].system = 'http://helsedir.no/fhir/CodeSystem/no-kodeverk-7280';
  },
  'a valueRange and a referenceRange in UCUM, a valueCodeableConcept': (b) => {
    delete observation(b).valueQuantity;
    observation(b).valueRange = {
      low: { value: 1, system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      high: { value: 2, system: 'http://unitsofmeasure.org', code: 'mmol/L' },
    };
    observation(b).referenceRange = [
      {
        low: { value: 11.7, system: 'http://unitsofmeasure.org', code: 'g/dL' },
        high: { value: 15.3, system: 'http://unitsofmeasure.org', code: 'g/dL' },
      },
    ];
    const other = entryOf(b, 'Observation', 1);
    delete other.valueQuantity;
    other.valueCodeableConcept = { coding: [{ system: 'http://snomed.info/sct', code: '260385009' }] };
  },
};

async function sendMedication(body: unknown) {
  return sfmCall(server, hospital, 'POST', `/sandboxes/${sandbox.name}/sfm/Patient/$sendMedication`, body);
}
async function submit(body: unknown) {
  const url = `/sandboxes/${sandbox.name}/pps`;
  const proof = await makeDpopProof(lab.dpopKey, {
    method: 'POST',
    url: `${TEST_BASE_URL}${url}`,
    accessToken: lab.body.access_token,
  });
  return server.http
    .post(url)
    .type('application/fhir+json')
    .set({ Authorization: `DPoP ${lab.body.access_token}`, DPoP: proof })
    .send(body as object);
}

test('the outcomes of every SFM and PPS profile rule are the golden ones', async () => {
  // the unbroken requests and the other accepted forms pass the profiles
  for (const [name, change] of Object.entries({ 'as built': (_b: Json) => undefined, ...sfmAccepted })) {
    const bundle = medicationBundle();
    change(bundle);
    const answer = answerOf(await sendMedication(sendParameters(bundle)));
    // past the profiles: refused later for want of a look-up (or of the D-number's patient), never with a 400
    expect([name, answer.status, answer.issues.map((i) => i.code)]).toEqual([
      name,
      expect.any(Number),
      expect.not.arrayContaining(['invariant']),
    ]);
    expect([name, answer.status]).not.toEqual([name, 400]);
  }
  const answers: Record<string, Record<string, Answer>> = { sfm: {}, pps: {} };
  for (const [name, breakIt] of Object.entries(sfmCases)) {
    const bundle = medicationBundle();
    breakIt(bundle);
    answers.sfm[name] = answerOf(await sendMedication(sendParameters(bundle)));
  }
  let n = 0;
  for (const [name, breakIt] of Object.entries(ppsCases)) {
    n += 1;
    const bundle = labBundle({ nin: GRY_TELOKK, reportId: `G-${n}` }) as Json;
    breakIt(bundle);
    answers.pps[name] = answerOf(await submit(bundle));
  }
  for (const group of Object.values(answers)) {
    for (const [name, answer] of Object.entries(group))
      expect([name, answer.status >= 400 && answer.status < 500, answer.issues.length > 0]).toEqual([name, true, true]);
  }
  for (const [name, change] of Object.entries({ 'as built': (_b: Json) => undefined, ...ppsAccepted })) {
    n += 1;
    const bundle = labBundle({ nin: GRY_TELOKK, reportId: `G-${n}` }) as Json;
    change(bundle);
    const res = await submit(bundle);
    expect([name, res.status, answerOf(res).issues]).toEqual([name, 200, []]);
  }

  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, `${JSON.stringify(answers, null, 2)}\n`);
  expect(answers).toEqual(JSON.parse(readFileSync(GOLDEN, 'utf8')));
});
