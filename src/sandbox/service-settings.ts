import { jsonBody } from '../http/json-body';
import express, { Router } from 'express';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { assertAdminKey } from './admin-auth';
import type { Sandboxes } from './sandboxes';

/**
 * A service's settings per sandbox, as one JSON object in `service_settings` (keyed by sandbox and
 * service). Settings survive reset, like clients; a sandbox without any gets `defaults`.
 */
export class ServiceSettingsStore<T extends object> {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly service: string,
    private readonly defaults: T,
  ) {}

  async read(sandbox: string): Promise<T> {
    const row = await this.db
      .selectFrom('service_settings')
      .select('settings')
      .where('sandbox', '=', sandbox)
      .where('service', '=', this.service)
      .executeTakeFirst();
    return row ? { ...this.defaults, ...(JSON.parse(row.settings) as Partial<T>) } : this.defaults;
  }

  async write(sandbox: string, settings: T): Promise<void> {
    await this.db
      .insertInto('service_settings')
      .values({ sandbox, service: this.service, settings: JSON.stringify(settings) })
      .onConflict((oc) => oc.columns(['sandbox', 'service']).doUpdateSet({ settings: JSON.stringify(settings) }))
      .execute();
  }
}

/**
 * `GET` / `PUT /api/sandboxes/{name}/settings/<service>` (admin key). `parse` turns the body (and the
 * current settings, for services that take partial changes) into the new settings, or refuses with a 400.
 */
export function serviceSettingsApi<T extends object>(
  sandboxes: Sandboxes,
  settings: ServiceSettingsStore<T>,
  parse: (body: unknown, current: T) => T,
): Router {
  const router = Router({ mergeParams: true });
  const load = async (req: express.Request, res: express.Response) => {
    const sandbox = await sandboxes.get(String((req.params as { name?: string }).name));
    res.locals.sandboxName = sandbox.name;
    assertAdminKey(req, sandboxes, sandbox);
    return sandbox;
  };
  router.get('/', async (req, res) => {
    const sandbox = await load(req, res);
    res.json(await settings.read(sandbox.name));
  });
  router.put('/', jsonBody({ limit: '64kb' }), async (req, res) => {
    const sandbox = await load(req, res);
    const parsed = parse(req.body, await settings.read(sandbox.name));
    await settings.write(sandbox.name, parsed);
    res.json(parsed);
  });
  return router;
}
