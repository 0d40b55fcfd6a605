import type { RequestHandler, Router } from 'express';
import type { Kysely } from 'kysely';
import { badRequest, FhirError } from '../../fhir/operation-outcome';
import type { Sandboxes } from '../../sandbox/sandboxes';
import { ServiceSettingsStore, serviceSettingsApi } from '../../sandbox/service-settings';
import type { Database } from '../../store/schema';

/**
 * PJD's settings per sandbox. In the real rollout some consuming organisations let only some personnel
 * categories (Volven 9060, e.g. LE and PS) see documents: `allowedAuthorizations` maps an organisation
 * number (the consumer's legal entity) to the categories it allows. For rehearsing a slow or absent PJD,
 * `delayMs` holds every document answer back that long and `unavailable` answers 503 with Retry-After.
 * A PUT changes the settings it names and keeps the others. Settings survive reset, like clients.
 */
export interface PjdSettings {
  allowedAuthorizations: Record<string, string[]>;
  delayMs?: number;
  unavailable?: boolean;
}

export const MAX_PJD_DELAY_MS = 30_000;
const EMPTY: PjdSettings = { allowedAuthorizations: {} };
const KEYS = ['allowedAuthorizations', 'delayMs', 'unavailable'];
const USAGE =
  'Send {"allowedAuthorizations": {"<orgnr>": ["LE", "PS"]}} (an empty object allows everyone), {"delayMs": 3000} or {"unavailable": true}';

export class PjdSettingsStore extends ServiceSettingsStore<PjdSettings> {
  constructor(db: Kysely<Database>) {
    super(db, 'pjd', EMPTY);
  }
}

function parseAllowed(allowed: unknown): Record<string, string[]> {
  if (allowed === null || typeof allowed !== 'object' || Array.isArray(allowed))
    throw badRequest('NAVET-PJD-SETTINGS', USAGE, ['allowedAuthorizations']);
  for (const [orgnr, codes] of Object.entries(allowed)) {
    if (!/^\d{9}$/.test(orgnr))
      throw badRequest('NAVET-PJD-SETTINGS', `allowedAuthorizations: '${orgnr}' is not a 9-digit organisation number`, [
        `allowedAuthorizations.${orgnr}`,
      ]);
    if (
      !Array.isArray(codes) ||
      codes.length === 0 ||
      !codes.every((c) => typeof c === 'string' && /^[A-Z0-9]{1,5}$/.test(c))
    ) {
      throw badRequest(
        'NAVET-PJD-SETTINGS',
        `allowedAuthorizations.${orgnr} must be a non-empty list of Volven 9060 codes such as "LE"`,
        [`allowedAuthorizations.${orgnr}`],
      );
    }
  }
  return allowed as Record<string, string[]>;
}

export function parsePjdSettings(body: unknown, current: PjdSettings = EMPTY): PjdSettings {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('NAVET-PJD-SETTINGS', USAGE, []);
  const given = body as Record<string, unknown>;
  const unknown = Object.keys(given).find((k) => !KEYS.includes(k));
  if (unknown) throw badRequest('NAVET-PJD-SETTINGS', `Unknown setting ${unknown}: only ${KEYS.join(', ')}`, [unknown]);
  if (!KEYS.some((k) => k in given)) throw badRequest('NAVET-PJD-SETTINGS', USAGE, []);
  const next: PjdSettings = { ...current };
  if ('allowedAuthorizations' in given) next.allowedAuthorizations = parseAllowed(given.allowedAuthorizations);
  if ('delayMs' in given) {
    const delayMs = given.delayMs;
    if (typeof delayMs !== 'number' || !Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_PJD_DELAY_MS) {
      throw badRequest(
        'NAVET-PJD-SETTINGS',
        `delayMs must be a whole number of milliseconds from 0 to ${MAX_PJD_DELAY_MS}`,
        ['delayMs'],
      );
    }
    next.delayMs = delayMs;
  }
  if ('unavailable' in given) {
    if (typeof given.unavailable !== 'boolean')
      throw badRequest('NAVET-PJD-SETTINGS', 'unavailable must be true or false', ['unavailable']);
    next.unavailable = given.unavailable;
  }
  return next;
}

/** `GET` / `PUT /api/sandboxes/{name}/settings/pjd` (admin key). */
export function pjdSettingsApi(sandboxes: Sandboxes, settings: PjdSettingsStore): Router {
  return serviceSettingsApi(sandboxes, settings, parsePjdSettings);
}

/**
 * Before a document endpoint answers: a PJD set `unavailable` answers 503 (OperationOutcome, Retry-After),
 * one with `delayMs` waits that long first, without holding the event loop.
 */
export function pjdAvailability(settings: PjdSettingsStore): RequestHandler {
  return async (_req, res, next) => {
    const { delayMs, unavailable } = await settings.read(res.locals.sandbox.name);
    if (unavailable) {
      throw new FhirError(
        503,
        [
          {
            severity: 'error',
            code: 'transient',
            navetCode: 'NAVET-PJD-UNAVAILABLE',
            text: "PJD is unavailable (set in this sandbox's PJD settings); retry later",
          },
        ],
        { 'Retry-After': '5' },
      );
    }
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    next();
  };
}
