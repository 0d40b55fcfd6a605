import express, { type Express, type NextFunction, type Request, type Response, Router } from 'express';
import type { AccessLog } from './audit/access-log';
import { auditSearchApi } from './audit/audit-search-api';
import { citizenRouter } from './citizen/citizen-router';
import type { Config } from './config';
import type { FhirContext } from './fhir/fhir-operations';
import { notFound, operationOutcome } from './fhir/operation-outcome';
import { fhirRestApi } from './http/fhir-rest-api';
import { allowedMethods } from './http/allowed-methods';
import { errorHandler } from './http/error-handler';
import { sendFhir } from './http/fhir-json';
import { requestLog } from './http/request-log';
import type { Logger } from './logger';
import { assertAdminKey } from './sandbox/admin-auth';
import { sandboxApi } from './sandbox/sandbox-api';
import { BackgroundTasks } from './store/background-tasks';
import type { SandboxJobs } from './sandbox/sandbox-jobs';
import { mountScenarioApis } from './scenarios/routes';
import type { Sandbox, Sandboxes } from './sandbox/sandboxes';
import { sandboxUrl } from './sandbox/service-urls';
import { mountService } from './audit/service-module';
import { SERVICES } from './services/services';
import { databaseIsReachable, type DatabaseHandle } from './store/database';
import { conformanceSessionApi, requirementsApi } from './conformance/conformance-api';
import { Recorder } from './conformance/recorder';
import { SessionStore } from './conformance/session-store';
import { clientApi } from './trust/client-api';
import type { GuardDependencies } from './trust/guard';
import { helseIdRouter } from './trust/helseid-router';
import { authorizeEndpoint } from './trust/authorize-endpoint';
import { parEndpoint } from './trust/par-endpoint';
import { signingKeyApi } from './trust/signing-key-api';
import { testTokenService } from './trust/test-token-service';
import { authorizationCodeGrant, refreshTokenGrant, tokenExchangeGrant } from './trust/user-grants';
import type { TrustServices } from './trust/trust-services';
import { dashboardRouter } from './ui/dashboard-router';

/** Everything the HTTP layer needs; built by `startNavet` (or by tests). */
export interface AppContext {
  config: Config;
  database: DatabaseHandle;
  sandboxes: Sandboxes;
  trust: TrustServices;
  /** The access log every service writes before it returns patient data. */
  accessLog: AccessLog;
  logger: Logger;
  /** The worker thread that builds seeds and purges deleted sandboxes. */
  jobs: SandboxJobs;
}

/** The longest URL (path and query) Navet reads. */
export const MAX_URL_LENGTH = 8192;

/** Resource types only Navet itself writes (the access log is append-only). */
export const READ_ONLY_TYPES: ReadonlySet<string> = new Set(['AuditEvent']);

function sandboxOf(res: Response): Sandbox {
  return res.locals.sandbox;
}

/** Builds the express app. It never listens by itself. */
export function createApp(context: AppContext): Express {
  const { config, sandboxes, logger } = context;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(requestLog(logger));
  app.use((req, res, next) => {
    if (req.originalUrl.length <= MAX_URL_LENGTH) return next();
    sendFhir(
      req,
      res,
      414,
      operationOutcome([
        {
          severity: 'error',
          code: 'too-costly',
          navetCode: 'NAVET-URL-TOO-LONG',
          text: `The URL is ${req.originalUrl.length} characters long; at most ${MAX_URL_LENGTH}. Send a long search as POST <type>/_search with a form body`,
        },
      ]),
    );
  });

  app.get('/healthz', async (_req, res) => {
    const ok = await databaseIsReachable(context.database.db);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'database unreachable', engine: context.database.engine });
  });

  app.use(dashboardRouter(config.dashboardDir));
  const recorder = new Recorder(new SessionStore(context.database.db), logger);
  app.use('/api/conformance', requirementsApi());
  app.use('/api/sandboxes/:name/conformance/sessions', conformanceSessionApi(sandboxes, recorder, config.baseUrl));
  app.use('/api/sandboxes/:name/clients', clientApi(sandboxes, context.trust.clients, config.maxBody));
  const serviceSettings = new Map(SERVICES.map((service) => [service, service.settings?.store(context.database.db)]));
  for (const service of SERVICES)
    if (service.settings)
      app.use(
        `/api/sandboxes/:name/settings/${service.settings.path}`,
        service.settings.api(sandboxes, serviceSettings.get(service)),
      );
  app.use('/api/sandboxes/:name/audit', auditSearchApi(sandboxes, config.baseUrl));
  app.use('/api/sandboxes/:name/signing-keys', signingKeyApi(sandboxes, context.trust.keys));
  const tasks = new BackgroundTasks(context.database);
  mountScenarioApis(app, config, sandboxes, tasks, READ_ONLY_TYPES);
  app.use(
    '/api/sandboxes',
    sandboxApi(sandboxes, {
      baseUrl: config.baseUrl,
      services: SERVICES,
      operatorKey: config.operatorKey,
      maxBody: config.maxBody,
      openCreationsPerMinute: config.openCreationsPerMinute,
      jobs: context.jobs,
      tasks,
      database: context.database,
    }),
  );

  const perSandbox = Router({ mergeParams: true });
  perSandbox.use(async (req: Request<{ sandbox: string }>, res: Response, next: NextFunction) => {
    const sandbox = await sandboxes.find(req.params.sandbox);
    if (!sandbox) throw notFound('NAVET-SANDBOX-NOT-FOUND', `There is no sandbox named '${req.params.sandbox}'`);
    res.locals.sandbox = sandbox;
    res.locals.sandboxName = sandbox.name;
    next();
  });
  perSandbox.use(recorder.middleware());

  const fhirContext = (res: Response): FhirContext => {
    const sandbox = sandboxOf(res);
    return {
      sandbox: sandbox.name,
      store: sandboxes.store,
      now: () => sandbox.clock.now().toISOString(),
      baseUrl: sandboxUrl(config.baseUrl, sandbox.name, 'fhir'),
      readOnlyTypes: READ_ONLY_TYPES,
    };
  };
  perSandbox.use(
    '/fhir',
    (req, res, next) => {
      assertAdminKey(req, sandboxes, sandboxOf(res));
      next();
    },
    fhirRestApi(fhirContext, config.maxBody),
  );
  const issuerOf = (sandbox: string) => sandboxUrl(config.baseUrl, sandbox, 'helseid');
  const guardDependencies: GuardDependencies = {
    services: context.trust,
    store: sandboxes.store,
    issuerOf,
    baseUrl: config.baseUrl,
  };
  const testTokens = testTokenService({ services: context.trust, sandboxes, store: sandboxes.store, issuerOf });
  perSandbox.use(
    '/helseid',
    helseIdRouter({
      services: context.trust,
      issuerOf,
      grants: {
        authorization_code: authorizationCodeGrant(sandboxes.store),
        refresh_token: refreshTokenGrant(sandboxes.store),
        'urn:ietf:params:oauth:grant-type:token-exchange': tokenExchangeGrant(sandboxes.store),
      },
      extend: (router) => {
        router.use(parEndpoint(context.trust, issuerOf));
        router.use(authorizeEndpoint(context.trust, sandboxes.store, issuerOf));
        router.use(testTokens);
      },
    }),
  );
  perSandbox.use(
    '/citizen',
    citizenRouter({ ...guardDependencies, citizenUrl: (sandbox) => sandboxUrl(config.baseUrl, sandbox, 'citizen') }),
  );
  for (const service of SERVICES)
    perSandbox.use(
      `/${service.base}`,
      mountService(
        service,
        {
          ...guardDependencies,
          accessLog: context.accessLog,
          settings: serviceSettings.get(service),
          maxBody: config.maxBody,
        },
        (sandbox) => sandboxUrl(config.baseUrl, sandbox, service.base),
      ),
    );
  app.use('/sandboxes/:sandbox', perSandbox);

  app.use((req, res) => {
    const allowed = allowedMethods(app.router, req.path);
    if (allowed.length > 0 && !allowed.includes(req.method)) {
      res.setHeader('Allow', allowed.join(', '));
      sendFhir(
        req,
        res,
        405,
        operationOutcome([
          {
            severity: 'error',
            code: 'not-supported',
            navetCode: 'NAVET-METHOD-NOT-ALLOWED',
            text: `${req.method} is not allowed at ${req.path}; use ${allowed.join(', ')}`,
          },
        ]),
      );
      return;
    }
    if (req.path.startsWith('/api/')) {
      sendFhir(
        req,
        res,
        404,
        operationOutcome([
          {
            severity: 'error',
            code: 'not-found',
            navetCode: 'NAVET-NO-SUCH-PATH',
            text: `No admin endpoint ${req.method} ${req.path}; the admin API is described in the README (Sandboxes)`,
          },
        ]),
      );
      return;
    }
    sendFhir(
      req,
      res,
      404,
      operationOutcome([
        {
          severity: 'error',
          code: 'not-found',
          navetCode: 'NAVET-NO-SUCH-PATH',
          text: `Nothing is served at ${req.method} ${req.path}; sandbox services live under /sandboxes/<name>/…, the admin API under /api/sandboxes`,
        },
      ]),
    );
  });
  app.use(errorHandler(logger));
  return app;
}
