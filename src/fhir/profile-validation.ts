import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import { readFileSync } from 'node:fs';
import type { OutcomeIssue } from './operation-outcome';
import type { FhirResource } from './types';

/**
 * Validates resources against profiles written as FHIR StructureDefinitions (differential only) and
 * ValueSets. The constraints Navet reads: an element's `min` and `max: "0"`, `fixedCode`,
 * `patternCodeableConcept`, required `binding`s to a ValueSet (by code system, and by code when the
 * ValueSet lists concepts) and `constraint`s written in FHIRPath. Slicing is not used by Navet's profiles.
 */
interface Coding { system?: string; code?: string; display?: string }
interface ElementDefinition {
  path: string;
  min?: number;
  max?: string;
  fixedCode?: string;
  patternCodeableConcept?: { coding: Coding[] };
  binding?: { strength: string; valueSet: string; description?: string };
  constraint?: { key: string; severity: 'error' | 'warning'; human: string; expression: string }[];
}
export interface StructureDefinition {
  resourceType: 'StructureDefinition';
  url: string;
  name: string;
  type: string;
  differential: { element: ElementDefinition[] };
}
export interface ValueSet {
  resourceType: 'ValueSet';
  url: string;
  name?: string;
  compose: { include: { system: string; concept?: { code: string; display?: string }[] }[] };
}

type Evaluate = (resource: FhirResource) => unknown[];

export class ProfileSet {
  private readonly profiles = new Map<string, StructureDefinition>();
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly compiled = new Map<string, Evaluate>();

  constructor(resources: (StructureDefinition | ValueSet)[]) {
    for (const resource of resources) {
      if (resource.resourceType === 'StructureDefinition') this.profiles.set(resource.url, resource);
      else this.valueSets.set(resource.url, resource);
    }
    // every binding must resolve, or a profile file is broken
    for (const profile of this.profiles.values()) {
      for (const element of profile.differential.element) {
        if (element.binding && !this.valueSets.has(element.binding.valueSet)) throw new Error(`${profile.name}: no ValueSet ${element.binding.valueSet}`);
        for (const constraint of element.constraint ?? []) this.compile(constraint.expression);
      }
    }
  }

  /** Reads a JSON file holding a Bundle (collection) of StructureDefinitions and ValueSets. */
  static fromFile(file: string): ProfileSet {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { entry: { resource: StructureDefinition | ValueSet }[] };
    return new ProfileSet(bundle.entry.map((e) => e.resource));
  }

  profile(url: string): StructureDefinition | undefined {
    return this.profiles.get(url);
  }

  valueSet(url: string): ValueSet | undefined {
    return this.valueSets.get(url);
  }

  /** Whether a coding is in a ValueSet: its system is included and, where the ValueSet lists codes, its code is one. */
  contains(valueSetUrl: string, coding: Coding): boolean {
    const valueSet = this.valueSets.get(valueSetUrl);
    return Boolean(valueSet?.compose.include.some((include) => include.system === coding.system
      && (!include.concept || include.concept.some((c) => c.code === coding.code))));
  }

  /** The problems of a resource against a profile, each naming its element and what to change. */
  validate(resource: FhirResource, profileUrl: string): OutcomeIssue[] {
    const profile = this.profiles.get(profileUrl);
    if (!profile) throw new Error(`Unknown profile ${profileUrl}`);
    if (resource.resourceType !== profile.type) {
      return [issue(profile, 'structure', `${profile.name} profiles ${profile.type}, not ${resource.resourceType}`, 'resourceType')];
    }
    const issues: OutcomeIssue[] = [];
    for (const element of profile.differential.element) {
      const steps = element.path.split('.').slice(1);
      const values = steps.length ? valuesAt(resource, steps) : [resource];
      if ((element.min ?? 0) > 0) {
        const parents = steps.length > 1 ? valuesAt(resource, steps.slice(0, -1)) : [resource];
        const missing = parents.some((parent) => valuesAt(parent, steps.slice(-1)).length === 0);
        if (missing) issues.push(issue(profile, 'required', `${element.path} is required by ${profile.name}`, element.path));
      }
      if (element.max === '0' && values.length > 0) issues.push(issue(profile, 'structure', `${element.path} is not allowed by ${profile.name}: leave it out`, element.path));
      if (element.fixedCode !== undefined) {
        for (const value of values) {
          if (value !== element.fixedCode) issues.push(issue(profile, 'value', `${element.path} must be '${element.fixedCode}' in ${profile.name}; got ${JSON.stringify(value)}`, element.path));
        }
      }
      if (element.patternCodeableConcept) {
        const wanted = element.patternCodeableConcept.coding;
        for (const value of values) {
          if (!wanted.every((w) => codingsOf(value).some((c) => c.system === w.system && c.code === w.code))) {
            issues.push(issue(profile, 'value', `${element.path} must hold ${wanted.map((w) => `${w.system}|${w.code}`).join(' and ')} in ${profile.name}; got ${describe(value)}`, element.path));
          }
        }
      }
      if (element.binding?.strength === 'required') {
        for (const value of values) {
          const problem = this.bindingProblem(element.binding.valueSet, value);
          if (problem) issues.push(issue(profile, 'code-invalid', `${element.path} ${problem}`, element.path));
        }
      }
      for (const constraint of element.constraint ?? []) {
        if (constraint.severity !== 'error') continue;
        const results = this.compile(constraint.expression)(resource);
        if (!(results.length === 1 && results[0] === true)) issues.push(issue(profile, 'invariant', `${constraint.human} (${constraint.key})`, element.path));
      }
    }
    return issues;
  }

  private bindingProblem(valueSetUrl: string, value: unknown): string | undefined {
    const valueSet = this.valueSets.get(valueSetUrl) as ValueSet;
    const allowed = () => valueSet.compose.include.map((i) => (i.concept ? `${i.system} (${i.concept.map((c) => c.code).join(', ')})` : i.system)).join('; ');
    if (typeof value === 'string') {
      const codes = valueSet.compose.include.flatMap((i) => i.concept?.map((c) => c.code) ?? []);
      return codes.includes(value) ? undefined : `'${value}' is not allowed: use one of ${codes.join(', ')}`;
    }
    const codings = codingsOf(value);
    if (codings.length === 0) return undefined;
    const outside = codings.filter((c) => !this.contains(valueSetUrl, c));
    // a CodeableConcept needs one coding from the ValueSet (others may translate it); a Coding must be from it
    const isCoding = typeof value === 'object' && value !== null && !('coding' in value);
    if (isCoding ? outside.length > 0 : outside.length === codings.length) {
      return `${outside.map((c) => `${c.system ?? '(no system)'}|${c.code ?? ''}`).join(', ')} is not from ${valueSet.name ?? valueSetUrl}: use ${allowed()}`;
    }
    return undefined;
  }

  private compile(expression: string): Evaluate {
    let evaluate = this.compiled.get(expression);
    if (!evaluate) {
      const compiled = fhirpath.compile(expression, r4Model);
      evaluate = (resource) => compiled(resource as never) as unknown[];
      this.compiled.set(expression, evaluate);
    }
    return evaluate;
  }
}

function issue(profile: StructureDefinition, code: string, text: string, path: string): OutcomeIssue {
  return { severity: 'error', code, navetCode: 'NAVET-PROFILE', text, expression: [path] };
}

/** The values at a path of element names, arrays flattened (FHIRPath's navigation, without choice types). */
function valuesAt(value: unknown, steps: string[]): unknown[] {
  let current: unknown[] = [value];
  for (const step of steps) {
    current = current.flatMap((v) => {
      if (typeof v !== 'object' || v === null) return [];
      const next = (v as Record<string, unknown>)[step];
      if (next === undefined || next === null) return [];
      return Array.isArray(next) ? next : [next];
    });
  }
  return current;
}

function codingsOf(value: unknown): Coding[] {
  if (typeof value !== 'object' || value === null) return [];
  const coding = (value as { coding?: unknown }).coding;
  if (Array.isArray(coding)) return coding.filter((c): c is Coding => typeof c === 'object' && c !== null);
  return 'code' in value || 'system' in value ? [value as Coding] : [];
}

function describe(value: unknown): string {
  const codings = codingsOf(value);
  return codings.length ? codings.map((c) => `${c.system ?? '(no system)'}|${c.code ?? ''}`).join(', ') : JSON.stringify(value);
}
