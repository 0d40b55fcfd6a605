import type autocannon from 'autocannon';
import { makeDpopKey, makeDpopProof } from '../trust/dpop-client';
import { formatLoad, type LoadResult, runInRounds } from './measure';
import type { NavetProcess } from './navet-process';
import { callJson, dpopToken } from './pjd-benchmarks';

/**
 * Critical information under load, through the whole chain (token + DPoP + attestation rules + privacy
 * choices + access log): `POST /status` and `GET /AllergyIntolerance` for one patient per request, on a
 * seeded sandbox of NAVET_BENCH_KJ_PATIENTS synthetic patients (default 10,000; about 5 % have entries).
 */
const ROUND_SIZE = 500;

export async function criticalInformationBenchmarks(
  navet: NavetProcess,
  options: { connections: number; calls: number },
): Promise<{ loads: LoadResult[] }> {
  const { origin, engine } = navet;
  const patients = Number(process.env.NAVET_BENCH_KJ_PATIENTS ?? 10000);
  const name = `bench-kj-${Date.now().toString(36)}`;
  const { adminKey } = (await callJson('POST', `${origin}/api/sandboxes`, {
    name,
    seed: 'fixtures',
    generator: { syntheticPatients: patients },
  })) as { adminKey: string };
  const admin = { Authorization: `Bearer ${adminKey}` };
  const page = await callJson(
    'GET',
    `${origin}/sandboxes/${name}/fhir/Patient?_count=1000&_total=none`,
    undefined,
    admin,
  );
  const nins = (page.entry as { resource: { identifier: { value: string }[] } }[]).map(
    (e) => e.resource.identifier[0].value,
  );
  const key = await makeDpopKey();
  const token = await dpopToken(origin, name, 'nhn:kjernejournal/api', key);
  const base = `/sandboxes/${name}/critical-information`;
  const rounds = Math.max(1, Math.ceil(options.calls / ROUND_SIZE));
  const headers = (proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof, 'nhn-source-system': 'bench' });
  let patient = 0;
  const loads: LoadResult[] = [];
  process.stdout.write(
    `[${engine}] critical information: ${rounds} rounds of ${ROUND_SIZE} status calls, then of reads…\n`,
  );
  loads.push(
    await runInRounds(
      { name: `KJ status, ${patients} patients`, engine, url: origin, connections: options.connections },
      rounds,
      async () => {
        const requests: autocannon.Request[] = [];
        for (let i = 0; i < ROUND_SIZE; i++) {
          const proof = await makeDpopProof(key, {
            method: 'POST',
            url: `${origin}${base}/status`,
            accessToken: token,
          });
          requests.push({
            method: 'POST',
            path: `${base}/status`,
            body: JSON.stringify({ nin: nins[patient++ % nins.length] }),
            headers: { ...headers(proof), 'content-type': 'application/json' },
          });
        }
        return requests;
      },
    ),
  );
  loads.push(
    await runInRounds(
      {
        name: `KJ GET /AllergyIntolerance, ${patients} patients`,
        engine,
        url: origin,
        connections: options.connections,
      },
      rounds,
      async () => {
        const requests: autocannon.Request[] = [];
        for (let i = 0; i < ROUND_SIZE; i++) {
          const proof = await makeDpopProof(key, {
            method: 'GET',
            url: `${origin}${base}/AllergyIntolerance`,
            accessToken: token,
          });
          requests.push({
            method: 'GET',
            path: `${base}/AllergyIntolerance`,
            headers: { ...headers(proof), 'nhn-patient-nin': nins[patient++ % nins.length] },
          });
        }
        return requests;
      },
    ),
  );
  await callJson('DELETE', `${origin}/api/sandboxes/${name}`, undefined, admin);
  for (const l of loads) process.stdout.write(`${formatLoad(l)}\n`);
  return { loads };
}
