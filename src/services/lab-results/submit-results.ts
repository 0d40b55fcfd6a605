import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest, conflict, FhirError, type OutcomeIssue } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { Bundle, FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import type { Sandbox } from '../../sandbox/sandboxes';
import { SYSTEMS } from '../../sandbox/seed/codes';
import type { ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { findPatient } from '../documents/document-access';
import { validateAgainstNilar } from './nilar-profiles';
import { NILAR_EXTENSION, SUPERSEDES_EXTENSION } from './pps-codes';
import { isValidPersonId, personIdSystem } from './pps-request';
import { labResultTags } from './result-tags';
import type { PpsContext } from './search-results';

/**
 * Submission of results by a lab (sandbox source role): `POST <pps>` with a transaction Bundle of
 * DiagnosticReport(s), Observations, Specimen(s), ServiceRequest(s) and PractitionerRole(s), checked
 * against the NILAR profiles and stored atomically. The subject is the patient's FNR/D-number
 * identifier or a literal Patient reference. A report whose identifier is already stored must come
 * with status corrected/amended/appended: it becomes a new version of the same DiagnosticReport (with
 * an extension naming the version it supersedes), and observations it no longer holds are cancelled.
 */
const TYPES = ['DiagnosticReport', 'Observation', 'Specimen', 'ServiceRequest', 'PractitionerRole'];
const CORRECTIONS = ['corrected', 'amended', 'appended'];
const FHN_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.3';
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const versionOf = (r: FhirResource) => Number(r.meta?.versionId);

/** The patient a submission names (for logging a rejected one): the first subject identifier. */
export function submittedPatientNin(body: unknown): string | undefined {
  const entries = isObject(body) && Array.isArray(body.entry) ? body.entry : [];
  for (const entry of entries) {
    const subject = isObject(entry) && isObject(entry.resource) && isObject(entry.resource.subject) ? entry.resource.subject : undefined;
    const value = isObject(subject?.identifier) ? subject.identifier.value : undefined;
    if (typeof value === 'string') return value;
  }
  return undefined;
}

interface Item {
  index: number;
  fullUrl?: string;
  resource: FhirResource;
  id: string;
  /** The stored version this one replaces (a correction). */
  replaces?: FhirResource;
}

interface Subject {
  nin: string;
  system: string;
  patientId?: string;
}

async function resolveSubject(store: ResourceStore, sandbox: string, value: unknown, at: string, issue: (at: string, text: string, code?: string) => void): Promise<Subject | undefined> {
  if (!isObject(value)) return undefined;
  const reference = typeof value.reference === 'string' ? value.reference : undefined;
  const identifier = isObject(value.identifier) ? value.identifier : undefined;
  let fromIdentifier: Subject | undefined;
  if (identifier) {
    const system = String(identifier.system ?? '');
    const nin = String(identifier.value ?? '');
    if (![SYSTEMS.fnr, SYSTEMS.dnr, FHN_SYSTEM].includes(system)) issue(`${at}.identifier.system`, `subject.identifier.system must be FNR (${SYSTEMS.fnr}), D-number (${SYSTEMS.dnr}) or FHN (${FHN_SYSTEM}); got ${JSON.stringify(identifier.system ?? null)}`);
    else if (system === FHN_SYSTEM ? !/^\d{11}$/.test(nin) : !isValidPersonId(nin)) issue(`${at}.identifier.value`, `'${nin.slice(0, 20)}' is not a valid ${system === FHN_SYSTEM ? 'felles hjelpenummer (11 digits)' : 'fødselsnummer or D-number (check digits, date)'}`);
    else {
      // the sandbox's Patient, when it has one, is referenced literally too
      const patient = system === FHN_SYSTEM ? undefined : await findPatient(store, sandbox, nin);
      fromIdentifier = { nin, system, ...(patient ? { patientId: patient.id as string } : {}) };
    }
  }
  let fromReference: Subject | undefined;
  if (reference !== undefined) {
    const id = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference)?.[1];
    const patient = id ? await store.find(sandbox, 'Patient', id) : undefined;
    const national = ((patient?.identifier ?? []) as { system?: string; value?: string }[]).find((i) => i.system === SYSTEMS.fnr || i.system === SYSTEMS.dnr);
    if (!id) issue(`${at}.reference`, `subject.reference must be Patient/<id>; got ${JSON.stringify(reference.slice(0, 80))}`);
    else if (!patient) issue(`${at}.reference`, `Patient/${id} does not exist in this sandbox`, 'not-found');
    else if (!national?.value) issue(`${at}.reference`, `Patient/${id} has no fødselsnummer or D-number`, 'business-rule');
    else fromReference = { nin: national.value, system: String(national.system), patientId: id };
  }
  if (fromReference && fromIdentifier && fromReference.nin !== fromIdentifier.nin) issue(at, `subject.reference (${reference}) and subject.identifier (${fromIdentifier.nin}) name different patients`);
  if (!reference && !identifier) issue(at, 'subject needs the patient\'s identifier (FNR/D-number) or a literal reference Patient/<id>', 'required');
  return fromReference ?? fromIdentifier;
}

/** Replaces the Bundle's local references (fullUrl, urn:uuid) by the ids given. */
function rewriteReferences(value: unknown, ids: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, ids));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) out[key] = key === 'reference' && typeof v === 'string' && ids.has(v) ? ids.get(v) : rewriteReferences(v, ids);
  return out;
}

const referenceOf = (value: unknown): string | undefined => (isObject(value) && typeof value.reference === 'string' ? value.reference : undefined);
const identifiersOf = (r: FhirResource): { system?: string; value?: string }[] => (Array.isArray(r.identifier) ? r.identifier.filter(isObject) : []) as { system?: string; value?: string }[];
const reportRefOf = (observation: FhirResource) => referenceOf(((observation.extension ?? []) as Json[]).find((e) => isObject(e) && e.url === NILAR_EXTENSION.diagnosticReportRef)?.valueReference);

async function storedReport(store: ResourceStore, sandbox: string, report: FhirResource, subject: Subject): Promise<FhirResource | undefined> {
  for (const identifier of identifiersOf(report)) {
    if (!identifier.value) continue;
    const token = identifier.system ? `${identifier.system}|${identifier.value}` : identifier.value;
    const found = await store.search(sandbox, { ...parseSearchRequest('DiagnosticReport', [['identifier', token], ['subject:identifier', `${subject.system}|${subject.nin}`]]), count: 1, totalNone: true });
    if (found.matches[0]) return found.matches[0];
  }
  return undefined;
}

export async function submitResults(context: PpsContext, req: Request, res: Response, access: AccessContext, store: ResourceStore): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox as Sandbox;
  const bundle = req.body as Json | undefined;
  if (!isObject(bundle) || bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction' || !Array.isArray(bundle.entry) || bundle.entry.length === 0) {
    throw badRequest('NAVET-PPS-BUNDLE', 'Send a FHIR Bundle of type "transaction" with the DiagnosticReport, its Observations, Specimen and ServiceRequest', ['Bundle']);
  }
  const issues: OutcomeIssue[] = [];
  const issue = (at: string, text: string, code = 'invalid') => issues.push({ severity: 'error', code, navetCode: 'NAVET-PPS-SUBMISSION', text, expression: [at] });
  const items: Item[] = [];
  (bundle.entry as unknown[]).forEach((entry, index) => {
    const at = `Bundle.entry[${index}]`;
    const resource = isObject(entry) && isObject(entry.resource) ? entry.resource as FhirResource : undefined;
    if (!resource || !TYPES.includes(String(resource.resourceType))) {
      issue(`${at}.resource`, `A lab submission holds ${TYPES.join(', ')}; entry ${index} is ${String(resource?.resourceType ?? 'empty')}`);
      return;
    }
    issues.push(...validateAgainstNilar(resource, `${at}.resource`));
    const fullUrl = isObject(entry) && typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
    items.push({ index, fullUrl, resource, id: randomUUID() });
  });
  const reports = items.filter((i) => i.resource.resourceType === 'DiagnosticReport');
  if (reports.length === 0) issue('Bundle.entry', 'The Bundle holds no DiagnosticReport', 'required');

  // one patient per submission
  let subject: Subject | undefined;
  for (const item of items) {
    if (item.resource.subject === undefined) {
      if (item.resource.resourceType === 'DiagnosticReport') issue(`Bundle.entry[${item.index}].resource.subject`, 'The report needs a subject: the patient\'s FNR/D-number identifier or Patient/<id>', 'required');
      continue;
    }
    const found = await resolveSubject(store, sandbox.name, item.resource.subject, `Bundle.entry[${item.index}].resource.subject`, issue);
    if (found && subject && found.nin !== subject.nin) issue(`Bundle.entry[${item.index}].resource.subject`, 'All resources of a submission must be about the same patient');
    subject ??= found;
  }

  // local references: every urn:uuid must be an entry of the Bundle
  const localIds = new Map<string, string>();
  for (const item of items) {
    if (item.fullUrl) localIds.set(item.fullUrl, `${item.resource.resourceType}/${item.id}`);
  }
  for (const item of items) {
    const text = JSON.stringify(item.resource);
    for (const match of text.matchAll(/"reference":"(urn:uuid:[^"]+)"/g)) {
      if (!localIds.has(match[1])) issue(`Bundle.entry[${item.index}].resource`, `${match[1]} is not the fullUrl of any entry of the Bundle`);
    }
    if (item.resource.resourceType === 'Observation') {
      const ref = reportRefOf(item.resource);
      const target = ref ? localIds.get(ref) ?? ref : undefined;
      if (ref && !target?.startsWith('DiagnosticReport/')) issue(`Bundle.entry[${item.index}].resource.extension:diagnosticreportref`, `diagnosticreportref must point at the DiagnosticReport of the Bundle; got ${ref}`);
    }
  }

  // corrections: a known report identifier needs a correcting status
  if (subject) {
    for (const report of reports) {
      const existing = await storedReport(store, sandbox.name, report.resource, subject);
      if (!existing) continue;
      if (!CORRECTIONS.includes(String(report.resource.status))) {
        issues.push({ severity: 'error', code: 'duplicate', navetCode: 'NAVET-PPS-DUPLICATE-REPORT', text: `Report ${identifiersOf(report.resource).map((i) => i.value).join(', ')} is stored already (DiagnosticReport/${existing.id}); to correct it send status corrected, amended or appended`, expression: [`Bundle.entry[${report.index}].resource.status`] });
      } else {
        report.id = existing.id as string;
        report.replaces = existing;
        if (report.fullUrl) localIds.set(report.fullUrl, `DiagnosticReport/${existing.id}`);
      }
    }
  }
  if (issues.length > 0 || !subject) {
    const status = issues.some((i) => i.code === 'duplicate') ? 409 : issues.length > 0 && issues.every((i) => i.code === 'not-found') ? 404 : issues.some((i) => i.code === 'business-rule') ? 422 : 400;
    throw new FhirError(status, issues.length > 0 ? issues : [{ severity: 'error', code: 'required', navetCode: 'NAVET-PPS-SUBMISSION', text: 'No resource names the patient', expression: ['Bundle.entry'] }]);
  }

  const now = sandbox.clock.now().toISOString();
  const source = access.organisation?.pointOfCare.id ?? access.client.orgnrChild ?? access.client.orgnrParent ?? 'unknown';
  const patientReference = { ...(subject.patientId ? { reference: `Patient/${subject.patientId}` } : {}), identifier: { system: subject.system, value: subject.nin } };
  const prepared = items.map((item) => {
    const rewritten = rewriteReferences(item.resource, localIds) as FhirResource;
    return { ...item, resource: { ...rewritten, id: item.id, ...(item.resource.resourceType === 'PractitionerRole' ? {} : { subject: patientReference }) } as FhirResource };
  });
  // a report lists its observations (the ones pointing at it), and carries their codes as tags
  for (const report of prepared.filter((p) => p.resource.resourceType === 'DiagnosticReport')) {
    const own = prepared.filter((p) => p.resource.resourceType === 'Observation' && reportRefOf(p.resource) === `DiagnosticReport/${report.id}`);
    const listed = new Set(((report.resource.result ?? []) as Json[]).map(referenceOf));
    report.resource.result = [...((report.resource.result ?? []) as Json[]), ...own.filter((o) => !listed.has(`Observation/${o.id}`)).map((o) => ({ reference: `Observation/${o.id}` }))];
    if (report.replaces) {
      report.resource.extension = [...((report.resource.extension ?? []) as Json[]), { url: SUPERSEDES_EXTENSION, valueReference: { reference: `DiagnosticReport/${report.id}/_history/${versionOf(report.replaces)}` } }];
    }
  }
  for (const item of prepared) {
    const observations = item.resource.resourceType === 'DiagnosticReport' ? prepared.filter((p) => reportRefOf(p.resource) === `DiagnosticReport/${item.id}`).map((p) => p.resource) : [];
    item.resource.meta = { ...(isObject(item.resource.meta) ? item.resource.meta : {}), tag: labResultTags(item.resource, source, observations) };
  }

  const written: FhirResource[] = [];
  for (const item of prepared) {
    if (item.replaces) {
      const { resource } = await store.update(sandbox.name, item.resource, now, versionOf(item.replaces));
      written.push(resource);
      const kept = new Set(((item.resource.result ?? []) as Json[]).map(referenceOf));
      for (const old of ((item.replaces.result ?? []) as Json[]).map(referenceOf)) {
        const id = old?.match(/^Observation\/(.+)$/)?.[1];
        const observation = id && !kept.has(old) ? await store.find(sandbox.name, 'Observation', id) : undefined;
        if (observation && observation.status !== 'cancelled') await store.update(sandbox.name, { ...observation, status: 'cancelled' }, now, versionOf(observation));
      }
    } else {
      written.push(await store.create(sandbox.name, item.resource, now, item.id));
    }
  }
  if (written.length !== prepared.length) throw conflict('NAVET-PPS-CONFLICT', 'The submission could not be stored whole; send it again');
  const response: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: written.map((r, i) => ({ fullUrl: `${context.ppsBase}/${r.resourceType}/${r.id}`, response: { status: prepared[i].replaces ? '200 OK' : '201 Created', location: `${context.ppsBase}/${r.resourceType}/${r.id}/_history/${r.meta?.versionId}` } })),
  };
  return {
    patients: [{ nin: subject.nin, ...(subject.patientId ? { id: subject.patientId } : {}), resources: written.map((r) => `${r.resourceType}/${r.id}`) }],
    send: (r: Response) => sendFhir(req, r, 200, response),
  };
}
