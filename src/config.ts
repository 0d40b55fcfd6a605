import { availableParallelism } from 'node:os';
import path from 'node:path';

/** Navet's whole configuration, read from the environment. Defaults work on a fresh machine. */
export interface Config {
  /** PORT: the HTTP port. */
  port: number;
  /** HOST: the interface to listen on. */
  host: string;
  /** NAVET_BASE_URL: the public URL of this Navet (used in service URLs, issuers and links). */
  baseUrl: string;
  /** NAVET_DATA_DIR: where the embedded SQLite database lives. */
  dataDir: string;
  /** DATABASE_URL: postgres://… to run on PostgreSQL instead of SQLite. */
  databaseUrl?: string;
  /** NAVET_FIXTURES_DIR: the fixtures the `fixtures` seed is built from. */
  fixturesDir: string;
  /** NAVET_DEMO_SANDBOX: name of the sandbox seeded on first start ("" for none). */
  demoSandbox: string;
  /** NAVET_DEMO_ADMIN_KEY: the demo sandbox's admin key; generated and printed at start when unset. */
  demoAdminKey?: string;
  /** NAVET_OPERATOR_KEY: when set, creating and listing sandboxes requires it as a Bearer token. */
  operatorKey?: string;
  /**
   * NAVET_OPEN_CREATIONS_PER_MINUTE: without an operator key, how many seeded sandboxes one client
   * (IP address) may create a minute.
   */
  openCreationsPerMinute: number;
  /** NAVET_MAX_BODY: the largest request body accepted (bytes, or e.g. "5mb"). */
  maxBody: string;
  /** NAVET_LOG_LEVEL: pino level (trace, debug, info, warn, error, silent). */
  logLevel: string;
  /**
   * NAVET_WORKERS: how many processes `navet serve` runs on the one port and database (default: one per core).
   * Nothing that matters lives in one process, so any of them answers any request.
   */
  workers: number;
  /** NAVET_DASHBOARD_DIR: the built web dashboard served at / (`npm run build` writes it). */
  dashboardDir: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const port = Number(env.PORT ?? 8080);
  const config: Config = {
    port,
    host: env.HOST ?? '0.0.0.0',
    baseUrl: (env.NAVET_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    dataDir: path.resolve(env.NAVET_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    fixturesDir: path.resolve(env.NAVET_FIXTURES_DIR ?? path.join(__dirname, '..', 'fixtures', 'demo')),
    demoSandbox: env.NAVET_DEMO_SANDBOX ?? 'demo',
    demoAdminKey: env.NAVET_DEMO_ADMIN_KEY || undefined,
    operatorKey: env.NAVET_OPERATOR_KEY || undefined,
    openCreationsPerMinute: Number(env.NAVET_OPEN_CREATIONS_PER_MINUTE ?? 10),
    maxBody: env.NAVET_MAX_BODY ?? '5mb',
    logLevel: env.NAVET_LOG_LEVEL ?? 'info',
    workers: Number(env.NAVET_WORKERS || Math.min(availableParallelism(), 64)),
    dashboardDir: path.resolve(env.NAVET_DASHBOARD_DIR ?? path.join(__dirname, '..', 'dist', 'dashboard')),
    ...overrides,
  };
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535)
    throw new Error(`PORT must be a port number; got ${env.PORT}`);
  if (!Number.isInteger(config.openCreationsPerMinute) || config.openCreationsPerMinute < 1) {
    throw new Error(
      `NAVET_OPEN_CREATIONS_PER_MINUTE must be a whole number from 1; got ${env.NAVET_OPEN_CREATIONS_PER_MINUTE}`,
    );
  }
  if (!Number.isInteger(config.workers) || config.workers < 1 || config.workers > 64)
    throw new Error(`NAVET_WORKERS must be a whole number from 1 to 64; got ${env.NAVET_WORKERS}`);
  return config;
}
