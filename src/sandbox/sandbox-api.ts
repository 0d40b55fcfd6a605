import { jsonBody } from '../http/json-body';
import { type Request, type Response, Router } from 'express';
import { rateLimit } from 'express-rate-limit';
import {
  badRequest,
  conflict,
  FhirError,
  operationOutcome,
  type OutcomeIssue,
  unauthorized,
} from '../fhir/operation-outcome';
import type { BackgroundTasks } from '../store/background-tasks';
import { DatabaseRateLimitStore } from '../store/rate-limit-store';
import type { DatabaseHandle } from '../store/database';
import { assertAdminKey, bearerToken, requireOperatorKey } from './admin-auth';
import { adminKeyMatches, generateAdminKey, hashAdminKey } from './admin-keys';
import type { JobProgress, SandboxJobs } from './sandbox-jobs';
import type { CreateSandboxInput, Sandbox, Sandboxes, SeedKind } from './sandboxes';
import { type ServiceBase, serviceUrls } from './service-urls';

/** `/api/sandboxes`: create, list, read, delete, reset, snapshots (save, list, restore, delete) and the clock. */
export function describeSandbox(baseUrl: string, sandbox: Sandbox, services: readonly ServiceBase[]) {
  return {
    name: sandbox.name,
    seed: sandbox.seed,
    ...(sandbox.generator ? { generator: sandbox.generator } : {}),
    ...(sandbox.municipality ? { municipality: sandbox.municipality } : {}),
    createdAt: sandbox.createdAt,
    clock: { offsetSeconds: sandbox.clock.offsetMs / 1000, now: sandbox.clock.now().toISOString() },
    services: serviceUrls(baseUrl, sandbox.name, services),
  };
}

function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (
    body === undefined ||
    body === null ||
    (typeof body === 'object' && Object.keys(body).length === 0 && !req.is('json'))
  )
    return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('NAVET-BODY', 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

export interface SandboxApiOptions {
  baseUrl: string;
  /** The services each sandbox mounts, listed with their URLs in a sandbox's description. */
  services: readonly ServiceBase[];
  operatorKey?: string;
  maxBody: string;
  /** Without an operator key: seeded sandboxes one client may create a minute. */
  openCreationsPerMinute: number;
  /** The worker thread that builds seeds and purges deleted sandboxes. */
  jobs: SandboxJobs;
  /** Where creations in progress are kept, so that any process answers a status URL. */
  tasks: BackgroundTasks;
  /** Where the open-creation rate limit counts, so that every process counts the same hits. */
  database: DatabaseHandle;
}

/**
 * What a caller without credentials may create when no NAVET_OPERATOR_KEY is set: a shared server
 * must not let one anonymous client fill its disk or its worker.
 */
export const OPEN_CREATION_LIMITS = { syntheticPatients: 1000, documentsPerPatient: 5, labReportsPerPatient: 5 };

/** A sandbox being created in a worker (of any process), as its status URL reports it (a background task). */
interface Creation {
  adminKeyHash: string;
  progress?: JobProgress;
  error?: { status: number; issues: OutcomeIssue[] };
}

/** How long a failed creation's status is kept. */
const FAILED_CREATION_KEPT_MS = 10 * 60_000;

/** `Prefer: wait` (RFC 7240) or `respond-sync`: the client would rather wait than poll. */
function wantsToWait(req: Request): boolean {
  return /(^|[,;\s])(wait(=\d+)?|respond-sync)(\s*[,;]|\s*$)/i.test(String(req.headers.prefer ?? ''));
}

/** Without an operator key: the largest population and list sizes of a municipality description. */
const OPEN_MUNICIPALITY_POPULATION = 60_000;
const OPEN_MUNICIPALITY_LIST = 50;

function checkOpenCreationLimits(generator: Record<string, unknown> | undefined, municipality: unknown): void {
  // presets have a known size; a description of one's own is held to about Bodø's
  if (municipality && typeof municipality === 'object' && !Array.isArray(municipality) && !('preset' in municipality)) {
    const description = municipality as Record<string, unknown>;
    const tooBig = (path: string, size: number, max: number) => {
      if (size > max)
        throw badRequest(
          'NAVET-SANDBOX-OPEN-LIMIT',
          `Without an operator key, ${path} is at most ${max}; this Navet has no NAVET_OPERATOR_KEY set, so larger municipalities are made with the CLI (navet sandbox create --municipality file.json) or by a server with an operator key`,
          [path],
        );
    };
    if (typeof description.population === 'number')
      tooBig('municipality.population', description.population, OPEN_MUNICIPALITY_POPULATION);
    for (const list of ['units', 'gpOffices', 'pharmacies', 'recordSystems']) {
      if (Array.isArray(description[list]))
        tooBig(`municipality.${list}`, (description[list] as unknown[]).length, OPEN_MUNICIPALITY_LIST);
    }
    const hospitals = (description.hospitalTrust as { hospitals?: unknown } | undefined)?.hospitals;
    if (Array.isArray(hospitals))
      tooBig('municipality.hospitalTrust.hospitals', hospitals.length, OPEN_MUNICIPALITY_LIST);
  }
  for (const key of ['syntheticPatients', 'documentsPerPatient', 'labReportsPerPatient'] as const) {
    const value = generator?.[key];
    if (typeof value === 'number' && value > OPEN_CREATION_LIMITS[key]) {
      throw badRequest(
        'NAVET-SANDBOX-OPEN-LIMIT',
        `Without an operator key, generator.${key} is at most ${OPEN_CREATION_LIMITS[key]}; this Navet has no NAVET_OPERATOR_KEY set, so larger sandboxes are made with the CLI (navet sandbox create) or by a server with an operator key`,
        [`generator.${key}`],
      );
    }
  }
}

export function sandboxApi(sandboxes: Sandboxes, options: SandboxApiOptions): Router {
  const router = Router();
  router.use(jsonBody({ limit: options.maxBody, type: ['application/json', 'application/*+json'] }));
  const operator = requireOperatorKey(options.operatorKey);
  const { tasks } = options;
  const openCreationRate = rateLimit({
    store: new DatabaseRateLimitStore(options.database, `open-creations ${options.baseUrl}`),
    windowMs: 60_000,
    limit: options.openCreationsPerMinute,
    // only seeded sandboxes cost work; an empty one is a few rows
    skip: (req) => options.operatorKey !== undefined || (req.body as { seed?: unknown } | undefined)?.seed === 'empty',
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next) => {
      next(
        new FhirError(429, [
          {
            severity: 'error',
            code: 'throttled',
            navetCode: 'NAVET-SANDBOX-RATE-LIMIT',
            text: `Without an operator key, one client may create at most ${options.openCreationsPerMinute} seeded sandboxes a minute; wait a minute (Retry-After) or set NAVET_OPERATOR_KEY`,
          },
        ]),
      );
    },
  });
  const statusUrl = (name: string) => `${options.baseUrl}/api/sandboxes/${name}/creation`;

  /** Loads the named sandbox and checks its admin key. */
  async function adminOf(req: Request, res: Response): Promise<Sandbox> {
    const sandbox = await sandboxes.get(String(req.params.name));
    res.locals.sandboxName = sandbox.name;
    assertAdminKey(req, sandboxes, sandbox);
    return sandbox;
  }

  router.post('/', operator, openCreationRate, async (req, res) => {
    const body = objectBody(req);
    const generator = body.generator;
    if (generator !== undefined && (typeof generator !== 'object' || generator === null || Array.isArray(generator))) {
      throw badRequest(
        'NAVET-SANDBOX-GENERATOR',
        'generator must be an object like {"seed": 7, "syntheticPatients": 1000, "referenceDate": "2026-01-01"}',
        ['generator'],
      );
    }
    if (!options.operatorKey)
      checkOpenCreationLimits(generator as Record<string, unknown> | undefined, body.municipality);
    const input: CreateSandboxInput = {
      name: body.name as string,
      seed: body.seed as SeedKind | undefined,
      generator: generator as Record<string, number> | undefined,
      municipality: body.municipality,
    };
    sandboxes.checkCreateInput(input);
    const exists = () => conflict('NAVET-SANDBOX-EXISTS', `A sandbox named '${input.name}' exists already`);
    if (await sandboxes.find(input.name)) throw exists();
    const location = `${options.baseUrl}/api/sandboxes/${input.name}`;
    const adminKey = generateAdminKey();
    if (input.seed === 'empty') {
      // nothing to build: made at once
      const { sandbox } = await sandboxes.create({ ...input, adminKey });
      res.setHeader('Location', location);
      res.status(201).json({ ...describeSandbox(options.baseUrl, sandbox, options.services), adminKey });
      return;
    }
    const creation: Creation = { adminKeyHash: hashAdminKey(adminKey) };
    // one creation of a name at a time, whichever process it started in
    if (!(await tasks.start(input.name, 'creation', '', 'creating', creation))) throw exists();
    let status = 'creating';
    const writer = tasks.writer(input.name, 'creation', '', () => ({ status, content: creation }));
    const done = options.jobs
      .create({ ...input, adminKey }, (progress) => {
        creation.progress = progress;
        writer.changed();
      })
      .then(
        async () => {
          await writer.stop();
          await tasks.remove(input.name, 'creation', '');
        },
        async (error: unknown) => {
          status = 'failed';
          creation.error =
            error instanceof FhirError
              ? { status: error.status, issues: error.issues }
              : {
                  status: 500,
                  issues: [
                    {
                      severity: 'fatal',
                      code: 'exception',
                      navetCode: 'NAVET-INTERNAL',
                      text: 'The sandbox worker failed; the error is logged on the server',
                    },
                  ],
                };
          await writer.finish();
          setTimeout(
            () => void tasks.removeFinished(input.name, 'creation', '').catch(() => undefined),
            FAILED_CREATION_KEPT_MS,
          ).unref();
        },
      );
    if (wantsToWait(req)) {
      await done;
      if (creation.error) throw new FhirError(creation.error.status, creation.error.issues);
      res.setHeader('Location', location);
      res
        .status(201)
        .json({ ...describeSandbox(options.baseUrl, await sandboxes.get(input.name), options.services), adminKey });
      return;
    }
    res.setHeader('Location', statusUrl(input.name));
    res
      .status(202)
      .json({ name: input.name, status: 'creating', statusUrl: statusUrl(input.name), url: location, adminKey });
  });

  /** How a creation goes: `creating` (with progress), `ready` (with the sandbox) or `failed` (with the outcome). */
  router.get('/:name/creation', async (req, res) => {
    const name = String(req.params.name);
    const task = await tasks.get<Creation>(name, 'creation', '');
    if (task) {
      const creation = task.content;
      const key = bearerToken(req);
      if (!key || !adminKeyMatches(key, creation.adminKeyHash)) {
        throw unauthorized(
          'NAVET-ADMIN-KEY-WRONG',
          `Send the admin key that creating sandbox '${name}' answered, as 'Authorization: Bearer <key>'`,
          { 'WWW-Authenticate': 'Bearer realm="navet-admin"' },
        );
      }
      if (task.orphaned) {
        const outcome = operationOutcome([
          {
            severity: 'fatal',
            code: 'incomplete',
            navetCode: 'NAVET-SANDBOX-CREATION-LOST',
            text: `The Navet process that was creating sandbox '${name}' stopped before it was done; nothing was stored. Create it again`,
          },
        ]);
        res.json({ name, status: 'failed', statusCode: 500, outcome });
        return;
      }
      if (task.status === 'failed' && creation.error) {
        const outcome = operationOutcome(creation.error.issues);
        res.json({ name, status: 'failed', statusCode: creation.error.status, outcome });
        return;
      }
      res.setHeader('Retry-After', '1');
      res.json({ name, status: 'creating', ...(creation.progress ? { progress: creation.progress } : {}) });
      return;
    }
    const sandbox = await adminOf(req, res);
    res.json({ name, status: 'ready', sandbox: describeSandbox(options.baseUrl, sandbox, options.services) });
  });

  router.get('/', operator, async (_req, res) => {
    const all = await sandboxes.list();
    res.json({
      sandboxes: all.map((s) => ({
        name: s.name,
        seed: s.seed,
        createdAt: s.createdAt,
        url: `${options.baseUrl}/api/sandboxes/${s.name}`,
      })),
    });
  });

  router.get('/:name', async (req, res) => {
    res.json(describeSandbox(options.baseUrl, await adminOf(req, res), options.services));
  });

  /**
   * Gone at once; its rows are purged by the worker in small steps after the answer. A purge that fails
   * keeps its note: the next creation of that name, or the next start, finishes it.
   */
  router.delete('/:name', async (req, res) => {
    const sandbox = await adminOf(req, res);
    await sandboxes.forget(sandbox.name);
    options.jobs.purge(sandbox.name).catch(() => undefined);
    res.status(204).end();
  });

  router.post('/:name/reset', async (req, res) => {
    const sandbox = await adminOf(req, res);
    const started = process.hrtime.bigint();
    const work = await sandboxes.reset(sandbox.name);
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    res.json({ name: sandbox.name, reset: true, durationMs: Math.round(durationMs), work });
  });

  router.get('/:name/snapshots', async (req, res) => {
    const sandbox = await adminOf(req, res);
    res.json({ snapshots: await sandboxes.snapshots(sandbox.name) });
  });

  router.post('/:name/snapshots', async (req, res) => {
    const sandbox = await adminOf(req, res);
    const snapshot = await sandboxes.snapshot(sandbox.name, objectBody(req).label);
    res.status(201).json(snapshot);
  });

  router.post('/:name/snapshots/:label/restore', async (req, res) => {
    const sandbox = await adminOf(req, res);
    const work = await sandboxes.restore(sandbox.name, String(req.params.label));
    res.json({ name: sandbox.name, restored: req.params.label, work });
  });

  router.delete('/:name/snapshots/:label', async (req, res) => {
    const sandbox = await adminOf(req, res);
    await sandboxes.deleteSnapshot(sandbox.name, String(req.params.label));
    res.status(204).end();
  });

  router.get('/:name/clock', async (req, res) => {
    const sandbox = await adminOf(req, res);
    res.json({ offsetSeconds: sandbox.clock.offsetMs / 1000, now: sandbox.clock.now().toISOString() });
  });

  router.put('/:name/clock', async (req, res) => {
    const sandbox = await adminOf(req, res);
    const clock = await sandboxes.setClock(sandbox.name, objectBody(req));
    res.json({ offsetSeconds: clock.offsetMs / 1000, now: clock.now().toISOString() });
  });

  return router;
}
