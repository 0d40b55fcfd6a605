import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { Config } from './config';
import { createHttpServer } from './http/http-server';
import { createNavet, ensureDemoSandbox, listenOn, type Navet, resumePurges, startupSummary } from './navet';
import { recordServerInfo } from './sandbox/server-info';

/**
 * `navet serve`: NAVET_WORKERS processes (default one per core) listening on one port, all on the same
 * database. Nothing that matters lives in a process: replay caches, codes, keys, clocks and sandboxes
 * are in the database, and each process's read cache is checked against the sandbox's generation on
 * every request. The first process takes the port first (a second `navet serve` stops there, before it
 * opens or changes any data), migrates and seeds the demo sandbox, then starts the workers.
 */
const STOP_GRACE_MS = 5000;

function stopOnSignal(stop: () => void): void {
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Prepares the database once: the demo sandbox and the running server's URLs (for the CLI). */
async function prepare(navet: Navet): Promise<string> {
  const demo = await ensureDemoSandbox(navet);
  await resumePurges(navet);
  await recordServerInfo(navet.database.db, { baseUrl: navet.config.baseUrl, startedAt: new Date().toISOString() });
  return startupSummary(navet, demo);
}

/**
 * One process. Alone, it listens at once (503 while starting), so a second `navet serve` fails before
 * touching data; as a cluster worker it listens only when ready, since the primary sends connections to
 * every worker that listens.
 */
async function serveHere(config: Config, alone: boolean): Promise<Server> {
  let handler: Parameters<typeof createHttpServer>[0] | undefined = (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' }).end('{"status":"starting"}');
  };
  const listening = alone
    ? await listenOn(
        createHttpServer((req, res) => handler?.(req, res)),
        config,
      )
    : undefined;
  const navet = await createNavet(config);
  handler = navet.app;
  const server = listening ?? (await listenOn(createHttpServer(navet.app), config));
  if (alone) process.stdout.write(`${await prepare(navet)}\n`);
  stopOnSignal(() => {
    server.close(() => void navet.close().then(() => process.exit(0)));
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
  });
  return server;
}

export async function serve(config: Config): Promise<void> {
  if (cluster.isWorker) {
    await serveHere(config, false);
    return;
  }
  if (config.workers <= 1) {
    await serveHere(config, true);
    return;
  }
  // the port is held while the database is prepared, so a second `navet serve` stops before touching it
  const probe = await listenOn(
    createHttpServer((_req, res) => res.writeHead(503, { 'Retry-After': '1' }).end()),
    config,
  );
  const navet = await createNavet(config);
  const summary = await prepare(navet);
  await navet.close();
  probe.closeAllConnections();
  await new Promise((resolve) => probe.close(resolve));
  let stopping = false;
  // a stop while workers still start stops them too
  stopOnSignal(() => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    const exited = () => Object.keys(cluster.workers ?? {}).length === 0 && process.exit(0);
    cluster.on('exit', exited);
    exited();
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
  });
  const start = () => {
    let listened = false;
    return cluster
      .fork()
      .once('listening', () => {
        listened = true;
      })
      .on('exit', (code) => {
        if (stopping) return;
        if (!listened) {
          // a worker that cannot start would fail again: stop instead of looping
          process.stderr.write(`navet: a worker failed to start (code ${code})\n`);
          process.exit(1);
        }
        process.stderr.write(`navet: a worker exited (code ${code}); starting another\n`);
        start();
      });
  };
  const listening = Array.from(
    { length: config.workers },
    () => new Promise((resolve) => start().once('listening', resolve)),
  );
  await Promise.all(listening);
  process.stdout.write(`${summary}\n${config.workers} worker processes\n`);
}
