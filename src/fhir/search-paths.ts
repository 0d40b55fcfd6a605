import type { FhirResource } from './types';

/**
 * Search-parameter expressions that are plain paths, evaluated as direct code instead of through the
 * FHIRPath engine (which costs ~60 µs per resource and parameter: most of the CPU of seeding and of
 * writing an AuditEvent). Covered: `Type.a.b` member paths with choice types (`Observation.effective`),
 * `as Type` / `.as(Type)` / `.ofType(Type)`, `.where(x = 'literal')` / `.where(a.b = true)` /
 * `.where(reference.startsWith('Type/'))`, and unions (`|`). Anything else is left to the engine, and
 * so is any resource where a step meets a shape the engine treats specially (primitive extensions `_x`,
 * nulls, unions of values it might compare by FHIRPath equality): the compiled function then answers
 * `undefined`. `tests/unit/search-paths.test.ts` checks it gives what fhirpath gives on the seeds.
 */

/** The parts of fhirpath's R4 model that navigation reads. */
export interface PathModel {
  choiceTypePaths: Record<string, string[]>;
  pathsDefinedElsewhere: Record<string, string>;
  path2TypeWithoutElements: Record<string, string>;
  type2Parent: Record<string, string>;
}

/** Evaluates on a resource; `undefined` when the engine must do it. */
export type CompiledPath = (resource: FhirResource) => unknown[] | undefined;

type Json = Record<string, unknown>;
/** One node: the value and its model path (e.g. "Observation.component" or "CodeableConcept"). */
interface PathNode {
  value: unknown;
  path: string;
  /** The type of a choice element's value (valueQuantity → "Quantity"). */
  choice?: string;
}
/** A step maps nodes to nodes, or gives up (undefined). */
type Step = (nodes: PathNode[]) => PathNode[] | undefined;

const NAME = /^[A-Za-z][A-Za-z0-9]*$/;

function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    if (quoted) continue;
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && text.startsWith(separator, i)) {
      parts.push(text.slice(start, i).trim());
      start = i + separator.length;
    }
  }
  parts.push(text.slice(start).trim());
  return parts;
}

function unwrap(text: string): string {
  let t = text.trim();
  while (t.startsWith('(') && t.endsWith(')') && splitTopLevel(t.slice(1, -1), ')').length === 1)
    t = t.slice(1, -1).trim();
  return t;
}

/** A literal of a where() comparison: 'text', true or false. */
function literal(text: string): { value: string | boolean } | undefined {
  if (text === 'true' || text === 'false') return { value: text === 'true' };
  const quoted = /^'([^'\\]*)'$/.exec(text);
  return quoted ? { value: quoted[1] } : undefined;
}

export function compileSearchPath(expression: string, model: PathModel): CompiledPath | undefined {
  const operands = splitTopLevel(expression, '|').map((part) => compileOperand(unwrap(part), model));
  if (operands.some((operand) => operand === undefined)) return undefined;
  const compiled = operands as ((resource: FhirResource) => unknown[] | undefined)[];
  if (compiled.length === 1) return compiled[0];
  return (resource) => {
    const values: unknown[] = [];
    for (const operand of compiled) {
      const found = operand(resource);
      if (found === undefined) return undefined;
      values.push(...found);
    }
    return distinct(values);
  };
}

/**
 * A union removes duplicates by FHIRPath equality. Objects without numbers compare as their sorted JSON;
 * anything else (strings that may be dates, quantities in other units) is left to the engine.
 */
function distinct(values: unknown[]): unknown[] | undefined {
  if (values.length < 2) return values;
  const seen = new Set<string>();
  const kept: unknown[] = [];
  for (const value of values) {
    const key = plainKey(value);
    if (key === undefined) return undefined;
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(value);
  }
  return kept;
}

function plainKey(value: unknown): string | undefined {
  if (typeof value === 'boolean') return String(value);
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    const parts = value.map(plainKey);
    return parts.includes(undefined) ? undefined : `[${parts.join(',')}]`;
  }
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const item = (value as Json)[key];
    const part = typeof item === 'string' ? JSON.stringify(item) : plainKey(item);
    if (part === undefined) return undefined;
    parts.push(`${JSON.stringify(key)}:${part}`);
  }
  return `{${parts.join(',')}}`;
}

function compileOperand(text: string, model: PathModel): CompiledPath | undefined {
  // "X as Type" (the whole operand)
  const asMatch = /^(.*\S)\s+as\s+([A-Za-z]+)$/.exec(text);
  const pathText = asMatch ? asMatch[1] : text;
  const parts = splitTopLevel(pathText, '.');
  const root = parts[0];
  if (!NAME.test(root)) return undefined;
  const steps: Step[] = [];
  for (const part of parts.slice(1)) {
    const step = compileStep(part, model);
    if (!step) return undefined;
    steps.push(step);
  }
  if (asMatch) {
    const cast = castStep(asMatch[2], model);
    if (!cast) return undefined;
    steps.push(cast);
  }
  return (resource) => {
    if (root !== 'Resource' && root !== 'DomainResource' && resource.resourceType !== root) return [];
    let nodes: PathNode[] | undefined = [{ value: resource, path: resource.resourceType }];
    for (const step of steps) {
      nodes = step(nodes);
      if (nodes === undefined) return undefined;
      if (nodes.length === 0) return [];
    }
    return nodes.map((node) => node.value);
  };
}

function compileStep(part: string, model: PathModel): Step | undefined {
  if (NAME.test(part)) return memberStep(part, model);
  const call = /^([a-zA-Z]+)\((.*)\)$/.exec(part);
  if (!call) return undefined;
  const [, fn, argument] = call;
  if (fn === 'as') return castStep(argument.trim(), model);
  if (fn === 'ofType') {
    const type = argument.trim();
    if (!NAME.test(type)) return undefined;
    // only resources (contained, Bundle entries) are filtered here; other types are the engine's
    return (nodes) => {
      const kept: PathNode[] = [];
      for (const node of nodes) {
        const value = node.value as Json;
        if (node.path !== 'Resource' || typeof value !== 'object' || typeof value.resourceType !== 'string')
          return undefined;
        if (value.resourceType === type) kept.push({ value, path: type });
      }
      return kept;
    };
  }
  if (fn === 'where') return whereStep(argument.trim(), model);
  return undefined;
}

/** Where a member leads from a parent path: the JSON fields to look at, and each one's model path. */
interface MemberTarget {
  fields: { field: string; primitiveExtension: string; path: string; choice?: string }[];
}

function memberTarget(parentPath: string, name: string, model: PathModel): MemberTarget {
  let childPath = `${parentPath}.${name}`;
  childPath = model.pathsDefinedElsewhere[childPath] ?? childPath;
  const finalPath = (path: string) => model.path2TypeWithoutElements[path] ?? path;
  const choices = model.choiceTypePaths[childPath];
  if (choices)
    return {
      fields: choices.map((type) => ({
        field: name + type,
        primitiveExtension: `_${name}${type}`,
        path: finalPath(childPath + type),
        choice: type,
      })),
    };
  return {
    fields: [
      { field: name, primitiveExtension: `_${name}`, path: finalPath(name === 'extension' ? 'Extension' : childPath) },
    ],
  };
}

function memberStep(name: string, model: PathModel): Step {
  const targets = new Map<string, MemberTarget>();
  return (nodes) => {
    const out: PathNode[] = [];
    for (const node of nodes) {
      const data = node.value;
      if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
      const object = data as Json;
      let target = targets.get(node.path);
      if (!target) {
        target = memberTarget(node.path, name, model);
        targets.set(node.path, target);
      }
      // a choice element takes its first type present, as the engine does
      for (const { field, primitiveExtension, path, choice } of target.fields) {
        if (object[primitiveExtension] !== undefined) return undefined;
        const value = object[field];
        if (value === undefined) continue;
        if (value === null) return undefined;
        if (Array.isArray(value)) {
          for (const item of value) {
            if (item === null || item === undefined || Array.isArray(item)) return undefined;
            out.push({ value: item, path, choice });
          }
        } else out.push({ value, path, choice });
        break;
      }
    }
    return out;
  };
}

/** `as Type` after a choice element: keeps the value when its type is exactly Type (no subtypes: engine). */
function castStep(type: string, model: PathModel): Step | undefined {
  if (!NAME.test(type)) return undefined;
  const wanted = type[0].toUpperCase() + type.slice(1);
  return (nodes) => {
    const kept: PathNode[] = [];
    for (const node of nodes) {
      if (node.choice === undefined) return undefined;
      if (node.choice === wanted) kept.push(node);
      else if (isSubtype(node.choice, wanted, model)) return undefined;
    }
    return kept;
  };
}

function isSubtype(type: string, ancestor: string, model: PathModel): boolean {
  for (let t = model.type2Parent[type]; t; t = model.type2Parent[t]) if (t === ancestor) return true;
  return false;
}

/** where(a = 'x'), where(a.b = true), where(reference.startsWith('Type/')). */
function whereStep(condition: string, model: PathModel): Step | undefined {
  const startsWith = /^reference\.startsWith\('([A-Za-z]+\/)'\)$/.exec(condition);
  if (startsWith) {
    const prefix = startsWith[1];
    return (nodes) => {
      const kept: PathNode[] = [];
      for (const node of nodes) {
        const value = node.value as Json;
        if (value === null || typeof value !== 'object' || value._reference !== undefined) return undefined;
        if (typeof value.reference === 'string' && value.reference.startsWith(prefix)) kept.push(node);
      }
      return kept;
    };
  }
  const equals = /^([A-Za-z]+(?:\.[A-Za-z]+)*)\s*=\s*(.+)$/.exec(condition);
  if (!equals) return undefined;
  const expected = literal(equals[2].trim());
  if (!expected) return undefined;
  const members = equals[1].split('.').map((name) => memberStep(name, model));
  return (nodes) => {
    const kept: PathNode[] = [];
    for (const node of nodes) {
      let found: PathNode[] | undefined = [node];
      for (const member of members) {
        found = member(found);
        if (found === undefined) return undefined;
      }
      // FHIRPath '=' on a collection of more than one item is an error: the engine's call
      if (found.length > 1) return undefined;
      if (found.length === 1 && found[0].value === expected.value) kept.push(node);
    }
    return kept;
  };
}
