import express, { type Request, type Response, Router } from 'express';
import { randomUUID } from 'node:crypto';
import { badRequest, FhirError, notFound } from '../fhir/operation-outcome';
import { assertAdminKey, bearerToken, requireOperatorKey } from '../sandbox/admin-auth';
import type { Sandbox, Sandboxes } from '../sandbox/sandboxes';
import type { BackgroundTasks } from '../store/background-tasks';
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

/** Finished runs kept per sandbox (the newest); runs are background tasks in the database, so any process answers. */
const MAX_RUNS = 200;

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
  tasks: BackgroundTasks,
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
    await tasks.prune(sandbox.name, 'scenario-run', MAX_RUNS);
    await tasks.start(sandbox.name, 'scenario-run', run.id, run.status, run);
    const writer = tasks.writer(sandbox.name, 'scenario-run', run.id, () => ({ status: run.status, content: run }));
    const target = { url: options.baseUrl, sandbox: sandbox.name, adminKey: bearerToken(req) as string };
    const changed =
      <T>(list: T[]) =>
      (item: T) => {
        list.push(item);
        writer.changed();
      };
    void runScenario(scenario, target, { step: changed(run.steps), check: changed(run.checks) })
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
        return writer.finish();
      });
    res.setHeader('Location', `${options.baseUrl}/api/sandboxes/${sandbox.name}/scenario-runs/${run.id}`);
    res.status(201).json({ id: run.id, status: run.status, scenario: run.scenario });
  });

  router.get('/:id', async (req, res) => {
    const sandbox = await adminSandbox(sandboxes, req, res);
    const task = await tasks.get<ScenarioRun>(sandbox.name, 'scenario-run', String(req.params.id).slice(0, 64));
    if (!task)
      throw notFound(
        'NAVET-SCENARIO-RUN-NOT-FOUND',
        `Sandbox '${sandbox.name}' has no scenario run '${String(req.params.id)}' (the newest ${MAX_RUNS} finished runs are kept)`,
      );
    const run = task.content;
    // the process running it stopped before the run ended
    if (task.orphaned) res.json({ ...run, status: 'failed', error: true });
    else res.json(run);
  });
  return router;
}
