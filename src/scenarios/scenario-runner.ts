import fhirpath from 'fhirpath';
import { randomBytes } from 'node:crypto';
import { ActorClient, ActorSetupError, type Answer, ruleOf, type SandboxTarget } from './actor-client';
import { OperationInputError, OPERATIONS, type Operation } from './operations';
import type { Scenario, ScenarioActor, ScenarioExpectation, ScenarioStep } from './scenario-file';

/**
 * Runs a scenario against a sandbox over real HTTP: each actor registers its record system, gets its
 * tokens from the sandbox's HelseID and calls the services; expectations, captures and checks are
 * FHIRPath over the answers. Reports every step as it finishes.
 */
export type StepStatus = 'passed' | 'failed' | 'error';

export interface StepResult {
  id: string;
  title?: string;
  actor: string;
  service: string;
  operation: string;
  status: StepStatus;
  httpStatus?: number;
  ms: number;
  /** The rule that refused the call (ATT-4, NAVET-TOKEN-SCOPE, …), when the answer names one. */
  rule?: string;
  message?: string;
  captured?: string[];
  /** A step of the scenario's cleanup (run whatever happened before). */
  cleanup?: boolean;
}

export interface CheckResult {
  name: string;
  kind: string;
  status: StepStatus;
  message?: string;
}

export interface ScenarioResult {
  scenario: string;
  title: string;
  status: 'passed' | 'failed' | 'error';
  steps: StepResult[];
  checks: CheckResult[];
  ms: number;
}

export interface RunListener {
  step?(result: StepResult): void;
  check?(result: CheckResult): void;
}

type Values = Record<string, unknown>;

/** `${name}` in strings from vars and captures; a string that is only `${name}` takes the value itself. */
export function interpolate(value: unknown, values: Values): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Za-z0-9_.-]+)\}$/.exec(value);
    if (whole) {
      if (!(whole[1] in values))
        throw new OperationInputError(`\${${whole[1]}} is not set (no var or earlier capture of that name)`);
      return values[whole[1]];
    }
    return value.replace(/\$\{([A-Za-z0-9_.-]+)\}/g, (_m, name: string) => {
      if (!(name in values))
        throw new OperationInputError(`\${${name}} is not set (no var or earlier capture of that name)`);
      return String(values[name]);
    });
  }
  if (Array.isArray(value)) return value.map((v) => interpolate(v, values));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, values)]));
  return value;
}

function evaluate(body: unknown, expression: string): unknown[] {
  try {
    return fhirpath.evaluate(body as object, expression) as unknown[];
  } catch (error) {
    throw new OperationInputError(`FHIRPath '${expression}' could not be evaluated: ${(error as Error).message}`);
  }
}

/** The expressions of `that` that do not hold; an expression holds when it evaluates to exactly true. */
function failing(body: unknown, expressions: string[] = []): string[] {
  return expressions.filter((expression) => {
    const result = evaluate(body, expression);
    return !(result.length === 1 && result[0] === true);
  });
}

function expectationProblems(answer: Answer, expectation: ScenarioExpectation = {}): string[] {
  const problems: string[] = [];
  const statuses =
    expectation.status === undefined
      ? []
      : Array.isArray(expectation.status)
        ? expectation.status
        : [expectation.status];
  if (statuses.length ? !statuses.includes(answer.status) : answer.status >= 400)
    problems.push(`HTTP ${answer.status}, expected ${statuses.length ? statuses.join(' or ') : 'success'}`);
  if (expectation.rule) {
    const { rule } = ruleOf(answer.body);
    if (rule !== expectation.rule)
      problems.push(`expected the rule ${expectation.rule} in the answer, got ${rule ?? 'none'}`);
  }
  for (const [name, value] of Object.entries(expectation.headers ?? {})) {
    if (answer.headers[name.toLowerCase()] !== value)
      problems.push(
        `header ${name} is ${JSON.stringify(answer.headers[name.toLowerCase()] ?? null)}, expected ${JSON.stringify(value)}`,
      );
  }
  if (problems.length === 0) problems.push(...failing(answer.body, expectation.that).map((e) => `does not hold: ${e}`));
  return problems;
}

/** The scopes each actor's client needs for the operations its steps call. */
function scopesByActor(scenario: Scenario): Map<string, string[]> {
  const scopes = new Map<string, string[]>();
  for (const step of [...scenario.steps, ...(scenario.cleanup ?? [])]) {
    const operation = OPERATIONS.get(step.call);
    if (!operation) continue;
    const list = scopes.get(step.actor) ?? [];
    if (!list.includes(operation.scope)) list.push(operation.scope);
    scopes.set(step.actor, list);
  }
  return scopes;
}

export function actorClientId(scenario: string, actor: string): string {
  return `scenario-${scenario}-${actor}`.slice(0, 100);
}

export function actorClient(
  target: SandboxTarget,
  scenarioName: string,
  name: string,
  actor: ScenarioActor,
  scopes: string[],
): ActorClient {
  return new ActorClient(target, {
    clientId: actorClientId(scenarioName, name),
    title: actor.title,
    system: actor.system ?? `${actor.title} (scenario ${scenarioName})`,
    organisation: actor.organisation,
    practitioner: actor.practitioner,
    citizen: actor.citizen,
    scopes: actor.scopes ?? scopes,
  });
}

function errorStep(base: Omit<StepResult, 'status' | 'ms'>, error: unknown, ms: number): StepResult {
  if (error instanceof ActorSetupError)
    return {
      ...base,
      status: 'failed',
      ms,
      rule: error.rule,
      ...(error.status ? { httpStatus: error.status } : {}),
      message: error.message,
    };
  if (error instanceof OperationInputError) return { ...base, status: 'error', ms, message: error.message };
  return { ...base, status: 'error', ms, message: `could not call Navet: ${(error as Error).message}` };
}

export async function runScenario(
  scenario: Scenario,
  target: SandboxTarget,
  listener: RunListener = {},
  signal?: AbortSignal,
): Promise<ScenarioResult> {
  const started = Date.now();
  const values: Values = { runId: randomBytes(3).toString('hex'), ...scenario.vars, sandbox: target.sandbox };
  const answers = new Map<string, Answer>();
  const scopes = scopesByActor(scenario);
  const clients = new Map<string, ActorClient>();
  const steps: StepResult[] = [];
  const checks: CheckResult[] = [];
  const clientOf = async (name: string): Promise<ActorClient> => {
    let client = clients.get(name);
    if (!client) {
      client = actorClient(target, scenario.name, name, scenario.actors[name], scopes.get(name) ?? ['navet:citizen']);
      await client.register();
      clients.set(name, client);
    }
    return client;
  };

  const runStep = async (step: ScenarioStep, cleanup: boolean): Promise<StepResult> => {
    const [service, operationName] = step.call.split('.');
    const base = {
      id: step.id,
      ...(step.title ? { title: step.title } : {}),
      actor: step.actor,
      service,
      operation: operationName,
      ...(cleanup ? { cleanup } : {}),
    };
    const stepStarted = Date.now();
    const operation: Operation | undefined = OPERATIONS.get(step.call);
    if (!operation)
      return {
        ...base,
        status: 'error',
        ms: 0,
        message: `unknown operation ${step.call}; known: ${[...OPERATIONS.keys()].join(', ')}`,
      };
    try {
      const client = await clientOf(step.actor);
      const params = interpolate(step.with ?? {}, values) as Record<string, unknown>;
      const request = await operation.build(params, { citizenNin: scenario.actors[step.actor].citizen?.fnr });
      const answer = await client.call(request, operation.audience, operation.scope);
      answers.set(step.id, answer);
      const problems = expectationProblems(answer, interpolate(step.expect ?? {}, values) as ScenarioExpectation);
      const { rule, text } = answer.status >= 400 ? ruleOf(answer.body) : {};
      const captured: string[] = [];
      if (problems.length === 0) {
        for (const [name, expression] of Object.entries(step.capture ?? {})) {
          const found = evaluate(answer.body, String(interpolate(expression, values)));
          if (found.length === 0) problems.push(`capture ${name}: '${expression}' found nothing`);
          else {
            values[name] = found.length === 1 ? found[0] : found;
            captured.push(name);
          }
        }
      }
      return {
        ...base,
        status: problems.length ? 'failed' : 'passed',
        httpStatus: answer.status,
        ms: answer.ms,
        ...(rule ? { rule } : {}),
        ...(problems.length ? { message: [...problems, ...(text ? [text] : [])].join('; ') } : {}),
        ...(captured.length ? { captured } : {}),
      };
    } catch (error) {
      return errorStep(base, error, Date.now() - stepStarted);
    }
  };

  for (const step of scenario.steps) {
    if (signal?.aborted) break;
    const result = await runStep(step, false);
    steps.push(result);
    listener.step?.(result);
    if (result.status !== 'passed') break;
  }

  const stepsPassed = steps.length === scenario.steps.length && steps.every((step) => step.status === 'passed');
  if (stepsPassed) {
    for (const check of scenario.checks ?? []) {
      let result: CheckResult;
      try {
        const body = await checkSubject(check.kind, check, answers, target, clientOf, values);
        const notHolding = failing(
          body,
          check.that.map((e) => String(interpolate(e, values))),
        );
        result = {
          name: check.name,
          kind: check.kind,
          status: notHolding.length ? 'failed' : 'passed',
          ...(notHolding.length ? { message: `does not hold: ${notHolding.join('; ')}` } : {}),
        };
      } catch (error) {
        result = {
          name: check.name,
          kind: check.kind,
          status: error instanceof ActorSetupError ? 'failed' : 'error',
          message: (error as Error).message,
        };
      }
      checks.push(result);
      listener.check?.(result);
    }
  }
  // cleanup steps run whatever happened before, so that a failed run leaves the sandbox as it found it
  for (const step of scenario.cleanup ?? []) {
    const result = await runStep(step, true);
    steps.push(result);
    listener.step?.(result);
  }
  const all = [...steps, ...checks];
  const status = all.some((r) => r.status === 'error')
    ? 'error'
    : stepsPassed && all.every((r) => r.status === 'passed')
      ? 'passed'
      : 'failed';
  return { scenario: scenario.name, title: scenario.title, status, steps, checks, ms: Date.now() - started };
}

/** What a check looks at: a step's answer, the sandbox's access log (admin search) or the citizen's own view. */
async function checkSubject(
  kind: string,
  check: { step?: string; actor?: string; query?: Record<string, string> },
  answers: Map<string, Answer>,
  target: SandboxTarget,
  clientOf: (name: string) => Promise<ActorClient>,
  values: Values,
): Promise<unknown> {
  if (kind === 'answer') return answers.get(check.step as string)?.body;
  if (kind === 'citizen-view') {
    const client = await clientOf(check.actor as string);
    const answer = await client.call(
      { service: 'citizen', method: 'GET', path: '/access-log?_count=100' },
      'navet:citizen',
      'navet:citizen',
    );
    if (answer.status !== 200)
      throw new ActorSetupError(
        ruleOf(answer.body).rule ?? `HTTP-${answer.status}`,
        `the citizen's access log answered ${answer.status}`,
      );
    return answer.body;
  }
  const query = new URLSearchParams(interpolate(check.query ?? {}, values) as Record<string, string>);
  query.set('_count', '100');
  const response = await fetch(`${target.url}/api/sandboxes/${target.sandbox}/audit?${query}`, {
    headers: { Authorization: `Bearer ${target.adminKey}` },
  });
  const body = (await response.json()) as unknown;
  if (response.status !== 200)
    throw new ActorSetupError(
      ruleOf(body).rule ?? `HTTP-${response.status}`,
      `the access-log search answered ${response.status}`,
    );
  return body;
}
