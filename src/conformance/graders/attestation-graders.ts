import type { RecordedExchange } from '../exchange';
import { everyRequest, fail, type Grader, type GradeContext, pass, skip } from '../grading';
import { apiCalls, attestationsOf, issuedToken, patientOf, sandboxSeconds, tokenRequests } from './traffic';

type Json = Record<string, unknown>;
const PURPOSES = ['TREAT', 'ETREAT', 'COC', 'BTG'];
const attested = (c: GradeContext) => tokenRequests(c).filter((e) => attestationsOf(e).length > 0);
const careOf = (a: Json) => (a.care_relationship ?? {}) as Json;
const practitionerOf = (a: Json) => (a.practitioner ?? {}) as Json;

function eachAttestation(
  c: GradeContext,
  expected: string,
  check: (a: Json, e: RecordedExchange) => string | undefined,
) {
  return everyRequest(attested(c), {
    flow: 'token request with an attestation',
    expected,
    check: (e) =>
      attestationsOf(e)
        .map((a) => check(a.value, e))
        .find((v) => v !== undefined),
  });
}

export const ATTESTATION_GRADERS: Record<string, Grader> = {
  'ATT-PURPOSE-OF-USE': (c) =>
    eachAttestation(
      c,
      'care_relationship.purpose_of_use from 2.16.840.1.113883.1.11.20448 (TREAT, ETREAT, COC, BTG)',
      (a) => {
        const p = careOf(a).purpose_of_use as Json | undefined;
        return p && p.system === 'urn:oid:2.16.840.1.113883.1.11.20448' && PURPOSES.includes(String(p.code))
          ? undefined
          : `purpose_of_use ${JSON.stringify(p ?? null)}`;
      },
    ),
  'ATT-SERVICE-OR-DETAILS': (c) =>
    eachAttestation(c, 'healthcare_service or purpose_of_use_details', (a) =>
      careOf(a).healthcare_service || careOf(a).purpose_of_use_details
        ? undefined
        : 'neither healthcare_service nor purpose_of_use_details',
    ),
  'ATT-DECISION-REF': (c) =>
    eachAttestation(c, 'decision_ref with id and user_selected (true/false)', (a) => {
      const ref = careOf(a).decision_ref as Json | undefined;
      return ref && typeof ref.id === 'string' && ref.id && typeof ref.user_selected === 'boolean'
        ? undefined
        : `decision_ref ${JSON.stringify(ref ?? null)}`;
    }),
  'ATT-LEGAL-ENTITY': (c) =>
    eachAttestation(c, 'practitioner.legal_entity: a 9-digit orgnr in urn:oid:2.16.578.1.12.4.1.4.101', (a) => {
      const entity = practitionerOf(a).legal_entity as Json | undefined;
      return entity && /^\d{9}$/.test(String(entity.id)) && entity.system === 'urn:oid:2.16.578.1.12.4.1.4.101'
        ? undefined
        : `legal_entity ${JSON.stringify(entity ?? null)}`;
    }),
  'ATT-TOA': (c) =>
    eachAttestation(c, 'toa at most 60 minutes old (and not ahead of the clock)', (a, e) => {
      const age = sandboxSeconds(e) - Number(a.toa);
      return Number.isFinite(age) && age <= 3600 && age >= -60
        ? undefined
        : a.toa === undefined
          ? 'no toa'
          : `toa is ${Math.round(age / 60)} minutes old`;
    }),
  'ATT-PATIENT-BOUND': (c) => {
    const tokens = attested(c)
      .map((e) => ({ e, token: issuedToken(e) }))
      .filter((t) => t.token);
    const uses = tokens
      .map((t) => ({
        ...t,
        calls: apiCalls(c).filter(
          (x) => x.auth?.token.hash === t.token?.hash && ['pjd', 'critical-information'].includes(x.service),
        ),
      }))
      .filter((t) => t.calls.length > 0);
    if (uses.length === 0) return skip('No attested token was used at PJD or Kjernejournal');
    const shared = uses
      .map((u) => ({ ...u, patients: [...new Set(u.calls.map(patientOf).filter(Boolean))] }))
      .find((u) => u.patients.length > 1);
    if (!shared)
      return pass(
        `Each of ${uses.length} attested tokens was used for one patient`,
        uses.map((u) => u.e),
      );
    return fail(
      `The attested token from ${shared.e.id} was used for ${shared.patients.length} patients`,
      [shared.e, ...shared.calls.slice(0, 4)],
      'a new attestation (and token) per patient',
      `patients ${shared.patients.join(', ')}`,
    );
  },
};
