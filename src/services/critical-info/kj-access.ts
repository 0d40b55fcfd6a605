import type { Request } from 'express';
import { type PrivacyChoices, privacyChoicesForCare } from '../../citizen/privacy-choices';
import { badRequest, forbidden } from '../../fhir/operation-outcome';
import type { Sandbox } from '../../sandbox/sandboxes';
import type { ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { nhnHeader } from '../../trust/guard';
import { ACCESS_BASES } from '../../codes/pjd-codes';
import { SYSTEMS } from '../../codes/code-systems';

/** Access bases that count as emergency care, the only care a restricted Kjernejournal is shown for (Navet's reading). */
export const EMERGENCY_ACCESS_BASES = ['AKUTT', 'FORHOYET_AKUTT'];

/** The patient of a request: the `nhn-patient-nin` header (or `hit-patient-nin`). */
export function headerPatientNin(req: Request): string | undefined {
  return nhnHeader(req, 'patient-nin');
}

/** Eleven digits; check digits are not enforced, since numbers in official documentation fail them (see the identifiers spec). */
export function assertNin(nin: string, where: string): void {
  if (!/^\d{11}$/.test(nin))
    throw badRequest('NAVET-KJ-PATIENT', `${where} '${nin}' is not an 11-digit fødselsnummer or D-number`, [where]);
}

export function requireHeaderNin(req: Request): string {
  const nin = headerPatientNin(req);
  if (!nin)
    throw badRequest(
      'NAVET-KJ-PATIENT',
      'The nhn-patient-nin header is required: the fødselsnummer or D-number of the patient',
      ['nhn-patient-nin'],
    );
  assertNin(nin, 'nhn-patient-nin');
  return nin;
}

/** The personnel category of the user: `nhn-user-role` (URL-encoded JSON Coding of Volven 9060), else the attested authorisation. */
export function userRoleOf(req: Request, access: AccessContext): string | undefined {
  const header = nhnHeader(req, 'user-role');
  const attested = access.practitioner?.authorization?.code;
  if (!header) return attested;
  let role: { system?: unknown; code?: unknown };
  try {
    // form-encoded as in the read page's curl example: '+' for a space (%7B%0A++++%22system%22%3A+…)
    role = JSON.parse(decodeURIComponent(header.replace(/\+/g, ' '))) as { system?: unknown; code?: unknown };
  } catch {
    throw badRequest(
      'NAVET-KJ-USER-ROLE',
      'nhn-user-role must be URL-encoded JSON like {"system":"urn:oid:2.16.578.1.12.4.1.1.9060","code":"LE"}',
      ['nhn-user-role'],
    );
  }
  if (
    typeof role !== 'object' ||
    role === null ||
    role.system !== SYSTEMS.healthPersonnelCategory ||
    typeof role.code !== 'string' ||
    !role.code
  ) {
    throw badRequest(
      'NAVET-KJ-USER-ROLE',
      `nhn-user-role must name a code of ${SYSTEMS.healthPersonnelCategory} (Volven 9060), e.g. {"system":"${SYSTEMS.healthPersonnelCategory}","code":"LE"}`,
      ['nhn-user-role'],
    );
  }
  if (attested && attested !== role.code) {
    throw badRequest(
      'NAVET-KJ-USER-ROLE',
      `nhn-user-role says ${role.code}, but the attestation says the user's authorisation is ${attested}: send the same`,
      ['nhn-user-role'],
    );
  }
  return role.code;
}

/** Headers every call checks: the calling system and, when given, the access basis. */
export function assertCommonHeaders(req: Request): string | undefined {
  if (!nhnHeader(req, 'source-system'))
    throw badRequest(
      'NAVET-KJ-SOURCE-SYSTEM',
      'The nhn-source-system header is required: the name of the calling system',
      ['nhn-source-system'],
    );
  const basis = nhnHeader(req, 'access-basis');
  if (basis && !ACCESS_BASES.includes(basis.toUpperCase()))
    throw badRequest(
      'NAVET-KJ-ACCESS-BASIS',
      `nhn-access-basis '${basis}' is not one of ${ACCESS_BASES.join(', ')} (any case)`,
      ['nhn-access-basis'],
    );
  return basis?.toUpperCase();
}

export async function privacyOf(store: ResourceStore, sandbox: Sandbox, nin: string): Promise<PrivacyChoices> {
  return privacyChoicesForCare(store, sandbox.name, nin, sandbox.clock.now());
}

export function isHprBlocked(privacy: PrivacyChoices, access: AccessContext): boolean {
  const hpr = access.practitioner?.hprNumber;
  return Boolean(hpr && privacy.blockedPractitioners.some((p) => p.hprNumber === hpr));
}

/**
 * What the patient's privacy settings allow this user: a blocked health worker sees nothing; a restricted
 * Kjernejournal opens only in emergency care. A reservation is handled by each interaction (reads answer
 * nothing clinical, writes are refused).
 */
export function assertPrivacyAllows(
  privacy: PrivacyChoices,
  access: AccessContext,
  accessBasis: string | undefined,
): void {
  if (isHprBlocked(privacy, access)) {
    throw forbidden(
      'NAVET-KJ-HPR-BLOCKED',
      `The patient has blocked health worker HPR ${access.practitioner?.hprNumber} from their Kjernejournal; /status says so in hprNumberBlocked`,
    );
  }
  if (privacy.kjernejournalRestriction.restricted && !(accessBasis && EMERGENCY_ACCESS_BASES.includes(accessBasis))) {
    throw forbidden(
      'NAVET-KJ-RESTRICTED',
      `The patient has restricted access to their Kjernejournal: critical information is shown only in emergency care (nhn-access-basis ${EMERGENCY_ACCESS_BASES.join(' or ')})`,
    );
  }
}
