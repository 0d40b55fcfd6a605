import { randomUUID } from 'node:crypto';
import type { StoredVersion } from './repository';
import type { OperationOutcome } from './operation-outcome';
import type { SearchRequest } from './search-request';
import type { Bundle, BundleEntry, FhirResource } from './types';

/** Building searchset and history Bundles. */
export function etagOf(resource: FhirResource): string {
  return `W/"${resource.meta?.versionId ?? '1'}"`;
}

function queryString(params: [string, string][]): string {
  return params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** Keeps only the requested top-level elements (plus the mandatory ones) and marks the copy SUBSETTED. */
export function withElements(resource: FhirResource, elements: string[]): FhirResource {
  const keep = new Set(['resourceType', 'id', 'meta', ...elements]);
  const subset = Object.fromEntries(Object.entries(resource).filter(([key]) => keep.has(key))) as FhirResource;
  const tag = [
    ...(resource.meta?.tag ?? []),
    { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED' },
  ];
  return { ...subset, meta: { ...(resource.meta ?? {}), tag } };
}

export function searchsetBundle(options: {
  baseUrl: string;
  request: SearchRequest;
  total?: number;
  matches: FhirResource[];
  included: FhirResource[];
  now: string;
  outcome?: OperationOutcome;
}): Bundle {
  const { baseUrl, request, total, matches, included } = options;
  const link = (offset: number) => {
    const params: [string, string][] = request.canonicalParams.filter(([k]) => k !== '_count');
    params.push(['_count', String(request.count)]);
    if (offset > 0) params.push(['_offset', String(offset)]);
    return `${baseUrl}/${request.resourceType}?${queryString(params)}`;
  };
  const links: { relation: string; url: string }[] = [{ relation: 'self', url: link(request.offset) }];
  if (!request.summaryCount && request.count > 0) {
    links.push({ relation: 'first', url: link(0) });
    const hasMore = total !== undefined ? request.offset + matches.length < total : matches.length === request.count;
    if (hasMore) links.push({ relation: 'next', url: link(request.offset + request.count) });
    if (request.offset > 0)
      links.push({ relation: 'previous', url: link(Math.max(0, request.offset - request.count)) });
    if (total !== undefined && total > 0)
      links.push({ relation: 'last', url: link(Math.floor((total - 1) / request.count) * request.count) });
  }
  const shape = (r: FhirResource) => (request.elements ? withElements(r, request.elements) : r);
  const entry: BundleEntry[] = [
    ...matches.map((r) => ({
      fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`,
      resource: shape(r),
      search: { mode: 'match' as const },
    })),
    ...included.map((r) => ({
      fullUrl: `${baseUrl}/${r.resourceType}/${r.id}`,
      resource: r,
      search: { mode: 'include' as const },
    })),
  ];
  if (options.outcome) entry.push({ resource: options.outcome, search: { mode: 'outcome' } });
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: options.now },
    type: 'searchset',
    ...(total !== undefined ? { total } : {}),
    link: links,
    ...(entry.length ? { entry } : {}),
  };
}

export function historyBundle(options: {
  baseUrl: string;
  selfUrl: string;
  total: number;
  versions: StoredVersion[];
  now: string;
}): Bundle {
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { lastUpdated: options.now },
    type: 'history',
    total: options.total,
    link: [{ relation: 'self', url: options.selfUrl }],
    entry: options.versions.map((v) => ({
      fullUrl: `${options.baseUrl}/${v.resourceType}/${v.id}`,
      ...(v.resource ? { resource: v.resource } : {}),
      request: { method: v.method, url: v.method === 'POST' ? v.resourceType : `${v.resourceType}/${v.id}` },
      response: {
        status: v.method === 'POST' ? '201 Created' : v.method === 'DELETE' ? '204 No Content' : '200 OK',
        etag: `W/"${v.versionId}"`,
        lastModified: v.lastUpdated,
      },
    })),
  };
}

/** Paging links of an API that pages with `_page` (1-based) instead of `_offset`. */
export function pageLinks(
  url: string,
  params: [string, string][],
  count: number,
  page: number,
  total: number,
): { relation: string; url: string }[] {
  const kept = params.filter(([name]) => name !== '_page' && name !== '_count');
  const link = (p: number) =>
    `${url}?${new URLSearchParams([...kept, ['_count', String(count)], ['_page', String(p)]]).toString()}`;
  const last = count > 0 ? Math.max(1, Math.ceil(total / count)) : 1;
  return [
    { relation: 'self', url: link(page) },
    { relation: 'first', url: link(1) },
    ...(page < last ? [{ relation: 'next', url: link(page + 1) }] : []),
    ...(page > 1 ? [{ relation: 'previous', url: link(page - 1) }] : []),
    { relation: 'last', url: link(last) },
  ];
}
