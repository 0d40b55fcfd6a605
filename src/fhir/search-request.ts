import { badRequest, notSupported } from './operation-outcome';
import { parseFhirDate } from './fhir-dates';
import { normalizeString, searchParametersOf, type SearchParamType } from './search-parameters';

/**
 * Parses FHIR search parameters (from a query string or a form body) into a SearchRequest.
 * Every parameter Navet does not understand is refused with a 400 that names it, unless the client
 * asks for `Prefer: handling=lenient`.
 */
export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

export type SearchValue =
  | { kind: 'string'; text: string; raw: string }
  | { kind: 'token'; system?: string | null; code?: string; text?: string }
  | { kind: 'reference'; reference?: string; id?: string; types: string[]; system?: string | null; code?: string }
  | { kind: 'range'; prefix: Prefix; low: number; high: number; system?: string; code?: string }
  | { kind: 'missing'; missing: boolean };

export interface Criterion {
  param: string;
  /** `_id` and `_lastUpdated` are columns; everything else is in the search index. */
  type: SearchParamType | 'id' | 'lastUpdated';
  modifier?: string;
  /** Values separated by commas: any may match. */
  values: SearchValue[];
  /** A chained parameter (subject:Patient.identifier=…): the criterion applies to the referenced resource. */
  chain?: { targetTypes: string[]; criterion: Criterion };
}

export interface IncludeSpec {
  sourceType: string;
  param: string;
  targetType?: string;
  iterate: boolean;
}

export interface SortSpec {
  param: string;
  type: SearchParamType | 'id' | 'lastUpdated';
  descending: boolean;
}

export interface SearchRequest {
  resourceType: string;
  criteria: Criterion[];
  count: number;
  offset: number;
  sort: SortSpec[];
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  summaryCount: boolean;
  totalNone: boolean;
  elements?: string[];
  /** The parameters as understood, for self/next links. */
  canonicalParams: [string, string][];
  /** Parameters ignored under lenient handling. */
  ignored: string[];
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;
/** Limits that keep one search within what the engines plan (SQLite's expression depth, bound variables). */
const MAX_VALUES = 100;
const MAX_PARAMS = 100;
/** At most this many links in a chain (`subject.organization.partof.name`). */
export const MAX_CHAIN_LENGTH = 4;
/** At most this many `_sort` keys. */
export const MAX_SORT_KEYS = 8;
/** At most this many `_include` and `_revinclude` parameters together. */
export const MAX_INCLUDES = 20;

const RESULT_PARAMS = new Set([
  '_count',
  '_offset',
  '_sort',
  '_include',
  '_revinclude',
  '_summary',
  '_total',
  '_elements',
  '_format',
  '_pretty',
]);
const PREFIXES = new Set<Prefix>(['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']);
const MODIFIERS_BY_TYPE: Record<string, string[]> = {
  string: ['exact', 'contains', 'missing'],
  token: ['not', 'text', 'missing'],
  reference: ['identifier', 'missing'],
  date: ['missing'],
  number: ['missing'],
  quantity: ['missing'],
  uri: ['below', 'missing'],
  id: [],
  lastUpdated: [],
};

/** Splits on commas that are not escaped with a backslash, and unescapes `\,`, `\|`, `\$`, `\\`. */
function splitValues(value: string): string[] {
  return value.split(/(?<!\\),/).map((v) => v);
}
function unescape(value: string): string {
  return value.replace(/\\([,|$\\])/g, '$1');
}
function splitPipe(value: string): [string, string] | undefined {
  const index = value.search(/(?<!\\)\|/);
  return index < 0 ? undefined : [value.slice(0, index), value.slice(index + 1)];
}

export type QueryParams = [string, string][];

/** Turns an express query object or a form body into ordered name/value pairs. */
export function toQueryParams(source: Record<string, unknown>): QueryParams {
  const pairs: QueryParams = [];
  for (const [name, value] of Object.entries(source)) {
    if (Array.isArray(value)) for (const v of value) pairs.push([name, String(v)]);
    else if (value !== undefined && value !== null && typeof value !== 'object') pairs.push([name, String(value)]);
    else if (typeof value === 'object')
      throw badRequest(
        'NAVET-SEARCH-PARAM-SYNTAX',
        `Search parameter '${name}' could not be read: use name=value pairs without brackets`,
        [name],
      );
  }
  return pairs;
}

function parseInteger(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value))
    throw badRequest('NAVET-SEARCH-PARAM-VALUE', `${name} must be a whole number; got '${value}'`, [name]);
  return Math.min(Math.max(Number(value), min), max);
}

function parseRange(name: string, raw: string, type: 'date' | 'number' | 'quantity' | 'lastUpdated'): SearchValue {
  let prefix: Prefix = 'eq';
  let rest = raw;
  const candidate = raw.slice(0, 2) as Prefix;
  if (PREFIXES.has(candidate) && !/^\d/.test(raw.slice(0, 2))) {
    prefix = candidate;
    rest = raw.slice(2);
  }
  if (type === 'date' || type === 'lastUpdated') {
    const range = parseFhirDate(rest);
    if (!range) {
      throw badRequest(
        'NAVET-SEARCH-DATE',
        `${name}: '${raw}' is not a FHIR date; use an optional prefix (eq, ne, gt, lt, ge, le, sa, eb) and YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[Z|+hh:mm]`,
        [name],
      );
    }
    return { kind: 'range', prefix, ...range };
  }
  const [numberText, system, code] = type === 'quantity' ? rest.split('|') : [rest];
  if (!/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(numberText ?? '')) {
    throw badRequest(
      'NAVET-SEARCH-NUMBER',
      `${name}: '${raw}' is not a number; use an optional prefix and a decimal number`,
      [name],
    );
  }
  const number = Number(numberText);
  // implicit precision: 5.4 matches [5.35, 5.45)
  const decimals = (numberText.split('.')[1] ?? '').replace(/[eE].*/, '').length;
  const half = 0.5 * 10 ** -decimals;
  return {
    kind: 'range',
    prefix,
    low: prefix === 'eq' || prefix === 'ne' || prefix === 'ap' ? number - half : number,
    high: prefix === 'eq' || prefix === 'ne' || prefix === 'ap' ? number + half : number,
    system: system || undefined,
    code: code || undefined,
  };
}

function parseValue(
  name: string,
  type: Criterion['type'],
  modifier: string | undefined,
  raw: string,
  targets: string[],
): SearchValue {
  if (modifier === 'missing') {
    if (raw !== 'true' && raw !== 'false')
      throw badRequest('NAVET-SEARCH-PARAM-VALUE', `${name}:missing must be true or false`, [name]);
    return { kind: 'missing', missing: raw === 'true' };
  }
  switch (type) {
    case 'string':
    case 'uri':
      return { kind: 'string', text: normalizeString(unescape(raw)), raw: unescape(raw) };
    case 'id':
      return { kind: 'token', code: unescape(raw) };
    case 'token': {
      if (modifier === 'text') return { kind: 'token', text: normalizeString(unescape(raw)) };
      const pair = splitPipe(raw);
      if (!pair) return { kind: 'token', code: unescape(raw) };
      const [system, code] = pair;
      return {
        kind: 'token',
        system: system === '' ? null : unescape(system),
        code: code === '' ? undefined : unescape(code),
      };
    }
    case 'reference': {
      if (modifier === 'identifier') {
        const pair = splitPipe(raw);
        return pair
          ? { kind: 'reference', types: [], system: pair[0] || null, code: unescape(pair[1]) }
          : { kind: 'reference', types: [], code: unescape(raw) };
      }
      const value = unescape(raw);
      const typed = modifier ? [modifier] : [];
      if (/^[A-Za-z]+\/[^/]+$/.test(value) || /^(https?|urn):/.test(value))
        return { kind: 'reference', reference: value, types: typed };
      return { kind: 'reference', id: value, types: typed.length ? typed : targets };
    }
    case 'date':
    case 'lastUpdated':
    case 'number':
    case 'quantity':
      return parseRange(name, raw, type);
    default:
      throw notSupported(
        'NAVET-SEARCH-PARAM-UNSUPPORTED',
        `Search parameter '${name}' of type ${type} is not supported`,
        [name],
      );
  }
}

function parseCriterion(resourceType: string, name: string, value: string): Criterion | undefined {
  const [paramWithModifier, ...chainParts] = name.split('.');
  if (chainParts.length > MAX_CHAIN_LENGTH) {
    throw badRequest(
      'NAVET-SEARCH-CHAIN-TOO-LONG',
      `'${name.slice(0, 80)}…' chains ${chainParts.length} links; at most ${MAX_CHAIN_LENGTH}`,
      [name.slice(0, 200)],
    );
  }
  const [param, modifier] = paramWithModifier.split(':');
  let type: Criterion['type'];
  let targets: string[] = [];
  if (param === '_id') type = 'id';
  else if (param === '_lastUpdated') type = 'lastUpdated';
  else {
    const definition = searchParametersOf(resourceType).get(param);
    if (!definition) return undefined;
    type = definition.type;
    targets = definition.targets;
  }
  if (chainParts.length > 0) {
    if (type !== 'reference')
      throw badRequest(
        'NAVET-SEARCH-CHAIN',
        `'${name}': only reference parameters can be chained, and ${param} is a ${type} parameter`,
        [name],
      );
    const targetTypes = modifier ? [modifier] : targets;
    const chainName = chainParts.join('.');
    for (const target of targetTypes) {
      const inner = parseCriterion(target, chainName, value);
      if (inner)
        return {
          param,
          type,
          values: [],
          chain: {
            targetTypes: targetTypes.filter(
              (t) => searchParametersOf(t).has(chainName.split(/[.:]/)[0]) || chainName.startsWith('_'),
            ),
            criterion: inner,
          },
        };
    }
    throw badRequest(
      'NAVET-SEARCH-UNKNOWN-PARAM',
      `'${name}': ${targetTypes.join(' or ')} has no search parameter '${chainName}'`,
      [name],
    );
  }
  const allowed = MODIFIERS_BY_TYPE[type] ?? [];
  if (modifier && !allowed.includes(modifier) && !(type === 'reference' && /^[A-Z][A-Za-z]+$/.test(modifier))) {
    throw notSupported(
      'NAVET-SEARCH-MODIFIER',
      `'${name}': the modifier ':${modifier}' is not supported for ${type} parameters${allowed.length ? `; supported: ${allowed.map((m) => `:${m}`).join(', ')}` : ''}`,
      [name],
    );
  }
  const raw = splitValues(value);
  if (raw.length > MAX_VALUES)
    throw badRequest(
      'NAVET-SEARCH-TOO-MANY-VALUES',
      `'${name}' has ${raw.length} values; at most ${MAX_VALUES} in one parameter`,
      [name],
    );
  const values = raw.map((v) => parseValue(name, type, modifier, v, targets));
  return { param, type, modifier, values };
}

function parseInclude(name: string, value: string, iterate: boolean): IncludeSpec {
  const [sourceType, param, targetType] = value.split(':');
  if (!sourceType || !param)
    throw badRequest('NAVET-SEARCH-INCLUDE', `${name}=${value}: use ${name}=ResourceType:parameter[:TargetType]`, [
      name,
    ]);
  const definition = searchParametersOf(sourceType).get(param);
  if (!definition || definition.type !== 'reference') {
    throw badRequest(
      'NAVET-SEARCH-INCLUDE',
      `${name}=${value}: ${sourceType} has no reference search parameter '${param}'`,
      [name],
    );
  }
  return { sourceType, param, targetType, iterate };
}

export function parseSearchRequest(resourceType: string, params: QueryParams, lenient = false): SearchRequest {
  if (params.length > MAX_PARAMS)
    throw badRequest(
      'NAVET-SEARCH-TOO-MANY-PARAMS',
      `The search has ${params.length} parameters; at most ${MAX_PARAMS}`,
      [],
    );
  const request: SearchRequest = {
    resourceType,
    criteria: [],
    count: DEFAULT_COUNT,
    offset: 0,
    sort: [],
    include: [],
    revinclude: [],
    summaryCount: false,
    totalNone: false,
    canonicalParams: [],
    ignored: [],
  };
  for (const [name, value] of params) {
    const base = name.split(':')[0];
    if (RESULT_PARAMS.has(base)) {
      if (base === '_format' || base === '_pretty') continue;
      if (base === '_count') request.count = parseInteger(name, value, 0, MAX_COUNT);
      else if (base === '_offset') request.offset = parseInteger(name, value, 0, Number.MAX_SAFE_INTEGER);
      else if (base === '_summary') {
        if (value === 'count') request.summaryCount = true;
        else if (value !== 'false')
          throw notSupported('NAVET-SEARCH-SUMMARY', `_summary=${value} is not supported; use _summary=count`, [name]);
      } else if (base === '_total') request.totalNone = value === 'none';
      else if (base === '_elements')
        request.elements = value
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean);
      else if (base === '_sort') request.sort = parseSortKeys(resourceType, value);
      else if (base === '_include')
        request.include.push(parseInclude(name, value, name.endsWith(':iterate') || name.endsWith(':recurse')));
      else if (base === '_revinclude')
        request.revinclude.push(parseInclude(name, value, name.endsWith(':iterate') || name.endsWith(':recurse')));
      if (request.include.length + request.revinclude.length > MAX_INCLUDES) {
        throw badRequest(
          'NAVET-SEARCH-TOO-MANY-INCLUDES',
          `The search has more than ${MAX_INCLUDES} _include and _revinclude parameters; at most ${MAX_INCLUDES}`,
          [name],
        );
      }
      if (base !== '_offset') request.canonicalParams.push([name, value]);
      continue;
    }
    const criterion = parseCriterion(resourceType, name, value);
    if (!criterion) {
      if (lenient) {
        request.ignored.push(name);
        continue;
      }
      throw badRequest(
        'NAVET-SEARCH-UNKNOWN-PARAM',
        `${resourceType} has no search parameter '${name.split(':')[0]}'; see the CapabilityStatement (GET metadata) for the supported ones, or send 'Prefer: handling=lenient' to ignore unknown parameters`,
        [name],
      );
    }
    request.criteria.push(criterion);
    request.canonicalParams.push([name, value]);
  }
  return request;
}

function parseSortKeys(resourceType: string, value: string): SortSpec[] {
  const keys = value.split(',').filter(Boolean);
  if (keys.length > MAX_SORT_KEYS)
    throw badRequest('NAVET-SEARCH-TOO-MANY-SORT-KEYS', `_sort has ${keys.length} keys; at most ${MAX_SORT_KEYS}`, [
      '_sort',
    ]);
  return keys.map((key) => parseSort(resourceType, key));
}

function parseSort(resourceType: string, raw: string): SortSpec {
  const descending = raw.startsWith('-');
  const param = descending ? raw.slice(1) : raw;
  if (param === '_id') return { param, type: 'id', descending };
  if (param === '_lastUpdated') return { param, type: 'lastUpdated', descending };
  const definition = searchParametersOf(resourceType).get(param);
  if (!definition)
    throw badRequest('NAVET-SEARCH-SORT', `_sort: ${resourceType} has no search parameter '${param}' to sort by`, [
      '_sort',
    ]);
  return { param, type: definition.type, descending };
}
