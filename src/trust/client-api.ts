import { jsonBody } from '../http/json-body';
import { type Request, type Response, Router } from 'express';
import { badRequest } from '../fhir/operation-outcome';
import { assertAdminKey } from '../sandbox/admin-auth';
import type { Sandbox, Sandboxes } from '../sandbox/sandboxes';
import type { Clients } from './clients';

/** `/api/sandboxes/{name}/clients`: register, list, read, update (keys and settings) and delete clients. */
export function clientApi(sandboxes: Sandboxes, clients: Clients, maxBody: string): Router {
  const router = Router({ mergeParams: true });
  router.use(jsonBody({ limit: maxBody, type: ['application/json', 'application/*+json'] }));

  async function adminOf(req: Request, res: Response): Promise<Sandbox> {
    const sandbox = await sandboxes.get(String(req.params.name));
    res.locals.sandboxName = sandbox.name;
    assertAdminKey(req, sandboxes, sandbox);
    return sandbox;
  }
  function body(req: Request): Record<string, unknown> {
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body))
      throw badRequest('NAVET-BODY', 'The body must be a JSON object (Content-Type: application/json)');
    return req.body as Record<string, unknown>;
  }

  router.post('/', async (req, res) => {
    const sandbox = await adminOf(req, res);
    const client = await clients.register(sandbox.name, body(req));
    res.status(201).json(client);
  });
  router.get('/', async (req, res) => {
    const sandbox = await adminOf(req, res);
    res.json({ clients: await clients.list(sandbox.name) });
  });
  router.get('/:clientId', async (req, res) => {
    const sandbox = await adminOf(req, res);
    res.json(await clients.get(sandbox.name, String(req.params.clientId)));
  });
  router.put('/:clientId', async (req, res) => {
    const sandbox = await adminOf(req, res);
    res.json(await clients.update(sandbox.name, String(req.params.clientId), body(req)));
  });
  router.put('/:clientId/jwks', async (req, res) => {
    const sandbox = await adminOf(req, res);
    res.json(await clients.update(sandbox.name, String(req.params.clientId), { jwks: body(req) }));
  });
  router.delete('/:clientId', async (req, res) => {
    const sandbox = await adminOf(req, res);
    await clients.delete(sandbox.name, String(req.params.clientId));
    res.status(204).end();
  });
  return router;
}
