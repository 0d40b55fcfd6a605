import express, { Router } from 'express';
import type { Kysely } from 'kysely';
import { badRequest } from '../../fhir/operation-outcome';
import { assertAdminKey } from '../../sandbox/admin-auth';
import type { Sandboxes } from '../../sandbox/sandboxes';
import type { Database } from '../../store/schema';

/**
 * PJD's settings per sandbox. In the real rollout some consuming organisations let only some personnel
 * categories (Volven 9060, e.g. LE and PS) see documents: `allowedAuthorizations` maps an organisation
 * number (the consumer's legal entity) to the categories it allows. Settings survive reset, like clients.
 */
export interface PjdSettings {
  allowedAuthorizations: Record<string, string[]>;
}

const EMPTY: PjdSettings = { allowedAuthorizations: {} };

export class PjdSettingsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async read(sandbox: string): Promise<PjdSettings> {
    const row = await this.db.selectFrom('service_settings').select('settings').where('sandbox', '=', sandbox).where('service', '=', 'pjd').executeTakeFirst();
    return row ? { ...EMPTY, ...(JSON.parse(row.settings) as Partial<PjdSettings>) } : EMPTY;
  }

  async write(sandbox: string, settings: PjdSettings): Promise<void> {
    await this.db.insertInto('service_settings').values({ sandbox, service: 'pjd', settings: JSON.stringify(settings) })
      .onConflict((oc) => oc.columns(['sandbox', 'service']).doUpdateSet({ settings: JSON.stringify(settings) }))
      .execute();
  }
}

export function parsePjdSettings(body: unknown): PjdSettings {
  const allowed = (body as { allowedAuthorizations?: unknown } | undefined)?.allowedAuthorizations;
  if (allowed === undefined || allowed === null || typeof allowed !== 'object' || Array.isArray(allowed)) {
    throw badRequest('NAVET-PJD-SETTINGS', 'Send {"allowedAuthorizations": {"<orgnr>": ["LE", "PS"]}} (an empty object allows everyone)', ['allowedAuthorizations']);
  }
  for (const [orgnr, codes] of Object.entries(allowed)) {
    if (!/^\d{9}$/.test(orgnr)) throw badRequest('NAVET-PJD-SETTINGS', `allowedAuthorizations: '${orgnr}' is not a 9-digit organisation number`, [`allowedAuthorizations.${orgnr}`]);
    if (!Array.isArray(codes) || codes.length === 0 || !codes.every((c) => typeof c === 'string' && /^[A-Z0-9]{1,5}$/.test(c))) {
      throw badRequest('NAVET-PJD-SETTINGS', `allowedAuthorizations.${orgnr} must be a non-empty list of Volven 9060 codes such as "LE"`, [`allowedAuthorizations.${orgnr}`]);
    }
  }
  return { allowedAuthorizations: allowed as Record<string, string[]> };
}

/** `GET` / `PUT /api/sandboxes/{name}/settings/pjd` (admin key). */
export function pjdSettingsApi(sandboxes: Sandboxes, settings: PjdSettingsStore): Router {
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
  router.put('/', express.json({ limit: '64kb' }), async (req, res) => {
    const sandbox = await load(req, res);
    const parsed = parsePjdSettings(req.body);
    await settings.write(sandbox.name, parsed);
    res.json(parsed);
  });
  return router;
}
