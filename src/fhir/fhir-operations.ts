import { type FhirRepository, isValidId } from './repository';
import { historyBundle, searchsetBundle } from './bundles';
import { badRequest, notFound, operationOutcome, preconditionFailed } from './operation-outcome';
import { parseSearchRequest, type QueryParams } from './search-request';
import type { Bundle, FhirResource } from './types';
import { assertResourceType, assertValidResource, RESOURCE_TYPES } from './validate-resource';

/**
 * The FHIR interactions, independent of HTTP: the REST routes and transaction Bundles both call these.
 */
export interface FhirContext {
  sandbox: string;
  store: FhirRepository;
  /** The sandbox clock, as an ISO instant. */
  now(): string;
  /** The FHIR base URL of this sandbox. */
  baseUrl: string;
  /** Resource types that only the service facades may write (read and search remain). */
  readOnlyTypes?: ReadonlySet<string>;
}

export interface InteractionResult {
  status: number;
  resource?: FhirResource;
}

export function assertResourceTypeName(type: string): void {
  if (!RESOURCE_TYPES.has(type))
    throw notFound('NAVET-UNKNOWN-RESOURCE-TYPE', `'${type}' is not a FHIR R4 resource type`);
}

export function assertId(id: string): void {
  if (!isValidId(id))
    throw badRequest('NAVET-INVALID-ID', `'${id}' is not a valid FHIR id (1–64 letters, digits, '-' and '.')`, ['id']);
}

function assertWritable(context: FhirContext, type: string): void {
  if (context.readOnlyTypes?.has(type)) {
    throw badRequest(
      'NAVET-READ-ONLY-TYPE',
      `${type} resources are written by Navet itself and cannot be created, changed or deleted through this API`,
    );
  }
}

export async function readResource(context: FhirContext, type: string, id: string): Promise<FhirResource> {
  assertResourceTypeName(type);
  assertId(id);
  return context.store.read(context.sandbox, type, id);
}

export async function vreadResource(
  context: FhirContext,
  type: string,
  id: string,
  versionId: string,
): Promise<FhirResource> {
  assertResourceTypeName(type);
  assertId(id);
  if (!/^\d+$/.test(versionId))
    throw notFound('NAVET-VERSION-NOT-FOUND', `${type}/${id} has no version '${versionId}'`);
  return context.store.vread(context.sandbox, type, id, Number(versionId));
}

export async function createResource(
  context: FhirContext,
  type: string,
  body: unknown,
  ifNoneExist?: QueryParams,
  assignedId?: string,
): Promise<InteractionResult> {
  assertResourceTypeName(type);
  assertWritable(context, type);
  assertValidResource(body);
  assertResourceType(body, type);
  if (ifNoneExist && ifNoneExist.length > 0) {
    const request = parseSearchRequest(type, ifNoneExist);
    const found = await context.store.search(context.sandbox, {
      ...request,
      count: 2,
      offset: 0,
      include: [],
      revinclude: [],
    });
    if ((found.total ?? found.matches.length) > 1) {
      throw preconditionFailed(
        'NAVET-CONDITIONAL-MULTIPLE',
        `If-None-Exist matched ${found.total} ${type} resources; make the condition specific enough to match one`,
      );
    }
    if (found.matches.length === 1) return { status: 200, resource: found.matches[0] };
  }
  const { id: _ignored, ...content } = body;
  const resource = await context.store.inTransaction((store) =>
    store.create(context.sandbox, content as FhirResource, context.now(), assignedId),
  );
  return { status: 201, resource };
}

export async function updateResource(
  context: FhirContext,
  type: string,
  id: string,
  body: unknown,
  ifMatch?: string,
): Promise<InteractionResult> {
  assertResourceTypeName(type);
  assertId(id);
  assertWritable(context, type);
  assertValidResource(body);
  assertResourceType(body, type);
  if (body.id === undefined)
    throw badRequest('NAVET-UPDATE-ID-MISSING', `The ${type} in the body has no id; an update must carry id "${id}"`, [
      `${type}.id`,
    ]);
  if (body.id !== id)
    throw badRequest(
      'NAVET-UPDATE-ID-MISMATCH',
      `The body's id "${String(body.id)}" differs from the id "${id}" in the URL`,
      [`${type}.id`],
    );
  const expected = ifMatch === undefined ? undefined : parseIfMatch(ifMatch);
  const result = await context.store.inTransaction((store) =>
    store.update(context.sandbox, body, context.now(), expected),
  );
  return { status: result.created ? 201 : 200, resource: result.resource };
}

export function parseIfMatch(ifMatch: string): number {
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(ifMatch.trim());
  if (!match)
    throw badRequest('NAVET-IF-MATCH', `If-Match must name a version, like W/"3"; got '${ifMatch}'`, ['If-Match']);
  return Number(match[1]);
}

export async function deleteResource(context: FhirContext, type: string, id: string): Promise<InteractionResult> {
  assertResourceTypeName(type);
  assertId(id);
  assertWritable(context, type);
  await context.store.inTransaction((store) => store.delete(context.sandbox, type, id, context.now()));
  return { status: 204 };
}

export async function searchResources(
  context: FhirContext,
  type: string,
  params: QueryParams,
  lenient = false,
): Promise<Bundle> {
  assertResourceTypeName(type);
  const request = parseSearchRequest(type, params, lenient);
  const result = await context.store.search(context.sandbox, request);
  const outcome = request.ignored.length
    ? operationOutcome([
        {
          severity: 'warning',
          code: 'not-supported',
          text: `Ignored unknown search parameter(s): ${request.ignored.join(', ')}`,
        },
      ])
    : undefined;
  return searchsetBundle({ baseUrl: context.baseUrl, request, ...result, now: context.now(), outcome });
}

/** The largest `_offset` of a history page: far beyond any sandbox's versions, well within the engines' integers. */
export const MAX_HISTORY_OFFSET = 1_000_000_000;

function historyOffset(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > MAX_HISTORY_OFFSET) {
    throw badRequest(
      'NAVET-HISTORY-PARAM',
      `_offset must be a whole number from 0 to ${MAX_HISTORY_OFFSET}; got '${value.slice(0, 40)}'`,
      ['_offset'],
    );
  }
  return Number(value);
}

export async function historyOf(
  context: FhirContext,
  params: QueryParams,
  type?: string,
  id?: string,
): Promise<Bundle> {
  if (type) assertResourceTypeName(type);
  if (id) assertId(id);
  let count = 50;
  let offset = 0;
  let since: string | undefined;
  for (const [name, value] of params) {
    if (name === '_count' && /^\d+$/.test(value)) count = Math.min(Number(value), 1000);
    else if (name === '_offset') offset = historyOffset(value);
    else if (name === '_since') {
      if (Number.isNaN(Date.parse(value)))
        throw badRequest('NAVET-HISTORY-SINCE', `_since must be an instant like 2026-01-01T00:00:00Z; got '${value}'`, [
          '_since',
        ]);
      since = new Date(value).toISOString();
    } else if (name !== '_format' && name !== '_pretty') {
      throw badRequest(
        'NAVET-HISTORY-PARAM',
        `History supports _count, _offset and _since; '${name}' is not supported`,
        [name],
      );
    }
  }
  if (id && type && !(await context.store.currentVersion(context.sandbox, type, id))) {
    throw notFound('NAVET-RESOURCE-NOT-FOUND', `${type}/${id} does not exist in this sandbox`);
  }
  const { total, versions } = await context.store.history(context.sandbox, {
    resourceType: type,
    id,
    since,
    count,
    offset,
  });
  const path = [type, id, '_history'].filter(Boolean).join('/');
  return historyBundle({
    baseUrl: context.baseUrl,
    selfUrl: `${context.baseUrl}/${path}`,
    total,
    versions,
    now: context.now(),
  });
}
