import type autocannon from 'autocannon';
import { isValidPersonId } from '../services/lab-results/pps-request';
import { makeDpopKey, makeDpopProof } from '../trust/dpop-client';
import { formatLoad, formatTiming, type LoadResult, runInRounds, time, type TimingResult } from './measure';
import type { NavetProcess } from './navet-process';
import { callJson, dpopToken } from './pjd-benchmarks';

/**
 * Lab results under load, through the whole chain (token + DPoP + attestation rules + privacy choices +
 * access log): "the last 12 months of DiagnosticReports with specimens included" for one patient per
 * request, on a sandbox of NAVET_BENCH_PPS_PATIENTS patients (default 1,000; the figure is
 * 10,000) with NAVET_BENCH_PPS_REPORTS reports each (default 50) over five years.
 */
const ROUND_SIZE = 500;

export async function ppsBenchmarks(
  navet: NavetProcess,
  options: { connections: number; calls: number },
): Promise<{ loads: LoadResult[]; timings: TimingResult[] }> {
  const { origin, engine } = navet;
  const patients = Number(process.env.NAVET_BENCH_PPS_PATIENTS ?? 1000);
  const reports = Number(process.env.NAVET_BENCH_PPS_REPORTS ?? 50);
  const name = `bench-pps-${Date.now().toString(36)}`;
  // the reports reach back five years from today, so that 12 months hold about a fifth of them
  const today = new Date().toISOString().slice(0, 10);
  process.stdout.write(`[${engine}] seeding a sandbox of ${patients} patients with ${reports} lab reports each…\n`);
  let adminKey = '';
  const timings = [
    await time(`create sandbox, ${patients} × ${reports} lab reports`, engine, 1, async () => {
      adminKey = (
        await callJson('POST', `${origin}/api/sandboxes`, {
          name,
          seed: 'fixtures',
          generator: {
            syntheticPatients: patients,
            labReportsPerPatient: reports,
            documentsPerPatient: 0,
            referenceDate: today,
          },
        })
      ).adminKey as string;
    }),
  ];
  const admin = { Authorization: `Bearer ${adminKey}` };
  const page = await callJson(
    'GET',
    `${origin}/sandboxes/${name}/fhir/Patient?_count=1000&_total=none`,
    undefined,
    admin,
  );
  const fnrs = (page.entry as { resource: { identifier?: { value: string }[] } }[])
    .map((e) => e.resource.identifier?.[0]?.value)
    .filter((v): v is string => !!v && isValidPersonId(v));
  // (a fixture test person with wrong check digits is refused by PPS, as a non-FNR must be)

  const key = await makeDpopKey();
  const path = `/sandboxes/${name}/pps/DiagnosticReport/_search`;
  const url = `${origin}${path}`;
  const token = await dpopToken(origin, name, 'nhn:pps/provesvar-read', key);
  const since = new Date(Date.now() - 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  const body = new URLSearchParams([
    ['date', `ge${since}`],
    ['_include', 'DiagnosticReport:specimen'],
  ]).toString();
  // one check that the answer is what is measured
  const check = await fetch(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `DPoP ${token}`,
      dpop: await makeDpopProof(key, { method: 'POST', url, accessToken: token }),
      'person-id': fnrs[fnrs.length - 1],
    },
  });
  const sample = (await check.json()) as { total?: number; entry?: { search: { mode: string } }[] };
  process.stdout.write(
    `[${engine}] one answer: ${check.status}, ${sample.total} reports in 12 months, ${sample.entry?.filter((e) => e.search.mode === 'include').length} specimens included\n`,
  );
  const rounds = Math.max(1, Math.ceil(options.calls / ROUND_SIZE));
  process.stdout.write(`[${engine}] PPS: ${rounds} rounds of ${ROUND_SIZE} searches, proofs signed before each…\n`);
  let patient = 0;
  const loads: LoadResult[] = [
    await runInRounds(
      { name: `PPS 12 months + specimens, ${reports} rep/pt`, engine, url: origin, connections: options.connections },
      rounds,
      async () => {
        const requests: autocannon.Request[] = [];
        for (let i = 0; i < ROUND_SIZE; i++) {
          const proof = await makeDpopProof(key, { method: 'POST', url, accessToken: token });
          requests.push({
            method: 'POST',
            path,
            body,
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: `DPoP ${token}`,
              dpop: proof,
              'person-id': fnrs[patient++ % fnrs.length],
            },
          });
        }
        return requests;
      },
    ),
  ];
  await callJson('DELETE', `${origin}/api/sandboxes/${name}`, undefined, admin);
  for (const l of loads) process.stdout.write(`${formatLoad(l)}\n`);
  for (const t of timings) process.stdout.write(`${formatTiming(t)}\n`);
  return { loads, timings };
}
