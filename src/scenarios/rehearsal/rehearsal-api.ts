import express, { type Request, type Response, Router } from 'express';
import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from '../../fhir/operation-outcome';
import { bearerToken } from '../../sandbox/admin-auth';
import type { Sandboxes } from '../../sandbox/sandboxes';
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
 * `GET …/rehearsals/{id}/report?format=json|html`. Rehearsals live in this process's memory.
 */
interface Rehearsal {
  id: string;
  sandbox: string;
  description: MunicipalityDescription;
  target: SandboxTarget;
  state: RehearsalState;
  abort: AbortController;
}

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

export function rehearsalApi(sandboxes: Sandboxes, options: { baseUrl: string; maxBody: string }): Router {
  const router = Router({ mergeParams: true });
  router.use(express.json({ limit: options.maxBody }));
  const rehearsals = new Map<string, Rehearsal>();
  const find = async (req: Request, res: Response): Promise<Rehearsal> => {
    const sandbox = await adminSandbox(sandboxes, req, res);
    const rehearsal = rehearsals.get(`${sandbox.name}/${String(req.params.id)}`);
    if (!rehearsal)
      throw notFound(
        'NAVET-REHEARSAL-NOT-FOUND',
        `Sandbox '${sandbox.name}' has no rehearsal '${String(req.params.id)}' (rehearsals are kept in memory until Navet restarts)`,
      );
    return rehearsal;
  };

  router.post('/', async (req, res) => {
    const sandbox = await adminSandbox(sandboxes, req, res);
    if (!sandbox.municipality)
      throw badRequest(
        'NAVET-REHEARSAL-SANDBOX',
        `Sandbox '${sandbox.name}' is not a municipality sandbox: create one with {"seed": "municipality", "municipality": {"preset": "bodo"}}`,
        ['name'],
      );
    if ([...rehearsals.values()].some((r) => r.sandbox === sandbox.name && r.state.status === 'running'))
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
      description: sandbox.municipality,
      target: { url: options.baseUrl, sandbox: sandbox.name, adminKey: bearerToken(req) as string },
      state: newRehearsalState(sandbox.municipality, chosen),
      abort: new AbortController(),
    };
    rehearsals.set(`${sandbox.name}/${rehearsal.id}`, rehearsal);
    void runRehearsal(rehearsal.description, rehearsal.target, rehearsal.state, rehearsal.abort.signal).catch(
      (error: Error) => {
        rehearsal.state.status = 'failed';
        rehearsal.state.error = error.message;
        rehearsal.state.finishedAt ??= new Date().toISOString();
      },
    );
    res.setHeader('Location', `${options.baseUrl}/api/sandboxes/${sandbox.name}/rehearsals/${rehearsal.id}`);
    res.status(201).json({ id: rehearsal.id, status: 'running', planned: rehearsal.state.counts });
  });

  router.get('/:id', async (req, res) => {
    res.json(summary(await find(req, res)));
  });

  router.post('/:id/stop', async (req, res) => {
    const rehearsal = await find(req, res);
    rehearsal.abort.abort();
    res.json(summary(rehearsal));
  });

  router.get('/:id/report', async (req, res) => {
    const rehearsal = await find(req, res);
    const format = req.query.format ?? 'json';
    if (format !== 'json' && format !== 'html')
      throw badRequest('NAVET-REHEARSAL-FORMAT', 'format must be json or html', ['format']);
    const report = await reportOf(rehearsal.sandbox, rehearsal.description, rehearsal.target, rehearsal.state);
    if (format === 'html') res.type('html').send(readinessReportHtml(report));
    else res.json(report);
  });
  return router;
}
