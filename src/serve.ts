import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { Config } from './config';
import { createNavet, ensureDemoSandbox, listen, type Navet, startupSummary } from './navet';

/**
 * `navet serve`: NAVET_WORKERS processes (default one per core) listening on one port, all on the same
 * database. Nothing that matters lives in a process: replay caches, codes, keys, clocks and sandboxes
 * are in the database, and each process's read cache is checked against the sandbox's generation on
 * every request. The first process migrates and seeds the demo sandbox, then starts the workers.
 */
const STOP_GRACE_MS = 5000;

function stopOnSignal(stop: () => void): void {
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function serveHere(config: Config, summary?: (navet: Navet) => Promise<string>): Promise<Server> {
  const navet = await createNavet(config);
  const server = await listen(navet);
  if (summary) process.stdout.write(`${await summary(navet)}\n`);
  stopOnSignal(() => {
    server.close(() => void navet.close().then(() => process.exit(0)));
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
  });
  return server;
}

export async function serve(config: Config): Promise<void> {
  if (cluster.isWorker) {
    await serveHere(config);
    return;
  }
  if (config.workers <= 1) {
    await serveHere(config, async (navet) => startupSummary(navet, await ensureDemoSandbox(navet)));
    return;
  }
  const navet = await createNavet(config);
  const demo = await ensureDemoSandbox(navet);
  const summary = startupSummary(navet, demo);
  await navet.close();
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
    return cluster.fork().once('listening', () => { listened = true; }).on('exit', (code) => {
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
  const listening = Array.from({ length: config.workers }, () => new Promise((resolve) => start().once('listening', resolve)));
  await Promise.all(listening);
  process.stdout.write(`${summary}\n${config.workers} worker processes\n`);
}
