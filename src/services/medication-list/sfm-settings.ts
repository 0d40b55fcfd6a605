import express, { Router } from 'express';
import type { Kysely } from 'kysely';
import { badRequest } from '../../fhir/operation-outcome';
import { assertAdminKey } from '../../sandbox/admin-auth';
import type { Sandboxes } from '../../sandbox/sandboxes';
import type { Database } from '../../store/schema';

/**
 * Failure injection of SFM per sandbox, so a vendor can provoke what the national test environment does
 * now and then: Kjernejournal or Reseptformidleren (RF) answers nothing, or slowly. `available` answers at
 * once; `slow` answers after `delayMs`; `timeout` waits `delayMs` and then reports a time-out;
 * `unavailable` reports an error at once. The other half answers as usual. Kept in service_settings.
 */
export type BackendMode = 'available' | 'slow' | 'timeout' | 'unavailable';
export interface BackendSetting { mode: BackendMode; delayMs: number }
export interface SfmSettings { kjernejournal: BackendSetting; reseptformidleren: BackendSetting }

const MODES: BackendMode[] = ['available', 'slow', 'timeout', 'unavailable'];
export const MAX_DELAY_MS = 30_000;
const DEFAULT_BACKEND: BackendSetting = { mode: 'available', delayMs: 0 };
const EMPTY: SfmSettings = { kjernejournal: DEFAULT_BACKEND, reseptformidleren: DEFAULT_BACKEND };

export class SfmSettingsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async read(sandbox: string): Promise<SfmSettings> {
    const row = await this.db.selectFrom('service_settings').select('settings').where('sandbox', '=', sandbox).where('service', '=', 'sfm').executeTakeFirst();
    return row ? { ...EMPTY, ...(JSON.parse(row.settings) as Partial<SfmSettings>) } : EMPTY;
  }

  async write(sandbox: string, settings: SfmSettings): Promise<void> {
    await this.db.insertInto('service_settings').values({ sandbox, service: 'sfm', settings: JSON.stringify(settings) })
      .onConflict((oc) => oc.columns(['sandbox', 'service']).doUpdateSet({ settings: JSON.stringify(settings) }))
      .execute();
  }
}

function parseBackend(value: unknown, name: string): BackendSetting {
  if (value === undefined) return DEFAULT_BACKEND;
  const given = value as { mode?: unknown; delayMs?: unknown } | null;
  if (!given || typeof given !== 'object' || !MODES.includes(given.mode as BackendMode)) {
    throw badRequest('NAVET-SFM-SETTINGS', `${name}.mode must be one of ${MODES.join(', ')}`, [`${name}.mode`]);
  }
  const delayMs = given.delayMs ?? (given.mode === 'slow' || given.mode === 'timeout' ? 2000 : 0);
  if (typeof delayMs !== 'number' || !Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS) {
    throw badRequest('NAVET-SFM-SETTINGS', `${name}.delayMs must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`, [`${name}.delayMs`]);
  }
  return { mode: given.mode as BackendMode, delayMs };
}

export function parseSfmSettings(body: unknown): SfmSettings {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('NAVET-SFM-SETTINGS', 'Send {"kjernejournal": {"mode": "unavailable"}, "reseptformidleren": {"mode": "slow", "delayMs": 3000}} (a half left out is available)', []);
  }
  const unknown = Object.keys(body).filter((k) => k !== 'kjernejournal' && k !== 'reseptformidleren');
  if (unknown.length > 0) throw badRequest('NAVET-SFM-SETTINGS', `Unknown setting ${unknown[0]}: only kjernejournal and reseptformidleren`, [unknown[0]]);
  const { kjernejournal, reseptformidleren } = body as Record<string, unknown>;
  return { kjernejournal: parseBackend(kjernejournal, 'kjernejournal'), reseptformidleren: parseBackend(reseptformidleren, 'reseptformidleren') };
}

/** `GET` / `PUT /api/sandboxes/{name}/settings/sfm` (admin key). */
export function sfmSettingsApi(sandboxes: Sandboxes, settings: SfmSettingsStore): Router {
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
    const parsed = parseSfmSettings(req.body);
    await settings.write(sandbox.name, parsed);
    res.json(parsed);
  });
  return router;
}
