import { badRequest, FhirError, forbidden } from '../../fhir/operation-outcome';
import { assertValidResource } from '../../fhir/validate-resource';
import type { FhirResource } from '../../fhir/types';
import type { PractitionerRole } from 'fhir/r4';
import { HEALTH_PERSONNEL_CATEGORIES, identifierSystemOf, SYSTEMS } from '../../codes/code-systems';
import type { AccessContext } from '../../trust/access-context';
import { ownValue } from '../../own-value';
import {
  CRITICAL_INFO_TYPES,
  criticalInfoTypeOf,
  KJ_EXTENSIONS,
  KJ_PROFILES,
  KJ_SYSTEMS,
  kjProfileUrl,
  type KjResourceType,
} from './kj-codes';

/**
 * One critical-information entry (AllergyIntolerance, Condition or Flag) as Kjernejournal keeps it: the
 * patient by identifier, the contained PractitionerRoles `recorderRef` (who registered it) and
 * `updaterRef` (who changed it last), both filled by Navet from the verified access, and KjUpdatedDateTime.
 */
const PATIENT_ELEMENT: Record<KjResourceType, string> = {
  AllergyIntolerance: 'patient',
  Condition: 'subject',
  Flag: 'subject',
};
const RECORDER_ELEMENT: Record<KjResourceType, string> = {
  AllergyIntolerance: 'recorder',
  Condition: 'recorder',
  Flag: 'author',
};
const NAVET_CONTAINED = ['recorderRef', 'updaterRef'];

export interface Registrar {
  hprNumber: string;
  name?: string;
  organisation: { orgnr: string; name?: string };
  /** Volven 9060 code, e.g. LE. */
  category: string;
}

/** Who registers or changes an entry, from the verified access; writing needs a practitioner with an HPR number. */
export function registrarOf(access: AccessContext, category: string | undefined): Registrar {
  const hprNumber = access.practitioner?.hprNumber;
  if (!hprNumber)
    throw forbidden(
      'NAVET-KJ-NO-HPR',
      'Registering critical information needs a health worker with an HPR number: attest the practitioner (with hpr_number) or log the user in',
    );
  if (!category)
    throw forbidden(
      'NAVET-KJ-USER-ROLE',
      "Tell which kind of health worker registers: send nhn-user-role or attest the practitioner's authorisation (Volven 9060)",
    );
  const where = access.organisation?.pointOfCare ?? access.organisation?.legalEntity;
  const orgnr = where?.id ?? access.client.orgnrChild ?? access.client.orgnrParent ?? '';
  return { hprNumber, name: access.practitioner?.name, organisation: { orgnr, name: where?.name }, category };
}

export function practitionerRole(id: 'recorderRef' | 'updaterRef', registrar: Registrar): PractitionerRole {
  return {
    resourceType: 'PractitionerRole',
    id,
    practitioner: {
      identifier: { system: SYSTEMS.hpr, value: registrar.hprNumber },
      ...(registrar.name ? { display: registrar.name } : {}),
    },
    organization: {
      identifier: { system: SYSTEMS.orgnr, value: registrar.organisation.orgnr },
      ...(registrar.organisation.name ? { display: registrar.organisation.name } : {}),
    },
    code: [
      {
        coding: [
          {
            system: KJ_SYSTEMS.categoriesOfHealthProfessionals,
            code: registrar.category,
            ...(ownValue(HEALTH_PERSONNEL_CATEGORIES, registrar.category)
              ? { display: HEALTH_PERSONNEL_CATEGORIES[registrar.category] }
              : {}),
          },
        ],
      },
    ],
  };
}

/** The fødselsnummer an entry names, from its patient (or subject) identifier. */
export function patientNinOfEntry(resource: FhirResource): string | undefined {
  const element = ownValue(PATIENT_ELEMENT, resource.resourceType);
  const reference = element
    ? (resource[element] as { identifier?: { system?: unknown; value?: unknown } } | undefined)
    : undefined;
  const identifier = reference?.identifier;
  if (!identifier || typeof identifier.value !== 'string') return undefined;
  if (identifier.system !== undefined && identifier.system !== SYSTEMS.fnr && identifier.system !== SYSTEMS.dnr)
    return undefined;
  return identifier.value;
}

export function isEnteredInError(resource: FhirResource): boolean {
  if (resource.resourceType === 'Flag') return resource.status === 'entered-in-error';
  const codings = (resource.verificationStatus as { coding?: { code?: string }[] } | undefined)?.coding ?? [];
  return codings.some((c) => c.code === 'entered-in-error');
}

export function markEnteredInError(resource: FhirResource): FhirResource {
  if (resource.resourceType === 'Flag') return { ...resource, status: 'entered-in-error' };
  const system =
    resource.resourceType === 'AllergyIntolerance'
      ? 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification'
      : 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
  return {
    ...resource,
    verificationStatus: { coding: [{ system, code: 'entered-in-error', display: 'Entered in Error' }] },
  };
}

/** The profile an entry is validated against: its meta.profile when it names one of ours, else the one its category implies. */
export function profileOf(resource: FhirResource): string {
  const claimed = (resource.meta as { profile?: unknown } | undefined)?.profile;
  const ours = Object.values(CRITICAL_INFO_TYPES)
    .filter((t) => t.resourceType === resource.resourceType)
    .map((t) => kjProfileUrl(t.profile));
  if (Array.isArray(claimed) && claimed.length > 0) {
    const known = claimed.find((p) => typeof p === 'string' && ours.includes(p));
    if (!known)
      throw badRequest(
        'NAVET-KJ-PROFILE',
        `meta.profile names no critical-information profile of ${resource.resourceType}: use one of ${[...new Set(ours)].join(', ')}`,
        [`${resource.resourceType}.meta.profile`],
      );
    return known as string;
  }
  const type = criticalInfoTypeOf(resource);
  if (!type) {
    const categories = Object.values(CRITICAL_INFO_TYPES)
      .filter((t) => t.resourceType === resource.resourceType)
      .flatMap((t) => t.categories);
    const what =
      resource.resourceType === 'AllergyIntolerance'
        ? `one of ${categories.join(', ')}`
        : `a coding of ${KJ_SYSTEMS.category} with code ${categories.join(', ')}`;
    throw badRequest(
      'NAVET-KJ-CATEGORY',
      `${resource.resourceType}.category must say which critical information this is: ${what}`,
      [`${resource.resourceType}.category`],
    );
  }
  return kjProfileUrl(CRITICAL_INFO_TYPES[type].profile);
}

function withoutNavetParts(resource: FhirResource): FhirResource {
  const { id: _id, meta: _meta, ...rest } = resource;
  const contained = Array.isArray(rest.contained)
    ? (rest.contained as { id?: string }[]).filter((c) => !NAVET_CONTAINED.includes(String(c?.id)))
    : [];
  const extension = Array.isArray(rest.extension)
    ? (rest.extension as { url?: string }[]).filter((e) => e?.url !== KJ_EXTENSIONS.updatedDateTime)
    : [];
  return { ...rest, contained, extension } as FhirResource;
}

/**
 * The entry as it is stored: the client's clinical content; the patient, who registered it and when from
 * Navet. On update, `previous` keeps the registration (recorderRef, recordedDate) and the updater is added.
 */
export function storedEntry(
  input: FhirResource,
  options: { nin: string; registrar: Registrar; now: string; previous?: FhirResource; profile: string },
): FhirResource {
  const type = input.resourceType as KjResourceType;
  const base = withoutNavetParts(input);
  const recorder = options.previous
    ? ((options.previous.contained as FhirResource[] | undefined)?.find((c) => c.id === 'recorderRef') ??
      practitionerRole('recorderRef', options.registrar))
    : practitionerRole('recorderRef', options.registrar);
  const contained = [
    recorder,
    ...(options.previous ? [practitionerRole('updaterRef', options.registrar)] : []),
    ...(base.contained as FhirResource[]),
  ];
  const extension = [
    ...(base.extension as unknown[]),
    { url: KJ_EXTENSIONS.updatedDateTime, valueDateTime: options.now },
  ];
  const recordedDate = options.previous?.recordedDate ?? options.now;
  return {
    meta: { profile: [options.profile] },
    ...base,
    resourceType: type,
    contained,
    extension,
    [PATIENT_ELEMENT[type]]: { identifier: { system: identifierSystemOf(options.nin), value: options.nin } },
    [RECORDER_ELEMENT[type]]: { reference: '#recorderRef' },
    ...(type === 'Flag' ? {} : { recordedDate }),
  };
}

/** R4 first (malformed FHIR), then the profile; every problem is named by element. */
export function assertValidEntry(stored: FhirResource, profile: string): void {
  assertValidResource(stored);
  const issues = KJ_PROFILES.validate(stored, profile);
  if (issues.length > 0) throw new FhirError(400, issues);
}
