import autocannon from 'autocannon';
import { startBareServer } from './bare-server';
import { type BenchSandbox, type LoadCase, sampleAnswer } from './guarded-reads';
import { treeCpuMs } from './lifecycle';
import type { NavetProcess } from './navet-process';

/**
 * A load case measured against the bare node:http server in the same run: `rounds` rounds, each of
 * `requests` requests at `connections` connections to Navet and then the same requests to the bare server.
 * Figures are the median of the rounds with their spread.
 */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface LoadFigure {
  name: string;
  engine: string;
  target?: number;
  navet: Spread;
  bare: Spread;
  /** Navet's requests per second as a share of the bare server's, round by round. */
  ratio: Spread;
  p50: Spread;
  p99: Spread;
  /** CPU ms (user + system, all workers) the server spent per request: steadier than req/s on a shared machine. */
  navetCpuMs: Spread;
  bareCpuMs: Spread;
  failures: number;
}

function spread(values: number[], digits = 0): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10 ** digits) / 10 ** digits;
  return {
    median: round(sorted[Math.floor(sorted.length / 2)]),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
  };
}

/** autocannon ends a run on its one-second tick: the rate is timed here, from the start to the last answer. */
async function run(url: string, pid: number, requests: autocannon.Request[], connections: number) {
  const cpuBefore = treeCpuMs(pid);
  let next = 0;
  let answered = 0;
  let last = 0n;
  const started = process.hrtime.bigint();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        amount: requests.length,
        requests: [
          {
            setupRequest: (req) => {
              const request = requests[next++ % requests.length];
              return { ...req, ...request, headers: { ...req.headers, ...request.headers } };
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', () => {
      answered++;
      last = process.hrtime.bigint();
    });
  });
  const seconds = Number(last - started) / 1e9;
  return {
    cpuMs: (treeCpuMs(pid) - cpuBefore) / requests.length,
    rps: answered / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

export async function measureLoadCase(
  navet: NavetProcess,
  sandbox: BenchSandbox,
  loadCase: LoadCase,
  options: { rounds: number; requests: number; connections: number },
): Promise<LoadFigure> {
  const make = await loadCase.setup(navet, sandbox);
  const [probe] = await make(1);
  const bare = await startBareServer(await sampleAnswer(navet.origin, probe));
  const navetRuns: Awaited<ReturnType<typeof run>>[] = [];
  const bareRuns: Awaited<ReturnType<typeof run>>[] = [];
  try {
    for (let round = 0; round < options.rounds; round++) {
      const requests = await make(options.requests);
      navetRuns.push(await run(navet.origin, navet.pid, requests, options.connections));
      bareRuns.push(await run(bare.origin, bare.pid, requests, options.connections));
    }
  } finally {
    await bare.stop();
  }
  return {
    name: loadCase.name,
    engine: navet.engine,
    target: loadCase.target?.[navet.engine as 'sqlite' | 'postgres'],
    navet: spread(navetRuns.map((r) => r.rps)),
    bare: spread(bareRuns.map((r) => r.rps)),
    ratio: spread(
      navetRuns.map((r, i) => (100 * r.rps) / bareRuns[i].rps),
      1,
    ),
    p50: spread(navetRuns.map((r) => r.p50)),
    p99: spread(navetRuns.map((r) => r.p99)),
    navetCpuMs: spread(
      navetRuns.map((r) => r.cpuMs),
      2,
    ),
    bareCpuMs: spread(
      bareRuns.map((r) => r.cpuMs),
      2,
    ),
    failures: navetRuns.reduce((n, r) => n + r.failures, 0),
  };
}

const range = (s: Spread, unit = '') => `${s.median}${unit} (${s.min}–${s.max})`;

export function formatLoadTable(figures: LoadFigure[]): string {
  const lines = [
    '| case | engine | Navet req/s | bare node:http req/s | ratio | p50 ms | p99 ms | target req/s | CPU ms/request Navet | bare |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const f of figures) {
    const target =
      f.target === undefined
        ? ''
        : `${f.target} ${f.navet.median >= f.target ? 'met' : `missed by ${Math.round(100 - (100 * f.navet.median) / f.target)} %`}`;
    lines.push(
      `| ${f.name}${f.failures ? ` [${f.failures} failed]` : ''} | ${f.engine} | ${range(f.navet)} | ${range(f.bare)} | ${range(f.ratio, ' %')} | ${range(f.p50)} | ${range(f.p99)} | ${target} | ${range(f.navetCpuMs)} | ${range(f.bareCpuMs)} |`,
    );
  }
  return lines.join('\n');
}
