import type { Router } from 'express';
import type { Kysely } from 'kysely';
import { badRequest } from '../../fhir/operation-outcome';
import type { Sandboxes } from '../../sandbox/sandboxes';
import { ServiceSettingsStore, serviceSettingsApi } from '../../sandbox/service-settings';
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

export class PjdSettingsStore extends ServiceSettingsStore<PjdSettings> {
  constructor(db: Kysely<Database>) {
    super(db, 'pjd', EMPTY);
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
  return serviceSettingsApi(sandboxes, settings, parsePjdSettings);
}
