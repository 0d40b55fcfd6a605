import type { Basic, Composition, CompositionSection } from 'fhir/r4';
import { asJson, type FhirResource } from '../../fhir/types';
import { festIdOf, festMedicine, medicationResource } from './fest-catalogue';
import { authorOf, isMultidose, type Pll, urnOf } from './pll-store';
import { PROFILE, SECTION_TITLES, type SectionCode, SFM } from './sfm-codes';

/**
 * The `medication` document Bundle of $getMedication (sfm-MedicationBundle): a Composition (LOINC 11503-0)
 * with its five sections, the Patient, the PLL's MedicationStatements and their Medications, the
 * allergies (KjAllergyIntolerance) and dispenses from Kjernejournal, and the PLL info (Basic). References
 * inside are urn:uuid fullUrls, so a vendor can change the statements and send the Bundle back.
 */
export interface BundleInput {
  bundleId: string;
  now: string;
  patient: FhirResource;
  /** The RF half: absent when Reseptformidleren did not answer. */
  pll?: Pll;
  /** The KJ half: absent when Kjernejournal did not answer or was not asked. */
  kj?: { allergies: FhirResource[]; dispenses: FhirResource[] };
}

type Ref = { reference?: string; display?: string };

function localize(resource: FhirResource, urls: Map<string, string>): FhirResource {
  const copy = JSON.parse(JSON.stringify(resource)) as FhirResource;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      const ref = value as Ref;
      if (typeof ref.reference === 'string' && urls.has(ref.reference)) ref.reference = urls.get(ref.reference);
      Object.values(value).forEach(visit);
    }
  };
  visit(copy);
  return copy;
}

function medicationOf(resource: FhirResource): FhirResource | undefined {
  const reference = (resource.medicationReference as Ref | undefined)?.reference ?? '';
  const festId = festIdOf(reference.replace(/^Medication\//, ''));
  const medicine = festId ? festMedicine(festId) : undefined;
  return medicine ? medicationResource(medicine) : undefined;
}

function section(code: SectionCode, entries: string[]): CompositionSection {
  return {
    title: SECTION_TITLES[code],
    code: { coding: [{ system: SFM.sectionTypes, code }] },
    ...(entries.length > 0
      ? { entry: entries.map((reference) => ({ reference })) }
      : {
          emptyReason: {
            coding: [
              {
                system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason',
                code: 'nilknown',
                display: 'Nil Known',
              },
            ],
          },
        }),
  };
}

/** The sfm-PLL-info of the list sent: which version (the base of the next send), who made it and when. */
export function pllInfo(pll: Pll): Basic {
  const { who, when } = authorOf(pll.list);
  return {
    resourceType: 'Basic',
    id: `pll-info-${pll.version}`,
    meta: { profile: [PROFILE.pllInfo] },
    code: { coding: [{ system: SFM.messageType, code: 'M25.1', display: 'Legemiddelliste (PLL)' }] },
    ...(pll.list ? { created: when.slice(0, 10), author: { display: who } } : {}),
    extension: [
      { url: SFM.pllVersion, valueString: String(pll.version) },
      { url: SFM.multidose, valueBoolean: isMultidose(pll.list) },
      ...(pll.list
        ? [
            {
              url: `${SFM.pllVersion}-message-id`,
              valueString: String((pll.list.identifier as { value?: string }[] | undefined)?.[0]?.value ?? ''),
            },
          ]
        : []),
    ],
  };
}

export function buildMedicationBundle(input: BundleInput): FhirResource {
  const resources: FhirResource[] = [input.patient];
  const statements = input.pll?.statements ?? [];
  const medications = new Map<string, FhirResource>();
  for (const statement of statements) {
    const medication = medicationOf(statement);
    if (medication) medications.set(medication.id as string, medication);
  }
  const dispenses = input.kj?.dispenses ?? [];
  for (const dispense of dispenses) {
    const medication = medicationOf(dispense);
    if (medication) medications.set(medication.id as string, medication);
  }
  const info = input.pll ? pllInfo(input.pll) : undefined;
  resources.push(
    ...statements,
    ...medications.values(),
    ...(input.kj?.allergies ?? []),
    ...dispenses,
    ...(info ? [asJson(info)] : []),
  );
  const urls = new Map(resources.map((r) => [`${r.resourceType}/${r.id}`, urnOf(r.resourceType, r.id as string)]));
  const urlOf = (r: FhirResource) => urls.get(`${r.resourceType}/${r.id}`) as string;
  const patientUrl = urlOf(input.patient);
  const composition: Composition = {
    resourceType: 'Composition',
    meta: { profile: [PROFILE.composition] },
    status: 'final',
    type: { coding: [{ system: SFM.loinc, code: '11503-0', display: 'Medications' }] },
    subject: { reference: patientUrl },
    date: input.now,
    author: [{ display: 'Sentral forskrivningsmodul (Navet)' }],
    title: 'Legemidler',
    section: [
      section('sectionMedication', statements.map(urlOf)),
      section('sectionOtherPrescriptions', []),
      section('sectionAllergies', (input.kj?.allergies ?? []).map(urlOf)),
      section('sectionDispense', dispenses.map(urlOf)),
      section('sectionPLLinfo', info ? [urlOf(asJson(info))] : []),
    ],
  };
  const compositionUrl = urnOf('Composition', input.bundleId);
  return {
    resourceType: 'Bundle',
    id: input.bundleId,
    meta: { profile: [PROFILE.bundle] },
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${input.bundleId}` },
    type: 'document',
    timestamp: input.now,
    entry: [
      { fullUrl: compositionUrl, resource: composition },
      ...resources.map((r) => {
        const { meta, ...rest } = localize(r, urls);
        const profile =
          r.resourceType === 'Patient'
            ? PROFILE.patient
            : r.resourceType === 'MedicationStatement'
              ? PROFILE.statement
              : r.resourceType === 'MedicationDispense'
                ? PROFILE.dispense
                : r.resourceType === 'AllergyIntolerance'
                  ? PROFILE.allergy
                  : undefined;
        const tags = (meta as { tag?: unknown[] } | undefined)?.tag;
        const profiles = (meta as { profile?: string[] } | undefined)?.profile;
        const newMeta = {
          ...(profile || profiles ? { profile: profiles ?? [profile as string] } : {}),
          ...(tags ? { tag: tags } : {}),
        };
        return {
          fullUrl: urlOf(r),
          resource: { ...rest, ...(Object.keys(newMeta).length > 0 ? { meta: newMeta } : {}) },
        };
      }),
    ],
  };
}
