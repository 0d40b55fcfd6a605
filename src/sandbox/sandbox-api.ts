import express, { type Request, type Response, Router } from 'express';
import { sendFhir } from '../http/fhir-json';
import { badRequest, operationOutcome } from '../fhir/operation-outcome';
import { assertAdminKey, requireOperatorKey } from './admin-auth';
import type { Sandbox, Sandboxes } from './sandboxes';
import { serviceUrls } from './service-urls';

/** `/api/sandboxes`: create, list, read, delete, reset, snapshots (save, list, restore, delete) and the clock. */
export function describeSandbox(baseUrl: string, sandbox: Sandbox) {
  return {
    name: sandbox.name,
    seed: sandbox.seed,
    ...(sandbox.generator ? { generator: sandbox.generator } : {}),
    createdAt: sandbox.createdAt,
    clock: { offsetSeconds: sandbox.clock.offsetMs / 1000, now: sandbox.clock.now().toISOString() },
    services: serviceUrls(baseUrl, sandbox.name),
  };
}

function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0 && !req.is('json'))) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('NAVET-BODY', 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

export function sandboxApi(sandboxes: Sandboxes, options: { baseUrl: string; operatorKey?: string; maxBody: string }): Router {
  const router = Router();
  router.use(express.json({ limit: options.maxBody, type: ['application/json', 'application/*+json'] }));
  const operator = requireOperatorKey(options.operatorKey);

  /** Loads the named sandbox and checks its admin key. */
  async function adminOf(req: Request, res: Response): Promise<Sandbox> {
    const sandbox = await sandboxes.get(String(req.params.name));
    res.locals.sandboxName = sandbox.name;
    assertAdminKey(req, sandboxes, sandbox);
    return sandbox;
  }

  router.post('/', operator, async (req, res) => {
    const body = objectBody(req);
    const generator = body.generator;
    if (generator !== undefined && (typeof generator !== 'object' || generator === null || Array.isArray(generator))) {
      throw badRequest('NAVET-SANDBOX-GENERATOR', 'generator must be an object like {"seed": 7, "syntheticPatients": 1000, "referenceDate": "2026-01-01"}', ['generator']);
    }
    const { sandbox, adminKey } = await sandboxes.create({ name: body.name as string, seed: body.seed as 'fixtures' | 'empty' | undefined, generator: generator as Record<string, number> | undefined });
    res.setHeader('Location', `${options.baseUrl}/api/sandboxes/${sandbox.name}`);
    res.status(201).json({ ...describeSandbox(options.baseUrl, sandbox), adminKey });
  });

  router.get('/', operator, async (_req, res) => {
    const all = await sandboxes.list();
    res.json({ sandboxes: all.map((s) => ({ name: s.name, seed: s.seed, createdAt: s.createdAt, url: `${options.baseUrl}/api/sandboxes/${s.name}` })) });
  });

  router.get('/:name', async (req, res) => {
    res.json(describeSandbox(options.baseUrl, await adminOf(req, res)));
  });

  router.delete('/:name', async (req, res) => {
    const sandbox = await adminOf(req, res);
    await sandboxes.delete(sandbox.name);
    res.status(204).end();
  });

  router.post('/:name/reset', async (req, res) => {
    const sandbox = await adminOf(req, res);
    const started = process.hrtime.bigint();
    await sandboxes.reset(sandbox.name);
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    res.json({ name: sandbox.name, reset: true, durationMs: Math.round(durationMs) });
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
    await sandboxes.restore(sandbox.name, String(req.params.label));
    res.json({ name: sandbox.name, restored: req.params.label });
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

  router.use((req, res) => {
    sendFhir(req, res, 404, operationOutcome([{ severity: 'error', code: 'not-found', navetCode: 'NAVET-NO-SUCH-PATH', text: `No admin endpoint ${req.method} /api/sandboxes${req.path}` }]));
  });
  return router;
}
