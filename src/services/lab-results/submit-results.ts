import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest, FhirError, type OutcomeIssue } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { Bundle, FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import { SYSTEMS } from '../../codes/code-systems';
import type { ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { findPatient } from '../documents/document-access';
import { NILAR_PROFILES } from './nilar-profiles';
import { NILAR_EXTENSION, SUPERSEDES_EXTENSION } from './pps-codes';
import { isValidPersonId } from './pps-request';
import { labResultTags } from './result-tags';
import type { PpsContext } from './search-results';
import {
  checkReferences,
  isObject,
  samePatient,
  sourceOf,
  textOf,
  type SubmissionSubject as Subject,
} from './submission-references';
import { checkSubmissionShape } from './submission-shape';

/**
 * Submission of results by a lab (sandbox source role): `POST <pps>` with a transaction Bundle of
 * DiagnosticReport(s), Observations, Specimen(s), ServiceRequest(s) and PractitionerRole(s), checked
 * against the NILAR profiles and stored atomically. The subject is the patient's FNR/D-number
 * identifier or a literal Patient reference. A report whose identifier is already stored must come
 * with status corrected/amended/appended and come from the same lab source: it becomes a new version of
 * the same DiagnosticReport (with an extension naming the version it supersedes); on corrected/amended
 * the lab's observations it no longer holds are cancelled, appended keeps them. A re-sent Specimen or
 * ServiceRequest (same identifier, patient and source) is the stored one, not a new copy.
 */
const TYPES = ['DiagnosticReport', 'Observation', 'Specimen', 'ServiceRequest', 'PractitionerRole'];
const CORRECTIONS = ['corrected', 'amended', 'appended'];
const FHN_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.3';
type Json = Record<string, unknown>;
const versionOf = (r: FhirResource) => Number(r.meta?.versionId);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The patient a submission names (for logging a rejected one): the first subject identifier. */
export function submittedPatientNin(body: unknown): string | undefined {
  const entries = isObject(body) && Array.isArray(body.entry) ? body.entry : [];
  for (const entry of entries) {
    const subject =
      isObject(entry) && isObject(entry.resource) && isObject(entry.resource.subject)
        ? entry.resource.subject
        : undefined;
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
  /** The stored resource this one is (a re-sent Specimen or ServiceRequest): nothing is written. */
  reuses?: FhirResource;
}

async function resolveSubject(
  store: ResourceStore,
  sandbox: string,
  value: unknown,
  at: string,
  issue: (at: string, text: string, code?: string) => void,
): Promise<Subject | undefined> {
  if (!isObject(value)) return undefined;
  const reference = typeof value.reference === 'string' ? value.reference : undefined;
  const identifier = isObject(value.identifier) ? value.identifier : undefined;
  let fromIdentifier: Subject | undefined;
  if (identifier) {
    const system = typeof identifier.system === 'string' ? identifier.system : '';
    const nin = typeof identifier.value === 'string' ? identifier.value : '';
    if (![SYSTEMS.fnr, SYSTEMS.dnr, FHN_SYSTEM].includes(system))
      issue(
        `${at}.identifier.system`,
        `subject.identifier.system must be FNR (${SYSTEMS.fnr}), D-number (${SYSTEMS.dnr}) or FHN (${FHN_SYSTEM}); got ${JSON.stringify(identifier.system ?? null)}`,
      );
    else if (system === FHN_SYSTEM ? !/^\d{11}$/.test(nin) : !isValidPersonId(nin))
      issue(
        `${at}.identifier.value`,
        `'${textOf(identifier.value ?? '').slice(0, 20)}' is not a valid ${system === FHN_SYSTEM ? 'felles hjelpenummer (11 digits)' : 'fødselsnummer or D-number (check digits, date)'}`,
      );
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
    const national = arrayOf(patient?.identifier)
      .filter(isObject)
      .find((i) => i.system === SYSTEMS.fnr || i.system === SYSTEMS.dnr);
    if (!id)
      issue(`${at}.reference`, `subject.reference must be Patient/<id>; got ${JSON.stringify(reference.slice(0, 80))}`);
    else if (!patient) issue(`${at}.reference`, `Patient/${id} does not exist in this sandbox`, 'not-found');
    else if (typeof national?.value !== 'string')
      issue(`${at}.reference`, `Patient/${id} has no fødselsnummer or D-number`, 'business-rule');
    else fromReference = { nin: national.value, system: String(national.system), patientId: id };
  }
  if (fromReference && fromIdentifier && fromReference.nin !== fromIdentifier.nin)
    issue(
      at,
      `subject.reference (${reference}) and subject.identifier (${fromIdentifier.nin}) name different patients`,
    );
  if (!reference && !identifier)
    issue(at, "subject needs the patient's identifier (FNR/D-number) or a literal reference Patient/<id>", 'required');
  return fromReference ?? fromIdentifier;
}

/** Replaces the Bundle's local references (fullUrl, urn:uuid) by the ids given. */
function rewriteReferences(value: unknown, ids: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, ids));
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const [key, v] of Object.entries(value))
    out[key] = key === 'reference' && typeof v === 'string' && ids.has(v) ? ids.get(v) : rewriteReferences(v, ids);
  return out;
}

type Identifier = { system?: unknown; value?: unknown };
const referenceOf = (value: unknown): string | undefined =>
  isObject(value) && typeof value.reference === 'string' ? value.reference : undefined;
const identifiersOf = (r: FhirResource, element = 'identifier'): Identifier[] => {
  const value = r[element];
  return (Array.isArray(value) ? value : [value]).filter(isObject);
};
const reportRefOf = (observation: FhirResource) =>
  referenceOf(
    arrayOf(observation.extension)
      .filter(isObject)
      .find((e) => e.url === NILAR_EXTENSION.diagnosticReportRef)?.valueReference,
  );
/** FHIR search escaping of a token part. */
const escapeToken = (v: string) => v.replace(/[\\,|$]/g, (c) => `\\${c}`);

/**
 * The stored resource of `type` with one of the identifiers given (compared exactly), about the same
 * patient and from the same lab source; others' resources never match.
 */
async function storedOwn(
  store: ResourceStore,
  sandbox: string,
  type: string,
  param: string,
  element: string,
  resource: FhirResource,
  subject: Subject,
  source: string,
): Promise<FhirResource | undefined> {
  for (const identifier of identifiersOf(resource, element)) {
    if (typeof identifier.value !== 'string' || identifier.value === '') continue;
    const system = typeof identifier.system === 'string' ? identifier.system : undefined;
    const token =
      system !== undefined ? `${escapeToken(system)}|${escapeToken(identifier.value)}` : escapeToken(identifier.value);
    const found = await store.search(sandbox, {
      ...parseSearchRequest(type, [
        [param, token],
        ['subject:identifier', `${escapeToken(subject.system)}|${escapeToken(subject.nin)}`],
      ]),
      count: 50,
      totalNone: true,
    });
    const own = found.matches.find(
      (r) =>
        sourceOf(r) === source &&
        samePatient(r, subject) &&
        identifiersOf(r, element).some((i) => i.value === identifier.value && (i.system ?? undefined) === system),
    );
    if (own) return own;
  }
  return undefined;
}

export async function submitResults(
  context: PpsContext,
  req: Request,
  res: Response,
  access: AccessContext,
  store: ResourceStore,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const bundle = req.body as Json | undefined;
  if (
    !isObject(bundle) ||
    bundle.resourceType !== 'Bundle' ||
    bundle.type !== 'transaction' ||
    !Array.isArray(bundle.entry) ||
    bundle.entry.length === 0
  ) {
    throw badRequest(
      'NAVET-PPS-BUNDLE',
      'Send a FHIR Bundle of type "transaction" with the DiagnosticReport, its Observations, Specimen and ServiceRequest',
      ['Bundle'],
    );
  }
  checkSubmissionShape(bundle);
  const issues: OutcomeIssue[] = [];
  const issue = (at: string, text: string, code = 'invalid') =>
    issues.push({ severity: 'error', code, navetCode: 'NAVET-PPS-SUBMISSION', text, expression: [at] });
  const items: Item[] = [];
  (bundle.entry as unknown[]).forEach((entry, index) => {
    const at = `Bundle.entry[${index}]`;
    const resource = isObject(entry) && isObject(entry.resource) ? (entry.resource as FhirResource) : undefined;
    if (!resource || !TYPES.includes(resource.resourceType)) {
      issue(
        `${at}.resource`,
        `A lab submission holds ${TYPES.join(', ')}; entry ${index} is ${textOf(resource?.resourceType ?? 'empty')}`,
      );
      return;
    }
    issues.push(...NILAR_PROFILES.validateByType(resource, `${at}.resource`));
    const fullUrl = isObject(entry) && typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
    items.push({ index, fullUrl, resource, id: randomUUID() });
  });
  const reports = items.filter((i) => i.resource.resourceType === 'DiagnosticReport');
  if (reports.length === 0) issue('Bundle.entry', 'The Bundle holds no DiagnosticReport', 'required');

  // one patient per submission
  let subject: Subject | undefined;
  for (const item of items) {
    if (item.resource.subject === undefined) {
      if (item.resource.resourceType === 'DiagnosticReport')
        issue(
          `Bundle.entry[${item.index}].resource.subject`,
          "The report needs a subject: the patient's FNR/D-number identifier or Patient/<id>",
          'required',
        );
      continue;
    }
    const found = await resolveSubject(
      store,
      sandbox.name,
      item.resource.subject,
      `Bundle.entry[${item.index}].resource.subject`,
      issue,
    );
    if (found && subject && found.nin !== subject.nin)
      issue(
        `Bundle.entry[${item.index}].resource.subject`,
        'All resources of a submission must be about the same patient',
      );
    subject ??= found;
  }

  // references: to an entry of the Bundle or a stored resource of the right type, patient and source
  const source =
    access.organisation?.pointOfCare.id ?? access.client.orgnrChild ?? access.client.orgnrParent ?? 'unknown';
  const localIds = new Map<string, string>();
  for (const item of items) {
    if (item.fullUrl) localIds.set(item.fullUrl, `${item.resource.resourceType}/${item.id}`);
  }
  for (const item of items) {
    await checkReferences(
      store,
      sandbox.name,
      item.resource,
      `Bundle.entry[${item.index}].resource`,
      localIds,
      subject,
      source,
      issue,
    );
  }

  // corrections: a known report identifier needs a correcting status; a correction needs the lab's own report
  if (subject) {
    for (const report of reports) {
      const existing = await storedOwn(
        store,
        sandbox.name,
        'DiagnosticReport',
        'identifier',
        'identifier',
        report.resource,
        subject,
        source,
      );
      const correcting = CORRECTIONS.includes(textOf(report.resource.status));
      const named = identifiersOf(report.resource)
        .map((i) => textOf(i.value))
        .join(', ');
      if (existing && !correcting) {
        issues.push({
          severity: 'error',
          code: 'duplicate',
          navetCode: 'NAVET-PPS-DUPLICATE-REPORT',
          text: `Report ${named} is stored already (DiagnosticReport/${existing.id}); to correct it send status corrected, amended or appended`,
          expression: [`Bundle.entry[${report.index}].resource.status`],
        });
      } else if (existing) {
        report.id = existing.id as string;
        report.replaces = existing;
        if (report.fullUrl) localIds.set(report.fullUrl, `DiagnosticReport/${existing.id}`);
      } else if (correcting) {
        issues.push({
          severity: 'error',
          code: 'conflict',
          navetCode: 'NAVET-PPS-NOTHING-TO-CORRECT',
          text: `Status ${textOf(report.resource.status)} corrects a stored report, but this lab (source ${source}) has no report ${named || '(no identifier)'} for this patient; a lab can only correct its own reports: send a new report with status final`,
          expression: [`Bundle.entry[${report.index}].resource.identifier`],
        });
      }
    }
    // a re-sent Specimen or ServiceRequest is the stored one
    for (const item of items) {
      const type = item.resource.resourceType;
      if (type !== 'Specimen' && type !== 'ServiceRequest') continue;
      const existing =
        type === 'Specimen'
          ? await storedOwn(
              store,
              sandbox.name,
              type,
              'accession',
              'accessionIdentifier',
              item.resource,
              subject,
              source,
            )
          : await storedOwn(store, sandbox.name, type, 'identifier', 'identifier', item.resource, subject, source);
      if (!existing) continue;
      item.id = existing.id as string;
      item.reuses = existing;
      if (item.fullUrl) localIds.set(item.fullUrl, `${type}/${existing.id}`);
    }
  }
  if (issues.length > 0 || !subject) {
    const status = issues.some((i) => i.code === 'duplicate' || i.code === 'conflict')
      ? 409
      : issues.length > 0 && issues.every((i) => i.code === 'not-found')
        ? 404
        : issues.some((i) => i.code === 'business-rule')
          ? 422
          : 400;
    throw new FhirError(
      status,
      issues.length > 0
        ? issues
        : [
            {
              severity: 'error',
              code: 'required',
              navetCode: 'NAVET-PPS-SUBMISSION',
              text: 'No resource names the patient',
              expression: ['Bundle.entry'],
            },
          ],
    );
  }

  const now = sandbox.clock.now().toISOString();
  const patientReference = {
    ...(subject.patientId ? { reference: `Patient/${subject.patientId}` } : {}),
    identifier: { system: subject.system, value: subject.nin },
  };
  const prepared = items.map((item) => {
    const rewritten = rewriteReferences(item.resource, localIds) as FhirResource;
    return {
      ...item,
      resource: {
        ...rewritten,
        id: item.id,
        ...(item.resource.resourceType === 'PractitionerRole' ? {} : { subject: patientReference }),
      } as FhirResource,
    };
  });
  // a report lists its observations (the ones pointing at it), and carries their codes as tags
  for (const report of prepared.filter((p) => p.resource.resourceType === 'DiagnosticReport')) {
    const own = prepared.filter(
      (p) => p.resource.resourceType === 'Observation' && reportRefOf(p.resource) === `DiagnosticReport/${report.id}`,
    );
    // appended adds to the report: it keeps the results of the version it replaces
    const earlier =
      report.replaces && report.resource.status === 'appended' ? arrayOf(report.replaces.result).filter(isObject) : [];
    const given = [...earlier, ...arrayOf(report.resource.result).filter(isObject)];
    const results = given.filter(
      (r, i) => referenceOf(r) === undefined || given.findIndex((o) => referenceOf(o) === referenceOf(r)) === i,
    );
    const listed = new Set(results.map(referenceOf));
    report.resource.result = [
      ...results,
      ...own.filter((o) => !listed.has(`Observation/${o.id}`)).map((o) => ({ reference: `Observation/${o.id}` })),
    ];
    if (report.replaces) {
      report.resource.extension = [
        ...arrayOf(report.resource.extension),
        {
          url: SUPERSEDES_EXTENSION,
          valueReference: { reference: `DiagnosticReport/${report.id}/_history/${versionOf(report.replaces)}` },
        },
      ];
    }
  }
  for (const item of prepared) {
    const observations =
      item.resource.resourceType === 'DiagnosticReport'
        ? prepared.filter((p) => reportRefOf(p.resource) === `DiagnosticReport/${item.id}`).map((p) => p.resource)
        : [];
    item.resource.meta = {
      ...(isObject(item.resource.meta) ? item.resource.meta : {}),
      tag: labResultTags(item.resource, source, observations),
    };
  }

  const outcomes: { resource: FhirResource; status: string; written: boolean }[] = [];
  for (const item of prepared) {
    if (item.reuses) {
      outcomes.push({ resource: item.reuses, status: '200 OK', written: false });
    } else if (item.replaces) {
      const { resource } = await store.update(sandbox.name, item.resource, now, versionOf(item.replaces));
      outcomes.push({ resource, status: '200 OK', written: true });
      if (item.resource.status === 'appended') continue;
      // the lab's own observations of this patient that the correction no longer holds are cancelled
      const kept = new Set(arrayOf(item.resource.result).map(referenceOf));
      for (const old of arrayOf(item.replaces.result).map(referenceOf)) {
        const id = old?.match(/^Observation\/([A-Za-z0-9\-.]{1,64})$/)?.[1];
        const observation = id && !kept.has(old) ? await store.find(sandbox.name, 'Observation', id) : undefined;
        if (
          !observation ||
          observation.status === 'cancelled' ||
          sourceOf(observation) !== source ||
          !samePatient(observation, subject)
        )
          continue;
        await store.update(sandbox.name, { ...observation, status: 'cancelled' }, now, versionOf(observation));
      }
    } else {
      outcomes.push({
        resource: await store.create(sandbox.name, item.resource, now, item.id),
        status: '201 Created',
        written: true,
      });
    }
  }
  const written = outcomes.filter((o) => o.written).map((o) => o.resource);
  const response: Bundle = {
    resourceType: 'Bundle',
    type: 'transaction-response',
    entry: outcomes.map(({ resource: r, status }) => ({
      fullUrl: `${context.ppsBase}/${r.resourceType}/${r.id}`,
      response: { status, location: `${context.ppsBase}/${r.resourceType}/${r.id}/_history/${r.meta?.versionId}` },
    })),
  };
  return {
    patients: [
      {
        nin: subject.nin,
        ...(subject.patientId ? { id: subject.patientId } : {}),
        resources: written.map((r) => `${r.resourceType}/${r.id}`),
      },
    ],
    send: (r: Response) => sendFhir(req, r, 200, response),
  };
}
