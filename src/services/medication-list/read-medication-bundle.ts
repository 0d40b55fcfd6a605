import type { NavetErrorCode } from '../../codes/error-codes';
import { FhirError, type OutcomeIssue } from '../../fhir/operation-outcome';
import { findResourceProblems } from '../../fhir/validate-resource';
import type { FhirResource } from '../../fhir/types';
import { SYSTEMS } from '../../codes/code-systems';
import { festMedicine, type FestMedicine } from './fest-catalogue';
import { identifierValue } from './pll-store';
import { SFM } from './sfm-codes';
import { SFM_PROFILES } from './sfm-profiles';

/**
 * Reads a sent medication Bundle after profile validation: the patient, the statements of
 * sectionMedication with their PLL ids and FEST medicines, and the PLL version the Bundle says it is
 * based on (sfm-PLL-info). Every problem is an issue naming the element; any issue refuses the send.
 */
export interface SentStatement {
  index: number;
  resource: FhirResource;
  pllId: string;
  reseptId?: string;
  medicine: FestMedicine;
}

export interface SentBundle {
  nin: string;
  statements: SentStatement[];
  baseVersion?: number;
}

type Json = Record<string, unknown>;
interface Entry {
  fullUrl?: string;
  resource?: FhirResource;
}

const sectionCode = (section: Json) =>
  ((section.code as { coding?: { system?: string; code?: string }[] } | undefined)?.coding ?? []).find(
    (c) => c.system === SFM.sectionTypes,
  )?.code;

function ninOf(patient: FhirResource): string | undefined {
  const value = (patient.identifier as { system?: string; value?: unknown }[] | undefined)?.find(
    (i) => i.system === SYSTEMS.fnr || i.system === SYSTEMS.dnr,
  )?.value;
  return typeof value === 'string' ? value : undefined;
}

export function readMedicationBundle(bundle: FhirResource): SentBundle {
  // malformed FHIR first (every nested resource against its R4 type), so that what follows reads well-formed JSON
  const structureIssues = findResourceProblems(bundle, 'Bundle');
  if (structureIssues.length > 0) throw new FhirError(400, structureIssues);
  const profileIssues = SFM_PROFILES.validateBundle(bundle);
  if (profileIssues.length > 0) throw new FhirError(400, profileIssues);
  const issues: OutcomeIssue[] = [];
  const issue = (navetCode: NavetErrorCode, expression: string, text: string, code = 'invalid') =>
    issues.push({ severity: 'error', code, navetCode, text, expression: [expression] });
  const entries = bundle.entry as Entry[];
  const find = (reference: string | undefined): { entry: Entry; index: number } | undefined => {
    if (!reference) return undefined;
    const index = entries.findIndex(
      (e) => e.fullUrl === reference || (e.resource && `${e.resource.resourceType}/${e.resource.id}` === reference),
    );
    return index >= 0 ? { entry: entries[index], index } : undefined;
  };
  const patientIndex = entries.findIndex((e) => e.resource?.resourceType === 'Patient');
  const patientEntry = entries[patientIndex];
  const nin = ninOf(patientEntry.resource as FhirResource) as string;
  const isPatient = (subject: { reference?: string; identifier?: { value?: string } } | undefined) => {
    if (subject?.reference) {
      const target = find(subject.reference);
      if (target) return target.index === patientIndex;
      return false;
    }
    return subject?.identifier?.value === nin;
  };
  const compositionIndex = entries.findIndex((e) => e.resource?.resourceType === 'Composition');
  const composition = entries[compositionIndex].resource as FhirResource;
  if (composition.subject !== undefined && !isPatient(composition.subject as Json)) {
    issue(
      'NAVET-SFM-OTHER-PATIENT',
      `Bundle.entry[${compositionIndex}].resource.subject`,
      "Composition.subject must be the Bundle's Patient",
    );
  }
  const sections = (composition.section as Json[]).map((s, i) => ({
    code: sectionCode(s),
    index: i,
    refs: ((s.entry as { reference?: string }[] | undefined) ?? []).map((e) => e.reference),
  }));
  const referenced = new Set<number>();
  for (const s of sections) {
    s.refs.forEach((ref, j) => {
      const target = find(ref);
      if (!target)
        issue(
          'NAVET-SFM-SECTION-ENTRY',
          `Bundle.entry[${compositionIndex}].resource.section[${s.index}].entry[${j}]`,
          `The section entry ${JSON.stringify(ref ?? null)} names no entry of the Bundle (use the entry's fullUrl)`,
        );
      else referenced.add(target.index);
    });
  }
  const medicationSection = sections.find((s) => s.code === 'sectionMedication');
  const onList = new Set(
    (medicationSection?.refs ?? []).map((ref) => find(ref)?.index).filter((i): i is number => i !== undefined),
  );

  const statements: SentStatement[] = [];
  const pllIds = new Set<string>();
  entries.forEach((entry, index) => {
    const resource = entry.resource;
    if (resource?.resourceType !== 'MedicationStatement') return;
    const where = `Bundle.entry[${index}].resource`;
    if (!referenced.has(index))
      issue(
        'NAVET-SFM-SECTION-ENTRY',
        where,
        `MedicationStatement entry ${index} is in no Composition section: list it in sectionMedication (the PLL) or sectionOtherPrescriptions`,
      );
    if (!isPatient(resource.subject as Json))
      issue(
        'NAVET-SFM-OTHER-PATIENT',
        `${where}.subject`,
        `MedicationStatement entry ${index} belongs to another patient than the Bundle's Patient (${nin}); a Bundle holds one patient's list`,
      );
    if (!onList.has(index)) return;
    const pllId = identifierValue(resource, 'PLL') as string;
    if (pllIds.has(pllId))
      issue('NAVET-SFM-PLL-ID-DUPLICATE', `${where}.identifier`, `PLL id ${pllId} is in the list twice`, 'duplicate');
    pllIds.add(pllId);
    let festId: string | undefined;
    let festAt = `${where}.medicationReference`;
    const reference = (resource.medicationReference as { reference?: string } | undefined)?.reference;
    if (reference) {
      const target = find(reference);
      if (!target || target.entry.resource?.resourceType !== 'Medication') {
        issue(
          'NAVET-SFM-MEDICATION-MISSING',
          festAt,
          `medicationReference ${JSON.stringify(reference)} names no Medication in the Bundle`,
        );
        return;
      }
      festAt = `Bundle.entry[${target.index}].resource.code.coding`;
      festId = ((target.entry.resource.code as { coding?: { system?: string; code?: string }[] }).coding ?? []).find(
        (c) => c.system === SFM.fest,
      )?.code;
    } else {
      festAt = `${where}.medicationCodeableConcept.coding`;
      festId = (
        (resource.medicationCodeableConcept as { coding?: { system?: string; code?: string }[] } | undefined)?.coding ??
        []
      ).find((c) => c.system === SFM.fest)?.code;
    }
    const medicine = festId ? festMedicine(festId) : undefined;
    if (!medicine) {
      issue(
        'NAVET-SFM-UNKNOWN-FEST',
        festAt,
        `FEST id ${festId ?? '(none)'} is not in the sandbox's FEST catalogue; use an ID_<GUID> of GET <sfm>/Medication or profiles/sfm-fest-catalogue.json`,
        'code-invalid',
      );
      return;
    }
    statements.push({ index, resource, pllId, reseptId: identifierValue(resource, 'ReseptId'), medicine });
  });

  let baseVersion: number | undefined;
  entries.forEach((entry, index) => {
    if (entry.resource?.resourceType !== 'Basic') return;
    const given = (entry.resource.extension as { url?: string; valueString?: string }[] | undefined)?.find(
      (e) => e.url === SFM.pllVersion,
    )?.valueString;
    if (given === undefined) return;
    if (!/^\d{1,9}$/.test(given))
      issue(
        'NAVET-SFM-PLL-INFO',
        `Bundle.entry[${index}].resource.extension`,
        `The PLL version in sfm-PLL-info must be the number $getMedication gave; got ${JSON.stringify(given)}`,
      );
    else baseVersion = Number(given);
  });
  if (issues.length > 0) throw new FhirError(400, issues);
  return { nin, statements, ...(baseVersion !== undefined ? { baseVersion } : {}) };
}
