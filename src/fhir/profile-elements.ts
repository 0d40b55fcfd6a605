/**
 * The parts of a StructureDefinition that Navet's profile engine reads, and how an element id finds its
 * values in a resource: `a.b` (arrays flattened), a choice `value[x]` (every `valueXxx` present), a
 * type slice `value[x]:valueQuantity` (that one type), and an extension slice `extension:name` (the
 * extensions whose url is the slice's extension profile). Other slicing is not read.
 */
import type { NavetErrorCode } from '../codes/error-codes';

export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
export interface Extension {
  url: string;
  valueCode?: string;
  valueString?: string;
}
export interface Constraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression: string;
  extension?: Extension[];
}
export interface ElementDefinition {
  id?: string;
  path: string;
  sliceName?: string;
  short?: string;
  min?: number;
  max?: string;
  type?: { code: string; profile?: string[] }[];
  fixedCode?: string;
  patternCodeableConcept?: { coding: Coding[] };
  binding?: { strength: string; valueSet: string; description?: string };
  constraint?: Constraint[];
}
export interface StructureDefinition {
  resourceType: 'StructureDefinition';
  url: string;
  name: string;
  type: string;
  extension?: Extension[];
  differential: { element: ElementDefinition[] };
}
export interface CodeSystem {
  resourceType: 'CodeSystem';
  url: string;
  concept?: Concept[];
}
export interface Concept {
  code: string;
  display?: string;
  concept?: Concept[];
}
export interface ValueSet {
  resourceType: 'ValueSet';
  url: string;
  name?: string;
  title?: string;
  compose: { include: { system: string; concept?: { code: string; display?: string }[] }[] };
}

/** Navet's stable error code of an issue, on a StructureDefinition or one of its constraints. */
export const ERROR_CODE_EXTENSION = 'https://navet.example/fhir/StructureDefinition/error-code';
/** The error code a profile names (profiles/*.json; tests/unit/error-codes.test.ts checks they are catalogued). */
export const errorCodeOf = (extensions: Extension[] | undefined): NavetErrorCode | undefined =>
  extensions?.find((e) => e.url === ERROR_CODE_EXTENSION)?.valueCode as NavetErrorCode | undefined;

/** One value found at an element, with the key it was found under (a choice's `valueQuantity`). */
export interface Found {
  value: unknown;
  key: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const flat = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

export const idOf = (element: ElementDefinition): string => element.id ?? element.path;
/** The segments of an element id after the resource type. */
export const segmentsOf = (element: ElementDefinition): string[] => idOf(element).split('.').slice(1);
/** How an element is named in an issue's expression: its id without the type, a type slice by its name. */
export const locationOf = (segments: string[]): string =>
  segments.map((s) => (/^\w+\[x\]:\w+$/.test(s) ? s.split(':')[1] : s)).join('.');

/** The values of one id segment in each of `parents`; `sliceUrl` gives an extension slice's url. */
export function step(parents: unknown[], segment: string, sliceUrl: (segment: string) => string | undefined): Found[] {
  const [name, slice] = segment.split(':');
  return parents.flatMap((parent): Found[] => {
    if (!isObject(parent)) return [];
    if (name.endsWith('[x]')) {
      const base = name.slice(0, -3);
      const keys = slice
        ? [slice]
        : Object.keys(parent).filter((k) => k.startsWith(base) && /^[A-Z]/.test(k.slice(base.length)));
      return keys.flatMap((key) => flat(parent[key]).map((value) => ({ value, key })));
    }
    const values = flat(parent[name]);
    if (!slice) return values.map((value) => ({ value, key: name }));
    const url = sliceUrl(segment);
    return url === undefined
      ? []
      : values.filter((v) => isObject(v) && v.url === url).map((value) => ({ value, key: name }));
  });
}

/** The value of an extension (its one `valueXxx`), with its key. */
export function extensionValue(extension: unknown): Found | undefined {
  if (!isObject(extension)) return undefined;
  const key = Object.keys(extension).find((k) => /^value[A-Z]/.test(k));
  return key ? { value: extension[key], key } : undefined;
}
