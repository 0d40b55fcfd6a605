import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger';
import { challengeByName } from './challenges';
import { decodeCredential, hashOf, stableJson, withoutCredentials } from './credentials';
import { type DecodedCredential, RECORDED_RESPONSE_HEADERS, type RecordedExchange } from './exchange';
import type { ChallengeRecord, SessionRecord, SessionStore } from './session-store';

/**
 * Records what a session's client sends to any service of the sandbox, with Navet's answer, and plays armed
 * challenges. A sandbox with no recording session costs one cached look-up per request.
 */
const BODY_CAP = 256 * 1024;
const CACHE_MS = 1000;
const LEFT_OUT_HEADERS = new Set(['authorization', 'proxy-authorization', 'dpop', 'cookie']);
/** Headers that carry a secret: kept as their hash. */
const SECRET_HEADERS = new Set(['x-auth-key', 'x-api-key']);
const CREDENTIAL_PARAMS = ['access_token', 'client_assertion', 'id_token', 'refresh_token', 'code'];

interface Active {
  session: SessionRecord;
  challenges: ChallengeRecord[];
}

export class Recorder {
  private readonly cache = new Map<string, { loadedAt: number; active: Promise<Active[]>; known?: Active[] }>();
  private readonly queue: { sandbox: string; sessionId: string; exchange: RecordedExchange }[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  /** When a session's client last got a 2xx answer: the next challenge waits for it (this process only). */
  private readonly lastSuccess = new Map<string, number>();

  constructor(
    readonly store: SessionStore,
    private readonly logger: Logger,
  ) {}

  /** A client sends the same access token many times: it is decoded and hashed once. */
  private readonly decodedTokens = new Map<string, DecodedCredential>();
  private decodedToken(token: string): DecodedCredential {
    let decoded = this.decodedTokens.get(token);
    if (!decoded) {
      if (this.decodedTokens.size >= 200) this.decodedTokens.delete(this.decodedTokens.keys().next().value as string);
      decoded = decodeCredential(token);
      this.decodedTokens.set(token, decoded);
    }
    return decoded;
  }

  /** Forget the cached sessions of a sandbox (after a session opened, finished or a challenge was armed here). */
  invalidate(sandbox: string): void {
    this.cache.delete(sandbox);
  }

  /** The recording sessions of a sandbox, read at most once a second (concurrent requests share one read). */
  private active(sandbox: string): Promise<Active[]> {
    const cached = this.cache.get(sandbox);
    if (cached && Date.now() - cached.loadedAt < CACHE_MS) return cached.active;
    const active = (async () => {
      const sessions = await this.store.recording(sandbox);
      return Promise.all(
        sessions.map(async (session) => ({ session, challenges: await this.store.challenges(sandbox, session.id) })),
      );
    })();
    const entry: { loadedAt: number; active: Promise<Active[]>; known?: Active[] } = { loadedAt: Date.now(), active };
    this.cache.set(sandbox, entry);
    active.then(
      (known) => {
        entry.known = known;
      },
      () => this.cache.delete(sandbox),
    );
    return active;
  }

  /** True when the sandbox is known (from the cache) to record nothing: the request goes on at once. */
  private recordsNothing(sandbox: string): boolean {
    const cached = this.cache.get(sandbox);
    return cached?.known !== undefined && cached.known.length === 0 && Date.now() - cached.loadedAt < CACHE_MS;
  }

  middleware(): RequestHandler {
    return async (req: Request, res: Response, next: NextFunction) => {
      const sandbox = res.locals.sandbox;
      if (this.recordsNothing(sandbox.name)) return next();
      const active = await this.active(sandbox.name);
      if (active.length === 0) return next();
      const started = {
        atMs: Date.now(),
        hr: process.hrtime.bigint(),
        sandboxTime: sandbox.clock.now().toISOString(),
        seq: this.seq++,
      };
      const [service, ...rest] = req.path.replace(/^\//, '').split('/');
      const path = `/${rest.join('/')}`;
      const authorization = /^(DPoP|Bearer)\s+(\S+)$/i.exec((req.headers.authorization ?? '').trim());
      const token = authorization ? this.decodedToken(authorization[2]) : undefined;
      const tokenClient = typeof token?.claims.client_id === 'string' ? token.claims.client_id : undefined;
      const isTokenEndpoint = service === 'helseid' && req.method === 'POST' && path === '/connect/token';
      // a request without credentials (discovery, JWKS, /ping) is recorded in every session of the sandbox
      const anonymous = !authorization && !isTokenEndpoint;
      const candidates = tokenClient
        ? active.filter((a) => a.session.clientId === tokenClient)
        : anonymous || isTokenEndpoint
          ? active
          : [];
      if (candidates.length === 0) return next();

      const id = `req-${randomUUID().slice(0, 8)}`;
      const chunks: Buffer[] = [];
      let size = 0;
      const keep = (chunk: unknown, encoding?: unknown) => {
        if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
        const buffer = Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
        size += buffer.length;
        if (size <= BODY_CAP) chunks.push(buffer);
      };
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => Response;
      res.write = ((chunk: unknown, ...args: unknown[]) => {
        keep(chunk, args[0]);
        return write(chunk, ...args);
      }) as Response['write'];
      res.end = ((chunk?: unknown, ...args: unknown[]) => {
        keep(chunk, args[0]);
        return end(chunk, ...args);
      }) as Response['end'];

      let challenge: string | undefined;
      res.on('finish', () => {
        const exchange = this.exchangeOf(req, res, {
          id,
          service,
          path,
          token,
          scheme: authorization?.[1],
          started,
          body: size <= BODY_CAP ? Buffer.concat(chunks) : undefined,
          challenge,
        });
        const clientOfRequest = tokenClient ?? clientOfTokenRequest(exchange) ?? clientNamedIn(req);
        for (const { session } of candidates) {
          if (isTokenEndpoint && clientOfRequest !== session.clientId) continue;
          // PAR, authorize and the like name their client: they belong to that client's session only
          if (anonymous && clientOfRequest !== undefined && clientOfRequest !== session.clientId) continue;
          if (exchange.status < 300 && !anonymous) this.lastSuccess.set(session.id, exchange.atMs);
          this.enqueue(sandbox.name, session.id, exchange);
        }
      });

      // a challenge is played only on a request whose client is known from its token
      const owner = tokenClient ? candidates[0] : undefined;
      if (owner) {
        const request = {
          service,
          method: req.method,
          path,
          scheme: authorization ? (authorization[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer') : undefined,
          patientNin: patientHeader(req),
        };
        const played = await this.playChallenge(sandbox.name, owner, id, started.atMs, request, req, res);
        challenge = played?.name;
        if (played?.answered) return;
      }
      next();
    };
  }

  private async playChallenge(
    sandbox: string,
    owner: Active,
    requestId: string,
    atMs: number,
    request: Parameters<NonNullable<ReturnType<typeof challengeByName>>['matches']>[0],
    req: Request,
    res: Response,
  ): Promise<{ name: string; answered: boolean } | undefined> {
    const triggered = owner.challenges.filter((c) => c.status === 'triggered');
    const lastTrigger = Math.max(0, ...triggered.map((c) => c.triggeredAtMs ?? 0));
    // one challenge at a time: the next waits until the client has been answered 2xx since the last
    if (triggered.length > 0 && (this.lastSuccess.get(owner.session.id) ?? 0) <= lastTrigger) return undefined;
    // of the armed challenges that apply to this request, one for this kind of request before a generic one, then in the order armed
    const applicable = owner.challenges.filter(
      (c) => c.status === 'armed' && challengeByName(c.name)?.matches(request),
    );
    const next = applicable.find((c) => !challengeByName(c.name)?.generic) ?? applicable[0];
    const definition = next ? challengeByName(next.name) : undefined;
    if (!next || !definition) return undefined;
    // claim it first (another process may be playing it); then play it and note what was sent
    if (!(await this.store.trigger(sandbox, owner.session.id, next.name, requestId, atMs, {}))) return undefined;
    next.status = 'triggered';
    next.triggeredAtMs = atMs;
    next.requestId = requestId;
    const played = await definition.play(req, res);
    next.data = played.data;
    await this.store.setChallengeData(sandbox, owner.session.id, next.name, played.data);
    return { name: next.name, answered: played.answered };
  }

  private exchangeOf(
    req: Request,
    res: Response,
    parts: {
      id: string;
      service: string;
      path: string;
      token?: DecodedCredential;
      scheme?: string;
      started: { atMs: number; hr: bigint; sandboxTime: string; seq: number };
      body?: Buffer;
      challenge?: string;
    },
  ): RecordedExchange {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (LEFT_OUT_HEADERS.has(name) || value === undefined) continue;
      const text = Array.isArray(value) ? value.join(', ') : value;
      headers[name] = SECRET_HEADERS.has(name) ? `sha256:${hashOf(text)}` : text;
    }
    const responseHeaders: Record<string, string> = {};
    for (const name of RECORDED_RESPONSE_HEADERS) {
      const value = res.getHeader(name);
      if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    const requestBody =
      req.body && typeof req.body === 'object' && Object.keys(req.body as object).length > 0 ? req.body : undefined;
    const bodyJson = requestBody === undefined ? undefined : stableJson(requestBody);
    const dpop = typeof req.headers.dpop === 'string' ? decodeCredential(req.headers.dpop) : undefined;
    const assertionValue =
      requestBody && typeof (requestBody as Record<string, unknown>).client_assertion === 'string'
        ? (requestBody as Record<string, string>).client_assertion
        : undefined;
    let responseBody: unknown;
    if (parts.body && /json/i.test(String(res.getHeader('content-type') ?? ''))) {
      try {
        responseBody = withoutCredentials(JSON.parse(parts.body.toString('utf8')));
      } catch {
        responseBody = undefined;
      }
    }
    const url = new URL(req.originalUrl, 'http://navet.invalid');
    // a credential in a query string is kept as its hash, like any other
    for (const name of CREDENTIAL_PARAMS) {
      const value = url.searchParams.get(name);
      if (value !== null) url.searchParams.set(name, `sha256:${hashOf(value)}`);
    }
    return {
      id: parts.id,
      atMs: parts.started.atMs,
      seq: parts.started.seq,
      sandboxTime: parts.started.sandboxTime,
      durationMs: Math.round(Number(process.hrtime.bigint() - parts.started.hr) / 1e4) / 100,
      service: parts.service,
      method: req.method,
      path: parts.path,
      query: url.search.replace(/^\?/, ''),
      headers,
      ...(parts.token && parts.scheme
        ? { auth: { scheme: parts.scheme.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: parts.token } }
        : {}),
      ...(dpop ? { dpop } : {}),
      ...(assertionValue ? { assertion: decodeCredential(assertionValue) } : {}),
      ...(bodyJson !== undefined
        ? {
            bodyHash: hashOf(bodyJson),
            ...(bodyJson.length <= BODY_CAP ? { body: withoutCredentials(requestBody) } : { truncated: true }),
          }
        : {}),
      status: res.statusCode,
      ...(res.locals.errorCode ? { errorCode: String(res.locals.errorCode) } : {}),
      responseHeaders,
      ...(responseBody !== undefined ? { responseBody } : {}),
      ...(parts.body === undefined ? { truncated: true } : {}),
      auditEvents: Array.isArray(res.locals.auditEventIds) ? res.locals.auditEventIds : [],
      ...(parts.challenge ? { challenge: parts.challenge } : {}),
    };
  }

  private enqueue(sandbox: string, sessionId: string, exchange: RecordedExchange): void {
    this.queue.push({ sandbox, sessionId, exchange });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, 200);
  }

  /** Writes what is queued; a session is graded only after this (the finish endpoint awaits it). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.queue.length);
    this.flushing = (async () => {
      try {
        await this.store.addExchanges(batch);
      } catch (error) {
        this.logger.error({ err: error, requests: batch.length }, 'conformance recordings could not be written');
      }
    })();
    await this.flushing;
    this.flushing = undefined;
  }

  /** Waits for the writes of requests still being answered (a grade after the client's last answer sees them). */
  async settle(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    await this.flush();
  }
}

function patientHeader(req: Request): string | undefined {
  const value = req.headers['nhn-patient-nin'] ?? req.headers['hit-patient-nin'] ?? req.headers['person-id'];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** The client of a token request, from its assertion (iss) or its client_id parameter. */
/** The client a request without a token names: `client_id` in its query, or `clientId` in a JSON body. */
function clientNamedIn(req: Request): string | undefined {
  const fromQuery = req.query.client_id;
  if (typeof fromQuery === 'string') return fromQuery;
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' && typeof body.clientId === 'string' ? body.clientId : undefined;
}

function clientOfTokenRequest(exchange: RecordedExchange): string | undefined {
  const iss = exchange.assertion?.claims.iss ?? exchange.assertion?.claims.sub;
  if (typeof iss === 'string') return iss;
  const body = exchange.body as Record<string, unknown> | undefined;
  return typeof body?.client_id === 'string' ? body.client_id : undefined;
}
