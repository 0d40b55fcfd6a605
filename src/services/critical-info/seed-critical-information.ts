import { createHash } from 'node:crypto';
import type { Faker } from '@faker-js/faker';
import type { AllergyIntolerance, Condition, Flag } from 'fhir/r4';
import type { FhirResource } from '../../fhir/types';
import type { SeedEntry } from '../../store/resource-store';
import { type Registrar, storedEntry } from './critical-information-entry';
import { CRITICAL_INFO_TYPES, KJ_EXTENSIONS, KJ_SYSTEMS, kjProfileUrl } from './kj-codes';
import type { GeneratorSettings } from '../../sandbox/seed-resources';
import { createFaker } from '../../sandbox/seed/synthetic';
import { seedToken } from '../../sandbox/seed/resources';

/**
 * Critical information for the seed: the spec's two critical-information test patients get one entry of
 * every type, and about 5 % of the other patients (the estimated need; 1.3 % have it today) get one to
 * three entries, drawn by the national distribution of categories. About a third of the entries have been
 * changed since they were registered, so they have two or three versions. Deterministic for a seed.
 */
const KJ_TEST_PATIENTS = ['48882807579', '45920040881'];
const SHARE_OF_PATIENTS = 0.05;
const DAY_MS = 86_400_000;

/** Share of entries by category in the national registry (specs/critical-information.md). */
const DISTRIBUTION: [string, number][] = [
  ['DrugReaction', 38],
  ['OtherProcedureChange', 17],
  ['CriticalMedicalCondition', 15],
  ['TransplantsAndOtherForeignBodies', 14],
  ['OtherAllergen', 4],
  ['IntubationProblem', 3],
  ['Infection', 2],
  ['OtherProblemWithAnesthesia', 1],
];

/** Ids in the `ID_<GUID>` form of FEST, made from the name so that they are the same in every sandbox. */
function festId(name: string): string {
  const hex = createHash('sha1').update(`navet-fest:${name}`).digest('hex');
  return `ID_${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`.toUpperCase();
}

interface Substance {
  name: string;
  system: string;
  atc: string;
  reaction: string;
}
const DRUGS: Substance[] = [
  { name: 'Fenoksymetylpenicillin', system: KJ_SYSTEMS.activeSubstance, atc: 'J01CE02', reaction: 'Anafylaksi' },
  { name: 'Amoksicillin', system: KJ_SYSTEMS.activeSubstance, atc: 'J01CA04', reaction: 'Urtikaria' },
  { name: 'Diklofenak', system: KJ_SYSTEMS.activeSubstance, atc: 'M01AB05', reaction: 'Angioødem' },
  {
    name: 'Trimetoprim og sulfametoksazol',
    system: KJ_SYSTEMS.activeSubstance,
    atc: 'J01EE01',
    reaction: 'Stevens-Johnsons syndrom',
  },
  { name: 'Suksametonium', system: KJ_SYSTEMS.activeSubstance, atc: 'M03AB01', reaction: 'Anafylaksi' },
  { name: 'Apocillin', system: KJ_SYSTEMS.drugTradeName, atc: 'J01CE02', reaction: 'Anafylaksi' },
  { name: 'Voltaren', system: KJ_SYSTEMS.drugTradeName, atc: 'M01AB05', reaction: 'Bronkospasme' },
  { name: 'Ciprofloxacin', system: KJ_SYSTEMS.activeSubstance, atc: 'J01MA02', reaction: 'Senebetennelse' },
];
/** Volven 7514 codes (1–15 per the spec); the displays are Navet's. */
type AllergyCategory = NonNullable<AllergyIntolerance['category']>[number];
const OTHER_ALLERGENS: { code: string; display: string; category: AllergyCategory }[] = [
  { code: '3', display: 'Latex', category: 'environment' },
  { code: '5', display: 'Peanøtter', category: 'food' },
  { code: '8', display: 'Insektstikk (bie, veps)', category: 'environment' },
  { code: '11', display: 'Skalldyr', category: 'food' },
];
const ICD10: Record<string, [string, string][]> = {
  CriticalMedicalCondition: [
    ['E27.1', 'Primær binyrebarksvikt (Addisons sykdom)'],
    ['G70.0', 'Myasthenia gravis'],
    ['D66', 'Hereditær faktor VIII-mangel (hemofili A)'],
    ['E80.2', 'Porfyri'],
  ],
  Infection: [
    ['B18.1', 'Kronisk virushepatitt B'],
    ['Z22.3', 'Bærer av MRSA'],
  ],
  IntubationProblem: [['T88.4', 'Mislykket eller vanskelig intubasjon']],
  OtherProblemWithAnesthesia: [
    ['T88.3', 'Malign hypertermi forårsaket av anestesi'],
    ['T88.5', 'Forlenget virkning av suksametonium (pseudokolinesterasemangel)'],
  ],
  TransplantsAndOtherForeignBodies: [
    ['Z95.0', 'Pacemaker'],
    ['Z95.2', 'Hjerteklaffprotese'],
    ['Z94.0', 'Nyretransplantert'],
    ['Z96.2', 'Cochleaimplantat'],
  ],
};
const PROCEDURE_CHANGES = [
  'Behandles med cytostatika: kontakt onkologisk avdeling før behandling',
  'Langvarig kortisonbehandling: gi stressdose ved kirurgi og akutt sykdom',
  'Bruker warfarin: sjekk INR før inngrep',
  'Har implantert defibrillator (ICD): skal deaktiveres før diatermi',
];
const REGISTRARS: Registrar[] = [
  {
    hprNumber: '9144900',
    name: 'Magnar Koman',
    organisation: { orgnr: '874716782', name: 'Oslo universitetssykehus, Rikshospitalet somatikk' },
    category: 'LE',
  },
  {
    hprNumber: '9144897',
    name: 'August September',
    organisation: { orgnr: '974557746', name: 'Haukeland universitetssjukehus' },
    category: 'LE',
  },
  {
    hprNumber: '222200068',
    name: 'Ben Reddik',
    organisation: { orgnr: '994945688', name: 'Midtbyen Legesenter Kongsvinger' },
    category: 'LE',
  },
  {
    hprNumber: '565501872',
    name: 'Grønn Vits',
    organisation: { orgnr: '100100673', name: 'Fagersta Testlegekontor' },
    category: 'LE',
  },
];

function pickType(faker: Faker): string {
  return faker.helpers.weightedArrayElement(DISTRIBUTION.map(([value, weight]) => ({ value, weight })));
}

const coding = (system: string, code: string, display: string, userSelected?: boolean) => ({
  system,
  code,
  display,
  ...(userSelected ? { userSelected } : {}),
});
const clinical = (resource: 'allergy' | 'condition') => ({
  clinicalStatus: {
    coding: [
      coding(
        `http://terminology.hl7.org/CodeSystem/${resource === 'allergy' ? 'allergyintolerance-clinical' : 'condition-clinical'}`,
        'active',
        'Active',
      ),
    ],
  },
  verificationStatus: {
    coding: [
      coding(
        `http://terminology.hl7.org/CodeSystem/${resource === 'allergy' ? 'allergyintolerance-verification' : 'condition-ver-status'}`,
        'confirmed',
        'Confirmed',
      ),
    ],
  },
});
const sourceOfInformation = {
  url: KJ_EXTENSIONS.sourceOfInformation,
  valueCoding: coding(KJ_SYSTEMS.sourceOfInformation, '1', 'Resultat av tester/analyser'),
};

/** An entry's clinical content: the patient (subject) comes with Navet's registration parts. */
type ClinicalContent = Omit<AllergyIntolerance, 'patient'> | Omit<Condition, 'subject'> | Omit<Flag, 'subject'>;

/** The clinical content of one entry of a type, before Navet's registration parts. */
function content(
  type: string,
  faker: Faker,
  registered: Date,
): { resource: ClinicalContent; change: (r: FhirResource) => FhirResource } {
  const definition = CRITICAL_INFO_TYPES[type];
  const meta = { profile: [kjProfileUrl(definition.profile)] };
  if (type === 'DrugReaction') {
    const drug = faker.helpers.arrayElement(DRUGS);
    const resource: Omit<AllergyIntolerance, 'patient'> = {
      resourceType: 'AllergyIntolerance',
      meta,
      extension: [sourceOfInformation],
      ...clinical('allergy'),
      category: ['medication'],
      criticality: 'high',
      code: {
        coding: [coding(drug.system, festId(drug.name), drug.name, true), coding(KJ_SYSTEMS.atc, drug.atc, drug.name)],
        text: drug.name,
      },
      reaction: [
        {
          manifestation: [
            { coding: [coding(KJ_SYSTEMS.reactionType, '1', 'Allergisk reaksjon')], text: drug.reaction },
          ],
        },
      ],
    };
    return {
      resource,
      change: (r) => ({
        ...r,
        note: [{ text: `Reaksjonen bekreftet ved provokasjonstest ${registered.getUTCFullYear() + 1}` }],
      }),
    };
  }
  if (type === 'OtherAllergen') {
    const allergen = faker.helpers.arrayElement(OTHER_ALLERGENS);
    const resource: Omit<AllergyIntolerance, 'patient'> = {
      resourceType: 'AllergyIntolerance',
      meta,
      ...clinical('allergy'),
      category: [allergen.category],
      criticality: 'low',
      code: {
        coding: [coding(KJ_SYSTEMS.otherAllergy, allergen.code, allergen.display, true)],
        text: allergen.display,
      },
    };
    return {
      resource,
      change: (r) => ({ ...r, criticality: 'high', note: [{ text: 'Alvorligere reaksjon ved siste eksponering' }] }),
    };
  }
  if (type === 'OtherProcedureChange') {
    const text = faker.helpers.arrayElement(PROCEDURE_CHANGES);
    const end = new Date(registered.getTime() + faker.number.int({ min: 365, max: 1095 }) * DAY_MS)
      .toISOString()
      .slice(0, 10);
    const resource: Omit<Flag, 'subject'> = {
      resourceType: 'Flag',
      meta,
      status: 'active',
      category: [{ coding: [coding(KJ_SYSTEMS.category, definition.categories[0], definition.display)] }],
      code: { text },
      period: { start: registered.toISOString().slice(0, 10), end },
    };
    return {
      resource,
      change: (r) => ({
        ...r,
        period: { ...(r.period as object), end: new Date(Date.parse(end) + 365 * DAY_MS).toISOString().slice(0, 10) },
      }),
    };
  }
  const [code, display] = faker.helpers.arrayElement(ICD10[type]);
  const resource: Omit<Condition, 'subject'> = {
    resourceType: 'Condition',
    meta,
    ...clinical('condition'),
    category: [{ coding: [coding(KJ_SYSTEMS.category, definition.categories[0], definition.display)] }],
    code: { coding: [coding(KJ_SYSTEMS.icd10, code, display)], text: display },
  };
  return { resource, change: (r) => ({ ...r, note: [{ text: 'Opplysningen er gjennomgått og fortsatt gjeldende' }] }) };
}

function entry(id: string, type: string, nin: string, faker: Faker, reference: number): SeedEntry {
  const registered = new Date(reference - faker.number.int({ min: 30, max: 3650 }) * DAY_MS);
  const registrar = faker.helpers.arrayElement(REGISTRARS);
  const { resource, change } = content(type, faker, registered);
  const profile = kjProfileUrl(CRITICAL_INFO_TYPES[type].profile);
  const at = (date: Date) => date.toISOString().replace('.000Z', 'Z');
  const first = { ...storedEntry(resource as FhirResource, { nin, registrar, now: at(registered), profile }), id };
  const versions = faker.number.int({ min: 1, max: 9 }) <= 3 ? faker.number.int({ min: 2, max: 3 }) : 1;
  const chain = [first];
  for (let v = 2; v <= versions; v++) {
    // changes fall between the registration and the reference date
    const changed = new Date(
      registered.getTime() + Math.floor(((reference - registered.getTime()) * (v - 1)) / versions),
    );
    const updater = faker.helpers.arrayElement(REGISTRARS);
    const previous = chain[chain.length - 1];
    chain.push({
      ...storedEntry(change(previous), { nin, registrar: updater, now: at(changed), previous, profile }),
      id,
    });
  }
  const current = chain[chain.length - 1];
  const timeOf = (r: FhirResource) =>
    String(
      (r.extension as { url: string; valueDateTime?: string }[]).find((e) => e.url === KJ_EXTENSIONS.updatedDateTime)
        ?.valueDateTime,
    );
  return { resource: current, history: chain.slice(0, -1).map((r) => ({ resource: r, lastUpdated: timeOf(r) })) };
}

export function buildSeedCriticalInformation(patients: FhirResource[], settings: GeneratorSettings): SeedEntry[] {
  const faker = createFaker(settings.seed + 7514);
  const reference = Date.parse(`${settings.referenceDate}T12:00:00Z`);
  const entries: SeedEntry[] = [];
  for (const patient of patients) {
    const nin = (patient.identifier as { value: string }[])[0].value;
    const full = KJ_TEST_PATIENTS.includes(nin);
    const draw = faker.number.float({ min: 0, max: 1 });
    if (!full && draw >= SHARE_OF_PATIENTS) continue;
    const types = full
      ? Object.keys(CRITICAL_INFO_TYPES)
      : Array.from(
          {
            length: faker.helpers.weightedArrayElement([
              { value: 1, weight: 6 },
              { value: 2, weight: 3 },
              { value: 3, weight: 1 },
            ]),
          },
          () => pickType(faker),
        );
    types.forEach((type, i) => entries.push(entry(`kj-${seedToken(nin)}-${i + 1}`, type, nin, faker, reference)));
  }
  return entries;
}
