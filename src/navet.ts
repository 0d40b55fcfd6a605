import type { Server } from 'node:http';
import { AccessLog } from './audit/access-log';
import { type AppContext, createApp } from './app';
import type { Config } from './config';
import { createLogger, type Logger } from './logger';
import { generateAdminKey } from './sandbox/admin-keys';
import { SandboxJobs } from './sandbox/sandbox-jobs';
import { Sandboxes } from './sandbox/sandboxes';
import { createHttpServer } from './http/http-server';
import { serviceUrls } from './sandbox/service-urls';
import { openDatabase } from './store/database';
import { ReadCache } from './store/read-cache';
import { ResourceStore } from './store/resource-store';
import { syncDemoClients } from './trust/demo-clients';
import { createTrustServices } from './trust/trust-services';
import { SANDBOX_SEEDING } from './services/seeders';
import { SERVICES } from './services/services';
import { NavetError } from './codes/navet-error';

/** Opens the database and builds Navet's parts; `listen` starts the HTTP server. */
export interface Navet extends AppContext {
  app: ReturnType<typeof createApp>;
  close(): Promise<void>;
}

export async function createNavet(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<Navet> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const sandboxes = new Sandboxes(
    database,
    new ResourceStore(database.db, database.engine, new ReadCache()),
    config.fixturesDir,
    SANDBOX_SEEDING,
  );
  const jobs = new SandboxJobs({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    fixturesDir: config.fixturesDir,
  });
  const context: AppContext = {
    config,
    database,
    sandboxes,
    trust: createTrustServices(database.db),
    accessLog: new AccessLog(sandboxes.store, logger),
    logger,
    jobs,
  };
  return {
    ...context,
    app: createApp(context),
    close: async () => {
      await jobs.close();
      await database.close();
    },
  };
}

/**
 * Makes sure the demo sandbox exists. Its admin key is NAVET_DEMO_ADMIN_KEY when set; otherwise a new
 * key is generated at every start (only a hash is stored) and returned so that it can be printed.
 */
export async function ensureDemoSandbox(
  navet: Navet,
): Promise<{ name: string; adminKey: string; created: boolean } | undefined> {
  const { config, sandboxes } = navet;
  if (!config.demoSandbox) return undefined;
  const existing = await sandboxes.find(config.demoSandbox);
  if (!existing) {
    try {
      // built in the worker, so that a server already listening goes on answering
      const adminKey = config.demoAdminKey ?? generateAdminKey();
      await navet.jobs.create({ name: config.demoSandbox, seed: 'fixtures', adminKey });
      return { name: config.demoSandbox, adminKey, created: true };
    } catch (error) {
      // another Navet process sharing the database created it at the same moment
      if (!(await sandboxes.find(config.demoSandbox))) throw error;
    }
  }
  await syncDemoClients(navet.trust.clients, config.demoSandbox, config.fixturesDir);
  const adminKey = await sandboxes.setAdminKey(config.demoSandbox, config.demoAdminKey);
  return { name: config.demoSandbox, adminKey, created: false };
}

/** Queues the purges that deleted sandboxes still need (a server stopped while one ran); they run in the worker. */
export async function resumePurges(navet: Navet): Promise<void> {
  for (const name of await navet.sandboxes.pendingPurges()) navet.jobs.purge(name).catch(() => undefined);
}

/** Listens on the configured port; a port in use is refused before anything else happens. */
export function listen(navet: Navet): Promise<Server> {
  return listenOn(createHttpServer(navet.app), navet.config);
}

export class PortInUseError extends NavetError {
  static override readonly code = 'NAVET-PORT-IN-USE';
}

export function listenOn(server: Server, config: Pick<Config, 'port' | 'host' | 'baseUrl'>): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new PortInUseError(
            `Port ${config.port} on ${config.host} is in use: another Navet (see ${config.baseUrl}/healthz) or another program listens there. Nothing was started or changed. Stop it, or start this one on another port, e.g. PORT=${config.port + 1} npm start`,
          ),
        );
      } else reject(error);
    });
    server.listen(config.port, config.host, () => resolve(server));
  });
}

export function startupSummary(
  navet: Navet,
  demo: { name: string; adminKey: string; created: boolean } | undefined,
): string {
  const { config, database } = navet;
  const lines = [
    `Navet listens on ${config.baseUrl} (${config.host}:${config.port})`,
    `Database: ${database.engine} at ${database.location}`,
    `Health: ${config.baseUrl}/healthz   Admin API: ${config.baseUrl}/api/sandboxes`,
  ];
  if (demo) {
    lines.push(`Sandbox '${demo.name}'${demo.created ? ' (seeded from fixtures now)' : ''}:`);
    for (const [service, url] of Object.entries(serviceUrls(config.baseUrl, demo.name, SERVICES)))
      lines.push(`  ${service.padEnd(20)} ${url}`);
    lines.push(
      `  admin key            ${demo.adminKey}${config.demoAdminKey ? ' (from NAVET_DEMO_ADMIN_KEY)' : ' (new at every start; set NAVET_DEMO_ADMIN_KEY to fix it)'}`,
    );
  }
  return lines.join('\n');
}
