import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TrustError } from '../http/trust-error';

/**
 * Reads `authorization_details` / `assertion_details`: one object or an array of objects, each with a
 * `type` (trust-framework.md, "Attestation transport"). The tillitsrammeverk attestation is checked
 * against profiles/tillitsrammeverk-attestation.schema.json (structure only; the value rules are in
 * attestation-rules.ts).
 */

export const ATTESTATION_TYPE = 'nhn:tillitsrammeverk:parameters';
export const CHILD_ORGANIZATION_TYPE = 'helseid_authorization';
export const JOURNAL_ID_TYPE = 'nhn:sfm:journal-id';
const SUPPORTED_TYPES = [ATTESTATION_TYPE, CHILD_ORGANIZATION_TYPE, JOURNAL_ID_TYPE];

const ORGNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.101';
/** ISO 6523 organisation identifiers, used by multi-tenant clients: NO:ORGNR:<parent>:<child>. */
const ISO_6523_SYSTEM = 'urn:oid:1.0.6523';

/** An identifier element: {id, system} with optional name and authority. */
export interface AttestationIdentifier {
  id: string;
  system: string;
  name?: string;
  authority?: string;
}

export interface AttestationCoding {
  code: string;
  system: string;
  text?: string;
}

export interface AttestationPatient {
  identifier?: AttestationIdentifier;
  point_of_care?: AttestationIdentifier;
  department?: AttestationIdentifier;
}

/** The `nhn:tillitsrammeverk:parameters` object, snake_case as sent (after normalising known client bugs). */
export interface TillitsrammeverkAttestation {
  type: typeof ATTESTATION_TYPE;
  practitioner: {
    identifier?: AttestationIdentifier;
    hpr_nr?: AttestationIdentifier;
    authorization?: AttestationCoding;
    legal_entity: AttestationIdentifier;
    point_of_care: AttestationIdentifier;
    department?: AttestationIdentifier;
  };
  care_relationship: {
    healthcare_service?: AttestationCoding;
    purpose_of_use: AttestationCoding;
    purpose_of_use_details?: AttestationCoding;
    decision_ref: { id: string; user_selected: boolean; description?: string };
  };
  patients: AttestationPatient[];
  /** Time of attestation, Unix seconds. */
  toa?: number;
  /** Clients send extra properties; they are kept. */
  [extra: string]: unknown;
}

export interface AttestationDetails {
  /** The nhn:tillitsrammeverk:parameters object, normalised. */
  attestation?: TillitsrammeverkAttestation;
  /** From helseid_authorization: the child organisation's orgnr. */
  childOrganization?: string;
  /** From helseid_authorization NO:ORGNR:<parent>:<child> (multi-tenant clients): the parent's orgnr. */
  parentOrganization?: string;
  /** From nhn:sfm:journal-id. */
  journalId?: string;
  /** Every object as sent, for carrying into the access token. */
  details: Record<string, unknown>[];
  /** Tolerated client bugs, in plain language. */
  warnings: string[];
}

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export const ATTESTATION_SCHEMA_PATH = path.join(
  __dirname,
  '..',
  '..',
  'profiles',
  'tillitsrammeverk-attestation.schema.json',
);

let compiled: { schema: JsonObject; validate: ValidateFunction } | undefined;

function attestationSchema(): { schema: JsonObject; validate: ValidateFunction } {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(ATTESTATION_SCHEMA_PATH, 'utf8')) as JsonObject;
    compiled = { schema, validate: new Ajv({ allErrors: true }).compile(schema) };
  }
  return compiled;
}

/** Parses authorization details; throws TrustError (400 invalid_request) when they cannot be used. */
export function parseAuthorizationDetails(value: unknown, where: string): AttestationDetails {
  const parsed = typeof value === 'string' ? parseJsonString(value, where) : value;
  if (!isObject(parsed) && !Array.isArray(parsed)) {
    throw new TrustError(
      'invalid_request',
      'NAVET-AUTHORIZATION-DETAILS',
      `${where} must be a JSON object with a "type", or an array of such objects; got ${describe(parsed)}`,
    );
  }
  const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  const result: AttestationDetails = { details: [], warnings: [] };
  items.forEach((item, index) => {
    const at = Array.isArray(parsed) ? `${where}[${index}]` : where;
    if (!isObject(item) || typeof item.type !== 'string') {
      throw new TrustError(
        'invalid_request',
        'NAVET-AUTHORIZATION-DETAILS',
        `${at} must be an object with a string "type" (one of ${SUPPORTED_TYPES.join(', ')}); got ${describe(item)}`,
      );
    }
    result.details.push(structuredClone(item));
    switch (item.type) {
      case ATTESTATION_TYPE:
        if (result.attestation)
          throw new TrustError(
            'invalid_request',
            'NAVET-AUTHORIZATION-DETAILS',
            `${where} holds more than one ${ATTESTATION_TYPE} object; send one attestation`,
          );
        result.attestation = readAttestation(item, at, result.warnings);
        break;
      case CHILD_ORGANIZATION_TYPE: {
        const { parent, child } = readOrganization(item, at);
        if (parent) result.parentOrganization = parent;
        if (child) result.childOrganization = child;
        break;
      }
      case JOURNAL_ID_TYPE: {
        // {"value": {"journal_id": …}} as HelseID.Library and the SFM docs send it; the flat {"journal_id": …} too
        const journalId = isObject(item.value) ? item.value.journal_id : item.journal_id;
        if (typeof journalId !== 'string' || journalId === '') {
          throw new TrustError(
            'invalid_request',
            'NAVET-AUTHORIZATION-DETAILS',
            `${at}: ${JOURNAL_ID_TYPE} needs the SFM journal id as a string (a UUID): {"type": "${JOURNAL_ID_TYPE}", "value": {"journal_id": "<uuid>"}}`,
          );
        }
        result.journalId = journalId;
        break;
      }
      default:
        throw new TrustError(
          'invalid_request',
          'NAVET-AUTHORIZATION-DETAILS-TYPE',
          `${at}: unknown type ${JSON.stringify(item.type)}; the types HelseID knows are ${SUPPORTED_TYPES.join(', ')}`,
        );
    }
  });
  return result;
}

function parseJsonString(value: string, where: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new TrustError(
      'invalid_request',
      'NAVET-AUTHORIZATION-DETAILS',
      `${where} is a string that is not JSON; send a JSON object with a "type", or an array of such objects`,
    );
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) return 'an object without a string "type"';
  return `a ${typeof value}`;
}

/**
 * helseid_authorization: the child's ENH orgnr (single-tenant), or NO:ORGNR:<parent>:<child> in
 * urn:oid:1.0.6523 (multi-tenant; HelseID.Library writes NO:ORGNR:<parent>: when there is no child).
 */
function readOrganization(item: JsonObject, at: string): { parent?: string; child?: string } {
  const role = isObject(item.practitioner_role) ? item.practitioner_role : {};
  const organization = isObject(role.organization) ? role.organization : {};
  const identifier = isObject(organization.identifier) ? organization.identifier : {};
  const { system, value } = identifier;
  if (system === ORGNR_SYSTEM && typeof value === 'string' && /^\d{9}$/.test(value)) return { child: value };
  const multiTenant =
    system === ISO_6523_SYSTEM && typeof value === 'string' ? /^NO:ORGNR:(\d{9})(?::(\d{9})?)?$/.exec(value) : null;
  if (multiTenant) return { parent: multiTenant[1], ...(multiTenant[2] ? { child: multiTenant[2] } : {}) };
  throw new TrustError(
    'invalid_request',
    'NAVET-AUTHORIZATION-DETAILS',
    `${at}: ${CHILD_ORGANIZATION_TYPE} needs practitioner_role.organization.identifier with system ${ORGNR_SYSTEM} and a nine-digit orgnr as value, ` +
      `or (multi-tenant clients) system ${ISO_6523_SYSTEM} and value NO:ORGNR:<parent orgnr>:<child orgnr>; got ${JSON.stringify(identifier)}`,
  );
}

function readAttestation(item: JsonObject, at: string, warnings: string[]): TillitsrammeverkAttestation {
  const attestation = structuredClone(item);
  normaliseClientBugs(attestation, at, warnings);
  const { validate } = attestationSchema();
  if (!validate(attestation)) {
    const problems = [...new Set((validate.errors ?? []).map(describeSchemaError))];
    throw new TrustError(
      'invalid_request',
      'NAVET-ATTESTATION-SCHEMA',
      `${at}: the ${ATTESTATION_TYPE} attestation does not fit profiles/tillitsrammeverk-attestation.schema.json: ${problems.join(' ')}`,
    );
  }
  return attestation as TillitsrammeverkAttestation;
}

/** The two known client bugs: `auhtorization` for `authorization`, `decision_ref.ref_id` for `id`. */
function normaliseClientBugs(attestation: JsonObject, at: string, warnings: string[]): void {
  const practitioner = attestation.practitioner;
  if (isObject(practitioner) && 'auhtorization' in practitioner) {
    if (practitioner.authorization === undefined) {
      practitioner.authorization = practitioner.auhtorization;
      warnings.push(
        `${at}: practitioner.auhtorization is a misspelling of practitioner.authorization; Navet read it as authorization, but correct the key in your client`,
      );
    } else {
      warnings.push(
        `${at}: practitioner carries both authorization and the misspelled auhtorization; Navet used authorization and ignored auhtorization — remove it`,
      );
    }
    delete practitioner.auhtorization;
  }
  const careRelationship = attestation.care_relationship;
  const decisionRef = isObject(careRelationship) ? careRelationship.decision_ref : undefined;
  if (isObject(decisionRef) && 'ref_id' in decisionRef) {
    if (decisionRef.id === undefined) {
      decisionRef.id = decisionRef.ref_id;
      warnings.push(
        `${at}: care_relationship.decision_ref.ref_id should be care_relationship.decision_ref.id; Navet read it as id, but correct the key in your client`,
      );
    } else {
      warnings.push(
        `${at}: care_relationship.decision_ref carries both id and ref_id; Navet used id and ignored ref_id — remove it`,
      );
    }
    delete decisionRef.ref_id;
  }
}

/** "/patients/0/identifier" → "patients[0].identifier". */
function jsonPath(segments: string[]): string {
  return segments.reduce(
    (text, segment) => (/^\d+$/.test(segment) ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment),
    '',
  );
}

/** The schema (with its annotations) that describes the element at an instance path. */
function schemaAt(segments: string[]): JsonObject | undefined {
  const { schema: root } = attestationSchema();
  const definitions = root.definitions as Record<string, JsonObject>;
  const resolve = (node: JsonObject): JsonObject => {
    const ref = typeof node.$ref === 'string' ? definitions[node.$ref.replace('#/definitions/', '')] : undefined;
    return ref ? { ...ref, ...node } : node;
  };
  let node: JsonObject | undefined = root;
  for (const segment of segments) {
    if (!node) return undefined;
    const next: unknown = /^\d+$/.test(segment)
      ? node.items
      : (node.properties as Record<string, unknown> | undefined)?.[segment];
    node = isObject(next) ? resolve(next) : undefined;
  }
  return node;
}

/** The element's description and an example of what to send (the nearest enclosing element's, if it has none). */
function hint(segments: string[]): string {
  const own = schemaAt(segments);
  const description = typeof own?.description === 'string' ? ` ${own.description}` : '';
  for (let length = segments.length; length > 0; length--) {
    const examples = schemaAt(segments.slice(0, length))?.examples;
    if (Array.isArray(examples) && examples.length > 0) {
      const target = length === segments.length ? '' : `${jsonPath(segments.slice(0, length))} = `;
      return `${description} Send e.g. ${target}${JSON.stringify(examples[0])}.`;
    }
  }
  return description;
}

function describeSchemaError(error: ErrorObject): string {
  const segments = error.instancePath.split('/').slice(1);
  const here = jsonPath(segments) || 'the attestation';
  switch (error.keyword) {
    case 'required': {
      const missing = [...segments, String(error.params.missingProperty)];
      return `${jsonPath(missing)} is missing.${hint(missing)}`;
    }
    case 'type':
      return `${here} must be ${article(String(error.params.type))}.${hint(segments)}`;
    case 'const':
      return `${here} must be ${JSON.stringify(error.params.allowedValue)}.`;
    case 'minItems':
      return `${here} must hold at least ${error.params.limit} item(s).${hint(segments)}`;
    case 'minLength':
      return `${here} must not be empty.${hint(segments)}`;
    default:
      return `${here} ${error.message ?? 'is not valid'}.`;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
