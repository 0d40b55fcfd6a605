import cluster, { type Worker } from 'node:cluster';
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
 * opens or changes any data) and starts the workers at once, so that they load while it migrates and seeds
 * the demo sandbox; they open the database when it tells them it is prepared.
 */
const STOP_GRACE_MS = 5000;
const WAITING = 'navet:waiting';
const PREPARED = 'navet:prepared';

/** A worker says it waits, then waits for the primary's word that the database is migrated and seeded. */
function preparedByPrimary(): Promise<void> {
  return new Promise((resolve) => {
    const heard = (message: unknown) => {
      if (message !== PREPARED) return;
      process.off('message', heard);
      resolve();
    };
    process.on('message', heard);
    process.send?.(WAITING);
  });
}

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
    await preparedByPrimary();
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
  let stopping = false;
  let prepared = false;
  const waiting: Worker[] = [];
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
    const worker = cluster.fork();
    // answered at once when the database is prepared, otherwise once it is
    worker.on('message', (message: unknown) => {
      if (message !== WAITING) return;
      if (prepared) worker.send(PREPARED);
      else waiting.push(worker);
    });
    return worker
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
  const workers = Array.from({ length: config.workers }, () => start());
  const listening = workers.map((worker) => new Promise((resolve) => worker.once('listening', resolve)));
  let summary: string;
  try {
    const navet = await createNavet(config);
    summary = await prepare(navet);
    await navet.close();
  } catch (error) {
    stopping = true;
    for (const worker of workers) worker.process.kill('SIGTERM');
    throw error;
  }
  probe.closeAllConnections();
  await new Promise((resolve) => probe.close(resolve));
  prepared = true;
  for (const worker of waiting) if (worker.isConnected()) worker.send(PREPARED);
  await Promise.all(listening);
  process.stdout.write(`${summary}\n${config.workers} worker processes\n`);
}
