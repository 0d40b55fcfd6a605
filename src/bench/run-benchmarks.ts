import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createBenchSandbox, LOAD_CASES } from './guarded-reads';
import { type LifecycleFigures, lifecycleBenchmarks, seedFigure } from './lifecycle';
import { formatLoadTable, type LoadFigure, measureLoadCase } from './load-table';
import { type TimingResult } from './measure';
import { startNavetProcess } from './navet-process';
import { runDetailSuites } from './detail-suites';
import { callJson } from './pjd-benchmarks';

/**
 * `npm run bench`: the issue's table, on SQLite and on PostgreSQL when NAVET_BENCH_DATABASE_URL (or
 * DATABASE_URL) is set. Every load figure is the median of NAVET_BENCH_ROUNDS (5) rounds of
 * NAVET_BENCH_REQUESTS (1000) requests at NAVET_BENCH_CONNECTIONS (32), beside a bare node:http server
 * answering the same bytes in the same run. Results go to stdout and bench-results/latest.json.
 *   NAVET_BENCH_CASES      substrings of the load cases to run (comma-separated; default all)
 *   NAVET_BENCH_PATIENTS   synthetic patients of the load cases' sandbox (1000)
 *   NAVET_BENCH_LIFECYCLE  sandbox sizes for reset/snapshot/restore/delete ("1000,10000"; "" for none)
 *   NAVET_BENCH_VOLUME=1   also seed the 10,000 × 50 lab-report sandbox (slow)
 *   NAVET_BENCH_ENGINES    which of sqlite,postgres to measure (default both)
 *   NAVET_BENCH_SUITES     the older per-service suites instead (fhir, pjd, kj, pps, trust)
 */
const env = process.env;
const rounds = Number(env.NAVET_BENCH_ROUNDS ?? 5);
const requests = Number(env.NAVET_BENCH_REQUESTS ?? 1000);
const connections = Number(env.NAVET_BENCH_CONNECTIONS ?? 32);
const patients = Number(env.NAVET_BENCH_PATIENTS ?? 1000);
const lifecycleSizes = (env.NAVET_BENCH_LIFECYCLE ?? '1000,10000').split(',').filter(Boolean).map(Number);
const caseFilter = (env.NAVET_BENCH_CASES ?? '')
  .split(',')
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);

interface TimingFigure extends TimingResult {
  target: string;
  met: boolean;
}

function timingFigure(t: TimingResult, targetMs: number): TimingFigure {
  return { ...t, target: `≤ ${targetMs} ms`, met: t.ms.median <= targetMs };
}

async function startupFigure(engine: { name: string; databaseUrl?: string }): Promise<TimingResult> {
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const navet = await startNavetProcess(engine);
    samples.push(navet.startMs);
    await navet.stop();
  }
  samples.sort((a, b) => a - b);
  const r = (n: number) => Math.round(n);
  return {
    name: 'start to healthy',
    engine: engine.name,
    runs: rounds,
    ms: { median: r(samples[Math.floor(samples.length / 2)]), min: r(samples[0]), max: r(samples[samples.length - 1]) },
  };
}

async function main(): Promise<void> {
  const postgresUrl = env.NAVET_BENCH_DATABASE_URL ?? env.DATABASE_URL;
  const only = (env.NAVET_BENCH_ENGINES ?? 'sqlite,postgres').split(',');
  const engines: { name: string; databaseUrl?: string }[] = [
    { name: 'sqlite' },
    ...(postgresUrl ? [{ name: 'postgres', databaseUrl: postgresUrl }] : []),
  ].filter((e) => only.includes(e.name));
  if (!postgresUrl)
    process.stdout.write('PostgreSQL skipped: set NAVET_BENCH_DATABASE_URL=postgres://… to measure it too\n');
  if (env.NAVET_BENCH_SUITES)
    return runDetailSuites(
      engines,
      env.NAVET_BENCH_SUITES.split(',').map((s) => s.trim()),
    );
  const cases = LOAD_CASES.filter(
    (c) => caseFilter.length === 0 || caseFilter.some((f) => c.name.toLowerCase().includes(f)),
  );
  const loads: LoadFigure[] = [];
  const timings: TimingFigure[] = [];
  const seeds: LifecycleFigures['seedRates'] = [];
  for (const engine of engines) {
    timings.push(timingFigure(await startupFigure(engine), 2000));
    const navet = await startNavetProcess(engine);
    try {
      if (cases.length > 0) {
        process.stdout.write(`[${engine.name}] seeding the load cases' sandbox (${patients} patients)…\n`);
        const sandbox = await createBenchSandbox(navet.origin, patients);
        for (const loadCase of cases) {
          process.stdout.write(
            `[${engine.name}] ${loadCase.name}: ${rounds} rounds of ${requests} requests at ${connections} connections…\n`,
          );
          const figure = await measureLoadCase(navet, sandbox, loadCase, { rounds, requests, connections });
          process.stdout.write(`${formatLoadTable([figure]).split('\n')[2]}\n`);
          loads.push(figure);
        }
        await callJson('DELETE', `${navet.origin}/api/sandboxes/${sandbox.name}`, undefined, {
          Authorization: `Bearer ${sandbox.adminKey}`,
        });
      }
      const lifecycle = await lifecycleBenchmarks(navet, lifecycleSizes, rounds);
      seeds.push(...lifecycle.seedRates);
      for (const t of lifecycle.timings) timings.push(timingFigure(t, t.name.startsWith('delete') ? 2000 : 50));
      if (env.NAVET_BENCH_VOLUME === '1') {
        process.stdout.write(`[${engine.name}] seeding 10,000 patients × 50 lab reports…\n`);
        const volume = await seedFigure(navet, 'seed 10,000 patients × 50 lab reports', {
          syntheticPatients: 10000,
          labReportsPerPatient: 50,
          documentsPerPatient: 0,
        });
        seeds.push(volume.figure);
        await callJson('DELETE', `${navet.origin}/api/sandboxes/${volume.name}`, undefined, {
          Authorization: `Bearer ${volume.adminKey}`,
        });
      }
    } finally {
      await navet.stop();
    }
  }
  const report = [
    '',
    `== Load: median of ${rounds} rounds (min–max) of ${requests} requests at ${connections} connections; ratio = Navet ÷ bare node:http answering the same bytes, same run`,
    formatLoadTable(loads),
    '',
    `== Lifecycle: median of ${rounds} (min–max); writes are PUTs of patients through the FHIR API before each run`,
    '| operation | engine | ms | target |',
    '|---|---|---|---|',
    ...timings.map(
      (t) =>
        `| ${t.name} | ${t.engine} | ${t.ms.median} (${t.ms.min}–${t.ms.max}) | ${t.target} ${t.met ? 'met' : `missed: ${Math.round((t.ms.median / Number(t.target.replace(/\D/g, ''))) * 10) / 10}× the target`} |`,
    ),
    '',
    '== Seeding',
    '| sandbox | engine | resources | seconds | resources/s (target ≥ 10,000) | peak RSS MB (target ≤ 1024) |',
    '|---|---|---|---|---|---|',
    ...seeds.map(
      (s) =>
        `| ${s.name} | ${s.engine} | ${s.resources} | ${s.seconds} | ${s.resourcesPerSecond} | ${s.peakRssMb ?? ''} |`,
    ),
  ].join('\n');
  process.stdout.write(`${report}\n`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(
    path.join('bench-results', 'latest.json'),
    JSON.stringify({ date: new Date().toISOString(), rounds, requests, connections, loads, timings, seeds }, null, 2),
  );
  writeFileSync(path.join('bench-results', 'latest.md'), `${report}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
