import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { OutcomeIssue } from './operation-outcome';
import {
  type CodeSystem,
  type Concept,
  type ElementDefinition,
  errorCodeOf,
  extensionValue,
  type Found,
  idOf,
  locationOf,
  segmentsOf,
  step,
  type StructureDefinition,
  type ValueSet,
} from './profile-elements';
import {
  choiceKey,
  codeProblem,
  isUnitsValueSet,
  patternProblem,
  quantitiesOf,
  typeProblem,
  unitProblems,
  type ValueProblem,
} from './profile-values';
import { asJson, type FhirResource, type StorableResource } from './types';

export type { CodeSystem, StructureDefinition, ValueSet } from './profile-elements';
type Definition = StructureDefinition | ValueSet | CodeSystem;

/**
 * Navet's one profile engine: validates resources, and the entries of a Bundle, against profiles written
 * as FHIR StructureDefinitions (differential only), ValueSets and CodeSystems. It reads an element's `min`/`max`,
 * `type` (choices, and Navet's checks of dateTime, string, Identifier, Reference), `fixedCode`,
 * `patternCodeableConcept`, required `binding`s (see profile-values.ts) and `constraint`s in FHIRPath.
 * A constraint is evaluated with the resource as its context and reported at the element it sits on.
 * A child's `min` applies within each value of its nearest ancestor in the differential (or the resource).
 */
type Evaluate = (resource: FhirResource) => unknown[];
/** An element made ready to check: its id segments, how issues name it, and where its cardinality counts. */
interface Step {
  element: ElementDefinition;
  segments: string[];
  location: string;
  /** How many segments lead to its nearest ancestor in the differential (0: the resource). */
  ancestorDepth: number;
}
interface Plan {
  steps: Step[];
  sliceUrls: Map<string, string>;
}
export interface ProfileSetOptions {
  /** Skip bindings to ValueSets the set lacks and constraints fhirpath cannot compile (for published packages). */
  lenient?: boolean;
}

export class ProfileSet {
  private readonly profiles = new Map<string, StructureDefinition>();
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly compiled = new Map<string, Evaluate>();
  private readonly plans = new Map<string, Plan>();
  /** What a lenient set left out, as text. */
  readonly skipped: string[] = [];

  constructor(resources: Definition[], options: ProfileSetOptions = {}) {
    const codeSystems = new Map(
      resources.filter((r): r is CodeSystem => r.resourceType === 'CodeSystem').map((r) => [r.url, r]),
    );
    for (const resource of resources) {
      // a copy: a lenient set leaves out what it cannot read
      if (resource.resourceType === 'StructureDefinition') this.profiles.set(resource.url, structuredClone(resource));
      if (resource.resourceType === 'ValueSet')
        this.valueSets.set(resource.url, withCodeSystems(resource, codeSystems));
    }
    // every slice must be one Navet reads, every binding resolve and every constraint compile, or a profile file is broken
    for (const profile of this.profiles.values()) {
      const unread = profile.differential.element.filter(
        (element) => !readableSlices(element, profile.differential.element),
      );
      if (unread.length > 0 && !options.lenient)
        throw new Error(`${profile.name}: slicing Navet does not read at ${idOf(unread[0])}`);
      this.skipped.push(...unread.map((element) => `${idOf(element)}: slicing`));
      profile.differential.element = profile.differential.element.filter((element) => !unread.includes(element));
      for (const element of profile.differential.element) {
        if (element.binding?.strength === 'required' && !this.valueSets.has(element.binding.valueSet)) {
          if (!options.lenient) throw new Error(`${profile.name}: no ValueSet ${element.binding.valueSet}`);
          this.skipped.push(`${idOf(element)}: binding to ${element.binding.valueSet}`);
          delete element.binding;
        }
        element.constraint = (element.constraint ?? []).filter((constraint) => {
          try {
            this.compile(constraint.expression);
            return true;
          } catch (error) {
            if (!options.lenient) throw error;
            this.skipped.push(`${idOf(element)}: constraint ${constraint.key}`);
            return false;
          }
        });
      }
    }
  }

  /** Reads a JSON file holding a Bundle (collection) of StructureDefinitions and ValueSets. */
  static fromFile(file: string): ProfileSet {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { entry: { resource: Definition }[] };
    return new ProfileSet(bundle.entry.map((e) => e.resource));
  }

  /**
   * Reads a folder of StructureDefinition, ValueSet and CodeSystem files, such as an unpacked FHIR npm package (its
   * `package/` folder is read when there is one); other files are ignored.
   */
  static fromFolder(folder: string, options: ProfileSetOptions = { lenient: true }): ProfileSet {
    const dir = existsSync(path.join(folder, 'package', 'package.json')) ? path.join(folder, 'package') : folder;
    const resources = readdirSync(dir)
      .filter((f) => f.endsWith('.json') && f !== 'package.json')
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { resourceType?: string })
      .filter((r): r is Definition => ['StructureDefinition', 'ValueSet', 'CodeSystem'].includes(r.resourceType ?? ''));
    return new ProfileSet(resources, options);
  }

  profile(url: string): StructureDefinition | undefined {
    return this.profiles.get(url);
  }

  /** The profile of a resource type, when the set holds one for it (the first, for a set with several). */
  profileFor(resourceType: string): StructureDefinition | undefined {
    return [...this.profiles.values()].find((p) => p.type === resourceType && p.type !== 'Extension');
  }

  /** The problems of a resource against its type's profile in this set; none when the set has no profile for it. */
  validateByType(resource: StorableResource, at: string = resource.resourceType): OutcomeIssue[] {
    const profile = this.profileFor(resource.resourceType);
    return profile ? this.validate(resource, profile.url, at) : [];
  }

  /** The problems of a Bundle and of each entry's resource, each against its type's profile in this set. */
  validateBundle(bundle: FhirResource): OutcomeIssue[] {
    const entries = Array.isArray(bundle.entry) ? (bundle.entry as { resource?: unknown }[]) : [];
    const resources = entries
      .map((entry, i) => ({ resource: entry?.resource, at: `Bundle.entry[${i}].resource` }))
      .filter(
        (t): t is { resource: FhirResource; at: string } => typeof t.resource === 'object' && t.resource !== null,
      );
    return [{ resource: bundle, at: 'Bundle' }, ...resources].flatMap(({ resource, at }) =>
      this.validateByType(resource, at),
    );
  }

  /** The problems of a resource against a profile, each naming its element (after `at`) and what to change. */
  validate(typed: StorableResource, profileUrl: string, at: string = typed.resourceType): OutcomeIssue[] {
    const resource = asJson(typed);
    const profile = this.profiles.get(profileUrl);
    if (!profile) throw new Error(`Unknown profile ${profileUrl}`);
    const label = profile.url.split('/').pop() as string;
    const navetCode = errorCodeOf(profile.extension) ?? 'NAVET-PROFILE';
    const issues: OutcomeIssue[] = [];
    const add = (code: string, where: string, text: string, errorCode = navetCode) => {
      issues.push({ severity: 'error', code, navetCode: errorCode, text, expression: [where] });
    };
    if (resource.resourceType !== profile.type) {
      const where = at === resource.resourceType ? 'resourceType' : `${at}.resourceType`;
      add('structure', where, `${label} profiles ${profile.type}, not ${resource.resourceType}`);
      return issues;
    }
    const { steps, sliceUrls } = this.planOf(profile);
    const sliceUrl = (segment: string) => sliceUrls.get(segment);
    const valuesAt = (from: unknown[], segments: string[]): Found[] =>
      segments.reduce<Found[]>(
        (found, s) =>
          step(
            found.map((f) => f.value),
            s,
            sliceUrl,
          ),
        from.map((value) => ({ value, key: '' })),
      );
    for (const planned of steps) {
      const { element, segments, location } = planned;
      const where = location ? `${at}.${location}` : at;
      const problem = (code: string, text: string) => add(code, where, `${label}: ${text}`);
      const found = segments.length ? valuesAt([resource], segments) : [{ value: resource, key: '' }];
      this.checkCardinality(planned, resource, valuesAt, where, problem);
      if (element.fixedCode !== undefined) {
        const wrong = found.filter(({ value }) => value !== element.fixedCode);
        for (const { value } of wrong)
          problem('value', `${where} must be '${element.fixedCode}'; got ${JSON.stringify(value)}`);
      }
      if (element.patternCodeableConcept) {
        for (const { value } of found) {
          const text = patternProblem(element.patternCodeableConcept.coding, value);
          if (text) problem('value', `${where} ${text}`);
        }
      }
      this.checkValues(element, found, where, problem);
      for (const constraint of element.constraint ?? []) {
        if (constraint.severity !== 'error' || this.holds(constraint.expression, resource)) continue;
        add(
          'invariant',
          where,
          `${constraint.human} (${label} ${constraint.key})`,
          errorCodeOf(constraint.extension) ?? navetCode,
        );
      }
    }
    return issues;
  }

  private planOf(profile: StructureDefinition): Plan {
    let plan = this.plans.get(profile.url);
    if (!plan) {
      const elements = profile.differential.element;
      const ids = new Set(elements.map(idOf));
      const steps = elements.map((element) => {
        const segments = segmentsOf(element);
        let ancestorDepth = Math.max(segments.length - 1, 0);
        while (ancestorDepth > 0 && !ids.has([profile.type, ...segments.slice(0, ancestorDepth)].join('.')))
          ancestorDepth -= 1;
        return { element, segments, location: locationOf(segments), ancestorDepth };
      });
      const sliceUrls = new Map(
        elements.flatMap((e) => {
          const url = e.sliceName ? e.type?.[0]?.profile?.[0] : undefined;
          return url ? [[segmentsOf(e).at(-1) as string, url] as const] : [];
        }),
      );
      plan = { steps, sliceUrls };
      this.plans.set(profile.url, plan);
    }
    return plan;
  }

  /** A child's cardinality counts within each value of its nearest ancestor in the differential. */
  private checkCardinality(
    { element, segments, ancestorDepth }: Step,
    resource: FhirResource,
    valuesAt: (from: unknown[], segments: string[]) => Found[],
    where: string,
    problem: (code: string, text: string) => void,
  ): void {
    if (segments.length === 0) return;
    const min = element.min ?? 0;
    const max = element.max === undefined || element.max === '*' ? undefined : Number(element.max);
    if (min === 0 && max === undefined) return;
    const parents =
      ancestorDepth > 0 ? valuesAt([resource], segments.slice(0, ancestorDepth)).map((f) => f.value) : [resource];
    const counts = parents.map((parent) => valuesAt([parent], segments.slice(ancestorDepth)).length);
    if (counts.some((n) => n < min))
      problem(
        'required',
        `${where} is required (${min}..${element.max ?? '*'})${element.short ? `: ${element.short}` : ''}`,
      );
    if (max === 0 && counts.some((n) => n > 0)) problem('structure', `${where} is not allowed: leave it out`);
    else if (max !== undefined && counts.some((n) => n > max)) {
      problem('invalid', `${where} may occur at most ${max} time(s); it occurs ${Math.max(...counts)} times`);
    }
  }

  /** Type and binding of each value; a value among several is named by its index. */
  private checkValues(
    element: ElementDefinition,
    found: Found[],
    where: string,
    problem: (code: string, text: string) => void,
  ): void {
    const types = (element.type ?? []).map((t) => t.code);
    const last = segmentsOf(element).at(-1) ?? '';
    if (last.endsWith('[x]') && types.length > 1) {
      const base = last.slice(0, -3);
      const allowed = types.map((t) => choiceKey(base, t));
      const parent = where.slice(0, -last.length);
      for (const { key } of found.filter((f) => !allowed.includes(f.key)))
        problem('invalid', `${parent}${key}: ${last} must be one of ${allowed.join(', ')}`);
      return;
    }
    const report = (at: string, p: ValueProblem) => problem(p.code, `${at}: ${p.text}`);
    const valueSet =
      element.binding?.strength === 'required' ? this.valueSets.get(element.binding.valueSet) : undefined;
    if (valueSet && isUnitsValueSet(valueSet)) {
      const quantities = quantitiesOf(found);
      quantities.forEach((q, i) =>
        unitProblems(q).forEach(({ at, problem: p }) =>
          report(`${where}${quantities.length > 1 ? `[${i}]` : ''}${at}`, p),
        ),
      );
      return;
    }
    const extensionType = types[0] === 'Extension' ? this.extensionValueType(element) : undefined;
    found.forEach(({ value }, i) => {
      const at = found.length > 1 ? `${where}[${i}]` : where;
      const coded = valueSet ? codeProblem(valueSet, value) : undefined;
      if (coded) report(at, coded);
      if (extensionType && !extensionValue(value)) {
        problem('required', `${at} needs a value: ${choiceKey('value', extensionType)}`);
        return;
      }
      const type = extensionType ?? (types.length === 1 ? types[0] : undefined);
      const text = type ? typeProblem(type, extensionType ? extensionValue(value)?.value : value) : undefined;
      if (text) report(at, { text, code: 'invalid' });
    });
  }

  /** The one value type of an extension slice's extension, when the set defines that extension. */
  private extensionValueType(element: ElementDefinition): string | undefined {
    const definition = this.profiles.get(element.type?.[0]?.profile?.[0] ?? '');
    const types = definition?.differential.element.find((e) => idOf(e) === 'Extension.value[x]')?.type ?? [];
    return types.length === 1 ? types[0].code : undefined;
  }

  private holds(expression: string, resource: FhirResource): boolean {
    try {
      const result = this.compile(expression)(resource);
      return result.length === 1 && result[0] === true;
    } catch {
      return false;
    }
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

/** A ValueSet whose includes of a whole code system list that system's concepts, when the set holds its CodeSystem. */
function withCodeSystems(valueSet: ValueSet, codeSystems: Map<string, CodeSystem>): ValueSet {
  const all = (concepts: Concept[]): { code: string; display?: string }[] =>
    concepts.flatMap((c) => [{ code: c.code, display: c.display }, ...all(c.concept ?? [])]);
  const include = valueSet.compose.include.map((i) => {
    const concepts = i.concept ? undefined : codeSystems.get(i.system)?.concept;
    return concepts ? { ...i, concept: all(concepts) } : i;
  });
  return { ...valueSet, compose: { ...valueSet.compose, include } };
}

/** Whether every slice in an element's id is a choice's type or an extension of a named profile (the slicing the engine reads). */
function readableSlices(element: ElementDefinition, elements: ElementDefinition[]): boolean {
  const segments = idOf(element).split('.');
  return segments.every((segment, i) => {
    if (!segment.includes(':') || segment.split(':')[0].endsWith('[x]')) return true;
    const sliceId = segments.slice(0, i + 1).join('.');
    return (
      /^(modifierE|e)xtension$/.test(segment.split(':')[0]) &&
      Boolean(elements.find((e) => idOf(e) === sliceId)?.type?.[0]?.profile?.[0])
    );
  });
}
