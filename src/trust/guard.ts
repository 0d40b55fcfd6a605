import type { NavetErrorCode } from '../codes/error-codes';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createLocalJWKSet, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { randomUUID } from 'node:crypto';
import { FhirError, type OutcomeIssue } from '../fhir/operation-outcome';
import { parseSearchRequest } from '../fhir/search-request';
import type { ResourceStore } from '../store/resource-store';
import { CLAIM } from './access-token';
import type { AccessContext, KnownAccess } from './access-context';
import { parseAuthorizationDetails } from './attestation';
import { accessContextFromAttestation, checkAttestationRules } from './attestation-rules';
import { DPOP_ALGORITHMS, verifyDpopProof } from './dpop';
import { SIGNING_ALG } from './signing-keys';
import { TrustError } from '../http/trust-error';
import type { TrustServices } from './trust-services';

/**
 * The guard in front of every service endpoint: verifies the access token, the DPoP proof and the
 * attestation, and hands the facade one AccessContext (res.locals.access). It is the only place where
 * access tokens are parsed.
 */
export interface GuardDependencies {
  services: TrustServices;
  store: ResourceStore;
  issuerOf: (sandbox: string) => string;
  /** The public base URL of Navet, for the DPoP htu check. */
  baseUrl: string;
}

export interface GuardOptions {
  audience: string;
  /** The request needs at least one of these scopes. */
  anyScope: string[];
  /** Refuse tokens without an attestation. */
  requireAttestation?: boolean;
  /** Where this service's requests name the patient. */
  patientNin?: (req: Request) => string | undefined;
}

const MAX_TOKEN_LENGTH = 8192;
const CHALLENGE = `DPoP algs="${DPOP_ALGORITHMS.join(' ')}", Bearer realm="navet"`;

/** The path the client asked for (without query), as it must be in a DPoP proof's htu; `/pps` stays `/pps`. */
function requestPath(req: Request): string {
  return req.originalUrl.split(/[?#]/)[0];
}

/** A header by its current nhn-* name or its older hit-* name. */
export function nhnHeader(req: Request, name: string): string | undefined {
  const value = req.headers[`nhn-${name}`] ?? req.headers[`hit-${name}`];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function unauthorized(scheme: 'DPoP' | 'Bearer', error: string, code: NavetErrorCode, text: string): FhirError {
  const challenge = `${scheme} error="${error}", error_description="${text.replace(/"/g, "'")}"${scheme === 'DPoP' ? `, algs="${DPOP_ALGORITHMS.join(' ')}"` : ''}`;
  return new FhirError(401, [{ severity: 'error', code: 'login', navetCode: code, text }], {
    'WWW-Authenticate': challenge,
  });
}

function tokenError(error: unknown, scheme: 'DPoP' | 'Bearer', audience: string, issuer: string): FhirError {
  if (error instanceof errors.JWTExpired)
    return unauthorized(
      scheme,
      'invalid_token',
      'NAVET-TOKEN-EXPIRED',
      'The access token has expired (by the sandbox clock); get a new one',
    );
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud')
      return unauthorized(
        scheme,
        'invalid_token',
        'NAVET-TOKEN-AUDIENCE',
        `The access token is not for this API: aud must be "${audience}"; ask the token service with resource=${audience}`,
      );
    if (error.claim === 'iss')
      return unauthorized(
        scheme,
        'invalid_token',
        'NAVET-TOKEN-ISSUER',
        `The access token was not issued by this sandbox's token service (${issuer})`,
      );
    if (error.claim === 'nbf')
      return unauthorized(
        scheme,
        'invalid_token',
        'NAVET-TOKEN-NOT-YET-VALID',
        'The access token is not valid yet (nbf is in the future by the sandbox clock)',
      );
    if (error.claim === 'typ')
      return unauthorized(scheme, 'invalid_token', 'NAVET-TOKEN-TYP', 'The access token must have typ "at+jwt"');
    return unauthorized(
      scheme,
      'invalid_token',
      'NAVET-TOKEN-CLAIM',
      `The access token's claim "${error.claim}" is invalid: ${error.reason}`,
    );
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
    return unauthorized(
      scheme,
      'invalid_token',
      'NAVET-TOKEN-SIGNATURE',
      "The access token is not signed by this sandbox's token service (see its jwks_uri)",
    );
  }
  return unauthorized(
    scheme,
    'invalid_token',
    'NAVET-TOKEN-INVALID',
    `The access token could not be verified: ${(error as Error).message}`,
  );
}

async function practitionerName(
  store: ResourceStore,
  sandbox: string,
  pid: string | undefined,
): Promise<string | undefined> {
  if (!pid) return undefined;
  const found = await store.search(sandbox, { ...parseSearchRequest('Practitioner', [['identifier', pid]]), count: 1 });
  const name = (found.matches[0]?.name as { text?: string; given?: string[]; family?: string }[] | undefined)?.[0];
  return name ? (name.text ?? [...(name.given ?? []), name.family].filter(Boolean).join(' ')) : undefined;
}

/** The sandboxes' published keys, imported once and read again after a while or on an unknown kid. */
class PublishedKeyCache {
  private readonly cache = new Map<string, { keys: ReturnType<typeof createLocalJWKSet>; loadedAt: number }>();
  constructor(private readonly services: TrustServices) {}

  async get(sandbox: string, fresh: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    const cached = this.cache.get(sandbox);
    if (cached && !fresh && Date.now() - cached.loadedAt < 30_000) return cached.keys;
    const keys = createLocalJWKSet({ keys: await this.services.keys.published(sandbox) });
    this.cache.set(sandbox, { keys, loadedAt: Date.now() });
    return keys;
  }
}

type PublishedKeys = ReturnType<typeof createLocalJWKSet>;
type VerifiedClaims = JWTPayload & Record<string, unknown>;
const MAX_VERIFIED_TOKENS = 10_000;
const CLOCK_TOLERANCE_S = 5;

/**
 * Access tokens whose signature, issuer, audience and typ verified, with their parsed attestation: a client
 * sends one token with many requests, and its signature need not be checked again. An entry counts only
 * with the very key set it was verified with (re-read every 30 s, so a retired key stops counting as
 * before); the times (exp, nbf) are checked on every request by the sandbox clock, and everything else
 * (DPoP proof, replay, scopes, attestation rules) runs per request as for a new token. Bounded: the
 * oldest entry goes first.
 */
class VerifiedTokens {
  private readonly tokens = new Map<
    string,
    { keys: PublishedKeys; claims: VerifiedClaims; attestation?: ReturnType<typeof parseAuthorizationDetails> }
  >();

  get(key: string, keys: PublishedKeys) {
    const entry = this.tokens.get(key);
    return entry?.keys === keys ? entry : undefined;
  }

  set(key: string, keys: PublishedKeys, claims: VerifiedClaims) {
    if (this.tokens.size >= MAX_VERIFIED_TOKENS) this.tokens.delete(this.tokens.keys().next().value as string);
    const entry = { keys, claims: deepFreeze(claims) };
    this.tokens.set(key, entry);
    return entry;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** jose's time checks of a verified token (the same errors), by the sandbox clock `now`. */
function checkTokenTimes(claims: VerifiedClaims, now: Date): void {
  const nowS = Math.floor(now.getTime() / 1000);
  if (typeof claims.nbf === 'number' && claims.nbf > nowS + CLOCK_TOLERANCE_S)
    throw new errors.JWTClaimValidationFailed('"nbf" claim timestamp check failed', claims, 'nbf', 'check_failed');
  if (typeof claims.exp === 'number' && claims.exp <= nowS - CLOCK_TOLERANCE_S)
    throw new errors.JWTExpired('"exp" claim timestamp check failed', claims, 'exp', 'check_failed');
}

/** What the guard has verified so far of a request (res.locals.knownAccess): the access log of a rejection. */
export function knownAccessOf(res: Response): KnownAccess {
  return (
    res.locals.knownAccess ?? {
      sandbox: res.locals.sandbox.name,
      eventId: eventIdOf(res),
    }
  );
}

function eventIdOf(res: Response): string {
  res.locals.eventId ??= nhnHeader(res.req, 'event-id') ?? randomUUID();
  return res.locals.eventId;
}

/** Verifies a request's token, DPoP proof and attestation; answers its AccessContext or throws the rejection. */
export type AccessVerifier = (req: Request, res: Response) => Promise<AccessContext>;

export function accessVerifier(deps: GuardDependencies, options: GuardOptions): AccessVerifier {
  const publishedKeys = new PublishedKeyCache(deps.services);
  const verifiedTokens = new VerifiedTokens();
  return async (req: Request, res: Response) => {
    const sandbox = res.locals.sandbox;
    const eventId = eventIdOf(res);
    const issuer = deps.issuerOf(sandbox.name);
    const now = sandbox.clock.now();
    const authorization = req.headers.authorization ?? '';
    const match = /^(DPoP|Bearer)\s+(\S+)$/i.exec(authorization.trim());
    if (!match) {
      throw new FhirError(
        401,
        [
          {
            severity: 'error',
            code: 'login',
            navetCode: 'NAVET-TOKEN-MISSING',
            text: `Send an access token from ${issuer}: 'Authorization: DPoP <token>' with a DPoP proof header (or 'Bearer <token>' for clients registered without DPoP)`,
          },
        ],
        { 'WWW-Authenticate': CHALLENGE },
      );
    }
    const scheme = match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    const token = match[2];
    if (token.length > MAX_TOKEN_LENGTH)
      throw unauthorized(
        scheme,
        'invalid_token',
        'NAVET-TOKEN-TOO-LARGE',
        `The access token is longer than ${MAX_TOKEN_LENGTH} characters`,
      );
    const cacheKey = `${sandbox.name} ${token}`;
    let verified = verifiedTokens.get(cacheKey, await publishedKeys.get(sandbox.name, false));
    if (!verified) {
      try {
        const header = decodeProtectedHeader(token);
        if (header.alg !== SIGNING_ALG)
          throw unauthorized(
            scheme,
            'invalid_token',
            'NAVET-TOKEN-ALG',
            `The access token must be signed with ${SIGNING_ALG}; its alg is ${JSON.stringify(header.alg ?? null)}`,
          );
      } catch (error) {
        if (error instanceof FhirError) throw error;
        throw unauthorized(scheme, 'invalid_token', 'NAVET-TOKEN-MALFORMED', 'The access token is not a JWT');
      }
      const verify = async (fresh: boolean) => {
        const keys = await publishedKeys.get(sandbox.name, fresh);
        const { payload } = await jwtVerify(token, keys, {
          algorithms: [SIGNING_ALG],
          issuer,
          audience: options.audience,
          currentDate: now,
          typ: 'at+jwt',
          clockTolerance: CLOCK_TOLERANCE_S,
        });
        return verifiedTokens.set(cacheKey, keys, payload as VerifiedClaims);
      };
      try {
        try {
          verified = await verify(false);
        } catch (error) {
          // a key rotated by another Navet process: read the keys again once
          if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
          verified = await verify(true);
        }
      } catch (error) {
        throw tokenError(error, scheme, options.audience, issuer);
      }
    } else {
      try {
        checkTokenTimes(verified.claims, now);
      } catch (error) {
        throw tokenError(error, scheme, options.audience, issuer);
      }
    }
    const { claims } = verified;
    if (typeof claims.client_id !== 'string' || typeof claims[CLAIM.orgnrParent] !== 'string') {
      throw unauthorized(
        scheme,
        'invalid_token',
        'NAVET-TOKEN-CLIENT-CLAIMS',
        `The access token lacks HelseID's client claims (client_id, ${CLAIM.orgnrParent}); tokens from the token service always carry them`,
      );
    }
    res.locals.clientId = claims.client_id;
    const scopes = Array.isArray(claims.scope)
      ? (claims.scope as string[])
      : String(claims.scope ?? '')
          .split(' ')
          .filter(Boolean);
    const client: AccessContext['client'] = {
      clientId: String(claims.client_id),
      name: String(claims[CLAIM.clientName] ?? ''),
      orgnrParent: claims[CLAIM.orgnrParent] as string | undefined,
      orgnrChild: claims[CLAIM.orgnrChild] as string | undefined,
      orgnrSupplier: claims[CLAIM.orgnrSupplier] as string | undefined,
      tenancy: claims[CLAIM.clientTenancy] === 'multi-tenant' ? 'multi-tenant' : 'single-tenant',
    };
    const headers = { accessBasis: nhnHeader(req, 'access-basis'), sourceSystem: nhnHeader(req, 'source-system') };
    const known: KnownAccess = {
      sandbox: sandbox.name,
      eventId,
      client,
      scopes,
      audience: options.audience,
      tokenId: String(claims.jti),
      ...headers,
    };
    res.locals.knownAccess = known;

    const jkt = (claims.cnf as { jkt?: string } | undefined)?.jkt;
    if (jkt && scheme !== 'DPoP')
      throw unauthorized(
        'DPoP',
        'invalid_token',
        'NAVET-TOKEN-DPOP-BOUND',
        "This access token is DPoP-bound (cnf.jkt): send it as 'Authorization: DPoP <token>' with a DPoP proof",
      );
    if (!jkt && scheme === 'DPoP')
      throw unauthorized(
        'Bearer',
        'invalid_token',
        'NAVET-TOKEN-NOT-DPOP-BOUND',
        "This access token is not DPoP-bound: send it as 'Authorization: Bearer <token>'",
      );
    if (jkt) {
      try {
        await verifyDpopProof({
          sandbox: sandbox.name,
          proof: typeof req.headers.dpop === 'string' ? req.headers.dpop : undefined,
          method: req.method,
          url: `${deps.baseUrl}${requestPath(req)}`,
          now,
          accessToken: token,
          expectedJkt: jkt,
          replay: deps.services.state,
        });
      } catch (error) {
        if (error instanceof TrustError)
          throw unauthorized('DPoP', 'invalid_dpop_proof', error.code, error.description);
        throw error;
      }
    }

    if (!options.anyScope.some((s) => scopes.includes(s))) {
      const error = unauthorized(
        scheme,
        'insufficient_scope',
        'NAVET-TOKEN-SCOPE',
        `The access token lacks the scope this endpoint needs: one of ${options.anyScope.join(', ')}`,
      );
      throw new FhirError(
        403,
        error.issues.map((i) => ({ ...i, code: 'forbidden' })),
        error.headers,
      );
    }

    const pid = typeof claims[CLAIM.pid] === 'string' ? (claims[CLAIM.pid] as string) : undefined;
    const hprNumber = typeof claims[CLAIM.hprNumber] === 'string' ? (claims[CLAIM.hprNumber] as string) : undefined;
    const patientNin = options.patientNin?.(req);
    // in user flows the logged-in person is the practitioner; the attestation adds the rest
    const userPractitioner = (
      attested: Partial<AccessContext>,
    ): Pick<AccessContext, 'practitioner'> | Record<string, never> =>
      pid
        ? {
            practitioner: {
              ...attested.practitioner,
              pid,
              hprNumber: hprNumber ?? attested.practitioner?.hprNumber,
              name: String(claims.name ?? ''),
              authenticated: true,
            },
          }
        : {};
    res.locals.knownAccess = { ...known, ...userPractitioner({}) };
    let fromAttestation: Partial<AccessContext> = {};
    const attestationClaim = claims[CLAIM.attestation];
    if (attestationClaim === undefined && options.requireAttestation) {
      throw new FhirError(403, [
        {
          severity: 'error',
          code: 'forbidden',
          navetCode: 'NAVET-ATTESTATION-MISSING',
          text: 'This API requires the tillitsrammeverk attestation (nhn:tillitsrammeverk:parameters) in the access token: send it in assertion_details of the client assertion',
        },
      ]);
    }
    if (attestationClaim !== undefined) {
      verified.attestation ??= deepFreeze(parseAuthorizationDetails(attestationClaim, 'access token'));
      const { attestation } = verified.attestation;
      if (attestation) {
        const attestedPid = attestation.practitioner?.identifier?.id;
        // the registries as this sandbox's generation has them, read once per process
        const registry = deps.store.cachedReads();
        fromAttestation = accessContextFromAttestation(
          attestation,
          pid ? String(claims.name ?? '') || undefined : await practitionerName(registry, sandbox.name, attestedPid),
        );
        const violations = await checkAttestationRules(attestation, {
          sandbox: sandbox.name,
          store: registry,
          now,
          user: pid ? { pid, hprNumber } : undefined,
          patientNin,
          clientOrgnr: client.orgnrParent,
        });
        // a rejected attestation names no one in the access log: only what was verified (client, login) does
        if (violations.length > 0) {
          throw new FhirError(
            403,
            violations.map((v): OutcomeIssue => ({
              severity: 'error',
              code: 'forbidden',
              navetCode: v.rule,
              text: v.text,
              expression: [v.element],
            })),
          );
        }
        res.locals.knownAccess = { ...known, ...fromAttestation, ...userPractitioner(fromAttestation) };
      }
    }
    const access: AccessContext = {
      ...known,
      client,
      scopes,
      audience: options.audience,
      tokenType: jkt ? 'DPoP' : 'Bearer',
      ...fromAttestation,
      ...userPractitioner(fromAttestation),
      patient: { ...fromAttestation.patient, ...(patientNin ? { nin: patientNin } : {}) },
      eventId,
      tokenId: String(claims.jti),
      journalId: claims[CLAIM.journalId] as string | undefined,
    };
    res.locals.access = access;
    return access;
  };
}

/** The guard as middleware: res.locals.access holds the AccessContext for the handler. */
export function guard(deps: GuardDependencies, options: GuardOptions): RequestHandler {
  const verify = accessVerifier(deps, options);
  return async (req: Request, res: Response, next: NextFunction) => {
    await verify(req, res);
    next();
  };
}
