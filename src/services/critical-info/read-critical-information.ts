import type { NavetErrorCode } from '../../codes/error-codes';
import type { Request, Response } from 'express';
import type { Interaction } from '../../audit/audit-event';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { historyBundle } from '../../fhir/bundles';
import { badRequest, forbidden, gone, notFound, operationOutcome } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { Bundle, FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import { isValidId, type ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { identifierSystemOf } from '../../codes/code-systems';
import { isEnteredInError, patientNinOfEntry } from './critical-information-entry';
import { assertCommonHeaders, assertPrivacyAllows, privacyOf, requireHeaderNin } from './kj-access';
import { ALLERGY_TYPES, CONDITION_TYPES, criticalInfoTypeOf, type KjResourceType } from './kj-codes';

/**
 * Reading critical information: the patient's entries of a kind (`GET /AllergyIntolerance`,
 * `GET /Conditions`, `GET /Flag`), one entry, one version, and an entry's history. Entries marked
 * entered-in-error are gone from reads; their history stays readable. A reserved patient has nothing to read.
 */
export const KJ_READ: Interaction = {
  service: 'critical-information',
  code: 'KJ-READ',
  display: 'Read critical information',
  action: 'R',
  seen: 'Kritisk informasjon',
};
export const KJ_HISTORY: Interaction = {
  service: 'critical-information',
  code: 'KJ-HISTORY',
  display: 'Read the history of an entry',
  action: 'R',
  seen: 'Historikk for kritisk informasjon',
};

const SEARCH_PARAMETER: Record<KjResourceType, string> = {
  AllergyIntolerance: 'patient',
  Condition: 'subject',
  Flag: 'subject',
};
const TYPES_OF: Record<KjResourceType, string[]> = {
  AllergyIntolerance: ALLERGY_TYPES,
  Condition: CONDITION_TYPES,
  Flag: ['OtherProcedureChange'],
};
const IGNORED_PARAMETERS = ['_format', '_pretty'];

export interface KjContext {
  store: ResourceStore;
  /** The service's base URL in this sandbox. */
  base: string;
}

/** All of a patient's current entries of one resource type, entered-in-error included. */
export async function entriesOf(
  store: ResourceStore,
  sandbox: string,
  type: KjResourceType,
  nin: string,
): Promise<FhirResource[]> {
  const request = parseSearchRequest(type, [
    [`${SEARCH_PARAMETER[type]}:identifier`, `${identifierSystemOf(nin)}|${nin}`],
  ]);
  return (await store.search(sandbox, { ...request, count: 1000, totalNone: true })).matches;
}

function requestedTypes(req: Request, type: KjResourceType): string[] {
  const allowed = TYPES_OF[type];
  let wanted = allowed;
  for (const [name, value] of Object.entries(req.query)) {
    if (IGNORED_PARAMETERS.includes(name)) continue;
    if (name !== 'criticalInfoType')
      throw badRequest(
        'NAVET-KJ-UNKNOWN-PARAM',
        `This read has no parameter '${name}'; use criticalInfoType (${allowed.join(', ')})`,
        [name],
      );
    const values = (Array.isArray(value) ? value : [value])
      .flatMap((v) => String(v).split(','))
      .map((v) => v.trim())
      .filter(Boolean);
    const unknown = values.filter((v) => !allowed.includes(v));
    if (unknown.length > 0 || values.length === 0) {
      throw badRequest(
        'NAVET-KJ-CRITICAL-INFO-TYPE',
        `criticalInfoType '${unknown.join(',') || ''}' is not one for ${type}: use ${allowed.join(', ')}`,
        ['criticalInfoType'],
      );
    }
    wanted = values;
  }
  return wanted;
}

function outcomeEntry(code: NavetErrorCode, text: string) {
  return {
    resource: operationOutcome([{ severity: 'information', code: 'informational', navetCode: code, text }]),
    search: { mode: 'outcome' as const },
  };
}

export function searchEntries(type: KjResourceType) {
  return async (context: KjContext, req: Request, res: Response, access: AccessContext): Promise<PatientDataAnswer> => {
    const sandbox = res.locals.sandbox;
    const accessBasis = assertCommonHeaders(req);
    const nin = requireHeaderNin(req);
    const wanted = requestedTypes(req, type);
    const privacy = await privacyOf(context.store, sandbox, nin);
    assertPrivacyAllows(privacy, access, accessBasis);
    const entries = privacy.kjernejournalReservation.reserved
      ? []
      : (await entriesOf(context.store, sandbox.name, type, nin))
          .filter((e) => !isEnteredInError(e) && wanted.includes(String(criticalInfoTypeOf(e))))
          .sort((a, b) => String(b.recordedDate ?? b.id).localeCompare(String(a.recordedDate ?? a.id)));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      timestamp: sandbox.clock.now().toISOString(),
      total: entries.length,
      entry: [
        ...entries.map((e) => ({
          fullUrl: `${context.base}/${type}/${e.id}`,
          resource: e,
          search: { mode: 'match' as const },
        })),
        ...(privacy.kjernejournalReservation.reserved
          ? [
              outcomeEntry(
                'NAVET-KJ-RESERVED',
                'The patient has reserved themself against Kjernejournal: there is no critical information to show',
              ),
            ]
          : []),
      ],
    };
    return {
      patients: [{ nin, resources: entries.map((e) => `${type}/${e.id}`) }],
      query: new URLSearchParams(req.query as Record<string, string>).toString(),
      send: (response) => sendFhir(req, response, 200, bundle),
    };
  };
}

/** An entry of the patient named in nhn-patient-nin, whatever its state; reserved and other patients' entries are refused. */
export async function patientEntry(
  context: KjContext,
  req: Request,
  res: Response,
  access: AccessContext,
  type: KjResourceType,
): Promise<{ nin: string; entry: FhirResource }> {
  const sandbox = res.locals.sandbox;
  const accessBasis = assertCommonHeaders(req);
  const nin = requireHeaderNin(req);
  const id = String(req.params.id);
  const privacy = await privacyOf(context.store, sandbox, nin);
  assertPrivacyAllows(privacy, access, accessBasis);
  if (privacy.kjernejournalReservation.reserved)
    throw forbidden(
      'NAVET-KJ-RESERVED',
      'The patient has reserved themself against Kjernejournal: there is no critical information to show or change',
    );
  const entry = isValidId(id) ? await context.store.find(sandbox.name, type, id) : undefined;
  if (!entry) throw notFound('NAVET-KJ-NOT-FOUND', `${type}/${id} does not exist`);
  if (patientNinOfEntry(entry) !== nin)
    throw forbidden('NAVET-KJ-OTHER-PATIENT', `${type}/${id} is not an entry of the patient in nhn-patient-nin`);
  return { nin, entry };
}

export function readEntry(type: KjResourceType) {
  return async (context: KjContext, req: Request, res: Response, access: AccessContext): Promise<PatientDataAnswer> => {
    const { nin, entry } = await patientEntry(context, req, res, access, type);
    if (isEnteredInError(entry))
      throw gone(
        'NAVET-KJ-ENTERED-IN-ERROR',
        `${type}/${entry.id} was deleted (entered-in-error); its history is still readable at ${type}/${entry.id}/_history`,
      );
    const versionId = String(entry.meta?.versionId);
    return {
      patients: [{ nin, resources: [`${type}/${entry.id}`] }],
      send: (response) => {
        response.setHeader('ETag', `W/"${versionId}"`);
        sendFhir(req, response, 200, entry);
      },
    };
  };
}

export function readVersion(type: KjResourceType) {
  return async (context: KjContext, req: Request, res: Response, access: AccessContext): Promise<PatientDataAnswer> => {
    const { nin, entry } = await patientEntry(context, req, res, access, type);
    const vid = String(req.params.vid);
    if (!/^[1-9]\d{0,8}$/.test(vid))
      throw badRequest('NAVET-KJ-VERSION', `The version id must be a whole number from 1; got '${vid}'`, ['vid']);
    const version = await context.store.vread(res.locals.sandbox.name, type, String(entry.id), Number(vid));
    return {
      patients: [{ nin, resources: [`${type}/${entry.id}/_history/${vid}`] }],
      send: (response) => {
        response.setHeader('ETag', `W/"${vid}"`);
        sendFhir(req, response, 200, version);
      },
    };
  };
}

export function readHistory(type: KjResourceType) {
  return async (context: KjContext, req: Request, res: Response, access: AccessContext): Promise<PatientDataAnswer> => {
    const { nin, entry } = await patientEntry(context, req, res, access, type);
    const sandbox = res.locals.sandbox;
    const { total, versions } = await context.store.history(sandbox.name, {
      resourceType: type,
      id: String(entry.id),
      count: 1000,
      offset: 0,
    });
    const bundle = historyBundle({
      baseUrl: context.base,
      selfUrl: `${context.base}/${type}/${entry.id}/_history`,
      total,
      versions,
      now: sandbox.clock.now().toISOString(),
    });
    return {
      patients: [{ nin, resources: [`${type}/${entry.id}`] }],
      send: (response) => sendFhir(req, response, 200, bundle),
    };
  };
}
