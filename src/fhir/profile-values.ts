import type { Coding, Found, ValueSet } from './profile-elements';
import { isUcumUnit } from './ucum';

/**
 * The checks of one value against what its element declares: its type (Navet's reading of a few FHIR
 * types, below) and its required binding — a code from the ValueSet's concepts, a coding from its
 * included code systems, or units from UCUM when the ValueSet includes all of UCUM. Each answers the
 * problems as text to follow the value's location.
 */
export const UCUM = 'http://unitsofmeasure.org';
const DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

type Json = Record<string, unknown>;
export interface ValueProblem {
  text: string;
  code: 'invalid' | 'code-invalid';
}
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Text of any sent value (String() throws on `{"toString": 0}`). */
const textOf = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? typeof v));
const nonBlank = (v: unknown): boolean => typeof v === 'string' && v.trim() !== '';

/**
 * Problems of a value against a type: a dateTime has FHIR's syntax; a string, and an Identifier's value,
 * hold more than blanks; a Reference names its target by reference or identifier (one with a display
 * only points nowhere). Other types are left to the R4 structure check.
 */
export function typeProblem(type: string, value: unknown): string | undefined {
  if (type === 'dateTime' && !(typeof value === 'string' && DATE_TIME.test(value))) {
    return `must be a FHIR dateTime such as 2026-03-01T08:30:00+01:00; got ${JSON.stringify(value)}`;
  }
  if (type === 'string' && !nonBlank(value)) return 'must be a non-empty string';
  if (type === 'Identifier' && !(isObject(value) && nonBlank(value.value))) return 'must be a non-empty string';
  const pointsSomewhere = isObject(value) && (typeof value.reference === 'string' || isObject(value.identifier));
  if (type === 'Reference' && !pointsSomewhere) return 'must be a Reference with reference or identifier';
  return undefined;
}

export const choiceKey = (base: string, type: string): string => `${base}${type[0].toUpperCase()}${type.slice(1)}`;

const codingsOf = (value: unknown): Coding[] => {
  if (!isObject(value)) return [];
  if (Array.isArray(value.coding)) return value.coding.filter(isObject) as Coding[];
  return 'code' in value || 'system' in value ? [value as Coding] : [];
};
const describeCoding = (c: Coding): string => `${textOf(c.system ?? '(no system)')}|${textOf(c.code ?? '')}`;
export const isUnitsValueSet = (valueSet: ValueSet): boolean =>
  valueSet.compose.include.some((i) => i.system === UCUM && !i.concept);

/** Whether a coding is in a ValueSet: its system is included and, where the include lists codes, its code is one. */
export function inValueSet(valueSet: ValueSet, coding: Coding): boolean {
  return (
    typeof coding.code === 'string' &&
    coding.code !== '' &&
    valueSet.compose.include.some(
      (include) =>
        include.system === coding.system && (!include.concept || include.concept.some((c) => c.code === coding.code)),
    )
  );
}

/**
 * Problems of coded values against a required binding: a code (or uri) must be one of the concepts; a
 * CodeableConcept needs one coding from the ValueSet (others may translate it), a Coding must be from it.
 * A CodeableConcept of text alone is left to the element's cardinality of `coding`.
 */
export function codeProblem(valueSet: ValueSet, value: unknown): ValueProblem | undefined {
  if (typeof value !== 'object' || value === null) {
    // a code of a system the set does not hold cannot be decided
    if (valueSet.compose.include.some((i) => !i.concept)) return undefined;
    const codes = valueSet.compose.include.flatMap((i) => i.concept?.map((c) => c.code) ?? []);
    return codes.includes(value as string)
      ? undefined
      : { text: `'${textOf(value)}' is not allowed; use one of ${codes.join(', ')}`, code: 'code-invalid' };
  }
  const codings = codingsOf(value);
  if (codings.length === 0 || codings.some((c) => inValueSet(valueSet, c))) return undefined;
  const from = valueSet.title ?? valueSet.name ?? valueSet.url;
  return { text: `needs a code from ${from}; got ${codings.map(describeCoding).join(', ')}`, code: 'code-invalid' };
}

/** The Quantities a value holds: itself, or the low and high of a Range or a referenceRange. */
export function quantitiesOf(found: Found[]): unknown[] {
  const isRange = (v: unknown): v is Json => isObject(v) && ('low' in v || 'high' in v);
  return found.flatMap(({ value }) =>
    isRange(value) ? [value.low, value.high].filter((q) => q !== undefined) : [value],
  );
}

/** Problems of one Quantity bound to UCUM: a numeric value, the UCUM system, a valid UCUM unit code (or of a unit code alone). */
export function unitProblems(quantity: unknown): { at: string; problem: ValueProblem }[] {
  const notUcum = (code: unknown): ValueProblem => ({
    text: `'${textOf(code)}' is not a UCUM unit; use e.g. mmol/L, g/dL, 10*9/L, mm[Hg]`,
    code: 'code-invalid',
  });
  if (typeof quantity === 'string') return isUcumUnit(quantity) ? [] : [{ at: '', problem: notUcum(quantity) }];
  const q = isObject(quantity) ? quantity : {};
  const problems: { at: string; problem: ValueProblem }[] = [];
  if (typeof q.value !== 'number')
    problems.push({ at: '.value', problem: { text: 'a Quantity needs a numeric value', code: 'invalid' } });
  if (q.system !== UCUM) {
    problems.push({
      at: '.system',
      problem: {
        text: `units must be UCUM (system ${UCUM}); got ${JSON.stringify(q.system ?? null)}`,
        code: 'code-invalid',
      },
    });
  } else if (typeof q.code !== 'string' || !isUcumUnit(q.code))
    problems.push({ at: '.code', problem: notUcum(q.code ?? '') });
  return problems;
}

/** A pattern's codings that a value lacks, as text; undefined when it holds them all. */
export function patternProblem(wanted: Coding[], value: unknown): string | undefined {
  const codings = codingsOf(value);
  if (wanted.every((w) => codings.some((c) => c.system === w.system && c.code === w.code))) return undefined;
  const given = codings.length ? codings.map(describeCoding).join(', ') : JSON.stringify(value);
  return `must hold ${wanted.map((w) => `${w.system}|${w.code}`).join(' and ')}; got ${given}`;
}
