import type { FhirResource } from '../fhir/types';
import { HEALTH_PERSONNEL_CATEGORIES, identifierSystemOf, SYSTEMS } from '../codes/code-systems';
import type { AccessContext, Coding, KnownAccess, OrganisationRef } from '../trust/access-context';
import { ownValue } from '../own-value';

/**
 * One access to one patient's record as an AuditEvent, shaped after HL7 Norway's trust-framework
 * AuditEvent (no-domain-Trustframework-Auditevent 0.9.8): agent.who → a contained PractitionerRole
 * (practitioner with FNR + HPR and the Volven 9060 authorisation, organisation = department or legal
 * entity, location = point of care), purposeOfEvent from the care relationship, and the patient,
 * encounter and care-relation metadata extensions.
 */
export const AUDIT_PROFILE = 'http://hl7.no/fhir/StructureDefinition/no-domain-Trustframework-Auditevent';
export const EXTENSION = {
  patient: 'http://hl7.no/fhir/StructureDefinition/auditevent-patient-extension',
  encounter: 'http://hl7.no/fhir/StructureDefinition/auditevent-encounter-extension',
  careRelation: 'http://hl7.no/fhir/StructureDefinition/auditevent-carerelation-metadata-extension',
} as const;
export const AUDIT_SYSTEMS = {
  dicom: 'http://dicom.nema.org/resources/ontology/DCM',
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  entityType: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  objectRole: 'http://terminology.hl7.org/CodeSystem/object-role',
  sourceType: 'http://terminology.hl7.org/CodeSystem/security-source-type',
  /** IHE Basic Audit Log Patterns: the request's correlation id as an entity. */
  balpEntityType: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType',
  resh: 'urn:oid:2.16.578.1.12.4.1.4.102',
  /** Navet's own: which service served the access, which client called, which interaction. */
  navetService: 'https://navet.example/fhir/CodeSystem/service',
  navetClientId: 'https://navet.example/fhir/NamingSystem/helseid-client-id',
  navetInteraction: 'https://navet.example/fhir/CodeSystem/interaction',
  navetEventId: 'https://navet.example/fhir/NamingSystem/nhn-event-id',
} as const;

export type ServiceName = 'pjd' | 'critical-information' | 'sfm' | 'pps';

export const SERVICE_DISPLAYS: Readonly<Record<ServiceName, string>> = {
  pjd: 'Pasientens journaldokumenter',
  'critical-information': 'Kritisk informasjon (Kjernejournal)',
  sfm: 'Pasientens legemiddelliste',
  pps: 'Pasientens prøvesvar',
};

/** An interaction of a service, e.g. ITI-67 of PJD; `seen` says in plain Norwegian what the user saw. */
export interface Interaction {
  service: ServiceName;
  code: string;
  display: string;
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  seen: string;
}

export type AuditOutcome = { ok: true } | { ok: false; code: string; text: string; serverError?: boolean };

export type { KnownAccess };

export interface AuditEntry {
  access: KnownAccess;
  interaction: Interaction;
  patient: { nin: string; id?: string };
  /** Resources returned or written, as "Type/id". */
  resources?: string[];
  /** The search as the client sent it (query string or form body). */
  query?: string;
  outcome: AuditOutcome;
}

/** Names of the organisations, looked up in the sandbox's registry by the writer. */
export type OrganisationNames = ReadonlyMap<string, string>;

const PURPOSE_OF_USE_DISPLAYS: Readonly<Record<string, string>> = {
  TREAT: 'Behandling',
  ETREAT: 'Akuttbehandling',
  COC: 'Koordinering av behandling',
  BTG: 'Nødtilgang (break the glass)',
};

function organisation(id: string, ref: OrganisationRef, names: OrganisationNames, partOf?: string): FhirResource {
  const name = ref.name ?? names.get(ref.id);
  return {
    resourceType: 'Organization',
    id,
    identifier: [{ system: ref.system, value: ref.id }],
    ...(name ? { name } : {}),
    ...(partOf ? { partOf: { reference: `#${partOf}` } } : {}),
  };
}

function coding(value: Coding, display?: string): Record<string, string> {
  const shown = value.display ?? display;
  return { system: value.system, code: value.code, ...(shown ? { display: shown } : {}) };
}

function outcomeCode(outcome: AuditOutcome): '0' | '4' | '8' {
  if (outcome.ok) return '0';
  return outcome.serverError ? '8' : '4';
}

/** The practitioner side of the event: contained resources and the requesting agent. */
function practitionerAgent(
  access: KnownAccess,
  names: OrganisationNames,
): { contained: FhirResource[]; agent: Record<string, unknown> } {
  const contained: FhirResource[] = [];
  const { practitioner, organisation: org } = access;
  const identifiers = [
    ...(practitioner?.pid ? [{ system: identifierSystemOf(practitioner.pid), value: practitioner.pid }] : []),
    ...(practitioner?.hprNumber ? [{ system: SYSTEMS.hpr, value: practitioner.hprNumber }] : []),
  ];
  const authorization = practitioner?.authorization;
  const authorizationCoding =
    authorization && coding(authorization, ownValue(HEALTH_PERSONNEL_CATEGORIES, authorization.code));
  if (practitioner) {
    contained.push({
      resourceType: 'Practitioner',
      id: 'practitioner',
      ...(identifiers.length > 0 ? { identifier: identifiers } : {}),
      ...(practitioner.name ? { name: [{ text: practitioner.name }] } : {}),
      ...(authorizationCoding ? { qualification: [{ code: { coding: [authorizationCoding] } }] } : {}),
    });
  }
  if (org) {
    contained.push(organisation('legal-entity', org.legalEntity, names));
    if (org.department) contained.push(organisation('department', org.department, names, 'legal-entity'));
    const pointName = org.pointOfCare.name ?? names.get(org.pointOfCare.id);
    contained.push({
      resourceType: 'Location',
      id: 'point-of-care',
      identifier: [{ system: org.pointOfCare.system, value: org.pointOfCare.id }],
      ...(pointName ? { name: pointName } : {}),
      managingOrganization: { reference: '#legal-entity' },
    });
  }
  if (practitioner || org) {
    contained.push({
      resourceType: 'PractitionerRole',
      id: 'agent',
      ...(practitioner
        ? { practitioner: { reference: '#practitioner', ...(practitioner.name ? { display: practitioner.name } : {}) } }
        : {}),
      ...(org
        ? {
            organization: { reference: org.department ? '#department' : '#legal-entity' },
            location: [{ reference: '#point-of-care' }],
          }
        : {}),
      ...(authorizationCoding ? { code: [{ coding: [authorizationCoding] }] } : {}),
    });
  }
  const decision = access.careRelationship?.decisionRef;
  const agent = {
    type: { coding: [{ system: AUDIT_SYSTEMS.participationType, code: 'IRCP', display: 'information recipient' }] },
    ...(authorizationCoding ? { role: [{ coding: [authorizationCoding] }] } : {}),
    who:
      contained.length > 0
        ? { reference: '#agent', ...(practitioner?.name ? { display: practitioner.name } : {}) }
        : {
            display: access.client
              ? 'Health worker not verified (the request was rejected before the attestation was accepted)'
              : 'Unidentified caller (no verified access token)',
          },
    ...(practitioner?.hprNumber ? { altId: practitioner.hprNumber } : {}),
    ...(practitioner?.name ? { name: practitioner.name } : {}),
    requestor: true,
    ...(decision ? { policy: [decision.id] } : {}),
  };
  return { contained, agent };
}

/** The calling system: client_id, client name and the nhn-source-system it gave. */
function clientAgent(access: KnownAccess): Record<string, unknown> | undefined {
  if (!access.client) return undefined;
  return {
    type: { coding: [{ system: AUDIT_SYSTEMS.dicom, code: '110150', display: 'Application' }] },
    who: {
      identifier: { system: AUDIT_SYSTEMS.navetClientId, value: access.client.clientId },
      display: access.client.name || access.client.clientId,
    },
    ...(access.sourceSystem ? { name: access.sourceSystem } : {}),
    requestor: false,
  };
}

/** The organisation the calling system belongs to (its token's orgnr_parent), beside the attested one. */
function clientOrganisationAgent(access: KnownAccess, names: OrganisationNames): Record<string, unknown> | undefined {
  const orgnr = access.client?.orgnrParent;
  if (!orgnr) return undefined;
  const name = names.get(orgnr);
  const child = access.client?.orgnrChild;
  return {
    type: { coding: [{ system: AUDIT_SYSTEMS.participationType, code: 'RESP', display: 'responsible party' }] },
    who: {
      identifier: { system: SYSTEMS.orgnr, value: orgnr },
      display: `${name ?? orgnr}${child ? ` (child organisation ${child})` : ''}`,
    },
    requestor: false,
  };
}

function careRelationExtension(access: KnownAccess): Record<string, unknown> | undefined {
  const decision = access.careRelationship?.decisionRef;
  const parts = [
    ...(decision ? [{ url: 'decision-ref-id', valueString: decision.id }] : []),
    ...(decision?.description ? [{ url: 'decision-ref-description', valueString: decision.description }] : []),
    ...(decision?.userSelected !== undefined
      ? [{ url: 'decision-ref-user-selected', valueBoolean: decision.userSelected }]
      : []),
    ...(access.attestedAt ? [{ url: 'toa', valueUnsignedInt: Math.floor(access.attestedAt.getTime() / 1000) }] : []),
  ];
  return parts.length > 0 ? { url: EXTENSION.careRelation, extension: parts } : undefined;
}

function patientAndEncounter(
  entry: AuditEntry,
  names: OrganisationNames,
): { contained: FhirResource[]; extensions: Record<string, unknown>[] } {
  const { access, patient } = entry;
  const contained: FhirResource[] = [
    {
      resourceType: 'Patient',
      id: 'patient',
      identifier: [{ system: identifierSystemOf(patient.nin), value: patient.nin }],
    },
  ];
  const extensions: Record<string, unknown>[] = [{ url: EXTENSION.patient, valueReference: { reference: '#patient' } }];
  const service = access.careRelationship?.healthcareService;
  const where = access.patient?.pointOfCare;
  if (service || where) {
    if (where) contained.push(organisation('patient-point-of-care', where, names));
    if (access.patient?.department)
      contained.push(
        organisation(
          'patient-department',
          access.patient.department,
          names,
          where ? 'patient-point-of-care' : undefined,
        ),
      );
    contained.push({
      resourceType: 'Encounter',
      id: 'encounter',
      status: 'unknown',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
      ...(service ? { serviceType: { coding: [coding(service)] } } : {}),
      subject: { reference: '#patient' },
      ...(where
        ? {
            serviceProvider: {
              reference: access.patient?.department ? '#patient-department' : '#patient-point-of-care',
            },
          }
        : {}),
    });
    extensions.push({ url: EXTENSION.encounter, valueReference: { reference: '#encounter' } });
  }
  return { contained, extensions };
}

function entities(entry: AuditEntry): Record<string, unknown>[] {
  const { access, patient, interaction } = entry;
  const details = [
    ...(access.accessBasis ? [{ type: 'access-basis', valueString: access.accessBasis }] : []),
    ...(access.tokenId ? [{ type: 'access-token-jti', valueString: access.tokenId }] : []),
    ...(access.scopes ? [{ type: 'scope', valueString: access.scopes.join(' ') }] : []),
  ];
  return [
    {
      what: {
        ...(patient.id ? { reference: `Patient/${patient.id}` } : {}),
        identifier: { system: identifierSystemOf(patient.nin), value: patient.nin },
      },
      type: { system: AUDIT_SYSTEMS.entityType, code: '1', display: 'Person' },
      role: { system: AUDIT_SYSTEMS.objectRole, code: '1', display: 'Patient' },
      description: interaction.seen,
    },
    ...(entry.resources ?? []).map((reference) => ({
      what: { reference },
      type: { system: AUDIT_SYSTEMS.entityType, code: '2', display: 'System Object' },
      role: { system: AUDIT_SYSTEMS.objectRole, code: '4', display: 'Domain Resource' },
    })),
    ...(entry.query !== undefined
      ? [
          {
            type: { system: AUDIT_SYSTEMS.entityType, code: '2', display: 'System Object' },
            role: { system: AUDIT_SYSTEMS.objectRole, code: '24', display: 'Query' },
            description: interaction.seen,
            query: Buffer.from(entry.query).toString('base64'),
          },
        ]
      : []),
    {
      what: { identifier: { system: AUDIT_SYSTEMS.navetEventId, value: access.eventId } },
      type: { system: AUDIT_SYSTEMS.balpEntityType, code: 'XrequestId', display: 'X-Request-Id' },
      description: 'nhn-event-id of the request',
      ...(details.length > 0 ? { detail: details } : {}),
    },
  ];
}

/** Builds the AuditEvent of one access to one patient's record. */
export function buildAuditEvent(entry: AuditEntry, recorded: string, names: OrganisationNames): FhirResource {
  const { access, interaction, outcome } = entry;
  const practitioner = practitionerAgent(access, names);
  const patient = patientAndEncounter(entry, names);
  const client = clientAgent(access);
  const clientOrganisation = clientOrganisationAgent(access, names);
  const care = access.careRelationship;
  const careRelation = careRelationExtension(access);
  const purposeCodings = care
    ? [
        coding(care.purposeOfUse, ownValue(PURPOSE_OF_USE_DISPLAYS, care.purposeOfUse.code)),
        ...(care.purposeOfUseDetails ? [coding(care.purposeOfUseDetails)] : []),
      ]
    : [];
  return {
    resourceType: 'AuditEvent',
    meta: { profile: [AUDIT_PROFILE] },
    contained: [...practitioner.contained, ...patient.contained],
    extension: [...patient.extensions, ...(careRelation ? [careRelation] : [])],
    type: { system: AUDIT_SYSTEMS.dicom, code: '110110', display: 'Patient Record' },
    subtype: [{ system: AUDIT_SYSTEMS.navetInteraction, code: interaction.code, display: interaction.display }],
    action: interaction.action,
    recorded,
    outcome: outcomeCode(outcome),
    ...(outcome.ok ? {} : { outcomeDesc: `${outcome.code}: ${outcome.text}` }),
    ...(purposeCodings.length > 0 ? { purposeOfEvent: [{ coding: purposeCodings }] } : {}),
    agent: [practitioner.agent, ...(client ? [client] : []), ...(clientOrganisation ? [clientOrganisation] : [])],
    source: {
      site: access.sandbox,
      observer: {
        identifier: { system: AUDIT_SYSTEMS.navetService, value: interaction.service },
        display: `Navet: ${SERVICE_DISPLAYS[interaction.service]}`,
      },
      type: [{ system: AUDIT_SYSTEMS.sourceType, code: '4', display: 'Application Server' }],
    },
    entity: entities(entry),
  };
}
