import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { privacyChoicesForCare } from '../../citizen/privacy-choices';
import { isHprBlocked } from '../critical-info/kj-access';
import { badRequest } from '../../fhir/operation-outcome';
import type { FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import { SYSTEMS } from '../../codes/code-systems';
import type { AccessContext } from '../../trust/access-context';
import { buildMedicationBundle } from './medication-bundle';
import { allergiesOf, dispensesOf, isLocked, type Pll, readPll, recordLookup } from './pll-store';
import { CONSENT_CODES, ERROR_CODES, type ErrorCode, SFM } from './sfm-codes';
import { authorOf, patientByNin, type SfmContext, sleep } from './sfm-context';
import { at, codeOf, codeOrBooleanOf, type Parameter, parametersOf } from './sfm-parameters';
import type { BackendSetting } from './sfm-settings';

/**
 * `POST <sfm>/Patient/$getMedication`: the patient's medicines from both backends. Reseptformidleren (RF)
 * gives the PLL (and counts as the look-up that allows a send for 4 hours); Kjernejournal (KJ) gives
 * allergies and dispenses. Each half can fail on its own (failure injection, reservation, no consent):
 * the answer then carries KJFeilkode / RFM96Feilkode and the other half as usual.
 *
 * Consent and reservation (*unverified*, what a vendor would expect): without SamtykkeKjernejournal the KJ
 * half is not asked (KJ-NO-CONSENT); a patient reserved against Kjernejournal gets KJ-RESERVED and nothing
 * clinical from KJ; the RF half (PLL, prescriptions) follows the prescription rules and is not affected by
 * the reservation. Locked (sperrede) dispenses need SamtykkeSperretLegemidler, locked prescriptions on the
 * list need SamtykkeLasteResepter; without them they are left out and KJHarLaste / RFHarLaste say so.
 */
const PARAMETERS = [
  'patient',
  'Referansenummer',
  'historyTimestamp',
  'SamtykkeKjernejournal',
  'SamtykkeSperretLegemidler',
  'SamtykkeLasteResepter',
  'IncludeOriginal',
] as const;
const NIN = /^\d{11}$/;
/** SamtykkeSperretLegemidler / SamtykkeLasteResepter: sfm-kj-consentcodes HPAKUTT, HPMOTTATTSAMTYKKE (SFM Basis getMedication). */
const LOCKED_CONSENT_CODES = ['HPAKUTT', 'HPMOTTATTSAMTYKKE'] as const;
const INCLUDE_ORIGINAL_CODES = ['include_reseptdok'] as const;

function ninOfPatient(resource: unknown): string | undefined {
  const identifiers = (resource as { identifier?: unknown } | undefined)?.identifier;
  const found = (Array.isArray(identifiers) ? (identifiers as { system?: unknown; value?: unknown }[]) : []).find(
    (i) => i && (i.system === SYSTEMS.fnr || i.system === SYSTEMS.dnr),
  );
  return typeof found?.value === 'string' ? found.value : undefined;
}

/** The patient a $getMedication names, for logging a rejected one. */
export function requestedPatientNin(body: unknown): string | undefined {
  const params = (body as { parameter?: { name?: string; resource?: unknown }[] } | undefined)?.parameter;
  return Array.isArray(params) ? ninOfPatient(params.find((p) => p?.name === 'patient')?.resource) : undefined;
}

interface LookupRequest {
  nin: string;
  historyTimestamp?: string;
  kjConsent?: string;
  lockedMedicines: boolean;
  lockedPrescriptions: boolean;
}

function readRequest(body: unknown): LookupRequest {
  const params = parametersOf(body, PARAMETERS, '$getMedication');
  const one = (name: string): Parameter | undefined => {
    const found = params.filter((p) => p.name === name);
    if (found.length > 1) throw badRequest('NAVET-SFM-PARAMETERS', `${name} may be given once`, [at(found[1])]);
    return found[0];
  };
  const patient = one('patient');
  if (!patient)
    throw badRequest(
      'NAVET-SFM-PATIENT',
      'The parameter "patient" is required: an sfm-Patient resource with the fødselsnummer or D-number as identifier',
      ['Parameters.parameter'],
    );
  if ((patient.resource as { resourceType?: unknown } | undefined)?.resourceType !== 'Patient') {
    throw badRequest('NAVET-SFM-PATIENT', 'patient must carry a Patient resource (parameter.resource)', [
      at(patient, 'resource'),
    ]);
  }
  const nin = ninOfPatient(patient.resource);
  if (!nin || !NIN.test(nin)) {
    throw badRequest(
      'NAVET-SFM-PATIENT',
      `patient.identifier needs the fødselsnummer (${SYSTEMS.fnr}) or D-number (${SYSTEMS.dnr}) of 11 digits`,
      [at(patient, 'resource.identifier')],
    );
  }
  const history = one('historyTimestamp');
  const historyTimestamp = history ? (history.valueDateTime ?? history.valueInstant) : undefined;
  if (history && (typeof historyTimestamp !== 'string' || Number.isNaN(Date.parse(historyTimestamp)))) {
    throw badRequest('NAVET-SFM-PARAMETERS', 'historyTimestamp must be a valueDateTime such as 2026-01-01T12:00:00Z', [
      at(history, 'valueDateTime'),
    ]);
  }
  const consentParam = one('SamtykkeKjernejournal');
  const kjConsent = codeOf(consentParam);
  if (consentParam && !CONSENT_CODES.includes(kjConsent as (typeof CONSENT_CODES)[number])) {
    throw badRequest(
      'NAVET-SFM-CONSENT',
      `SamtykkeKjernejournal must be one of ${CONSENT_CODES.join(', ')}; got ${JSON.stringify(kjConsent)}`,
      [at(consentParam)],
    );
  }
  for (const p of params.filter((x) => x.name === 'Referansenummer')) {
    if (typeof p.valueString !== 'string')
      throw badRequest('NAVET-SFM-PARAMETERS', 'Referansenummer must be a valueString', [at(p, 'valueString')]);
  }
  // IncludeOriginal is 0..* code (sfm-include-binary: include_reseptdok); originals are not served, so it is only checked
  for (const p of params.filter((x) => x.name === 'IncludeOriginal')) codeOrBooleanOf(p, INCLUDE_ORIGINAL_CODES);
  return {
    nin,
    ...(historyTimestamp ? { historyTimestamp: historyTimestamp as string } : {}),
    ...(kjConsent ? { kjConsent } : {}),
    lockedMedicines: codeOrBooleanOf(one('SamtykkeSperretLegemidler'), LOCKED_CONSENT_CODES) ?? false,
    lockedPrescriptions: codeOrBooleanOf(one('SamtykkeLasteResepter'), LOCKED_CONSENT_CODES) ?? false,
  };
}

/** Waits as the failure injection says; answers the error code of a backend that fails. */
async function backend(
  setting: BackendSetting,
  codes: { unavailable: ErrorCode; timeout: ErrorCode },
): Promise<ErrorCode | undefined> {
  if (setting.mode === 'unavailable') return codes.unavailable;
  if (setting.mode === 'slow' || setting.mode === 'timeout') await sleep(setting.delayMs);
  return setting.mode === 'timeout' ? codes.timeout : undefined;
}

const errorParameter = (name: string, error: ErrorCode) => ({
  name,
  valueCoding: { system: SFM.errorCode, code: error.code, display: error.display },
});

export async function getMedication(
  context: SfmContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const input = readRequest(req.body);
  const { store } = context;
  const patient = await patientByNin(store, sandbox.name, input.nin);
  const patientId = patient.id as string;
  const settings = await context.settings.read(sandbox.name);

  type KjHalf =
    | { error: ErrorCode }
    | {
        error?: undefined;
        at: string;
        allergies: FhirResource[];
        dispenses: FhirResource[];
        hasMedicines: boolean;
        hasLocked: boolean;
      };
  type RfHalf =
    { error: ErrorCode } | { error?: undefined; at: string; pll: Pll; hasLocked: boolean; seenVersion: number };
  const kjHalf = async (): Promise<KjHalf> => {
    const failed = await backend(settings.kjernejournal, {
      unavailable: ERROR_CODES.kjUnavailable,
      timeout: ERROR_CODES.kjTimeout,
    });
    if (failed) return { error: failed };
    if (!input.kjConsent) return { error: ERROR_CODES.kjNoConsent };
    const choices = await privacyChoicesForCare(store, sandbox.name, input.nin, sandbox.clock.now());
    if (choices.kjernejournalReservation.reserved) return { error: ERROR_CODES.kjReserved };
    if (isHprBlocked(choices, access)) return { error: ERROR_CODES.kjHprBlocked };
    if (choices.kjernejournalRestriction.restricted && input.kjConsent !== 'HPAKUTT')
      return { error: ERROR_CODES.kjRestricted };
    const [allergies, dispenses] = await Promise.all([
      allergiesOf(store, sandbox.name, input.nin),
      dispensesOf(store, sandbox.name, patientId),
    ]);
    const visible = dispenses.filter((d) => input.lockedMedicines || !isLocked(d));
    return {
      at: sandbox.clock.now().toISOString(),
      allergies,
      dispenses: visible,
      hasMedicines: dispenses.length > 0,
      hasLocked: dispenses.some(isLocked),
    };
  };
  const rfHalf = async (): Promise<RfHalf> => {
    const failed = await backend(settings.reseptformidleren, {
      unavailable: ERROR_CODES.rfUnavailable,
      timeout: ERROR_CODES.rfTimeout,
    });
    if (failed) return { error: failed };
    const pll = await readPll(store, sandbox.name, patientId, input.historyTimestamp);
    const visible: Pll = {
      ...pll,
      statements: pll.statements.filter((s) => input.lockedPrescriptions || !isLocked(s)),
    };
    const now = sandbox.clock.now().toISOString();
    // a look-up of an older state has still seen that the list is now at the current version
    const seenVersion = input.historyTimestamp ? (await readPll(store, sandbox.name, patientId)).version : pll.version;
    return { at: now, pll: visible, hasLocked: pll.statements.some(isLocked), seenVersion };
  };
  const [kj, rf] = await Promise.all([kjHalf(), rfHalf()]);

  const now = sandbox.clock.now().toISOString();
  const bundle = buildMedicationBundle({
    bundleId: randomUUID(),
    now,
    patient,
    ...(rf.error ? {} : { pll: rf.pll }),
    ...(kj.error ? {} : { kj: { allergies: kj.allergies, dispenses: kj.dispenses } }),
  });
  const parameters: Record<string, unknown>[] = [{ name: 'medication', resource: bundle }];
  if (!kj.error) parameters.push({ name: 'KJHentetTidspunkt', valueDateTime: kj.at });
  if (!rf.error) parameters.push({ name: 'RFHentetTidspunkt', valueDateTime: rf.at });
  if (kj.error) parameters.push(errorParameter('KJFeilkode', kj.error));
  // both RF messages of a look-up (M9.6 prescriptions, M9.12 the list) fail with RF (*unverified*)
  if (rf.error) parameters.push(errorParameter('RFM96Feilkode', rf.error), errorParameter('RFM912Feilkode', rf.error));
  if (!kj.error)
    parameters.push(
      { name: 'KJHarLegemidler', valueBoolean: kj.hasMedicines },
      { name: 'KJHarLaste', valueBoolean: kj.hasLocked },
    );
  if (!rf.error) parameters.push({ name: 'RFHarLaste', valueBoolean: rf.hasLocked });

  const resources: FhirResource[] = [
    ...(rf.error ? [] : [...(rf.pll.list ? [rf.pll.list] : []), ...rf.pll.statements]),
    ...(kj.error ? [] : [...kj.allergies, ...kj.dispenses]),
  ];
  const author = rf.error ? undefined : await authorOf(access, store, sandbox.name);
  return {
    patients: [{ nin: input.nin, id: patientId, resources: resources.map((r) => `${r.resourceType}/${r.id}`) }],
    // the look-up that opens the 4-hour window to send counts only once it is in the access log
    afterLog: async (logStore) => {
      if (rf.error || !author) return;
      await recordLookup(
        logStore,
        sandbox.name,
        { orgnr: author.orgnr, orgName: author.orgName, patientId, at: rf.at, seenVersion: rf.seenVersion },
        rf.at,
      );
    },
    send: (r: Response) => sendFhir(req, r, 200, { resourceType: 'Parameters', parameter: parameters }),
  };
}
