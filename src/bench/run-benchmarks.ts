import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { conformanceBenchmarks } from './conformance-benchmarks';
import { fhirBenchmarks } from './fhir-benchmarks';
import { criticalInformationBenchmarks } from './critical-information-benchmarks';
import { pjdBenchmarks } from './pjd-benchmarks';
import { ppsBenchmarks } from './pps-benchmarks';
import { startNavetProcess } from './navet-process';
import { trustBenchmarks } from './trust-benchmarks';
import { formatLoad, formatTiming, type LoadResult, type TimingResult } from './measure';

/**
 * `npm run bench`: measures on SQLite, and on PostgreSQL when NAVET_BENCH_DATABASE_URL (or DATABASE_URL)
 * is set. Results go to stdout and bench-results/latest.json.
 * NAVET_BENCH_SECONDS (default 10) and NAVET_BENCH_CONNECTIONS (default 10) tune the load runs.
 */
async function main(): Promise<void> {
  const seconds = Number(process.env.NAVET_BENCH_SECONDS ?? 10);
  const connections = Number(process.env.NAVET_BENCH_CONNECTIONS ?? 10);
  const postgresUrl = process.env.NAVET_BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
  // NAVET_BENCH_SUITES: which to run, of fhir, pjd, kj, pps, trust, conformance (default all)
  const suites = (process.env.NAVET_BENCH_SUITES ?? 'fhir,pjd,kj,pps,trust,conformance').split(',').map((s) => s.trim());
  const engines: { name: string; databaseUrl?: string }[] = [{ name: 'sqlite' }, ...(postgresUrl ? [{ name: 'postgres', databaseUrl: postgresUrl }] : [])];
  if (!postgresUrl) process.stdout.write('PostgreSQL skipped: set NAVET_BENCH_DATABASE_URL=postgres://… to measure it too\n');
  const loads: LoadResult[] = [];
  const timings: TimingResult[] = [];
  for (const engine of engines) {
    const navet = await startNavetProcess(engine);
    try {
      if (suites.includes('fhir')) {
        const result = await fhirBenchmarks(navet, { seconds, connections });
        loads.push(...result.loads);
        timings.push(...result.timings);
      }
      if (suites.includes('pjd')) {
        const pjd = await pjdBenchmarks(navet, { connections, calls: Number(process.env.NAVET_BENCH_PJD_CALLS ?? 4000) });
        loads.push(...pjd.loads);
        timings.push(...pjd.timings);
      }
      if (suites.includes('kj')) {
        loads.push(...(await criticalInformationBenchmarks(navet, { connections, calls: Number(process.env.NAVET_BENCH_KJ_CALLS ?? 2000) })).loads);
      }
      if (suites.includes('pps')) {
        const pps = await ppsBenchmarks(navet, { connections, calls: Number(process.env.NAVET_BENCH_PPS_CALLS ?? 2000) });
        loads.push(...pps.loads);
        timings.push(...pps.timings);
      }
      if (suites.includes('conformance')) {
        loads.push(...(await conformanceBenchmarks(navet, { connections, calls: Number(process.env.NAVET_BENCH_RECORDING_CALLS ?? 1500), rounds: Number(process.env.NAVET_BENCH_RECORDING_ROUNDS ?? 5), barePort: 20000 + Math.floor(Math.random() * 20000) })));
      }
      if (suites.includes('trust')) {
        loads.push(...(await trustBenchmarks(navet, { connections, tokens: Number(process.env.NAVET_BENCH_TOKENS ?? 2000), guardedCalls: Number(process.env.NAVET_BENCH_GUARDED_CALLS ?? 4000) })));
      }
    } finally {
      await navet.stop();
    }
  }
  process.stdout.write('\n== Summary\n');
  for (const l of loads) process.stdout.write(`${formatLoad(l)}\n`);
  for (const t of timings) process.stdout.write(`${formatTiming(t)}\n`);
  mkdirSync('bench-results', { recursive: true });
  writeFileSync(path.join('bench-results', 'latest.json'), JSON.stringify({ date: new Date().toISOString(), seconds, connections, loads, timings }, null, 2));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
