import express, { type Request, type Response, Router } from 'express';
import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '../../fhir/operation-outcome';
import { bearerToken } from '../../sandbox/admin-auth';
import type { Sandboxes } from '../../sandbox/sandboxes';
import type { BackgroundTasks } from '../../store/background-tasks';
import { planMunicipality, type MunicipalityDescription } from '../../sandbox/seed/municipality';
import type { SandboxTarget } from '../actor-client';
import { adminSandbox, objectBody } from '../scenario-api';
import { conformanceVerdicts } from './conformance-verdicts';
import { type ReadinessReport, readinessReport, readinessReportHtml } from './readiness-report';
import {
  newRehearsalState,
  RehearsalInputError,
  rehearsalOptions,
  type RehearsalState,
  runRehearsal,
} from './rehearsal-runner';

/**
 * `POST /api/sandboxes/{name}/rehearsals` `{"hours", "speed", "faults"?}` → 201 `{"id"}`;
 * `GET …/rehearsals/{id}` (status, progress); `POST …/rehearsals/{id}/stop`;
 * `GET …/rehearsals/{id}/report?format=json|html`. A rehearsal runs in the process that started it and
 * keeps its state in the database (a background task), so any process answers, and a stop sent to any
 * process reaches the one running it.
 */
interface Rehearsal {
  id: string;
  sandbox: string;
  state: RehearsalState;
}

/** Finished rehearsals kept per sandbox (the newest). */
const MAX_REHEARSALS = 50;

/** Builds the report from a rehearsal's state and the sandbox as it is now (organisations, registrations). */
export async function reportOf(
  sandbox: string,
  description: MunicipalityDescription,
  target: SandboxTarget,
  state: RehearsalState,
): Promise<ReadinessReport> {
  const headers = { Authorization: `Bearer ${target.adminKey}` };
  const orgs = (await (
    await fetch(`${target.url}/sandboxes/${sandbox}/fhir/Organization?_count=1000`, { headers })
  ).json()) as { entry?: { resource: { name?: string; extension?: { url: string; valueBoolean?: boolean }[] } }[] };
  const clients = (await (await fetch(`${target.url}/api/sandboxes/${sandbox}/clients`, { headers })).json()) as {
    clients?: { clientId: string; scopes: string[] }[];
  };
  return readinessReport({
    sandbox,
    description,
    plan: planMunicipality(description),
    state,
    organisations: (orgs.entry ?? []).map((e) => ({
      name: e.resource.name ?? '—',
      member: e.resource.extension?.find((x) => x.url.endsWith('/health-network-member'))?.valueBoolean !== false,
    })),
    registrations: clients.clients ?? [],
    conformance: await conformanceVerdicts(target, state.options.conformanceSessions),
  });
}

function summary(r: Rehearsal) {
  return {
    id: r.id,
    sandbox: r.sandbox,
    status: r.state.status,
    startedAt: r.state.startedAt,
    ...(r.state.finishedAt ? { finishedAt: r.state.finishedAt } : {}),
    options: r.state.options,
    planned: r.state.counts,
    capped: r.state.capped,
    progress: r.state.progress,
    ...(r.state.error ? { error: r.state.error } : {}),
  };
}

export function rehearsalApi(
  sandboxes: Sandboxes,
  tasks: BackgroundTasks,
  options: { baseUrl: string; maxBody: string },
): Router {
  const router = Router({ mergeParams: true });
  router.use(express.json({ limit: options.maxBody }));
  const find = async (req: Request, res: Response): Promise<Rehearsal & { municipality?: MunicipalityDescription }> => {
    const sandbox = await adminSandbox(sandboxes, req, res);
    const id = String(req.params.id).slice(0, 64);
    const task = await tasks.get<RehearsalState>(sandbox.name, 'rehearsal', id);
    if (!task)
      throw notFound(
        'NAVET-REHEARSAL-NOT-FOUND',
        `Sandbox '${sandbox.name}' has no rehearsal '${String(req.params.id)}' (the newest ${MAX_REHEARSALS} finished ones are kept)`,
      );
    const state = task.content;
    if (task.orphaned) {
      state.status = 'failed';
      state.error = 'the Navet process running the rehearsal stopped';
    }
    return { id, sandbox: sandbox.name, state, municipality: sandbox.municipality };
  };

  router.post('/', async (req, res) => {
    const sandbox = await adminSandbox(sandboxes, req, res);
    if (!sandbox.municipality)
      throw badRequest(
        'NAVET-REHEARSAL-SANDBOX',
        `Sandbox '${sandbox.name}' is not a municipality sandbox: create one with {"seed": "municipality", "municipality": {"preset": "bodo"}}`,
        ['name'],
      );
    if ((await tasks.running(sandbox.name, 'rehearsal')).length > 0)
      throw badRequest('NAVET-REHEARSAL-RUNNING', `Sandbox '${sandbox.name}' has a rehearsal running; stop it first`);
    let chosen;
    try {
      chosen = rehearsalOptions(objectBody(req));
    } catch (error) {
      if (error instanceof RehearsalInputError)
        throw badRequest('NAVET-REHEARSAL-OPTIONS', error.message, [error.message.split(' ')[0]]);
      throw error;
    }
    const rehearsal: Rehearsal = {
      id: randomUUID(),
      sandbox: sandbox.name,
      state: newRehearsalState(sandbox.municipality, chosen),
    };
    const target = { url: options.baseUrl, sandbox: sandbox.name, adminKey: bearerToken(req) as string };
    await tasks.prune(sandbox.name, 'rehearsal', MAX_REHEARSALS);
    await tasks.start(sandbox.name, 'rehearsal', rehearsal.id, 'running', rehearsal.state);
    // written every second (HEARTBEAT_MS) while it runs, and when it ends
    const writer = tasks.writer(sandbox.name, 'rehearsal', rehearsal.id, () => ({
      status: rehearsal.state.status,
      content: rehearsal.state,
    }));
    const abort = new AbortController();
    writer.onStop = () => abort.abort();
    void runRehearsal(sandbox.municipality, target, rehearsal.state, abort.signal)
      .catch((error: Error) => {
        rehearsal.state.status = 'failed';
        rehearsal.state.error = error.message;
        rehearsal.state.finishedAt ??= new Date().toISOString();
      })
      .finally(() => writer.finish());
    res.setHeader('Location', `${options.baseUrl}/api/sandboxes/${sandbox.name}/rehearsals/${rehearsal.id}`);
    res.status(201).json({ id: rehearsal.id, status: 'running', planned: rehearsal.state.counts });
  });

  router.get('/:id', async (req, res) => {
    res.json(summary(await find(req, res)));
  });

  router.post('/:id/stop', async (req, res) => {
    const rehearsal = await find(req, res);
    if (rehearsal.state.status !== 'running') {
      res.json(summary(rehearsal));
      return;
    }
    // the process running it sees the request at its next write (within a second) and stops
    await tasks.requestStop(rehearsal.sandbox, 'rehearsal', rehearsal.id);
    res.json({ ...summary(rehearsal), stopRequested: true });
  });

  router.get('/:id/report', async (req, res) => {
    const rehearsal = await find(req, res);
    const format = req.query.format ?? 'json';
    if (format !== 'json' && format !== 'html')
      throw badRequest('NAVET-REHEARSAL-FORMAT', 'format must be json or html', ['format']);
    const target = { url: options.baseUrl, sandbox: rehearsal.sandbox, adminKey: bearerToken(req) as string };
    const report = await reportOf(
      rehearsal.sandbox,
      rehearsal.municipality as MunicipalityDescription,
      target,
      rehearsal.state,
    );
    if (format === 'html') res.type('html').send(readinessReportHtml(report));
    else res.json(report);
  });
  return router;
}
