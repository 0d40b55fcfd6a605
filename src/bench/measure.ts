import autocannon from 'autocannon';

/** Load runs with autocannon against a real listening server, and timing of repeated operations. */
export interface LoadResult {
  name: string;
  engine: string;
  requestsPerSecond: { median: number; min: number; max: number };
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: number;
  non2xx: number;
}

export interface LoadRun {
  name: string;
  engine: string;
  url: string;
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  /** Builds each request anew (varying ids), instead of one fixed request. */
  requests?: autocannon.Request[];
  seconds: number;
  connections: number;
  /** Stop after this many requests instead of after `seconds` (for requests that are single-use). */
  amount?: number;
}

export async function runLoad(run: LoadRun): Promise<LoadResult> {
  const result = await autocannon({
    url: run.url,
    method: run.method ?? 'GET',
    headers: run.headers,
    body: run.body,
    requests: run.requests,
    ...(run.amount ? { amount: run.amount } : { duration: run.seconds }),
    connections: run.connections,
  });
  return {
    name: run.name,
    engine: run.engine,
    requestsPerSecond: { median: result.requests.p50, min: result.requests.min, max: result.requests.max },
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/**
 * A load of single-use requests (DPoP proofs live 60 s) in rounds: each round's requests are made just
 * before it runs. The result gives the median, min and max over the rounds; latency percentiles are the
 * median of the rounds' (p99: the worst round's).
 */
export async function runInRounds(
  run: Omit<LoadRun, 'requests' | 'amount' | 'seconds'>,
  rounds: number,
  prepare: () => Promise<autocannon.Request[]>,
): Promise<LoadResult> {
  const results: LoadResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const prepared = await prepare();
    // every connection takes the next unused request: each proof is sent once
    let next = 0;
    const requests: autocannon.Request[] = [
      {
        setupRequest: (req) => {
          const request = prepared[next++ % prepared.length];
          return { ...req, ...request, headers: { ...req.headers, ...request.headers } };
        },
      },
    ];
    results.push(await runLoad({ ...run, seconds: 0, requests, amount: prepared.length }));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const rps = results.map((r) => r.requestsPerSecond.median);
  return {
    name: run.name,
    engine: run.engine,
    requestsPerSecond: { median: median(rps), min: Math.min(...rps), max: Math.max(...rps) },
    latencyMs: {
      p50: median(results.map((r) => r.latencyMs.p50)),
      p90: median(results.map((r) => r.latencyMs.p90)),
      p99: Math.max(...results.map((r) => r.latencyMs.p99)),
      max: Math.max(...results.map((r) => r.latencyMs.max)),
    },
    errors: results.reduce((n, r) => n + r.errors, 0),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
  };
}

export interface TimingResult {
  name: string;
  engine: string;
  runs: number;
  ms: { median: number; min: number; max: number };
}

/** Times `work` `runs` times; `prepare` runs before each, untimed. */
export async function time(
  name: string,
  engine: string,
  runs: number,
  work: () => Promise<unknown>,
  prepare?: () => Promise<unknown>,
): Promise<TimingResult> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (prepare) await prepare();
    const started = process.hrtime.bigint();
    await work();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    name,
    engine,
    runs,
    ms: {
      median: round(samples[Math.floor(samples.length / 2)]),
      min: round(samples[0]),
      max: round(samples[samples.length - 1]),
    },
  };
}

export function formatLoad(r: LoadResult): string {
  return `${r.engine.padEnd(9)} ${r.name.padEnd(34)} ${String(r.requestsPerSecond.median).padStart(7)} req/s (min ${r.requestsPerSecond.min}, max ${r.requestsPerSecond.max})  latency p50 ${r.latencyMs.p50} ms, p90 ${r.latencyMs.p90} ms, p99 ${r.latencyMs.p99} ms${r.non2xx || r.errors ? `  [${r.non2xx} non-2xx, ${r.errors} errors]` : ''}`;
}

export function formatTiming(r: TimingResult): string {
  return `${r.engine.padEnd(9)} ${r.name.padEnd(34)} median ${r.ms.median} ms (min ${r.ms.min}, max ${r.ms.max}) over ${r.runs} runs`;
}
