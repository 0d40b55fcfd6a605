import type { AttestationRuleCode } from '../codes/error-codes';
import { parseSearchRequest, type QueryParams } from '../fhir/search-request';
import type { FhirResource } from '../fhir/types';
import { HEALTH_NETWORK_MEMBER_URL, SYSTEMS } from '../codes/code-systems';
import type { ResourceStore } from '../store/resource-store';
import type { AccessContext, Coding, OrganisationRef } from './access-context';
import type { AttestationCoding, AttestationIdentifier, TillitsrammeverkAttestation } from './attestation';

/**
 * The ATT rules of the tillitsrammeverk (trust-framework.md, table of elements) checked against the
 * sandbox's registry (Practitioner, PractitionerRole, Organization resources).
 *
 * Rule ids are NHN's where the spec names them. Where it names a range, Navet assigns them:
 *   ATT-38 purpose_of_use missing · ATT-39 purpose_of_use.system · ATT-40 purpose_of_use.code ·
 *   ATT-41 purpose_of_use_details system/code (the spec names no rule for these; Navet's choice).
 */

export interface RuleContext {
  sandbox: string;
  store: ResourceStore;
  /** The sandbox clock. */
  now: Date;
  /** The logged-in person in user flows; absent in client_credentials. */
  user?: { pid: string; hprNumber?: string };
  /** The patient the request names, when known. */
  patientNin?: string;
  /**
   * The organisation of the calling client (its token's orgnr_parent: the registered one, or the parent a
   * multi-tenant client named in helseid_authorization). The attested legal_entity must be it (ATT-13).
   */
  clientOrgnr?: string;
}

export interface RuleViolation {
  /** e.g. 'ATT-43'. */
  rule: AttestationRuleCode;
  /** e.g. 'care_relationship.healthcare_service'. */
  element: string;
  text: string;
}

const FNR = SYSTEMS.fnr;
const DNR = SYSTEMS.dnr;
/** Felles hjelpenummer (H-number). */
const HNR = 'urn:oid:2.16.578.1.12.4.1.4.3';
const HPR = SYSTEMS.hpr;
const ENH = SYSTEMS.orgnr;
const RESH = 'urn:oid:2.16.578.1.12.4.1.4.102';
const VOLVEN_9060 = SYSTEMS.healthPersonnelCategory;
const VOLVEN = 'urn:oid:2.16.578.1.12.4.1.1.';
const HEALTHCARE_SERVICE_LISTS = ['8655', '8451', '8668', '8663', '8662', '8664', '8666', '7750', '8254'];
const RETIRED_HEALTHCARE_SERVICE_LIST = '8627';
const PURPOSE_OF_USE = 'urn:oid:2.16.840.1.113883.1.11.20448';
const PURPOSE_OF_USE_CODES = ['TREAT', 'ETREAT', 'COC', 'BTG'];
const CARE_RELATION = 'urn:AuditEventHL7Norway/CodeSystem/carerelation';
const CARE_RELATION_CODES = ['BEHANDLER', 'HENV_BEH', 'HENVISNING', 'BLAALYS', 'ITSYSARB', 'POLBESOK'];
const NURSING_HOME_CARE_RELATION = `${VOLVEN}9151`;
const ATTESTATION_LIFETIME_MS = 60 * 60 * 1000;
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

type Add = (rule: AttestationRuleCode, element: string, text: string) => void;

/** What the registry says about the people and organisations the attestation names. */
interface RegistryFacts {
  /** The practitioner: the logged-in user, or the attested person in client_credentials flows. */
  person?: FhirResource;
  /** The holder of the attested HPR number, when it is not `person`. */
  hprHolder?: FhirResource;
  /** Organizations by orgnr. */
  organisations: Map<string, FhirResource>;
  /** The sub-units of the legal entity (up to five). */
  subUnits: FhirResource[];
}

/** Checks every rule; returns all violations (empty when the attestation is acceptable). */
export async function checkAttestationRules(
  attestation: TillitsrammeverkAttestation,
  context: RuleContext,
): Promise<RuleViolation[]> {
  const violations: RuleViolation[] = [];
  const add: Add = (rule, element, text) => violations.push({ rule, element, text: `${rule}: ${text}` });
  const facts = await lookUpRegistry(attestation, context);
  checkPractitioner(attestation, context, facts, add);
  await checkOrganisation(attestation, context, facts, add);
  checkCareRelationship(attestation, add);
  checkPatients(attestation, context, facts, add);
  checkAttestationTime(attestation, context.now, add);
  return violations;
}

// ---- registry ----

async function search(context: RuleContext, resourceType: string, params: QueryParams): Promise<FhirResource[]> {
  const request = parseSearchRequest(resourceType, [...params, ['_count', '100'], ['_total', 'none']]);
  return (await context.store.search(context.sandbox, request)).matches;
}

function identifierValue(resource: FhirResource | undefined, system: string): string | undefined {
  const identifiers = (resource?.identifier ?? []) as { system?: string; value?: string }[];
  return identifiers.find((identifier) => identifier.system === system)?.value;
}

const personNumber = (resource: FhirResource | undefined) =>
  identifierValue(resource, FNR) ?? identifierValue(resource, DNR);

function displayName(resource: FhirResource | undefined): string {
  const name = ((resource?.name ?? []) as { text?: string; given?: string[]; family?: string }[])[0];
  return name?.text ?? [...(name?.given ?? []), name?.family].filter(Boolean).join(' ');
}

/** Volven 9060 codes of the person's qualifications. */
function qualificationCodes(person: FhirResource | undefined): string[] {
  const qualifications = (person?.qualification ?? []) as {
    code?: { coding?: { system?: string; code?: string }[] };
  }[];
  return qualifications
    .flatMap((q) => q.code?.coding ?? [])
    .filter((c) => c.system === VOLVEN_9060 && c.code)
    .map((c) => c.code as string);
}

function isHealthNetworkMember(organisation: FhirResource): boolean {
  const extensions = (organisation.extension ?? []) as { url?: string; valueBoolean?: boolean }[];
  return extensions.some((e) => e.url === HEALTH_NETWORK_MEMBER_URL && e.valueBoolean === true);
}

function parentReference(organisation: FhirResource): string | undefined {
  return (organisation.partOf as { reference?: string } | undefined)?.reference;
}

function isSubUnitOf(unit: FhirResource, main: FhirResource): boolean {
  const reference = parentReference(unit);
  return (
    reference !== undefined &&
    (reference === `Organization/${main.id}` || reference.endsWith(`/Organization/${main.id}`))
  );
}

const isOrgnr = (value: unknown): value is string => typeof value === 'string' && /^\d{9}$/.test(value);

async function lookUpRegistry(attestation: TillitsrammeverkAttestation, context: RuleContext): Promise<RegistryFacts> {
  const practitioner = attestation.practitioner ?? {};
  const pid = context.user?.pid ?? practitioner.identifier?.id;
  const [person] =
    pid && /^\d{11}$/.test(pid)
      ? await search(context, 'Practitioner', [['identifier', `${FNR}|${pid},${DNR}|${pid}`]])
      : [];

  const hpr = practitioner.hpr_nr;
  let hprHolder: FhirResource | undefined;
  if (hpr?.system === HPR && /^\d+$/.test(hpr.id) && identifierValue(person, HPR) !== hpr.id) {
    [hprHolder] = await search(context, 'Practitioner', [['identifier', `${HPR}|${hpr.id}`]]);
  }

  const units = [
    practitioner.legal_entity,
    practitioner.point_of_care,
    ...(attestation.patients ?? []).map((p) => p?.point_of_care),
  ];
  const orgnrs = [
    ...new Set(units.filter((unit) => unit?.system === ENH && isOrgnr(unit.id)).map((unit) => unit?.id as string)),
  ];
  const found = orgnrs.length
    ? await search(context, 'Organization', [['identifier', orgnrs.map((orgnr) => `${ENH}|${orgnr}`).join(',')]])
    : [];
  const organisations = new Map<string, FhirResource>();
  for (const organisation of found) {
    const orgnr = identifierValue(organisation, ENH);
    if (orgnr) organisations.set(orgnr, organisation);
  }

  const legalEntity = practitioner.legal_entity ? organisations.get(practitioner.legal_entity.id) : undefined;
  const subUnits = legalEntity
    ? (await search(context, 'Organization', [['partof', `Organization/${legalEntity.id}`]])).slice(0, 5)
    : [];
  return { person, hprHolder, organisations, subUnits };
}

// ---- practitioner: ATT-10, ATT-11, ATT-29, ATT-32 ----

function checkPractitioner(
  attestation: TillitsrammeverkAttestation,
  context: RuleContext,
  facts: RegistryFacts,
  add: Add,
): void {
  const practitioner = attestation.practitioner ?? {};
  const { identifier, hpr_nr: hpr, authorization } = practitioner;
  const { person, hprHolder } = facts;
  const example =
    '{"id": "<fødselsnummer>", "name": "<full name>", "system": "urn:oid:2.16.578.1.12.4.1.4.1", "authority": "Skatteetaten"}';

  if (identifier && identifier.system !== FNR && identifier.system !== DNR) {
    add(
      'ATT-10',
      'practitioner.identifier',
      `practitioner.identifier.system must be fødselsnummer (${FNR}) or D-number (${DNR}); got ${q(identifier.system)}`,
    );
  }

  if (context.user) {
    if (identifier && identifier.id !== context.user.pid) {
      add(
        'ATT-11',
        'practitioner.identifier',
        `practitioner.identifier.id ${q(identifier.id)} is not the logged-in user (pid ${context.user.pid}); attest the person who is logged in, or leave practitioner.identifier out and let the login speak`,
      );
    } else if (!person) {
      // the same rule as for a system-attested practitioner: only health personnel read through these APIs
      add(
        'ATT-11',
        'practitioner.identifier',
        `the logged-in user (pid ${context.user.pid}) is not health personnel in this sandbox's registry (no Practitioner with that fødselsnummer or D-number); only health personnel may use these APIs`,
      );
    }
  } else if (!identifier) {
    add(
      'ATT-11',
      'practitioner.identifier',
      `no user is logged in (client_credentials), so practitioner.identifier is required: send the health-care worker as ${example}`,
    );
  } else if (!person) {
    add(
      'ATT-11',
      'practitioner.identifier',
      `practitioner.identifier.id ${q(identifier.id)} is not health personnel in this sandbox's registry (no Practitioner with that fødselsnummer or D-number); attest a registered practitioner, or add one to the sandbox`,
    );
  }

  // HelseID fills the HPR number from the login in user flows, so hpr_nr is required only without a user.
  const personHpr = identifierValue(person, HPR);
  if (hpr) {
    if (hpr.system !== HPR) {
      add(
        'ATT-29',
        'practitioner.hpr_nr',
        `practitioner.hpr_nr.system must be the HPR system ${HPR}; got ${q(hpr.system)}`,
      );
    } else if (context.user?.hprNumber && hpr.id !== context.user.hprNumber) {
      add(
        'ATT-29',
        'practitioner.hpr_nr',
        `practitioner.hpr_nr.id ${q(hpr.id)} is not the logged-in user's HPR number ${context.user.hprNumber}`,
      );
    } else if (personHpr !== hpr.id) {
      const pid = personNumber(person) ?? context.user?.pid ?? identifier?.id;
      if (!hprHolder) {
        add(
          'ATT-29',
          'practitioner.hpr_nr',
          `HPR number ${q(hpr.id)} is not in this sandbox's registry${person ? `; ${displayName(person)} has HPR number ${personHpr ?? '(none)'}` : ''}`,
        );
      } else if (pid && personNumber(hprHolder) !== pid) {
        add(
          'ATT-29',
          'practitioner.hpr_nr',
          `HPR number ${hpr.id} belongs to ${displayName(hprHolder)}, not to the practitioner (${pid})${personHpr ? `, whose HPR number is ${personHpr}` : ''}`,
        );
      }
    }
  } else if (!context.user && personHpr) {
    add(
      'ATT-29',
      'practitioner.hpr_nr',
      `the registry shows ${displayName(person)} has HPR number ${personHpr}; send practitioner.hpr_nr {"id": "${personHpr}", "system": "${HPR}", "authority": "Helsedirektoratet"}`,
    );
  }

  const holder = person ?? hprHolder;
  const qualifications = qualificationCodes(holder);
  if (authorization) {
    if (authorization.system !== VOLVEN_9060) {
      add(
        'ATT-32',
        'practitioner.authorization',
        `practitioner.authorization.system must be Volven 9060 (${VOLVEN_9060}); got ${q(authorization.system)}`,
      );
    } else if (qualifications.length > 0 && !qualifications.includes(authorization.code)) {
      add(
        'ATT-32',
        'practitioner.authorization',
        `practitioner.authorization.code ${q(authorization.code)} does not match the HPR authorisation of ${displayName(holder)} in the registry (${qualifications.join(', ')}); send {"code": "${qualifications[0]}", "system": "${VOLVEN_9060}"}`,
      );
    }
  } else if (qualifications.length > 0) {
    add(
      'ATT-32',
      'practitioner.authorization',
      `the registry shows ${displayName(holder)} is authorised as ${qualifications.join(', ')}; send practitioner.authorization {"code": "${qualifications[0]}", "system": "${VOLVEN_9060}"}`,
    );
  }
}

// ---- organisation: ATT-12, ATT-13, ATT-19, ATT-28 ----

async function checkOrganisation(
  attestation: TillitsrammeverkAttestation,
  context: RuleContext,
  facts: RegistryFacts,
  add: Add,
): Promise<void> {
  const { legal_entity: legal, point_of_care: pointOfCare, department } = attestation.practitioner ?? {};
  const legalOrg = legal?.system === ENH ? facts.organisations.get(legal.id) : undefined;

  if (!legal) {
    add(
      'ATT-12',
      'practitioner.legal_entity',
      `practitioner.legal_entity is required: send the orgnr of the main unit, e.g. {"id": "993467049", "system": "${ENH}"}`,
    );
  } else if (legal.system !== ENH) {
    add(
      'ATT-12',
      'practitioner.legal_entity',
      `practitioner.legal_entity.system must be the organisation number system ${ENH}; got ${q(legal.system)}`,
    );
  } else if (!legalOrg) {
    add(
      'ATT-12',
      'practitioner.legal_entity',
      `orgnr ${q(legal.id)} is not an organisation in this sandbox's registry; send the orgnr of your main unit`,
    );
  } else if (parentReference(legalOrg)) {
    const [main] = await context.store.readMany(context.sandbox, [parentReference(legalOrg) as string]);
    const mainOrgnr = identifierValue(main, ENH) ?? parentReference(legalOrg);
    add(
      'ATT-12',
      'practitioner.legal_entity',
      `${legal.id} (${legalOrg.name}) is a sub-unit of ${mainOrgnr}: send the main unit ${mainOrgnr} as legal_entity and ${legal.id} as point_of_care`,
    );
  } else if (!isHealthNetworkMember(legalOrg)) {
    add(
      'ATT-12',
      'practitioner.legal_entity',
      `${legal.id} (${legalOrg.name}) is not a member of the health network (helsenettet); only members may use the national services`,
    );
  }
  if (legal?.system === ENH && context.clientOrgnr && legal.id !== context.clientOrgnr) {
    add(
      'ATT-13',
      'practitioner.legal_entity',
      `legal_entity ${legal.id} is not the calling client's organisation ${context.clientOrgnr}: a system attests for the organisation it is registered for (multi-tenant clients: the parent named in helseid_authorization)`,
    );
  }

  const subUnitList = facts.subUnits
    .map((unit) => identifierValue(unit, ENH))
    .filter(Boolean)
    .join(', ');
  if (!pointOfCare) {
    add(
      'ATT-19',
      'practitioner.point_of_care',
      `practitioner.point_of_care is required: send the orgnr of the sub-unit where the person works (the legal entity's own orgnr when it has no sub-units)`,
    );
  } else if (pointOfCare.system !== ENH) {
    add(
      'ATT-19',
      'practitioner.point_of_care',
      `practitioner.point_of_care.system must be the organisation number system ${ENH}; got ${q(pointOfCare.system)}`,
    );
  } else if (!facts.organisations.has(pointOfCare.id)) {
    add(
      'ATT-19',
      'practitioner.point_of_care',
      `orgnr ${q(pointOfCare.id)} is not an organisation in this sandbox's registry; send the orgnr of the sub-unit where the person works`,
    );
  } else if (legalOrg && pointOfCare.id === legal?.id) {
    if (facts.subUnits.length > 0) {
      add(
        'ATT-19',
        'practitioner.point_of_care',
        `point_of_care equals legal_entity ${legal.id}, which has sub-units (${subUnitList}); send the sub-unit where the person works`,
      );
    }
  } else if (legalOrg && !isSubUnitOf(facts.organisations.get(pointOfCare.id) as FhirResource, legalOrg)) {
    const hint =
      facts.subUnits.length > 0
        ? `its sub-units are ${subUnitList}`
        : `it has no sub-units, so send point_of_care = ${legal?.id}`;
    add(
      'ATT-19',
      'practitioner.point_of_care',
      `point_of_care ${pointOfCare.id} is not a sub-unit of legal_entity ${legal?.id}; ${hint}`,
    );
  }

  if (department && department.system !== RESH) {
    const orgnrs = [legal?.id, pointOfCare?.id].filter((id): id is string => !!id);
    if (!department.authority || !orgnrs.includes(department.authority)) {
      add(
        'ATT-28',
        'practitioner.department',
        `practitioner.department must be a RESH id (system ${RESH}) or a local id whose authority is the orgnr (${orgnrs.join(' or ') || 'of the legal entity'}); got system ${q(department.system)} with authority ${q(department.authority)}`,
      );
    }
  }
}

// ---- care relationship: ATT-37, ATT-38…41, ATT-43, ATT-48 ----

function checkCareRelationship(attestation: TillitsrammeverkAttestation, add: Add): void {
  const care: Partial<TillitsrammeverkAttestation['care_relationship']> = attestation.care_relationship ?? {};
  const {
    healthcare_service: service,
    purpose_of_use: purpose,
    purpose_of_use_details: details,
    decision_ref: decision,
  } = care;

  if (service) {
    const list = service.system?.startsWith(VOLVEN) ? service.system.slice(VOLVEN.length) : undefined;
    if (list === RETIRED_HEALTHCARE_SERVICE_LIST) {
      add(
        'ATT-37',
        'care_relationship.healthcare_service',
        `Volven ${RETIRED_HEALTHCARE_SERVICE_LIST} is retired; code the health-care service in one of Volven ${HEALTHCARE_SERVICE_LISTS.join(', ')} (${VOLVEN}NNNN)`,
      );
    } else if (!list || !HEALTHCARE_SERVICE_LISTS.includes(list)) {
      add(
        'ATT-37',
        'care_relationship.healthcare_service',
        `care_relationship.healthcare_service.system must be one of Volven ${HEALTHCARE_SERVICE_LISTS.join(', ')} (${VOLVEN}NNNN); got ${q(service.system)}`,
      );
    }
  }

  if (!isCoding(purpose)) {
    add(
      'ATT-38',
      'care_relationship.purpose_of_use',
      `care_relationship.purpose_of_use is required: send {"code": "TREAT", "system": "${PURPOSE_OF_USE}"} (or ETREAT, COC, BTG)`,
    );
  } else if (purpose.system !== PURPOSE_OF_USE) {
    add(
      'ATT-39',
      'care_relationship.purpose_of_use',
      `care_relationship.purpose_of_use.system must be ${PURPOSE_OF_USE}; got ${q(purpose.system)}`,
    );
  } else if (!PURPOSE_OF_USE_CODES.includes(purpose.code)) {
    add(
      'ATT-40',
      'care_relationship.purpose_of_use',
      `care_relationship.purpose_of_use.code must be one of ${PURPOSE_OF_USE_CODES.join(', ')}; got ${q(purpose.code)}`,
    );
  }

  if (details) {
    if (details.system === CARE_RELATION) {
      if (!CARE_RELATION_CODES.includes(details.code)) {
        add(
          'ATT-41',
          'care_relationship.purpose_of_use_details',
          `care_relationship.purpose_of_use_details.code must be one of ${CARE_RELATION_CODES.join(', ')} in ${CARE_RELATION}; got ${q(details.code)}`,
        );
      }
    } else if (details.system !== NURSING_HOME_CARE_RELATION) {
      add(
        'ATT-41',
        'care_relationship.purpose_of_use_details',
        `care_relationship.purpose_of_use_details.system must be ${CARE_RELATION} (${CARE_RELATION_CODES.join(', ')}) or, in nursing homes, Volven 9151 (${NURSING_HOME_CARE_RELATION}); got ${q(details.system)}`,
      );
    }
  }

  if (!service && !details) {
    add(
      'ATT-43',
      'care_relationship',
      'care_relationship must contain healthcare_service or purpose_of_use_details; neither was sent',
    );
  }

  const decisionElement = 'care_relationship.decision_ref';
  if (!decision) {
    add(
      'ATT-48',
      decisionElement,
      'care_relationship.decision_ref is required: send {"id": "<reference to the decision about the care relationship>", "user_selected": false}',
    );
  } else {
    if (typeof decision.id !== 'string' || decision.id === '') {
      add(
        'ATT-48',
        `${decisionElement}.id`,
        'care_relationship.decision_ref.id is required: send the reference to the decision about the care relationship as a string',
      );
    }
    if (typeof decision.user_selected !== 'boolean') {
      add(
        'ATT-48',
        `${decisionElement}.user_selected`,
        `care_relationship.decision_ref.user_selected must be true (the user chose it) or false (derived by the system); got ${q(decision.user_selected)}`,
      );
    }
  }
}

// ---- patients: ATT-4, ATT-51, ATT-56 ----

/**
 * The spec allows the patient's point_of_care / department "only when the patient is treated at the
 * practitioner's own unit"; its own example has the practitioner at Rikshospitalet and the patient at
 * Ullevål, both sub-units of Oslo universitetssykehus. So "own unit" is read as the practitioner's legal
 * entity or one of its sub-units.
 */
function checkPatients(
  attestation: TillitsrammeverkAttestation,
  context: RuleContext,
  facts: RegistryFacts,
  add: Add,
): void {
  const patients = attestation.patients ?? [];
  const legal = attestation.practitioner?.legal_entity;
  const legalOrg = legal?.system === ENH ? facts.organisations.get(legal.id) : undefined;
  // Without a known legal entity (an ATT-12 violation) "own unit" cannot be judged.
  const ownUnits = [legal?.id, ...facts.subUnits.map((unit) => identifierValue(unit, ENH))].filter(Boolean).join(', ');

  patients.forEach((patient, index) => {
    const at = `patients[${index}]`;
    const identifier = patient?.identifier;
    if (identifier && ![FNR, DNR, HNR].includes(identifier.system)) {
      add(
        'ATT-4',
        `${at}.identifier`,
        `${at}.identifier.system must be fødselsnummer (${FNR}), D-number (${DNR}) or H-number (${HNR}); got ${q(identifier.system)}`,
      );
    }

    const pointOfCare = patient?.point_of_care;
    if (pointOfCare) {
      const unit = pointOfCare.system === ENH ? facts.organisations.get(pointOfCare.id) : undefined;
      const ownUnit = unit && legalOrg && (unit.id === legalOrg.id || isSubUnitOf(unit, legalOrg));
      if (pointOfCare.system !== ENH) {
        add(
          'ATT-51',
          `${at}.point_of_care`,
          `${at}.point_of_care.system must be the organisation number system ${ENH}; got ${q(pointOfCare.system)}`,
        );
      } else if (legalOrg && !ownUnit) {
        add(
          'ATT-51',
          `${at}.point_of_care`,
          `${at}.point_of_care ${q(pointOfCare.id)} is not a unit of the practitioner's legal entity${ownUnits ? ` (${ownUnits})` : ''}; send the patient's point_of_care only when the patient is treated at the practitioner's own unit, else leave it out`,
        );
      }
    }

    const department = patient?.department;
    if (department) {
      if (!pointOfCare) {
        add(
          'ATT-56',
          `${at}.department`,
          `${at}.department is sent without ${at}.point_of_care; send the patient's department only together with the point_of_care of the practitioner's own unit, else leave it out`,
        );
      } else if (
        department.system !== RESH &&
        department.authority !== pointOfCare.id &&
        department.authority !== legal?.id
      ) {
        add(
          'ATT-56',
          `${at}.department`,
          `${at}.department must be a RESH id (system ${RESH}) or a local id whose authority is the orgnr ${pointOfCare.id}; got system ${q(department.system)} with authority ${q(department.authority)}`,
        );
      }
    }
  });

  const identified = patients
    .map((patient, index) => ({ index, id: patient?.identifier?.id }))
    .filter((p) => p.id !== undefined);
  if (context.patientNin && identified.length > 0 && !identified.some((p) => p.id === context.patientNin)) {
    const element = identified.length === 1 ? `patients[${identified[0].index}].identifier` : 'patients';
    add(
      'ATT-4',
      element,
      `the attestation is for patient ${identified.map((p) => p.id).join(', ')}, but the request is about patient ${context.patientNin}; attest the patient you ask about`,
    );
  }
}

// ---- time of attestation: ATT-58 ----

function checkAttestationTime(attestation: TillitsrammeverkAttestation, now: Date, add: Add): void {
  const { toa } = attestation;
  if (typeof toa !== 'number') return;
  const ageMs = now.getTime() - toa * 1000;
  const when =
    Number.isFinite(toa * 1000) && Math.abs(toa) < 8.64e12 ? new Date(toa * 1000).toISOString() : String(toa);
  if (ageMs > ATTESTATION_LIFETIME_MS) {
    add(
      'ATT-58',
      'toa',
      `attestation_has_expired: toa ${toa} (${when}) is ${Math.floor(ageMs / 60000)} minutes before the sandbox clock (${now.toISOString()}); an attestation is valid for 60 minutes — attest again with a fresh toa`,
    );
  } else if (-ageMs > FUTURE_TOLERANCE_MS) {
    const milliseconds = toa > 1e11 ? ' (toa is Unix seconds; this looks like milliseconds)' : '';
    add(
      'ATT-58',
      'toa',
      `toa ${toa} (${when}) is more than 5 minutes after the sandbox clock (${now.toISOString()})${milliseconds}; send the time of attestation in Unix seconds`,
    );
  }
}

// ---- into the AccessContext ----

const coding = (value: AttestationCoding | undefined): Coding | undefined =>
  value ? { system: value.system, code: value.code, ...(value.text ? { display: value.text } : {}) } : undefined;

const organisationRef = (value: AttestationIdentifier | undefined): OrganisationRef | undefined =>
  value ? { id: value.id, system: value.system, ...(value.name ? { name: value.name } : {}) } : undefined;

/**
 * The parts of the AccessContext an attestation gives. `practitioner.authenticated` is false: in user
 * flows the guard sets pid, HPR number and name from the login and marks the person authenticated.
 * AccessContext has one patient: the first entry of `patients`.
 */
export function accessContextFromAttestation(
  attestation: TillitsrammeverkAttestation,
  practitionerName?: string,
): Pick<AccessContext, 'practitioner' | 'organisation' | 'careRelationship' | 'patient' | 'attestedAt'> {
  const { practitioner, care_relationship: care } = attestation;
  const legalEntity = organisationRef(practitioner?.legal_entity);
  const pointOfCare = organisationRef(practitioner?.point_of_care);
  const purposeOfUse = coding(care?.purpose_of_use);
  const patient = attestation.patients?.[0];
  const patientContext = patient && {
    ...(patient.identifier ? { nin: patient.identifier.id } : {}),
    ...(patient.point_of_care ? { pointOfCare: organisationRef(patient.point_of_care) } : {}),
    ...(patient.department ? { department: organisationRef(patient.department) } : {}),
  };
  const decision = care?.decision_ref;
  return {
    practitioner: {
      ...(practitioner?.identifier ? { pid: practitioner.identifier.id } : {}),
      ...(practitioner?.hpr_nr ? { hprNumber: practitioner.hpr_nr.id } : {}),
      ...((practitionerName ?? practitioner?.identifier?.name)
        ? { name: practitionerName ?? practitioner?.identifier?.name }
        : {}),
      ...(practitioner?.authorization ? { authorization: coding(practitioner.authorization) } : {}),
      authenticated: false,
    },
    ...(legalEntity && pointOfCare
      ? {
          organisation: {
            legalEntity,
            pointOfCare,
            ...(practitioner.department ? { department: organisationRef(practitioner.department) } : {}),
          },
        }
      : {}),
    ...(purposeOfUse
      ? {
          careRelationship: {
            purposeOfUse,
            ...(care.healthcare_service ? { healthcareService: coding(care.healthcare_service) } : {}),
            ...(care.purpose_of_use_details ? { purposeOfUseDetails: coding(care.purpose_of_use_details) } : {}),
            ...(decision
              ? {
                  decisionRef: {
                    id: decision.id,
                    userSelected: decision.user_selected,
                    ...(decision.description ? { description: decision.description } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
    ...(patientContext && Object.keys(patientContext).length > 0 ? { patient: patientContext } : {}),
    ...(typeof attestation.toa === 'number' ? { attestedAt: new Date(attestation.toa * 1000) } : {}),
  };
}

function isCoding(value: unknown): value is AttestationCoding {
  const candidate = value as Partial<AttestationCoding> | undefined;
  return typeof candidate?.code === 'string' && typeof candidate.system === 'string';
}

/** A value quoted for a message. */
function q(value: unknown): string {
  return value === undefined ? '(nothing)' : JSON.stringify(value);
}
