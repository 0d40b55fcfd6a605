import { keys } from './keys';

/** A failed call: its status and the text Navet gave (OperationOutcome, OAuth error or plain). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  resourceType?: string;
  issue?: { code?: string; diagnostics?: string; details?: { text?: string } }[];
  error?: string;
  error_description?: string;
}

async function messageOf(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as ErrorBody;
    if (body.resourceType === 'OperationOutcome') {
      return (body.issue ?? []).map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ');
    }
    if (body.error) return `${body.error}: ${body.error_description ?? ''}`;
  } catch {
    // not JSON: the text itself
  }
  return text || response.statusText;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** Authorization: the admin key of this sandbox, or 'operator' for the operator key. */
  as?: string | 'operator';
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** A sandbox's admin key was refused: it is forgotten, and the page asks for it again. */
export const KEY_REJECTED = 'navet-key-rejected';
function keyRejected(sandbox: string): void {
  keys.refused(sandbox);
  window.dispatchEvent(new CustomEvent(KEY_REJECTED, { detail: sandbox }));
}

function authorization(as: string | undefined): Record<string, string> {
  if (!as) return {};
  const key = as === 'operator' ? keys.operator() : keys.admin(as);
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** Calls this Navet (same origin only) and answers the JSON body; throws ApiError with Navet's text. */
export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await request(path, options);
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? response.json() : response.text()) as Promise<T>;
}

/** The raw response of a successful call. */
export async function request(path: string, options: CallOptions = {}): Promise<Response> {
  if (!path.startsWith('/')) throw new Error(`only paths of this Navet are called, not ${path}`);
  const headers: Record<string, string> = {
    Accept: 'application/json, application/fhir+json',
    ...authorization(options.as),
    ...options.headers,
  };
  if (options.body !== undefined) headers['Content-Type'] = headers['Content-Type'] ?? 'application/json';
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body:
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (!response.ok) {
    const error = new ApiError(response.status, await messageOf(response));
    if (
      response.status === 401 &&
      options.as &&
      options.as !== 'operator' &&
      options.headers?.Authorization === undefined
    )
      keyRejected(options.as);
    throw error;
  }
  return response;
}

/** A FHIR Bundle, as far as the dashboard reads it. */
export interface Bundle<T> {
  total?: number;
  entry?: { resource: T; search?: { mode?: string } }[];
}

/** The resources of a FHIR Bundle (a searchset's matches only). */
export function resourcesOf<T>(bundle: Bundle<T>): T[] {
  return (bundle.entry ?? []).filter((e) => !e.search || e.search.mode === 'match').map((e) => e.resource);
}

/** A search or read on a sandbox's FHIR API (admin key). */
export function fhir<T>(sandbox: string, path: string): Promise<T> {
  return call<T>(`/sandboxes/${encodeURIComponent(sandbox)}/fhir/${path}`, { as: sandbox });
}

/** A FHIR search on the sandbox's FHIR API, answering the matching resources. */
export async function search<T>(sandbox: string, query: string): Promise<T[]> {
  return resourcesOf(await fhir<Bundle<T>>(sandbox, query));
}

/** The path part of a service base URL Navet gave (the dashboard calls only its own origin). */
export function pathOf(url: string): string {
  return new URL(url, location.origin).pathname;
}
