import { readFileSync } from 'node:fs';
import path from 'node:path';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import type { OutcomeIssue } from '../../fhir/operation-outcome';
import type { FhirResource } from '../../fhir/types';
import { UCUM } from './pps-codes';
import { isUcumUnit } from './ucum';

/**
 * Checks a resource against the NILAR profiles, read from profiles/nilar-profiles.json: cardinality,
 * code systems (each Volven system in its three URL forms), allowed values, types and UCUM units.
 */
interface RawRule {
  element: string;
  path: string;
  min?: number;
  max?: number;
  codeSystems?: string[];
  values?: string[];
  type?: 'dateTime' | 'reference' | 'string';
  ucum?: boolean;
  choice?: { name: string; types: string[] };
  text?: string;
}
interface RawProfiles {
  codeSystemForms: string[];
  profiles: { url: string; type: string; rules: RawRule[] }[];
}
interface Rule extends RawRule {
  evaluate: (resource: FhirResource) => unknown[];
  systems: Set<string>;
}
export interface NilarProfile {
  url: string;
  type: string;
  rules: Rule[];
}

const FILE = path.join(__dirname, '..', '..', '..', 'profiles', 'nilar-profiles.json');
const DATE_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Text of any sent value (String() throws on `{"toString": 0}`). */
const textOf = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? typeof v);

function load(): Map<string, NilarProfile> {
  const raw = JSON.parse(readFileSync(FILE, 'utf8')) as RawProfiles;
  const forms = (n: string) => raw.codeSystemForms.map((f) => f.replace('{n}', n));
  return new Map(raw.profiles.map((p) => [p.type, {
    url: p.url,
    type: p.type,
    rules: p.rules.map((r) => {
      const compiled = fhirpath.compile(r.path, r4Model);
      return { ...r, evaluate: (resource: FhirResource) => compiled(resource) as unknown[], systems: new Set((r.codeSystems ?? []).flatMap(forms)) };
    }),
  }]));
}

let profiles: Map<string, NilarProfile> | undefined;
/** The profile of a resource type, or undefined when NILAR has none for it. */
export function nilarProfile(resourceType: string): NilarProfile | undefined {
  profiles ??= load();
  return profiles.get(resourceType);
}

function checkValue(rule: Rule, value: unknown, at: string, add: (text: string, code?: string) => void): void {
  if (rule.codeSystems) {
    const codings = isObject(value) && Array.isArray(value.coding) ? value.coding.filter(isObject) : [];
    const known = codings.filter((c) => typeof c.system === 'string' && rule.systems.has(c.system) && typeof c.code === 'string' && c.code !== '');
    if (known.length === 0) {
      const given = codings.map((c) => `${textOf(c.system ?? '(no system)')}|${textOf(c.code ?? '')}`).join(', ') || 'no coding';
      add(`${at}: needs a code from Volven ${rule.codeSystems.join(' / ')} (system http://ehelse.no/fhir/CodeSystem/no-kodeverk-NNNN, http://helsedir.no/fhir/CodeSystem/no-kodeverk-NNNN or urn:oid:2.16.578.1.12.4.1.1.NNNN); got ${given}`, 'code-invalid');
    }
  }
  if (rule.values && !(typeof value === 'string' && rule.values.includes(value))) add(`${at}: '${textOf(value)}' is not allowed; use one of ${rule.values.join(', ')}`, 'code-invalid');
  if (rule.type === 'dateTime' && (typeof value !== 'string' || !DATE_TIME.test(value))) add(`${at}: must be a FHIR dateTime such as 2026-03-01T08:30:00+01:00; got ${JSON.stringify(value)}`);
  if (rule.type === 'reference' && !(isObject(value) && (typeof value.reference === 'string' || isObject(value.identifier)))) add(`${at}: must be a Reference with reference or identifier`);
  if (rule.type === 'string' && (typeof value !== 'string' || value.trim() === '')) add(`${at}: must be a non-empty string`);
  if (rule.ucum) {
    const quantity = isObject(value) ? value : {};
    if (typeof quantity.value !== 'number') add(`${at}.value: a Quantity needs a numeric value`);
    if (quantity.system !== UCUM) add(`${at}.system: units must be UCUM (system ${UCUM}); got ${JSON.stringify(quantity.system ?? null)}`, 'code-invalid');
    else if (typeof quantity.code !== 'string' || !isUcumUnit(quantity.code)) add(`${at}.code: '${textOf(quantity.code ?? '')}' is not a UCUM unit; use e.g. mmol/L, g/dL, 10*9/L, mm[Hg]`, 'code-invalid');
  }
}

/** Issues for `resource` against its NILAR profile; `at` is where it sits (e.g. Bundle.entry[2].resource). */
export function validateAgainstNilar(resource: FhirResource, at: string, navetCode = 'NAVET-PPS-PROFILE'): OutcomeIssue[] {
  const profile = nilarProfile(resource.resourceType);
  if (!profile) return [];
  const issues: OutcomeIssue[] = [];
  for (const rule of profile.rules) {
    const where = `${at}.${rule.element}`;
    const add = (text: string, code = 'invalid') => issues.push({ severity: 'error', code, navetCode, text: `${profile.url.split('/').pop()}: ${text}`, expression: [where] });
    if (rule.choice) {
      const present = Object.keys(resource).filter((k) => k.startsWith(rule.choice?.name ?? '') && /^[A-Z]/.test(k.slice(rule.choice?.name.length)));
      for (const key of present) {
        if (!rule.choice.types.includes(key.slice(rule.choice.name.length))) add(`${at}.${key}: ${rule.element} must be one of ${rule.choice.types.map((t) => `${rule.choice?.name}${t}`).join(', ')}`);
      }
      continue;
    }
    let values: unknown[];
    try {
      values = rule.evaluate(resource);
    } catch {
      add(`${where}: could not be read; check its shape against the profile`);
      continue;
    }
    if (values.length < (rule.min ?? 0)) add(`${where} is required (${rule.min}..${rule.max ?? '*'})${rule.text ? `: ${rule.text}` : ''}`, 'required');
    if (rule.max !== undefined && values.length > rule.max) add(`${where} may occur at most ${rule.max} time(s); it occurs ${values.length} times`);
    values.forEach((value, i) => checkValue(rule, value, values.length > 1 ? `${where}[${i}]` : where, add));
  }
  return issues;
}
