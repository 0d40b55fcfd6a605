import type { Router } from 'express';
import type { Kysely } from 'kysely';
import { badRequest } from '../../fhir/operation-outcome';
import type { Sandboxes } from '../../sandbox/sandboxes';
import { ServiceSettingsStore, serviceSettingsApi } from '../../sandbox/service-settings';
import type { Database } from '../../store/schema';

/**
 * PPS settings per sandbox (service_settings, survive reset like clients):
 * - `backdoorEnabled`: the unauthenticated test "backdoor" with x-nilar-* headers (off by default, as
 *   nothing without a token should see patient data unless a tester asks for it);
 * - `sourceStages`: the rollout stage of each lab source (organisation number). Results from a source
 *   before "minimum-care" (manual submission for quality assurance, automatic sending from one lab
 *   system) are received but not shown for care. Sources not listed are in full production.
 */
export const SOURCE_STAGES = [
  'manual-quality-assurance',
  'automatic-single-system',
  'minimum-care',
  'all-lab-systems',
  'full-production',
] as const;
export type SourceStage = (typeof SOURCE_STAGES)[number];
/** Stages whose results are not shown to health personnel. */
export const NOT_FOR_CARE: ReadonlySet<SourceStage> = new Set(['manual-quality-assurance', 'automatic-single-system']);

export interface PpsSettings {
  backdoorEnabled: boolean;
  sourceStages: Record<string, SourceStage>;
}

const DEFAULTS: PpsSettings = { backdoorEnabled: false, sourceStages: {} };

export class PpsSettingsStore extends ServiceSettingsStore<PpsSettings> {
  constructor(db: Kysely<Database>) {
    super(db, 'pps', DEFAULTS);
  }
}

/** The organisation numbers whose results are hidden from care. */
export function sourcesNotForCare(settings: PpsSettings): string[] {
  return Object.entries(settings.sourceStages)
    .filter(([, stage]) => NOT_FOR_CARE.has(stage))
    .map(([orgnr]) => orgnr);
}

export function parsePpsSettings(body: unknown, current: PpsSettings): PpsSettings {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw badRequest(
      'NAVET-PPS-SETTINGS',
      'Send {"backdoorEnabled": true|false, "sourceStages": {"<orgnr>": "<stage>"}} (either may be left out)',
      [],
    );
  const given = body as { backdoorEnabled?: unknown; sourceStages?: unknown };
  const settings = { ...current };
  if (given.backdoorEnabled !== undefined) {
    if (typeof given.backdoorEnabled !== 'boolean')
      throw badRequest('NAVET-PPS-SETTINGS', 'backdoorEnabled must be true or false', ['backdoorEnabled']);
    settings.backdoorEnabled = given.backdoorEnabled;
  }
  if (given.sourceStages !== undefined) {
    const stages = given.sourceStages;
    if (stages === null || typeof stages !== 'object' || Array.isArray(stages))
      throw badRequest('NAVET-PPS-SETTINGS', 'sourceStages must be an object {"<orgnr>": "<stage>"}', ['sourceStages']);
    for (const [orgnr, stage] of Object.entries(stages)) {
      if (!/^\d{9}$/.test(orgnr))
        throw badRequest('NAVET-PPS-SETTINGS', `sourceStages: '${orgnr}' is not a 9-digit organisation number`, [
          `sourceStages.${orgnr}`,
        ]);
      if (!SOURCE_STAGES.includes(stage as SourceStage))
        throw badRequest('NAVET-PPS-SETTINGS', `sourceStages.${orgnr} must be one of ${SOURCE_STAGES.join(', ')}`, [
          `sourceStages.${orgnr}`,
        ]);
    }
    settings.sourceStages = stages as Record<string, SourceStage>;
  }
  return settings;
}

/** `GET` / `PUT /api/sandboxes/{name}/settings/pps` (admin key). */
export function ppsSettingsApi(sandboxes: Sandboxes, settings: PpsSettingsStore): Router {
  return serviceSettingsApi(sandboxes, settings, parsePpsSettings);
}
