import { formatLoad, formatTiming, type LoadResult, runLoad, time, type TimingResult } from './measure';
import type { NavetProcess } from './navet-process';

/** The FHIR store under load: read by id, token search on 10,000 patients, create, a 10-entry transaction, and reset. */
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';

async function call(
  method: string,
  url: string,
  key: string | undefined,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method,
    headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
}

export async function fhirBenchmarks(
  navet: NavetProcess,
  options: { seconds: number; connections: number },
): Promise<{ loads: LoadResult[]; timings: TimingResult[] }> {
  const { origin, engine } = navet;
  const loads: LoadResult[] = [];
  const timings: TimingResult[] = [];
  const suffix = Date.now().toString(36);

  process.stdout.write(`[${engine}] seeding a sandbox of 10,000 synthetic patients…\n`);
  const bigName = `bench-10k-${suffix}`;
  const big = await call('POST', `${origin}/api/sandboxes`, undefined, {
    name: bigName,
    seed: 'fixtures',
    generator: { syntheticPatients: 10000 },
  });
  const key = big.adminKey as string;
  const fhirPath = `/sandboxes/${bigName}/fhir`;
  const page = await call('GET', `${origin}${fhirPath}/Patient?_count=1000&_total=none`, key);
  const patients = (page.entry as { resource: { id: string; identifier?: { value: string }[] } }[]).map(
    (e) => e.resource,
  );
  const ids = patients.map((p) => p.id);
  const fnrs = patients.map((p) => p.identifier?.[0]?.value).filter((v): v is string => !!v);
  let i = 0;
  const next = <T>(list: T[]) => list[i++ % list.length];
  const common = {
    engine,
    seconds: options.seconds,
    connections: options.connections,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/fhir+json' },
  };

  loads.push(
    await runLoad({
      ...common,
      name: 'read by id',
      url: origin,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `${fhirPath}/Patient/${next(ids)}` }) }],
    }),
  );
  loads.push(
    await runLoad({
      ...common,
      name: 'token search, 10k patients',
      url: origin,
      requests: [
        {
          method: 'GET',
          setupRequest: (req) => ({
            ...req,
            path: `${fhirPath}/Patient?identifier=${encodeURIComponent(`${FNR}|${next(fnrs)}`)}`,
          }),
        },
      ],
    }),
  );
  const patient = {
    resourceType: 'Patient',
    name: [{ family: 'Lastesen', given: ['Bench'] }],
    gender: 'female',
    birthDate: '1980-01-01',
  };
  loads.push(
    await runLoad({
      ...common,
      name: 'create',
      url: `${origin}${fhirPath}/Patient`,
      method: 'POST',
      body: JSON.stringify(patient),
    }),
  );
  const transaction = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: Array.from({ length: 10 }, (_, n) => ({
      fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      resource:
        n === 0
          ? { resourceType: 'Patient', name: [{ family: 'Transaksjon' }] }
          : {
              resourceType: 'Observation',
              status: 'final',
              code: { text: `Måling ${n}` },
              subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' },
              valueQuantity: { value: n, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
            },
      request: { method: 'POST', url: n === 0 ? 'Patient' : 'Observation' },
    })),
  };
  loads.push(
    await runLoad({
      ...common,
      name: '10-entry transaction',
      url: `${origin}${fhirPath}`,
      method: 'POST',
      body: JSON.stringify(transaction),
    }),
  );
  await call('DELETE', `${origin}/api/sandboxes/${bigName}`, key);

  process.stdout.write(`[${engine}] timing create and reset of a 1,000-patient sandbox…\n`);
  const smallName = `bench-1k-${suffix}`;
  timings.push(
    await time('create sandbox, 1,000 patients', engine, 3, async () => {
      const created = await call('POST', `${origin}/api/sandboxes`, undefined, {
        name: smallName,
        seed: 'fixtures',
        generator: { syntheticPatients: 1000 },
      });
      await call('DELETE', `${origin}/api/sandboxes/${smallName}`, created.adminKey as string);
    }),
  );
  const small = await call('POST', `${origin}/api/sandboxes`, undefined, {
    name: smallName,
    seed: 'fixtures',
    generator: { syntheticPatients: 1000 },
  });
  const smallKey = small.adminKey as string;
  timings.push(
    await time(
      'reset, 1,000 patients',
      engine,
      15,
      () => call('POST', `${origin}/api/sandboxes/${smallName}/reset`, smallKey),
      () => call('POST', `${origin}/sandboxes/${smallName}/fhir/Patient`, smallKey, patient),
    ),
  );
  await call('DELETE', `${origin}/api/sandboxes/${smallName}`, smallKey);

  for (const l of loads) process.stdout.write(`${formatLoad(l)}\n`);
  for (const t of timings) process.stdout.write(`${formatTiming(t)}\n`);
  return { loads, timings };
}
