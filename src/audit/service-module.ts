import { type Kysely } from 'kysely';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { formBody } from '../http/form-body';
import { jsonBody } from '../http/json-body';
import type { SeedBuilder, Sandboxes } from '../sandbox/sandboxes';
import type { ResourceStore } from '../store/resource-store';
import type { Database } from '../store/schema';
import { accessVerifier, type AccessVerifier, guard, type GuardDependencies } from '../trust/guard';
import type { AccessLog } from './access-log';
import { type PatientDataEndpoint, type PatientDataHandler, patientDataRoute } from './patient-data-route';

/**
 * How a request's body is read: FHIR JSON (up to the configured body limit), plain JSON (64 kB), a form
 * (64 kB), nothing, or `lenient-json`: JSON also when labelled as a form (curl's default Content-Type).
 */
export type BodyKind = 'fhir' | 'json' | 'form' | 'none' | 'lenient-json';

/** What a service's endpoints are given: the guard's needs, the access log and the service's settings. */
export interface ServiceDependencies<S> extends GuardDependencies {
  accessLog: AccessLog;
  maxBody: string;
  settings: S;
}

/** An endpoint that returns or changes patient data: guarded, and every answer goes to the access log. */
export interface PatientDataServiceEndpoint<S, C> extends PatientDataEndpoint {
  patientData: true;
  body: BodyKind;
  /** The token needs at least one of these scopes (for the service's audience). */
  scopes: string[];
  /** Refuse tokens without an attestation (default true). */
  requireAttestation?: boolean;
  /** Instead of the HelseID guard (PPS's backdoor). */
  verify?: (deps: ServiceDependencies<S>) => AccessVerifier;
  /** Run after the body is read, before the guard. */
  before?: (deps: ServiceDependencies<S>) => RequestHandler[];
  handler: (context: C, ...rest: Parameters<PatientDataHandler>) => ReturnType<PatientDataHandler>;
}

/** An endpoint that serves no patient data (ping, metadata, a session): guarded only when it names scopes. */
export interface PlainServiceEndpoint {
  patientData: false;
  method: PatientDataEndpoint['method'];
  path: string;
  body: BodyKind;
  scopes?: string[];
  requireAttestation?: boolean;
  handler: (req: Request, res: Response, serviceBase: string) => void | Promise<void>;
}

export type ServiceEndpoint<S, C> = PatientDataServiceEndpoint<S, C> | PlainServiceEndpoint;

/** One service of a sandbox: where it lives, what it serves, what it seeds and its settings. */
export interface ServiceModule<S = undefined, C = unknown> {
  /** Its field in the service URLs. */
  key: 'pjd' | 'criticalInformation' | 'sfm' | 'pps';
  /** Its path below the sandbox's base URL. */
  base: string;
  /** The token audience its guarded endpoints need. */
  audience: string;
  endpoints: readonly ServiceEndpoint<S, C>[];
  /** What a patient-data handler is given, per request. */
  context: (
    deps: ServiceDependencies<S>,
    serviceBase: string,
    endpoint: PatientDataServiceEndpoint<S, C>,
    store: ResourceStore,
  ) => C;
  /** Rewrites a request's URL before routing (the paths as NHN's pages write them). */
  rewriteUrl?: (url: string) => string;
  seed?: SeedBuilder;
  /** Its settings store and admin API, at `/api/sandboxes/<name>/settings/<path>`. */
  settings?: { path: string; store: (db: Kysely<Database>) => S; api: (sandboxes: Sandboxes, store: S) => Router };
}

/** A list of services of different settings and contexts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyServiceModule = ServiceModule<any, any>;

/** Declares a service, keeping its settings and context types together. */
export function defineService<S, C>(module: ServiceModule<S, C>): ServiceModule<S, C> {
  return module;
}

/** The patient-data endpoints of a service: each writes the access log. */
export function patientDataEndpoints(module: AnyServiceModule): PatientDataEndpoint[] {
  return module.endpoints.filter((endpoint) => endpoint.patientData);
}

function bodyParser(kind: BodyKind, maxBody: string): RequestHandler[] {
  switch (kind) {
    case 'fhir':
      return [jsonBody({ limit: maxBody, type: ['application/fhir+json', 'application/json'] })];
    case 'json':
      return [jsonBody({ limit: '64kb', type: ['application/json', 'application/fhir+json'] })];
    case 'lenient-json':
      return [
        jsonBody({
          limit: maxBody,
          type: ['application/fhir+json', 'application/json', 'application/x-www-form-urlencoded'],
        }),
      ];
    case 'form':
      return formBody('64kb');
    case 'none':
      return [];
  }
}

/** The router of one service: each endpoint with its body parser, guard and (for patient data) access log. */
export function mountService<S, C>(
  module: ServiceModule<S, C>,
  deps: ServiceDependencies<S>,
  serviceBaseOf: (sandbox: string) => string,
): Router {
  const router = Router();
  const { rewriteUrl } = module;
  if (rewriteUrl)
    router.use((req, _res, next) => {
      req.url = rewriteUrl(req.url);
      next();
    });
  const baseOf = (res: Response) => serviceBaseOf(res.locals.sandbox.name);
  for (const endpoint of module.endpoints) {
    const body = bodyParser(endpoint.body, deps.maxBody);
    if (!endpoint.patientData) {
      const checks = endpoint.scopes
        ? [
            guard(deps, {
              audience: module.audience,
              anyScope: endpoint.scopes,
              ...(endpoint.requireAttestation ? { requireAttestation: true } : {}),
            }),
          ]
        : [];
      router[endpoint.method](endpoint.path, ...body, ...checks, (req: Request, res: Response) =>
        endpoint.handler(req, res, baseOf(res)),
      );
      continue;
    }
    const verify = endpoint.verify
      ? endpoint.verify(deps)
      : accessVerifier(deps, {
          audience: module.audience,
          anyScope: endpoint.scopes,
          requireAttestation: endpoint.requireAttestation ?? true,
          patientNin: endpoint.patientNin,
        });
    router[endpoint.method](
      endpoint.path,
      ...body,
      ...(endpoint.before?.(deps) ?? []),
      patientDataRoute({ accessLog: deps.accessLog, verify, store: deps.store }, endpoint, (req, res, access, store) =>
        endpoint.handler(module.context(deps, baseOf(res), endpoint, store), req, res, access, store),
      ),
    );
  }
  return router;
}
