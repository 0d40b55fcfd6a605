import { randomUUID } from 'node:crypto';
import { etagOf } from './bundles';
import {
  createResource,
  deleteResource,
  type FhirContext,
  historyOf,
  type InteractionResult,
  readResource,
  searchResources,
  updateResource,
  vreadResource,
} from './fhir-operations';
import { badRequest, FhirError, operationOutcome } from './operation-outcome';
import { parseSearchRequest, type QueryParams } from './search-request';
import { asJson, type Bundle, type BundleEntry, type FhirResource } from './types';
import { assertValidResource } from './validate-resource';

/**
 * Transaction and batch Bundles. A transaction is all-or-nothing in one database transaction, with
 * `urn:uuid` references resolved to the ids the server assigns; a batch runs entry by entry.
 */
interface ParsedEntry {
  index: number;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  type: string;
  id?: string;
  versionId?: string;
  history: boolean;
  query: QueryParams;
  entry: BundleEntry;
}

const ORDER: Record<ParsedEntry['method'], number> = { DELETE: 0, POST: 1, PUT: 2, GET: 3 };

function parseEntry(context: FhirContext, entry: BundleEntry, index: number): ParsedEntry {
  const where = `Bundle.entry[${index}].request`;
  const method = entry.request?.method?.toUpperCase();
  if (method !== 'GET' && method !== 'POST' && method !== 'PUT' && method !== 'DELETE') {
    throw badRequest(
      'NAVET-BUNDLE-METHOD',
      `entry[${index}]: request.method must be GET, POST, PUT or DELETE; got ${JSON.stringify(entry.request?.method)}`,
      [`${where}.method`],
    );
  }
  let url = entry.request?.url ?? '';
  if (url.startsWith(`${context.baseUrl}/`)) url = url.slice(context.baseUrl.length + 1);
  const [path, queryText = ''] = url.split('?');
  const segments = path.split('/').filter(Boolean);
  if (segments.length === 0 || /^https?:/.test(url)) {
    throw badRequest(
      'NAVET-BUNDLE-URL',
      `entry[${index}]: request.url must be relative, like "Patient" or "Patient/123"; got ${JSON.stringify(entry.request?.url)}`,
      [`${where}.url`],
    );
  }
  const query = [...new URLSearchParams(queryText).entries()];
  const [type, id, historyWord, versionId] = segments;
  return { index, method, type, id, history: historyWord === '_history', versionId, query, entry };
}

function withEntryContext(error: unknown, parsed: ParsedEntry): FhirError {
  if (!(error instanceof FhirError)) return error as FhirError;
  const label = `entry[${parsed.index}] (${parsed.method} ${parsed.entry.request?.url})`;
  return new FhirError(
    error.status,
    error.issues.map((issue) => ({
      ...issue,
      text: `${label}: ${issue.text}`,
      expression: issue.expression?.map((e) =>
        e.startsWith('Bundle.') ? e : `Bundle.entry[${parsed.index}].resource.${e.replace(/^[A-Z][A-Za-z]+\./, '')}`,
      ),
    })),
    error.headers,
  );
}

/** Replaces every `reference` that names a urn:uuid of this Bundle with the resource's new id. */
function rewriteReferences(value: unknown, ids: Map<string, string>, unresolved: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, ids, unresolved));
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'reference' && typeof v === 'string' && v.startsWith('urn:uuid:')) {
      const target = ids.get(v);
      if (target) result[key] = target;
      else {
        unresolved.add(v);
        result[key] = v;
      }
    } else result[key] = rewriteReferences(v, ids, unresolved);
  }
  return result;
}

async function execute(
  context: FhirContext,
  parsed: ParsedEntry,
  assignedId?: string,
): Promise<InteractionResult & { body?: FhirResource }> {
  const { method, type, id, query, entry } = parsed;
  switch (method) {
    case 'POST': {
      if (id)
        throw badRequest('NAVET-BUNDLE-URL', 'POST goes to the type, like "Patient", not to an id', [
          'Bundle.entry.request.url',
        ]);
      const ifNoneExist = entry.request?.ifNoneExist
        ? [...new URLSearchParams(entry.request.ifNoneExist).entries()]
        : undefined;
      return createResource(context, type, entry.resource, ifNoneExist, assignedId);
    }
    case 'PUT':
      if (!id)
        throw badRequest(
          'NAVET-BUNDLE-URL',
          'PUT needs an id, like "Patient/123" (conditional update is not supported)',
          ['Bundle.entry.request.url'],
        );
      return updateResource(context, type, id, entry.resource, entry.request?.ifMatch);
    case 'DELETE':
      if (!id)
        throw badRequest(
          'NAVET-BUNDLE-URL',
          'DELETE needs an id, like "Patient/123" (conditional delete is not supported)',
          ['Bundle.entry.request.url'],
        );
      return deleteResource(context, type, id);
    case 'GET':
      if (parsed.history) return { status: 200, resource: asJson(await historyOf(context, query, type, id)) };
      if (id && parsed.versionId)
        return { status: 200, resource: await vreadResource(context, type, id, parsed.versionId) };
      if (id) return { status: 200, resource: await readResource(context, type, id) };
      return { status: 200, resource: asJson(await searchResources(context, type, query)) };
  }
}

const STATUS_TEXT: Record<number, string> = { 200: '200 OK', 201: '201 Created', 204: '204 No Content' };

function responseEntry(context: FhirContext, result: InteractionResult, returnMinimal: boolean): BundleEntry {
  const resource = result.resource;
  const isStored = resource && resource.resourceType !== 'Bundle' && resource.meta?.versionId;
  return {
    ...(resource && isStored ? { fullUrl: `${context.baseUrl}/${resource.resourceType}/${resource.id}` } : {}),
    ...(resource && !returnMinimal ? { resource } : resource?.resourceType === 'Bundle' ? { resource } : {}),
    response: {
      status: STATUS_TEXT[result.status] ?? String(result.status),
      ...(isStored && resource
        ? {
            location: `${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`,
            etag: etagOf(resource),
            lastModified: String(resource.meta?.lastUpdated),
          }
        : {}),
    },
  };
}

export async function processBundle(context: FhirContext, body: unknown, returnMinimal = false): Promise<Bundle> {
  assertValidResource(body);
  if (body.resourceType !== 'Bundle')
    throw badRequest(
      'NAVET-NOT-A-BUNDLE',
      `POST to the base URL takes a transaction or batch Bundle; got a ${body.resourceType}`,
      ['resourceType'],
    );
  const bundle = body as Bundle;
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw badRequest(
      'NAVET-BUNDLE-TYPE',
      `Bundle.type must be "transaction" or "batch"; got ${JSON.stringify(bundle.type)}`,
      ['Bundle.type'],
    );
  }
  const entries = bundle.entry ?? [];
  return bundle.type === 'transaction'
    ? processTransaction(context, entries, returnMinimal)
    : processBatch(context, entries, returnMinimal);
}

async function processTransaction(
  context: FhirContext,
  entries: BundleEntry[],
  returnMinimal: boolean,
): Promise<Bundle> {
  const parsed = entries.map((entry, index) => parseEntry(context, entry, index));
  return context.store.inTransaction(async (store) => {
    const txContext: FhirContext = { ...context, store };
    // 1. the id of every created resource, so that references between entries can be resolved first
    const ids = new Map<string, string>();
    const assigned = new Map<number, string>();
    for (const p of parsed) {
      const fullUrl = p.entry.fullUrl;
      if (p.method === 'POST') {
        let id: string = randomUUID();
        if (p.entry.request?.ifNoneExist) {
          try {
            const request = parseSearchRequest(p.type, [...new URLSearchParams(p.entry.request.ifNoneExist).entries()]);
            const found = await store.search(context.sandbox, { ...request, count: 2, include: [], revinclude: [] });
            if (found.matches.length === 1) id = found.matches[0].id as string;
          } catch (error) {
            throw withEntryContext(error, p);
          }
        }
        assigned.set(p.index, id);
        if (fullUrl?.startsWith('urn:uuid:')) ids.set(fullUrl, `${p.type}/${id}`);
      } else if (p.method === 'PUT' && p.id && fullUrl?.startsWith('urn:uuid:')) {
        ids.set(fullUrl, `${p.type}/${p.id}`);
      }
    }
    // 2. resolve urn:uuid references
    for (const p of parsed) {
      if (!p.entry.resource) continue;
      const unresolved = new Set<string>();
      p.entry = { ...p.entry, resource: rewriteReferences(p.entry.resource, ids, unresolved) as FhirResource };
      if (unresolved.size > 0) {
        throw badRequest(
          'NAVET-BUNDLE-UNRESOLVED-REFERENCE',
          `entry[${p.index}]: ${[...unresolved].join(', ')} is not the fullUrl of any entry in this transaction`,
          [`Bundle.entry[${p.index}].resource`],
        );
      }
    }
    // 3. run the entries: DELETE, POST, PUT, GET
    const results = new Map<number, InteractionResult>();
    for (const p of [...parsed].sort((a, b) => ORDER[a.method] - ORDER[b.method] || a.index - b.index)) {
      try {
        results.set(p.index, await execute(txContext, p, assigned.get(p.index)));
      } catch (error) {
        throw withEntryContext(error, p);
      }
    }
    return {
      resourceType: 'Bundle',
      id: randomUUID(),
      type: 'transaction-response',
      entry: parsed.map((p) => responseEntry(context, results.get(p.index) as InteractionResult, returnMinimal)),
    } as Bundle;
  });
}

async function processBatch(context: FhirContext, entries: BundleEntry[], returnMinimal: boolean): Promise<Bundle> {
  const responses: BundleEntry[] = [];
  for (const [index, entry] of entries.entries()) {
    try {
      const parsed = parseEntry(context, entry, index);
      responses.push(responseEntry(context, await execute(context, parsed), returnMinimal));
    } catch (error) {
      if (!(error instanceof FhirError)) throw error;
      responses.push({ response: { status: String(error.status), outcome: operationOutcome(error.issues) } });
    }
  }
  return { resourceType: 'Bundle', id: randomUUID(), type: 'batch-response', entry: responses };
}
