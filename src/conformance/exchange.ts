/**
 * One request a client made to a sandbox while a conformance session recorded, with Navet's answer.
 * Credentials are kept only as decoded claims and a hash (see credentials.ts), never as usable values.
 */
export interface DecodedCredential {
  /** SHA-256 of the credential, base64url: tells two credentials apart without keeping them. */
  hash: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** Set when the value was not a JWT. */
  malformed?: true;
}

export interface RecordedExchange {
  id: string;
  /** Order of arrival in the session (wall clock ms, then a per-process counter). */
  atMs: number;
  seq: number;
  /** The sandbox clock when the request arrived (ISO). */
  sandboxTime: string;
  durationMs: number;
  /** The service below /sandboxes/<name>/: helseid, pjd, critical-information, sfm, pps, citizen, … */
  service: string;
  method: string;
  /** The path below the service, e.g. /connect/token or /R4/fhir/DocumentReference/_search. */
  path: string;
  /** The query string without '?', as sent. */
  query: string;
  /** Request headers, lower-cased; authorization, dpop and cookie are left out (see auth, dpop). */
  headers: Record<string, string>;
  auth?: { scheme: string; token: DecodedCredential };
  dpop?: DecodedCredential;
  /** The client assertion of a token request, decoded. */
  assertion?: DecodedCredential;
  /** The parsed body (form or JSON), credentials replaced by their hash; capped. */
  body?: unknown;
  /** SHA-256 of the body as parsed (stable JSON), to tell resends apart. */
  bodyHash?: string;
  status: number;
  errorCode?: string;
  responseHeaders: Record<string, string>;
  /** The answer's body as JSON when it was JSON (tokens replaced by their decoded claims); capped. */
  responseBody?: unknown;
  /** True when a body was larger than the cap and is left out. */
  truncated?: boolean;
  /** The AuditEvents the request wrote (ids). */
  auditEvents: string[];
  /** The challenge Navet played on this request, if any. */
  challenge?: string;
}

export const RECORDED_RESPONSE_HEADERS = [
  'content-type',
  'www-authenticate',
  'dpop-nonce',
  'retry-after',
  'location',
  'etag',
  'nhn-securitylabel-nors-count',
  'hit-securitylabel-nors-count',
  'cache-control',
];

export const header = (exchange: RecordedExchange, name: string): string | undefined =>
  exchange.headers[name.toLowerCase()];

/** A header by its nhn-* name or its older hit-* name. */
export const nhnHeader = (exchange: RecordedExchange, name: string): string | undefined =>
  header(exchange, `nhn-${name}`) ?? header(exchange, `hit-${name}`);

export const isTokenRequest = (e: RecordedExchange): boolean =>
  e.service === 'helseid' && e.method === 'POST' && e.path === '/connect/token';
export const isDiscovery = (e: RecordedExchange): boolean =>
  e.service === 'helseid' && e.method === 'GET' && e.path === '/.well-known/openid-configuration';
/** A call to a guarded API (not the token service). */
export const isApiCall = (e: RecordedExchange): boolean => e.service !== 'helseid' && e.auth !== undefined;
export const ok = (e: RecordedExchange): boolean => e.status >= 200 && e.status < 300;

export const formValue = (e: RecordedExchange, name: string): string | undefined => {
  const body = e.body as Record<string, unknown> | undefined;
  const value = body && typeof body === 'object' ? body[name] : undefined;
  return typeof value === 'string' ? value : undefined;
};

/** A short name of a request for messages: "#3 POST /pjd/R4/fhir/DocumentReference/_search". */
export const describe = (e: RecordedExchange): string => `${e.id} ${e.method} /${e.service}${e.path}`;
