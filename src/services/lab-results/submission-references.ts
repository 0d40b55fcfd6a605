import type { FhirResource } from '../../fhir/types';
import type { ResourceStore } from '../../store/resource-store';
import { NILAR_EXTENSION, SOURCE_TAG_SYSTEM } from './pps-codes';

/**
 * What a lab submission may point at. A reference is allowed only at an element named here, to a
 * resource of a type the element allows: an entry of the Bundle (fullUrl), or a stored resource of
 * the same patient (and, for results, of the same lab source). Everything else is refused, so a lab
 * cannot attach another patient's or another lab's data to its report.
 */
type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Text of a value that may be anything a client sent (String() throws on `{"toString": 0}`). */
export const textOf = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)));

export interface SubmissionSubject {
  nin: string;
  system: string;
  patientId?: string;
}

const REPORT_REF = `extension:${NILAR_EXTENSION.diagnosticReportRef.split('/').pop()}`;
/** `<resourceType>.<element>` → the types it may reference (unverified beyond the NILAR profiles: what a lab sends). */
const ALLOWED: Record<string, string[]> = {
  'DiagnosticReport.result': ['Observation'],
  'DiagnosticReport.specimen': ['Specimen'],
  'DiagnosticReport.basedOn': ['ServiceRequest'],
  'DiagnosticReport.performer': ['PractitionerRole'],
  'DiagnosticReport.resultsInterpreter': ['PractitionerRole'],
  [`Observation.${REPORT_REF}`]: ['DiagnosticReport'],
  'Observation.hasMember': ['Observation'],
  'Observation.derivedFrom': ['Observation'],
  'Observation.specimen': ['Specimen'],
  'Observation.basedOn': ['ServiceRequest'],
  'Observation.performer': ['PractitionerRole'],
  'Specimen.request': ['ServiceRequest'],
  'Specimen.parent': ['Specimen'],
  'ServiceRequest.requester': ['PractitionerRole'],
  'ServiceRequest.performer': ['PractitionerRole'],
  'ServiceRequest.specimen': ['Specimen'],
  'PractitionerRole.practitioner': ['Practitioner'],
  'PractitionerRole.organization': ['Organization'],
};
/** Types about a patient (a stored one must be the submission's patient's). */
const PATIENT_TYPES = new Set(['DiagnosticReport', 'Observation', 'Specimen', 'ServiceRequest']);
/** Types that are a lab's results (a stored one must be the submitting source's). */
const RESULT_TYPES = new Set(['DiagnosticReport', 'Observation']);

export const sourceOf = (r: FhirResource): string | undefined => {
  const tags = Array.isArray(r.meta?.tag) ? (r.meta.tag as unknown[]).filter(isObject) : [];
  const code = tags.find((t) => t.system === SOURCE_TAG_SYSTEM)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** Whether a stored resource's subject is the submission's patient (by identifier and, when it has one, by reference). */
export function samePatient(resource: FhirResource, subject: SubmissionSubject): boolean {
  const s = isObject(resource.subject) ? resource.subject : undefined;
  const value = isObject(s?.identifier) ? s.identifier.value : undefined;
  const reference = s?.reference;
  if (value === undefined && reference === undefined) return false;
  return (
    (value === undefined || value === subject.nin) &&
    (reference === undefined || (subject.patientId !== undefined && reference === `Patient/${subject.patientId}`))
  );
}

interface FoundReference {
  /** Where it sits, e.g. result[0]. */
  path: string;
  /** The element, e.g. result or extension:diagnosticreportref.valueReference. */
  element: string;
  reference: string;
}

function collect(value: unknown, path: string, element: string, out: FoundReference[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => collect(v, `${path}[${i}]`, element, out));
    return;
  }
  if (!isObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'reference' && typeof v === 'string') {
      out.push({ path, element, reference: v });
      continue;
    }
    if (key === 'extension' && Array.isArray(v)) {
      v.forEach((e, i) => {
        const name = isObject(e) && e.url === NILAR_EXTENSION.diagnosticReportRef ? REPORT_REF : 'extension';
        collect(e, `${path ? `${path}.` : ''}${name}[${i}]`, `${element ? `${element}.` : ''}${name}`, out);
      });
      continue;
    }
    collect(v, path ? `${path}.${key}` : key, element ? `${element}.${key}` : key, out);
  }
}

/** Every `reference` in a resource except its subject (checked on its own), with the element it sits at. */
export function referencesOf(resource: FhirResource): FoundReference[] {
  const out: FoundReference[] = [];
  for (const [key, value] of Object.entries(resource)) {
    if (key !== 'subject') collect({ [key]: value }, '', '', out);
  }
  return out;
}

export type IssueAdder = (at: string, text: string, code?: string) => void;

/**
 * Checks the references of one submitted resource. `local` maps the Bundle's fullUrls to Type/id;
 * `at` is where the resource sits (Bundle.entry[i].resource).
 */
export async function checkReferences(
  store: ResourceStore,
  sandbox: string,
  resource: FhirResource,
  at: string,
  local: Map<string, string>,
  subject: SubmissionSubject | undefined,
  source: string,
  issue: IssueAdder,
): Promise<void> {
  for (const found of referencesOf(resource)) {
    const where = `${at}.${found.path}`;
    const element = found.element.replace(/\.(valueReference|reference)$/, '');
    const allowed = ALLOWED[`${resource.resourceType}.${found.element.replace(/\.valueReference$/, '')}`];
    const shown = JSON.stringify(found.reference.slice(0, 100));
    if (found.reference.startsWith('#')) continue; // a contained resource
    if (!allowed) {
      issue(
        where,
        `A lab submission may not reference anything at ${resource.resourceType}.${element}; got ${shown}. Remove the reference (an identifier or display may stay)`,
      );
      continue;
    }
    const target = local.get(found.reference) ?? (found.reference.startsWith('urn:') ? undefined : found.reference);
    if (target === undefined) {
      issue(where, `${shown} is not the fullUrl of any entry of the Bundle`);
      continue;
    }
    const match = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(target);
    if (!match || !allowed.includes(match[1])) {
      issue(
        where,
        `${resource.resourceType}.${element} must reference ${allowed.join(' or ')} (an entry of the Bundle or Type/id of a stored one); got ${shown}`,
      );
      continue;
    }
    if (local.has(found.reference)) continue;
    const [, type, id] = match;
    const stored = await store.find(sandbox, type, id);
    const ownPatient = stored && (!PATIENT_TYPES.has(type) || (subject !== undefined && samePatient(stored, subject)));
    const ownSource = stored && (!RESULT_TYPES.has(type) || sourceOf(stored) === source);
    if (!stored || !ownPatient)
      issue(
        where,
        `${type}/${id} is not a stored ${type} of this submission's patient; reference an entry of the Bundle or one of the patient's own`,
        'business-rule',
      );
    else if (!ownSource)
      issue(
        where,
        `${type}/${id} was not submitted by this lab (source ${source}); a lab may only reference its own results`,
        'business-rule',
      );
  }
}
