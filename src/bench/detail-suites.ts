import { conformanceBenchmarks } from './conformance-benchmarks';
import { criticalInformationBenchmarks } from './critical-information-benchmarks';
import { fhirBenchmarks } from './fhir-benchmarks';
import { formatLoad, formatTiming, type LoadResult, type TimingResult } from './measure';
import { startNavetProcess } from './navet-process';
import { pjdBenchmarks } from './pjd-benchmarks';
import { ppsBenchmarks } from './pps-benchmarks';
import { trustBenchmarks } from './trust-benchmarks';

/** The older per-service suites (NAVET_BENCH_SUITES=fhir,pjd,kj,pps,trust,conformance): more cases per service, no bare yardstick. */
export async function runDetailSuites(
  engines: { name: string; databaseUrl?: string }[],
  suites: string[],
): Promise<void> {
  const env = process.env;
  const seconds = Number(env.NAVET_BENCH_SECONDS ?? 10);
  const connections = Number(env.NAVET_BENCH_CONNECTIONS ?? 10);
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
        const pjd = await pjdBenchmarks(navet, { connections, calls: Number(env.NAVET_BENCH_PJD_CALLS ?? 4000) });
        loads.push(...pjd.loads);
        timings.push(...pjd.timings);
      }
      if (suites.includes('conformance')) {
        loads.push(
          ...(await conformanceBenchmarks(navet, {
            connections,
            calls: Number(env.NAVET_BENCH_RECORDING_CALLS ?? 1500),
            rounds: Number(env.NAVET_BENCH_RECORDING_ROUNDS ?? 5),
            barePort: 20000 + Math.floor(Math.random() * 20000),
          })),
        );
      }
      if (suites.includes('kj'))
        loads.push(
          ...(
            await criticalInformationBenchmarks(navet, { connections, calls: Number(env.NAVET_BENCH_KJ_CALLS ?? 2000) })
          ).loads,
        );
      if (suites.includes('pps')) {
        const pps = await ppsBenchmarks(navet, { connections, calls: Number(env.NAVET_BENCH_PPS_CALLS ?? 2000) });
        loads.push(...pps.loads);
        timings.push(...pps.timings);
      }
      if (suites.includes('trust')) {
        loads.push(
          ...(await trustBenchmarks(navet, {
            connections,
            tokens: Number(env.NAVET_BENCH_TOKENS ?? 2000),
            guardedCalls: Number(env.NAVET_BENCH_GUARDED_CALLS ?? 4000),
          })),
        );
      }
    } finally {
      await navet.stop();
    }
  }
  process.stdout.write('\n== Summary\n');
  for (const l of loads) process.stdout.write(`${formatLoad(l)}\n`);
  for (const t of timings) process.stdout.write(`${formatTiming(t)}\n`);
}
