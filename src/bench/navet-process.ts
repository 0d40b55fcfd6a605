import { availableParallelism } from 'node:os';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Runs Navet as its own process (as users run it), so that the load generator does not share its event loop. */
export interface NavetProcess {
  origin: string;
  engine: string;
  /** The process id, for reading its memory. */
  pid: number;
  /** From spawning the process to its first healthy answer. */
  startMs: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function startNavetProcess(
  engine: { name: string; databaseUrl?: string },
  env: Record<string, string> = {},
): Promise<NavetProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'navet-bench-'));
  const started = process.hrtime.bigint();
  const origin = `http://127.0.0.1:${port}`;
  // a 10,000 × 20-document sandbox is built in memory before it is written: give the heap room
  const child: ChildProcess = spawn(
    process.execPath,
    [
      `--max-old-space-size=${Number(process.env.NAVET_BENCH_HEAP_MB ?? 8192)}`,
      ...(process.env.NAVET_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      path.join(__dirname, '..', 'main.js'),
      'serve',
    ],
    {
      env: {
        ...process.env,
        NAVET_BASE_URL: origin,
        PORT: String(port),
        HOST: '127.0.0.1',
        NAVET_DATA_DIR: dataDir,
        DATABASE_URL: engine.databaseUrl ?? '',
        NAVET_DEMO_SANDBOX: '',
        NAVET_LOG_LEVEL: 'warn',
        NAVET_WORKERS: process.env.NAVET_WORKERS ?? String(availableParallelism()),
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 6000 || child.exitCode !== null) throw new Error('Navet did not start');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const startMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    origin,
    engine: engine.name,
    pid: child.pid as number,
    startMs,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
