import type { Router } from 'express';
import type { Kysely } from 'kysely';
import { badRequest } from '../../fhir/operation-outcome';
import type { Sandboxes } from '../../sandbox/sandboxes';
import { ServiceSettingsStore, serviceSettingsApi } from '../../sandbox/service-settings';
import type { Database } from '../../store/schema';

/**
 * Failure injection of SFM per sandbox, so a vendor can provoke what the national test environment does
 * now and then: Kjernejournal or Reseptformidleren (RF) answers nothing, or slowly. `available` answers at
 * once; `slow` answers after `delayMs`; `timeout` waits `delayMs` and then reports a time-out;
 * `unavailable` reports an error at once. The other half answers as usual. Kept in service_settings.
 */
export type BackendMode = 'available' | 'slow' | 'timeout' | 'unavailable';
export interface BackendSetting {
  mode: BackendMode;
  delayMs: number;
}
export interface SfmSettings {
  kjernejournal: BackendSetting;
  reseptformidleren: BackendSetting;
}

const MODES: BackendMode[] = ['available', 'slow', 'timeout', 'unavailable'];
export const MAX_DELAY_MS = 30_000;
const DEFAULT_BACKEND: BackendSetting = { mode: 'available', delayMs: 0 };
const EMPTY: SfmSettings = { kjernejournal: DEFAULT_BACKEND, reseptformidleren: DEFAULT_BACKEND };

export class SfmSettingsStore extends ServiceSettingsStore<SfmSettings> {
  constructor(db: Kysely<Database>) {
    super(db, 'sfm', EMPTY);
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
    throw badRequest(
      'NAVET-SFM-SETTINGS',
      `${name}.delayMs must be a whole number of milliseconds from 0 to ${MAX_DELAY_MS}`,
      [`${name}.delayMs`],
    );
  }
  return { mode: given.mode as BackendMode, delayMs };
}

export function parseSfmSettings(body: unknown): SfmSettings {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(
      'NAVET-SFM-SETTINGS',
      'Send {"kjernejournal": {"mode": "unavailable"}, "reseptformidleren": {"mode": "slow", "delayMs": 3000}} (a half left out is available)',
      [],
    );
  }
  const unknown = Object.keys(body).filter((k) => k !== 'kjernejournal' && k !== 'reseptformidleren');
  if (unknown.length > 0)
    throw badRequest('NAVET-SFM-SETTINGS', `Unknown setting ${unknown[0]}: only kjernejournal and reseptformidleren`, [
      unknown[0],
    ]);
  const { kjernejournal, reseptformidleren } = body as Record<string, unknown>;
  return {
    kjernejournal: parseBackend(kjernejournal, 'kjernejournal'),
    reseptformidleren: parseBackend(reseptformidleren, 'reseptformidleren'),
  };
}

/** `GET` / `PUT /api/sandboxes/{name}/settings/sfm` (admin key). */
export function sfmSettingsApi(sandboxes: Sandboxes, settings: SfmSettingsStore): Router {
  return serviceSettingsApi(sandboxes, settings, parseSfmSettings);
}
