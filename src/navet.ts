import type { Server } from 'node:http';
import { AccessLog } from './audit/access-log';
import { type AppContext, createApp } from './app';
import type { Config } from './config';
import { createLogger, type Logger } from './logger';
import { Sandboxes } from './sandbox/sandboxes';
import { serviceUrls } from './sandbox/service-urls';
import { openDatabase } from './store/database';
import { ReadCache } from './store/read-cache';
import { ResourceStore } from './store/resource-store';
import { syncDemoClients } from './trust/demo-clients';
import { createTrustServices } from './trust/trust-services';

/** Opens the database and builds Navet's parts; `listen` starts the HTTP server. */
export interface Navet extends AppContext {
  app: ReturnType<typeof createApp>;
  close(): Promise<void>;
}

export async function createNavet(config: Config, logger: Logger = createLogger(config.logLevel)): Promise<Navet> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const sandboxes = new Sandboxes(database, new ResourceStore(database.db, database.engine, new ReadCache()), config.fixturesDir);
  const context: AppContext = { config, database, sandboxes, trust: createTrustServices(database.db), accessLog: new AccessLog(sandboxes.store, logger), logger };
  return { ...context, app: createApp(context), close: () => database.close() };
}

/**
 * Makes sure the demo sandbox exists. Its admin key is NAVET_DEMO_ADMIN_KEY when set; otherwise a new
 * key is generated at every start (only a hash is stored) and returned so that it can be printed.
 */
export async function ensureDemoSandbox(navet: Navet): Promise<{ name: string; adminKey: string; created: boolean } | undefined> {
  const { config, sandboxes } = navet;
  if (!config.demoSandbox) return undefined;
  const existing = await sandboxes.find(config.demoSandbox);
  if (!existing) {
    try {
      const { adminKey } = await sandboxes.create({ name: config.demoSandbox, seed: 'fixtures', adminKey: config.demoAdminKey });
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

export function listen(navet: Navet): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = navet.app.listen(navet.config.port, navet.config.host, () => resolve(server));
    server.on('error', reject);
  });
}

export function startupSummary(navet: Navet, demo: { name: string; adminKey: string; created: boolean } | undefined): string {
  const { config, database } = navet;
  const lines = [
    `Navet listens on ${config.baseUrl} (${config.host}:${config.port})`,
    `Database: ${database.engine} at ${database.location}`,
    `Health: ${config.baseUrl}/healthz   Admin API: ${config.baseUrl}/api/sandboxes`,
  ];
  if (demo) {
    lines.push(`Sandbox '${demo.name}'${demo.created ? ' (seeded from fixtures now)' : ''}:`);
    for (const [service, url] of Object.entries(serviceUrls(config.baseUrl, demo.name))) lines.push(`  ${service.padEnd(20)} ${url}`);
    lines.push(`  admin key            ${demo.adminKey}${config.demoAdminKey ? ' (from NAVET_DEMO_ADMIN_KEY)' : ' (new at every start; set NAVET_DEMO_ADMIN_KEY to fix it)'}`);
  }
  return lines.join('\n');
}
