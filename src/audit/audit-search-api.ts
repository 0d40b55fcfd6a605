import { type Request, type Response, Router } from 'express';
import { streamAuditEvents } from './audit-stream';
import { pageLinks, searchsetBundle } from '../fhir/bundles';
import { badRequest } from '../fhir/operation-outcome';
import { parseSearchRequest, type QueryParams, toQueryParams } from '../fhir/search-request';
import { sendFhir } from '../http/fhir-json';
import { assertAdminKey } from '../sandbox/admin-auth';
import { sandboxUrl } from '../sandbox/service-urls';
import type { Sandbox, Sandboxes } from '../sandbox/sandboxes';
import type { Bundle } from '../fhir/types';
import { SERVICE_DISPLAYS } from './audit-event';
import { ownValue } from '../own-value';

/**
 * `GET /api/sandboxes/{name}/audit`: the operators' search of a sandbox's access log (admin key), newest
 * first and paged. Answers a searchset Bundle of AuditEvents whose links page in the same terms.
 */
const FILTERS: Record<string, { param: string; describe: string; convert?: (value: string) => string }> = {
  patient: { param: 'patient-identifier', describe: "the patient's fødselsnummer or D-number" },
  practitioner: { param: 'practitioner-identifier', describe: "the health worker's HPR number or fødselsnummer" },
  organization: {
    param: 'organization-identifier',
    describe: 'an organisation number (legal entity or point of care) or a RESH id',
  },
  client: { param: 'client-id', describe: 'the HelseID client_id of the calling system' },
  service: {
    param: 'service',
    describe: Object.keys(SERVICE_DISPLAYS).join(', '),
    convert: (value) => {
      if (!ownValue(SERVICE_DISPLAYS, value))
        throw badRequest(
          'NAVET-AUDIT-SEARCH',
          `service '${value}' is not one of ${Object.keys(SERVICE_DISPLAYS).join(', ')}`,
          ['service'],
        );
      return value;
    },
  },
  outcome: {
    param: 'outcome',
    describe: 'success or failure',
    convert: (value) => {
      if (value === 'success') return '0';
      if (value === 'failure') return '4,8';
      throw badRequest('NAVET-AUDIT-SEARCH', `outcome must be success or failure; got '${value}'`, ['outcome']);
    },
  },
  from: { param: 'date', describe: 'the earliest time (ISO 8601)', convert: (value) => `ge${isoTime('from', value)}` },
  to: { param: 'date', describe: 'the latest time (ISO 8601)', convert: (value) => `le${isoTime('to', value)}` },
  'event-id': { param: 'event-id', describe: 'the nhn-event-id of a request' },
};
FILTERS.organisation = FILTERS.organization;

function isoTime(name: string, value: string): string {
  if (
    !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(value) ||
    Number.isNaN(Date.parse(value))
  ) {
    throw badRequest(
      'NAVET-AUDIT-SEARCH',
      `${name} must be an ISO 8601 date or time with zone, e.g. 2026-11-23 or 2026-11-23T08:00:00Z; got '${value}'`,
      [name],
    );
  }
  return value;
}

function pageOf(name: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^[1-9]\d*$/.test(value))
    throw badRequest('NAVET-AUDIT-SEARCH', `${name} must be a whole number from 1; got '${value}'`, [name]);
  return Math.min(Number(value), max);
}

/** Turns the operators' filters (query parameters) into AuditEvent search parameters; unknown ones are refused. */
export function auditFilters(
  given: QueryParams,
  paging: readonly string[],
): { params: QueryParams; filters: QueryParams } {
  const params: QueryParams = [];
  const filters: QueryParams = [];
  for (const [name, value] of given) {
    if (paging.includes(name)) continue;
    const filter = ownValue(FILTERS, name);
    if (!filter) {
      const known = Object.entries(FILTERS)
        .map(([n, f]) => `${n} (${f.describe})`)
        .join(', ');
      throw badRequest(
        'NAVET-AUDIT-SEARCH',
        `'${name}' is not a filter of the access log; use ${known}, ${paging.join(' and ')}`,
        [name],
      );
    }
    params.push([filter.param, filter.convert ? filter.convert(value) : value]);
    filters.push([name, value]);
  }
  return { params, filters };
}

/** The newest `count` AuditEvents of a sandbox that match the search parameters, from `offset` on. */
export async function newestAuditEvents(
  sandboxes: Sandboxes,
  sandbox: string,
  params: QueryParams,
  count: number,
  offset = 0,
) {
  const request = { ...parseSearchRequest('AuditEvent', [...params, ['_sort', '-date']]), count, offset };
  return { request, found: await sandboxes.store.search(sandbox, request) };
}

/** Searches a sandbox's access log by the operators' filters (`patient`, `outcome`, …), newest first and paged. */
export async function searchAccessLog(
  sandboxes: Sandboxes,
  baseUrl: string,
  sandbox: Sandbox,
  given: QueryParams,
): Promise<Bundle> {
  const count = pageOf('_count', given.find(([n]) => n === '_count')?.[1], 20, 100);
  const page = pageOf('_page', given.find(([n]) => n === '_page')?.[1], 1, Number.MAX_SAFE_INTEGER);
  const { params, filters } = auditFilters(given, ['_count', '_page']);
  const { request, found } = await newestAuditEvents(sandboxes, sandbox.name, params, count, (page - 1) * count);
  const bundle = searchsetBundle({
    baseUrl: sandboxUrl(baseUrl, sandbox.name, 'fhir'),
    request,
    total: found.total,
    matches: found.matches,
    included: [],
    now: sandbox.clock.now().toISOString(),
  });
  bundle.link = pageLinks(`${baseUrl}/api/sandboxes/${sandbox.name}/audit`, filters, count, page, found.total ?? 0);
  return bundle;
}

export function auditSearchApi(sandboxes: Sandboxes, baseUrl: string, streamPollMs = 1000): Router {
  const router = Router({ mergeParams: true });
  async function adminOf(req: Request, res: Response) {
    const sandbox = await sandboxes.get(String((req.params as { name?: string }).name));
    res.locals.sandboxName = sandbox.name;
    assertAdminKey(req, sandboxes, sandbox);
    return sandbox;
  }
  router.get('/', async (req: Request, res) => {
    const sandbox = await adminOf(req, res);
    sendFhir(
      req,
      res,
      200,
      await searchAccessLog(sandboxes, baseUrl, sandbox, toQueryParams(req.query as Record<string, unknown>)),
    );
  });
  router.get('/stream', async (req: Request, res) => {
    const sandbox = await adminOf(req, res);
    const given = toQueryParams(req.query as Record<string, unknown>);
    const backlog = pageOf('_count', given.find(([n]) => n === '_count')?.[1], 20, 100);
    const { params } = auditFilters(given, ['_count']);
    streamAuditEvents(res, {
      pollMs: streamPollMs,
      backlog,
      newest: async (count) => (await newestAuditEvents(sandboxes, sandbox.name, params, count)).found.matches,
    });
  });
  return router;
}
