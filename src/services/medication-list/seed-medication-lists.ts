import { createHash } from 'node:crypto';
import type { FhirResource } from '../../fhir/types';
import { FEST_MEDICINES, type FestMedicine, medicationId, medicationResource } from './fest-catalogue';
import { type PllAuthor, pllList } from './pll-store';
import { PROFILE, SFM } from './sfm-codes';
import { identifierSystemOf, SYSTEMS } from '../../codes/code-systems';
import type { GeneratorSettings } from '../../sandbox/seed-resources';
import { createFaker } from '../../sandbox/seed/synthetic';
import { seedToken } from '../../sandbox/seed/resources';

/**
 * The seed's medication lists (PLL): the catalogue Medications, and for a realistic share of patients
 * (most of the elderly, some of the middle-aged, few of the young; both public SFM test persons) a PLL
 * with one to three versions reconciled by a GP and a hospital, MedicationStatements with their own
 * version history, some multidose patients, a few locked prescriptions, Kjernejournal dispenses and
 * drug-reaction allergies. Deterministic from the generator seed and the reference date.
 */
export interface VersionedSeed {
  resource: FhirResource;
  /** Earlier versions, oldest first, each with meta.lastUpdated. */
  history?: FhirResource[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** 10086148248: multidose with a locked prescription; 25039296929 (Troy Hammer): three versions and an allergy. */
const SFM_TEST_PERSONS = new Set(['10086148248', '25039296929']);
const GP: PllAuthor = {
  orgnr: '100100673',
  orgName: 'Fagersta Testlegekontor',
  practitioner: 'Grønn Vits',
  hpr: '565501872',
};
const HOSPITAL: PllAuthor = {
  orgnr: '993467049',
  orgName: 'Oslo universitetssykehus HF',
  practitioner: 'Magnar Koman',
  hpr: '9144900',
};
const PHARMACIES = ['Apotek 1 Storgata', 'Vitusapotek Jernbanetorget', 'Boots apotek Sandvika', 'Ditt Apotek Bryn'];
const LOCKED_TAG = { system: SFM.locked, code: 'locked', display: 'Låst resept' };

function guid(text: string): string {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function ninOf(patient: FhirResource): string {
  return (patient.identifier as { value: string }[])[0].value;
}

function ageOn(birthDate: string, referenceDate: string): number {
  return Math.floor((Date.parse(referenceDate) - Date.parse(birthDate)) / (365.25 * DAY_MS));
}

function statement(
  patient: FhirResource,
  nin: string,
  k: number,
  medicine: FestMedicine,
  dosage: string,
  date: string,
  author: PllAuthor,
  status = 'active',
): FhirResource {
  return {
    resourceType: 'MedicationStatement',
    id: `pll-ms-${seedToken(nin)}-${k}`,
    meta: { profile: [PROFILE.statement], lastUpdated: date },
    identifier: [
      { type: { text: 'ReseptId' }, value: guid(`resept:${nin}:${k}`) },
      { type: { text: 'PLL' }, value: guid(`pll:${nin}:${k}`) },
    ],
    status,
    category: { coding: [{ system: SFM.use, code: '1', display: 'Fast' }] },
    medicationReference: { reference: `Medication/${medicationId(medicine.festId)}`, display: medicine.name },
    subject: { reference: `Patient/${patient.id}`, identifier: { system: identifierSystemOf(nin), value: nin } },
    effectivePeriod: { start: date.slice(0, 10) },
    dateAsserted: date,
    informationSource: { display: `${author.practitioner}, ${author.orgName}` },
    dosage: [
      {
        text: dosage,
        ...(/morgen/.test(dosage)
          ? { timing: { code: { coding: [{ system: SFM.timeOfDay, code: '1', display: 'Morgen' }] } } }
          : {}),
        asNeededBoolean: /ved behov/.test(dosage),
      },
    ],
  };
}

export function buildSeedMedicationLists(patients: FhirResource[], settings: GeneratorSettings): VersionedSeed[] {
  const faker = createFaker(settings.seed + 7448);
  const reference = Date.parse(`${settings.referenceDate}T00:00:00Z`);
  const daysAgo = (days: number, hour: number) =>
    new Date(reference - days * DAY_MS + hour * 60 * 60 * 1000).toISOString();
  const out: VersionedSeed[] = FEST_MEDICINES.map((m) => ({ resource: medicationResource(m) }));

  for (const patient of patients) {
    const nin = ninOf(patient);
    const age = ageOn(String(patient.birthDate), settings.referenceDate);
    const roll = faker.number.float({ min: 0, max: 1 });
    const share = age >= 65 ? 0.7 : age >= 40 ? 0.35 : 0.08;
    if (!SFM_TEST_PERSONS.has(nin) && roll >= share) continue;
    const multidose = nin === '10086148248' || (age >= 75 && faker.number.float({ min: 0, max: 1 }) < 0.4);
    const count = multidose
      ? faker.number.int({ min: 5, max: 9 })
      : faker.number.int({ min: SFM_TEST_PERSONS.has(nin) ? 4 : 2, max: 6 });
    const medicines = faker.helpers.arrayElements(FEST_MEDICINES as FestMedicine[], count + 1);
    const versions = nin === '25039296929' ? 3 : faker.number.int({ min: 1, max: 3 });
    const dates = [
      daysAgo(faker.number.int({ min: 300, max: 500 }), 9),
      daysAgo(faker.number.int({ min: 60, max: 200 }), 13),
      daysAgo(faker.number.int({ min: 5, max: 50 }), 10),
    ];
    const authors = [GP, HOSPITAL, GP];

    // the statements' versions, and each list version's entries
    const history = new Map<string, FhirResource[]>();
    const current = new Map<string, FhirResource>();
    const put = (s: FhirResource) => {
      const id = s.id as string;
      const before = current.get(id);
      if (before) history.set(id, [...(history.get(id) ?? []), before]);
      current.set(id, s);
    };
    const listVersions: FhirResource[] = [];
    let onList: string[] = [];
    const snapshot = (v: number) => {
      const listed = onList.map((id) => current.get(id) as FhirResource);
      const withVersions = listed.map((s) => ({
        ...s,
        meta: { ...s.meta, versionId: String(1 + (history.get(s.id as string)?.length ?? 0)) },
      }));
      listVersions.push({
        ...pllList({
          patient,
          nin,
          statements: withVersions,
          date: dates[v],
          author: authors[v],
          messageId: guid(`m25:${nin}:${v}`),
          multidose,
        }),
        meta: { lastUpdated: dates[v] },
      });
    };
    medicines.slice(0, count).forEach((m, k) => {
      put(statement(patient, nin, k, m, m.defaultDosage, dates[0], authors[0]));
      onList.push(`pll-ms-${seedToken(nin)}-${k}`);
    });
    if (nin === '10086148248' || (!multidose && faker.number.float({ min: 0, max: 1 }) < 0.1)) {
      const locked = current.get(`pll-ms-${seedToken(nin)}-0`) as FhirResource;
      current.set(locked.id as string, { ...locked, meta: { ...locked.meta, tag: [LOCKED_TAG] } });
    }
    snapshot(0);
    if (versions >= 2) {
      // the hospital stops one medicine and starts another
      const stopped = current.get(onList[onList.length - 1]) as FhirResource;
      put({
        ...stopped,
        status: 'stopped',
        meta: { ...stopped.meta, lastUpdated: dates[1] },
        dateAsserted: dates[1],
        informationSource: { display: `${HOSPITAL.practitioner}, ${HOSPITAL.orgName}` },
      });
      onList = onList.slice(0, -1);
      const added = medicines[count];
      put(statement(patient, nin, count, added, added.defaultDosage, dates[1], HOSPITAL));
      onList.push(`pll-ms-${seedToken(nin)}-${count}`);
      snapshot(1);
    }
    if (versions >= 3) {
      // the GP changes a dosage
      const changed = current.get(onList[onList.length - 1]) as FhirResource;
      put({
        ...changed,
        meta: { ...changed.meta, lastUpdated: dates[2] },
        dateAsserted: dates[2],
        dosage: [
          {
            text: `${(changed.dosage as { text: string }[])[0].text}; redusert dose etter kontroll`,
            asNeededBoolean: false,
          },
        ],
      });
      snapshot(2);
    }
    const final = listVersions[listVersions.length - 1];
    out.push({ resource: final, history: listVersions.slice(0, -1) });
    for (const [id, resource] of current) out.push({ resource, history: history.get(id) });

    // Kjernejournal: the last dispense of each listed medicine, and now and then a drug reaction
    onList.forEach((id, k) => {
      const s = current.get(id) as FhirResource;
      out.push({
        resource: {
          resourceType: 'MedicationDispense',
          id: `pll-md-${seedToken(nin)}-${k}`,
          meta: { profile: [PROFILE.dispense], ...(s.meta?.tag ? { tag: [LOCKED_TAG] } : {}) },
          status: 'completed',
          medicationReference: s.medicationReference,
          subject: s.subject,
          performer: [{ actor: { display: faker.helpers.arrayElement(PHARMACIES) } }],
          quantity: { value: multidose ? 14 : faker.helpers.arrayElement([28, 30, 98, 100]), unit: 'stk' },
          whenHandedOver: daysAgo(faker.number.int({ min: 3, max: 60 }), 15),
          dosageInstruction: s.dosage,
        },
      });
    });
    if (nin === '25039296929' || faker.number.float({ min: 0, max: 1 }) < 0.2) {
      out.push({
        resource: {
          resourceType: 'AllergyIntolerance',
          id: `pll-allergy-${seedToken(nin)}`,
          meta: { profile: [PROFILE.allergy] },
          contained: [
            {
              resourceType: 'PractitionerRole',
              id: 'recorderRef',
              practitioner: { identifier: { system: SYSTEMS.hpr, value: GP.hpr }, display: GP.practitioner },
              organization: { identifier: { system: SYSTEMS.orgnr, value: GP.orgnr }, display: GP.orgName },
              code: [
                {
                  coding: [{ system: 'http://nhn.no/kj/fhir/CodeSystem/CategoriesOfHealthProfessionals', code: 'LE' }],
                },
              ],
            },
          ],
          clinicalStatus: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
          },
          category: ['medication'],
          criticality: 'high',
          code: {
            coding: [
              {
                system: 'http://nhn.no/kj/fhir/CodeSystem/ActiveSubstance',
                code: `ID_${guid('substance:penicillin').toUpperCase()}`,
                display: 'Fenoksymetylpenicillin',
                userSelected: true,
              },
            ],
          },
          patient: { identifier: { system: identifierSystemOf(nin), value: nin } },
          recordedDate: dates[0].slice(0, 10),
          recorder: { reference: '#recorderRef' },
          reaction: [{ manifestation: [{ text: 'Urtikaria og ansiktsødem' }] }],
        },
      });
    }
  }
  return out;
}
