import Ajv, { type ErrorObject } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { OPERATIONS } from './operations';
import { NavetError } from '../codes/navet-error';

/** Scenario files: YAML read with line positions and checked against `profiles/scenario.schema.json`. */
export interface ScenarioActor {
  title: string;
  system?: string;
  organisation?: { legalEntity: string; pointOfCare?: string };
  practitioner?: {
    hpr: string;
    authorization?: string;
    healthcareService?: string;
    purposeOfUse?: string;
    purposeOfUseDetails?: string;
  };
  citizen?: { fnr: string };
  scopes?: string[];
}

export interface ScenarioExpectation {
  status?: number | number[];
  rule?: string;
  headers?: Record<string, string>;
  that?: string[];
}

export interface ScenarioStep {
  id: string;
  title?: string;
  actor: string;
  call: string;
  with?: Record<string, unknown>;
  expect?: ScenarioExpectation;
  capture?: Record<string, string>;
}

export interface ScenarioCheck {
  name: string;
  kind: 'answer' | 'access-log' | 'citizen-view';
  step?: string;
  actor?: string;
  query?: Record<string, string>;
  that: string[];
}

export interface Scenario {
  name: string;
  title: string;
  description?: string;
  vars?: Record<string, string | number | boolean>;
  actors: Record<string, ScenarioActor>;
  steps: ScenarioStep[];
  checks?: ScenarioCheck[];
  /** Steps run after everything else, whatever happened: they undo what the steps changed. */
  cleanup?: ScenarioStep[];
}

/** One problem of a scenario file, with the line it is on (1-based). */
export interface ScenarioProblem {
  line: number;
  column: number;
  path: string;
  message: string;
}

export class ScenarioFileError extends NavetError {
  static override readonly code = 'NAVET-SCENARIO-INVALID';
  constructor(
    readonly source: string,
    readonly problems: ScenarioProblem[],
  ) {
    super(
      `${source}: ${problems.map((p) => `line ${p.line}: ${p.path ? `${p.path}: ` : ''}${p.message}`).join('; ')}`,
      {
        status: 400,
      },
    );
    this.name = 'ScenarioFileError';
  }
}

export const SCENARIO_DIR = path.resolve(__dirname, '..', '..', 'fixtures', 'scenarios');
const SCHEMA_FILE = path.resolve(__dirname, '..', '..', 'profiles', 'scenario.schema.json');

let validator: ReturnType<Ajv['compile']> | undefined;
function validate(value: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  return validator(value) ? [] : [...(validator.errors ?? [])];
}

/** The line and column of the YAML node at a JSON pointer, or of its nearest existing parent. */
function positionOf(doc: Document, lines: LineCounter, pointer: string): { line: number; column: number } {
  const segments = pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (let length = segments.length; length >= 0; length -= 1) {
    const keys = segments.slice(0, length).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const node = length === 0 ? doc.contents : doc.getIn(keys, true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return { line: 1, column: 1 };
}

function describe(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `unknown field '${String(error.params.additionalProperty)}'`;
  if (error.keyword === 'required') return `'${String(error.params.missingProperty)}' is required`;
  if (error.keyword === 'enum') return `must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  if (error.keyword === 'oneOf') return 'an actor is either a practitioner with an organisation, or a citizen';
  return error.message ?? error.keyword;
}

/** Reads scenario YAML; every problem names its line. Cross-references (actors, steps) are checked too. */
export function parseScenario(text: string, source = 'scenario'): Scenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ScenarioFileError(
      source,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { line, column: col, path: '', message: e.message.split('\n')[0] };
      }),
    );
  }
  if (!isMap(doc.contents))
    throw new ScenarioFileError(source, [
      { line: 1, column: 1, path: '', message: 'a scenario is a YAML mapping with name, title, actors and steps' },
    ]);
  const value = doc.toJS() as unknown;
  // an actor's oneOf gets one message of its own; elsewhere the alternatives' own errors say enough
  const isActor = (e: ErrorObject) => /^\/actors\/[^/]+$/.test(e.instancePath);
  const errors = validate(value).filter(
    (e) =>
      e.keyword !== 'not' &&
      !(e.keyword === 'required' && e.schemaPath.includes('oneOf')) &&
      !(e.keyword === 'oneOf' && !isActor(e)),
  );
  const problem = (pointer: string, message: string): ScenarioProblem => ({
    ...positionOf(doc, lines, pointer),
    path: pointer.slice(1).replace(/\//g, '.'),
    message,
  });
  const problems = errors.map((e) => problem(e.instancePath, describe(e)));
  if (
    !problems.some(
      (p) => p.path.startsWith('steps') || p.path.startsWith('cleanup') || p.path.startsWith('actors') || p.path === '',
    )
  ) {
    const scenario = value as Scenario;
    const stepIds = new Set<string>();
    const checkSteps = (list: ScenarioStep[], where: string) =>
      list.forEach((step, i) => {
        if (!scenario.actors[step.actor])
          problems.push(
            problem(
              `/${where}/${i}/actor`,
              `no actor named '${step.actor}'; actors: ${Object.keys(scenario.actors).join(', ')}`,
            ),
          );
        if (!OPERATIONS.has(step.call))
          problems.push(
            problem(`/${where}/${i}/call`, `no operation '${step.call}'; known: ${[...OPERATIONS.keys()].join(', ')}`),
          );
        if (stepIds.has(step.id))
          problems.push(problem(`/${where}/${i}/id`, `a step named '${step.id}' comes earlier`));
        stepIds.add(step.id);
      });
    checkSteps(scenario.steps, 'steps');
    checkSteps(Array.isArray(scenario.cleanup) ? scenario.cleanup : [], 'cleanup');
    (Array.isArray(scenario.checks) ? scenario.checks : []).forEach((check, i) => {
      if (check.kind === 'answer' && (!check.step || !stepIds.has(check.step)))
        problems.push(problem(`/checks/${i}/step`, 'an answer check names one of the steps'));
      if (check.kind === 'citizen-view' && !(check.actor && scenario.actors[check.actor]?.citizen))
        problems.push(problem(`/checks/${i}/actor`, 'a citizen-view check names a citizen actor'));
    });
  }
  if (problems.length > 0)
    throw new ScenarioFileError(
      source,
      problems.sort((a, b) => a.line - b.line),
    );
  return value as Scenario;
}

/** The shipped scenarios of fixtures/scenarios: name and title. */
export function shippedScenarios(): { name: string; title: string; description?: string; file: string }[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const scenario = parseScenario(readFileSync(path.join(SCENARIO_DIR, file), 'utf8'), file);
      return {
        name: scenario.name,
        title: scenario.title,
        ...(scenario.description ? { description: scenario.description } : {}),
        file,
      };
    });
}

/** A shipped scenario by name, or undefined. */
export function shippedScenarioText(name: string): string | undefined {
  if (!/^[a-z0-9-]{1,60}$/.test(name)) return undefined;
  const file = path.join(SCENARIO_DIR, `${name}.yaml`);
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
