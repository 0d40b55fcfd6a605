import type { Request, Response } from 'express';
import type { Interaction } from '../../audit/audit-event';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest } from '../../fhir/operation-outcome';
import type { FhirResource } from '../../fhir/types';
import type { AccessContext } from '../../trust/access-context';
import { isEnteredInError } from './critical-information-entry';
import { assertCommonHeaders, assertNin, EMERGENCY_ACCESS_BASES, isHprBlocked, privacyOf } from './kj-access';
import { CRITICAL_INFO_TYPES, criticalInfoTypeOf, KJ_EXTENSIONS, KJ_RESOURCE_TYPES } from './kj-codes';
import { entriesOf, type KjContext } from './read-critical-information';

/**
 * `POST /status` with `{"nin"}`: what a record system asks first. Whether the patient has critical
 * information (and active entries), when it last changed (overall and per type), the patient's privacy
 * settings, and whether the calling user is blocked. A reserved patient has no critical information.
 */
export const KJ_STATUS: Interaction = {
  service: 'critical-information',
  code: 'KJ-STATUS',
  display: 'Critical-information status',
  action: 'R',
  seen: 'Status for kritisk informasjon',
};

export function statusNin(req: Request): string | undefined {
  const body = req.body as { nin?: unknown } | undefined;
  return typeof body?.nin === 'string' ? body.nin : undefined;
}

const isActive = (entry: FhirResource): boolean => {
  if (entry.resourceType === 'Flag') return entry.status === 'active';
  const codes =
    (entry.clinicalStatus as { coding?: { code?: string }[] } | undefined)?.coding?.map((c) => c.code) ?? [];
  return codes.includes('active');
};

/** When an entry last changed: its KjUpdatedDateTime, else the store's time. */
const changedAt = (entry: FhirResource): string => {
  const updated = ((entry.extension ?? []) as { url?: string; valueDateTime?: string }[]).find(
    (e) => e.url === KJ_EXTENSIONS.updatedDateTime,
  )?.valueDateTime;
  return new Date(updated ?? String(entry.meta?.lastUpdated)).toISOString();
};

export async function criticalInformationStatus(
  context: KjContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const accessBasis = assertCommonHeaders(req);
  const nin = statusNin(req);
  if (nin === undefined) throw badRequest('NAVET-KJ-STATUS-BODY', 'Send {"nin":"<fødselsnummer>"} as JSON', ['nin']);
  assertNin(nin, 'nin');
  const privacy = await privacyOf(context.store, sandbox, nin);
  const blocked = isHprBlocked(privacy, access);
  const reserved = privacy.kjernejournalReservation.reserved;
  // a restricted Kjernejournal tells only emergency care whether there is anything
  const restrictedForThisCall =
    privacy.kjernejournalRestriction.restricted && !(accessBasis && EMERGENCY_ACCESS_BASES.includes(accessBasis));
  // Deleted (entered-in-error) entries count as changes, not as information.
  const entries =
    reserved || blocked || restrictedForThisCall
      ? []
      : (await Promise.all(KJ_RESOURCE_TYPES.map((type) => entriesOf(context.store, sandbox.name, type, nin)))).flat();
  const current = entries.filter((e) => !isEnteredInError(e));
  const dateChanged: Record<string, string | null> = Object.fromEntries(
    Object.values(CRITICAL_INFO_TYPES).map((t) => [t.dateKey, null]),
  );
  for (const entry of entries) {
    const type = criticalInfoTypeOf(entry);
    if (!type) continue;
    const key = CRITICAL_INFO_TYPES[type].dateKey;
    if (!dateChanged[key] || changedAt(entry) > (dateChanged[key] as string)) dateChanged[key] = changedAt(entry);
  }
  const last = entries.map(changedAt).sort().pop() ?? null;
  const status = {
    patientNIN: nin,
    hasCriticalInformation: current.length > 0,
    hasActiveCriticalInformation: current.some(isActive),
    lastChangedDateTime: last,
    dateChanged,
    privacySettings: {
      reservation: reserved,
      restriction: privacy.kjernejournalRestriction.restricted,
      ...(reserved
        ? {
            reservationText:
              'The patient has reserved themself against Kjernejournal: no critical information is shown or registered',
          }
        : {}),
      ...(privacy.kjernejournalRestriction.restricted
        ? {
            restrictionText:
              'The patient has restricted access: critical information is shown only in emergency care (nhn-access-basis AKUTT or FORHOYET_AKUTT)',
          }
        : {}),
    },
    hprNumberBlocked: blocked,
  };
  return {
    patients: [{ nin, resources: [] }],
    send: (response) => response.json(status),
  };
}
