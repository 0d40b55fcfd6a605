import type { Request, Response } from 'express';
import type { Interaction } from '../../audit/audit-event';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest, conflict, FhirError, forbidden, gone } from '../../fhir/operation-outcome';
import type { FhirResource } from '../../fhir/types';
import { findResourceProblems } from '../../fhir/validate-resource';
import { sendFhir } from '../../http/fhir-json';
import type { AccessContext } from '../../trust/access-context';
import {
  assertValidEntry,
  isEnteredInError,
  markEnteredInError,
  patientNinOfEntry,
  practitionerRole,
  profileOf,
  registrarOf,
  storedEntry,
} from './critical-information-entry';
import {
  assertCommonHeaders,
  assertNin,
  assertPrivacyAllows,
  headerPatientNin,
  privacyOf,
  userRoleOf,
} from './kj-access';
import { KJ_EXTENSIONS, type KjResourceType } from './kj-codes';
import { type KjContext, patientEntry } from './read-critical-information';

/**
 * Registering, changing and deleting critical information. Every change is a new version of the entry;
 * a change must name the latest version (meta.versionId or If-Match), or it is refused with 409 and the
 * current version. Deleting marks the entry entered-in-error (a new version); nothing is ever erased.
 */
export const KJ_CREATE: Interaction = {
  service: 'critical-information',
  code: 'KJ-CREATE',
  display: 'Register critical information',
  action: 'C',
  seen: 'Registrerte kritisk informasjon',
};
export const KJ_UPDATE: Interaction = {
  service: 'critical-information',
  code: 'KJ-UPDATE',
  display: 'Update critical information',
  action: 'U',
  seen: 'Endret kritisk informasjon',
};
export const KJ_DELETE: Interaction = {
  service: 'critical-information',
  code: 'KJ-DELETE',
  display: 'Delete critical information (entered-in-error)',
  action: 'D',
  seen: 'Slettet kritisk informasjon',
};

const versionOf = (resource: FhirResource): number => Number(resource.meta?.versionId);

function bodyOf(req: Request, type: KjResourceType): FhirResource {
  const body = req.body as unknown;
  if (
    body === undefined ||
    body === null ||
    typeof body !== 'object' ||
    Array.isArray(body) ||
    Object.keys(body).length === 0
  ) {
    throw badRequest('NAVET-KJ-BODY', `Send the ${type} as JSON (Content-Type: application/fhir+json)`, [type]);
  }
  const resource = body as FhirResource;
  if (resource.resourceType !== type)
    throw badRequest(
      'NAVET-KJ-RESOURCE-TYPE',
      `This endpoint takes a ${type}; the body is ${JSON.stringify(resource.resourceType ?? null)}`,
      ['resourceType'],
    );
  // the patient may come by header alone: R4's required patient/subject is checked on the stored entry
  const element = type === 'AllergyIntolerance' ? 'patient' : 'subject';
  const problems = findResourceProblems({
    ...resource,
    [element]: resource[element] ?? { display: 'from nhn-patient-nin' },
  });
  if (problems.length > 0) throw new FhirError(400, problems);
  return resource;
}

/** The patient of a create: the header and/or patient.identifier (subject.identifier), which must agree. */
export function patientOfNewEntry(req: Request, body: FhirResource): string {
  const fromHeader = headerPatientNin(req);
  const element = body.resourceType === 'AllergyIntolerance' ? 'patient' : 'subject';
  const reference = body[element] as
    { identifier?: { system?: unknown; value?: unknown }; reference?: unknown } | undefined;
  const fromBody = typeof reference?.identifier?.value === 'string' ? reference.identifier.value : undefined;
  if (reference?.reference !== undefined)
    throw badRequest(
      'NAVET-KJ-PATIENT',
      `Name the patient by ${body.resourceType}.${element}.identifier (fødselsnummer), not by a literal reference`,
      [`${body.resourceType}.${element}.reference`],
    );
  if (
    fromBody &&
    reference?.identifier?.system !== undefined &&
    !['urn:oid:2.16.578.1.12.4.1.4.1', 'urn:oid:2.16.578.1.12.4.1.4.2'].includes(String(reference.identifier.system))
  ) {
    throw badRequest(
      'NAVET-KJ-PATIENT',
      `${body.resourceType}.${element}.identifier.system must be urn:oid:2.16.578.1.12.4.1.4.1 (FNR) or urn:oid:2.16.578.1.12.4.1.4.2 (D-number)`,
      [`${body.resourceType}.${element}.identifier.system`],
    );
  }
  if (fromHeader) assertNin(fromHeader, 'nhn-patient-nin');
  if (fromBody) assertNin(fromBody, `${body.resourceType}.${element}.identifier.value`);
  if (fromHeader && fromBody && fromHeader !== fromBody) {
    throw badRequest(
      'NAVET-KJ-PATIENT-MISMATCH',
      `nhn-patient-nin (${fromHeader}) and ${body.resourceType}.${element}.identifier (${fromBody}) name different patients`,
      [`${body.resourceType}.${element}.identifier`, 'nhn-patient-nin'],
    );
  }
  const nin = fromHeader ?? fromBody;
  if (!nin)
    throw badRequest(
      'NAVET-KJ-PATIENT',
      `Name the patient: the nhn-patient-nin header and/or ${body.resourceType}.${element}.identifier`,
      ['nhn-patient-nin'],
    );
  return nin;
}

function rejectEnteredInError(body: FhirResource, how: string): void {
  if (isEnteredInError(body)) {
    const element = body.resourceType === 'Flag' ? 'Flag.status' : `${body.resourceType}.verificationStatus`;
    throw badRequest(
      'NAVET-KJ-ENTERED-IN-ERROR-BY-WRITE',
      `${element} entered-in-error is not allowed by ${how}: delete the entry instead (DELETE ${body.resourceType}/{id})`,
      [element],
    );
  }
}

export function createEntry(type: KjResourceType) {
  return async (context: KjContext, req: Request, res: Response, access: AccessContext): Promise<PatientDataAnswer> => {
    const sandbox = res.locals.sandbox;
    const accessBasis = assertCommonHeaders(req);
    const body = bodyOf(req, type);
    const nin = patientOfNewEntry(req, body);
    const privacy = await privacyOf(context.store, sandbox, nin);
    assertPrivacyAllows(privacy, access, accessBasis);
    if (privacy.kjernejournalReservation.reserved)
      throw forbidden(
        'NAVET-KJ-RESERVED',
        'The patient has reserved themself against Kjernejournal: critical information cannot be registered',
      );
    rejectEnteredInError(body, 'create');
    const registrar = registrarOf(access, userRoleOf(req, access));
    const profile = profileOf(body);
    const now = sandbox.clock.now().toISOString();
    const entry = storedEntry(body, { nin, registrar, now, profile });
    assertValidEntry(entry, profile);
    const created = await context.store.create(sandbox.name, entry, now);
    return {
      patients: [{ nin, resources: [`${type}/${created.id}`] }],
      send: (response) => {
        response.setHeader('Location', `${context.base}/${type}/${created.id}/_history/1`);
        response.setHeader('ETag', 'W/"1"');
        sendFhir(req, response, 201, created);
      },
    };
  };
}

/** The version a change is based on: meta.versionId and/or If-Match, which must agree. */
function baseVersion(req: Request, body: FhirResource | undefined): number {
  const fromBody = (body?.meta as { versionId?: unknown } | undefined)?.versionId;
  const ifMatch = req.headers['if-match'];
  const fromHeader = typeof ifMatch === 'string' ? /^(?:W\/)?"?(\d+)"?$/.exec(ifMatch.trim())?.[1] : undefined;
  if (typeof ifMatch === 'string' && !fromHeader)
    throw badRequest('NAVET-KJ-IF-MATCH', `If-Match must be a version like W/"3"; got '${ifMatch}'`, ['If-Match']);
  if (fromBody !== undefined && (typeof fromBody !== 'string' || !/^\d+$/.test(fromBody)))
    throw badRequest(
      'NAVET-KJ-VERSION',
      'meta.versionId must be the version id (a string of digits) of the version you changed',
      ['meta.versionId'],
    );
  if (fromBody !== undefined && fromHeader && fromBody !== fromHeader)
    throw badRequest(
      'NAVET-KJ-VERSION',
      `meta.versionId (${String(fromBody)}) and If-Match (${fromHeader}) differ: send the version you read`,
      ['meta.versionId', 'If-Match'],
    );
  const version = (fromBody as string | undefined) ?? fromHeader;
  if (!version)
    throw badRequest(
      'NAVET-KJ-VERSION-MISSING',
      'Say which version you changed: meta.versionId in the body (or an If-Match header); it must be the latest',
      ['meta.versionId'],
    );
  return Number(version);
}

function staleVersion(entry: FhirResource, based: number, what: string): FhirError {
  const current = versionOf(entry);
  const updater = ((entry.contained as FhirResource[] | undefined)?.find((c) => c.id === 'updaterRef') ??
    (entry.contained as FhirResource[] | undefined)?.find((c) => c.id === 'recorderRef')) as
    { practitioner?: { display?: string; identifier?: { value?: string } } } | undefined;
  const who = updater?.practitioner
    ? ` by ${updater.practitioner.display ?? `HPR ${updater.practitioner.identifier?.value}`}`
    : '';
  const when = entry.meta?.lastUpdated;
  return conflict(
    'NAVET-KJ-VERSION-CONFLICT',
    `${what} is based on version ${based} of ${entry.resourceType}/${entry.id}, but the current version is ${current} (changed ${when}${who}): read it again and re-apply your change`,
  );
}

/** The store's own race check (a writer that committed meanwhile) answers 409 like a stale version. */
async function guardedUpdate(
  write: () => Promise<FhirResource>,
  entry: FhirResource,
  based: number,
  what: string,
): Promise<FhirResource> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof FhirError && (error.status === 412 || error.navetCode === 'NAVET-CONCURRENT-UPDATE')) {
      throw conflict(
        'NAVET-KJ-VERSION-CONFLICT',
        `${what} is based on version ${based} of ${entry.resourceType}/${entry.id}, but another change was saved at the same moment: read it again and re-apply your change`,
      );
    }
    throw error;
  }
}

export function updateEntry(type: KjResourceType) {
  return async (context: KjContext, req: Request, res: Response, access: AccessContext): Promise<PatientDataAnswer> => {
    const sandbox = res.locals.sandbox;
    const body = bodyOf(req, type);
    const { nin, entry } = await patientEntry(context, req, res, access, type);
    if (body.id !== undefined && body.id !== entry.id)
      throw badRequest(
        'NAVET-KJ-ID',
        `The body's id (${String(body.id)}) is not the id in the URL (${String(entry.id)})`,
        [`${type}.id`],
      );
    const bodyNin = patientNinOfEntry(body);
    if (bodyNin !== undefined && bodyNin !== nin)
      throw badRequest(
        'NAVET-KJ-PATIENT-MISMATCH',
        `The body names patient ${bodyNin}; the entry belongs to the patient in nhn-patient-nin`,
        [`${type}.${type === 'AllergyIntolerance' ? 'patient' : 'subject'}`],
      );
    if (isEnteredInError(entry))
      throw gone(
        'NAVET-KJ-ENTERED-IN-ERROR',
        `${type}/${entry.id} was deleted (entered-in-error) and cannot be changed`,
      );
    const based = baseVersion(req, body);
    if (based !== versionOf(entry)) throw staleVersion(entry, based, 'This update');
    rejectEnteredInError(body, 'update');
    for (const element of ['category', 'code']) {
      if (JSON.stringify(body[element] ?? null) !== JSON.stringify(entry[element] ?? null)) {
        throw badRequest(
          'NAVET-KJ-IMMUTABLE',
          `${type}.${element} cannot change by update: delete the entry and register a new one`,
          [`${type}.${element}`],
        );
      }
    }
    const registrar = registrarOf(access, userRoleOf(req, access));
    const profile = profileOf({ ...body, meta: entry.meta });
    const now = sandbox.clock.now().toISOString();
    const next = { ...storedEntry(body, { nin, registrar, now, previous: entry, profile }), id: entry.id };
    assertValidEntry(next, profile);
    const saved = await guardedUpdate(
      async () => (await context.store.update(sandbox.name, next, now, based)).resource,
      entry,
      based,
      'This update',
    );
    const versionId = versionOf(saved);
    return {
      patients: [{ nin, resources: [`${type}/${saved.id}`] }],
      send: (response) => {
        response.setHeader('ETag', `W/"${versionId}"`);
        response.setHeader('Location', `${context.base}/${type}/${saved.id}/_history/${versionId}`);
        sendFhir(req, response, 200, saved);
      },
    };
  };
}

export function deleteEntry(type: KjResourceType) {
  return async (context: KjContext, req: Request, res: Response, access: AccessContext): Promise<PatientDataAnswer> => {
    const sandbox = res.locals.sandbox;
    const { nin, entry } = await patientEntry(context, req, res, access, type);
    if (isEnteredInError(entry)) throw gone('NAVET-KJ-ENTERED-IN-ERROR', `${type}/${entry.id} is deleted already`);
    const vid = req.params.vid as string | undefined;
    if (vid !== undefined && !/^[1-9]\d{0,8}$/.test(vid))
      throw badRequest('NAVET-KJ-VERSION', `The version id must be a whole number from 1; got '${vid}'`, ['vid']);
    const named =
      vid !== undefined ? Number(vid) : req.headers['if-match'] !== undefined ? baseVersion(req, undefined) : undefined;
    if (named !== undefined && named !== versionOf(entry)) {
      throw conflict(
        'NAVET-KJ-DELETE-OLD-VERSION',
        `Only the latest version can be deleted: version ${named} of ${type}/${entry.id} is not the latest (${versionOf(entry)})`,
      );
    }
    const registrar = registrarOf(access, userRoleOf(req, access));
    const now = sandbox.clock.now().toISOString();
    const contained = [
      ...((entry.contained as FhirResource[] | undefined) ?? []).filter((c) => c.id !== 'updaterRef'),
      practitionerRole('updaterRef', registrar),
    ];
    const extension = [
      ...((entry.extension as { url?: string }[] | undefined) ?? []).filter(
        (e) => e.url !== KJ_EXTENSIONS.updatedDateTime,
      ),
      { url: KJ_EXTENSIONS.updatedDateTime, valueDateTime: now },
    ];
    const deleted = markEnteredInError({ ...entry, contained, extension });
    const based = versionOf(entry);
    const saved = await guardedUpdate(
      async () => (await context.store.update(sandbox.name, deleted, now, based)).resource,
      entry,
      based,
      'This delete',
    );
    return {
      patients: [{ nin, resources: [`${type}/${saved.id}`] }],
      send: (response) => {
        response.setHeader('ETag', `W/"${versionOf(saved)}"`);
        sendFhir(req, response, 200, saved);
      },
    };
  };
}
