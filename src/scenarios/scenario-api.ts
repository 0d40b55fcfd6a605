import express, { type Request, type Response, Router } from 'express';
import { randomUUID } from 'node:crypto';
import { badRequest, FhirError, notFound } from '../fhir/operation-outcome';
import { assertAdminKey, bearerToken, requireOperatorKey } from '../sandbox/admin-auth';
import type { Sandbox, Sandboxes } from '../sandbox/sandboxes';
import { parseScenario, ScenarioFileError, shippedScenarios, shippedScenarioText } from './scenario-file';
import { type CheckResult, runScenario, type StepResult } from './scenario-runner';

/**
 * `GET /api/scenarios` (the shipped scenarios) and `POST|GET /api/sandboxes/{name}/scenario-runs[/{id}]`:
 * a run goes over real HTTP to this Navet's own base URL, as any client would.
 */
export interface ScenarioRun {
  id: string;
  sandbox: string;
  scenario: string;
  title: string;
  status: 'running' | 'passed' | 'failed';
  /** true when the run stopped on an error (bad input, Navet unreachable) rather than a failed expectation. */
  error?: boolean;
  startedAt: string;
  finishedAt?: string;
  steps: StepResult[];
  checks: CheckResult[];
}

const MAX_RUNS = 200;

/** Runs kept in this process's memory, newest last; the oldest finished ones are dropped past MAX_RUNS. */
export class ScenarioRuns {
  private readonly runs = new Map<string, ScenarioRun>();

  add(run: ScenarioRun): void {
    this.runs.set(`${run.sandbox}/${run.id}`, run);
    for (const [key, old] of this.runs) {
      if (this.runs.size <= MAX_RUNS) break;
      if (old.status !== 'running') this.runs.delete(key);
    }
  }

  get(sandbox: string, id: string): ScenarioRun | undefined {
    return this.runs.get(`${sandbox}/${id}`);
  }
}

/** The scenario text of a request body: a shipped scenario's name or the YAML itself. */
export function scenarioFromBody(body: Record<string, unknown>) {
  const hasName = body.scenario !== undefined;
  const hasYaml = body.yaml !== undefined;
  if (hasName === hasYaml)
    throw badRequest(
      'NAVET-SCENARIO-BODY',
      'Send {"scenario": "<name of a shipped scenario>"} or {"yaml": "<scenario YAML>"} (one of them)',
      ['scenario'],
    );
  let text: string | undefined;
  if (hasName) {
    text = typeof body.scenario === 'string' ? shippedScenarioText(body.scenario) : undefined;
    if (!text)
      throw notFound(
        'NAVET-SCENARIO-UNKNOWN',
        `There is no shipped scenario named ${JSON.stringify(body.scenario)}; GET /api/scenarios lists them`,
      );
  } else {
    if (typeof body.yaml !== 'string')
      throw badRequest('NAVET-SCENARIO-BODY', 'yaml must be a string holding the scenario file', ['yaml']);
    text = body.yaml;
  }
  try {
    return parseScenario(text, hasName ? `${String(body.scenario)}.yaml` : 'yaml');
  } catch (error) {
    if (!(error instanceof ScenarioFileError)) throw error;
    throw new FhirError(
      422,
      error.problems.map((p) => ({
        severity: 'error',
        code: 'invalid',
        navetCode: 'NAVET-SCENARIO-INVALID',
        text: `line ${p.line}, column ${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}`,
        ...(p.path ? { expression: [p.path] } : {}),
      })),
    );
  }
}

export function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('NAVET-BODY', 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

export async function adminSandbox(sandboxes: Sandboxes, req: Request, res: Response): Promise<Sandbox> {
  const sandbox = await sandboxes.get(String(req.params.name));
  res.locals.sandboxName = sandbox.name;
  assertAdminKey(req, sandboxes, sandbox);
  return sandbox;
}

export function scenarioListApi(operatorKey: string | undefined): Router {
  const router = Router();
  router.get('/', requireOperatorKey(operatorKey), (_req, res) => {
    res.json({ scenarios: shippedScenarios().map(({ file: _file, ...rest }) => rest) });
  });
  return router;
}

export function scenarioRunApi(
  sandboxes: Sandboxes,
  runs: ScenarioRuns,
  options: { baseUrl: string; maxBody: string },
): Router {
  const router = Router({ mergeParams: true });
  router.use(express.json({ limit: options.maxBody }));

  router.post('/', async (req, res) => {
    const sandbox = await adminSandbox(sandboxes, req, res);
    const scenario = scenarioFromBody(objectBody(req));
    const run: ScenarioRun = {
      id: randomUUID(),
      sandbox: sandbox.name,
      scenario: scenario.name,
      title: scenario.title,
      status: 'running',
      startedAt: new Date().toISOString(),
      steps: [],
      checks: [],
    };
    runs.add(run);
    const target = { url: options.baseUrl, sandbox: sandbox.name, adminKey: bearerToken(req) as string };
    void runScenario(scenario, target, { step: (s) => run.steps.push(s), check: (c) => run.checks.push(c) })
      .then((result) => {
        run.status = result.status === 'passed' ? 'passed' : 'failed';
        if (result.status === 'error') run.error = true;
      })
      .catch(() => {
        run.status = 'failed';
        run.error = true;
      })
      .finally(() => {
        run.finishedAt = new Date().toISOString();
      });
    res.setHeader('Location', `${options.baseUrl}/api/sandboxes/${sandbox.name}/scenario-runs/${run.id}`);
    res.status(201).json({ id: run.id, status: run.status, scenario: run.scenario });
  });

  router.get('/:id', async (req, res) => {
    const sandbox = await adminSandbox(sandboxes, req, res);
    const run = runs.get(sandbox.name, String(req.params.id));
    if (!run)
      throw notFound(
        'NAVET-SCENARIO-RUN-NOT-FOUND',
        `Sandbox '${sandbox.name}' has no scenario run '${String(req.params.id)}' (runs are kept in memory until Navet restarts)`,
      );
    res.json(run);
  });
  return router;
}
