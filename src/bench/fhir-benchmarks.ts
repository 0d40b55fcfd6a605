import type { AddressInfo } from 'node:net';
import { listen, type Navet } from '../navet';
import { formatLoad, formatTiming, type LoadResult, runLoad, time, type TimingResult } from './measure';

/** The FHIR store under load: read by id, token search on 10,000 patients, create, a 10-entry transaction, and reset. */
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';

export async function fhirBenchmarks(navet: Navet, options: { seconds: number; connections: number }): Promise<{ loads: LoadResult[]; timings: TimingResult[] }> {
  const engine = navet.database.engine;
  const server = await listen(navet);
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const loads: LoadResult[] = [];
  const timings: TimingResult[] = [];
  const suffix = `${engine}-${Date.now().toString(36)}`;
  try {
    process.stdout.write(`[${engine}] seeding a sandbox of 10,000 synthetic patients…\n`);
    const big = await navet.sandboxes.create({ name: `bench-10k-${suffix}`, seed: 'fixtures', generator: { syntheticPatients: 10000 } });
    const auth = { Authorization: `Bearer ${big.adminKey}`, 'Content-Type': 'application/fhir+json' };
    const fhir = `${origin}/sandboxes/${big.sandbox.name}/fhir`;
    const patients = await navet.sandboxes.store.search(big.sandbox.name, {
      resourceType: 'Patient', criteria: [], count: 1000, offset: 0, sort: [], include: [], revinclude: [], summaryCount: false, totalNone: true, canonicalParams: [], ignored: [],
    });
    const ids = patients.matches.map((p) => p.id as string);
    const fnrs = patients.matches.map((p) => ((p.identifier as { value: string }[] | undefined) ?? [])[0]?.value).filter(Boolean);
    let i = 0;
    const next = <T>(list: T[]) => list[i++ % list.length];
    const common = { engine, seconds: options.seconds, connections: options.connections, headers: auth };

    loads.push(await runLoad({ ...common, name: 'read by id', url: fhir, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `${new URL(fhir).pathname}/Patient/${next(ids)}` }) }] }));
    loads.push(await runLoad({ ...common, name: 'token search, 10k patients', url: fhir, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `${new URL(fhir).pathname}/Patient?identifier=${encodeURIComponent(`${FNR}|${next(fnrs)}`)}` }) }] }));
    const patient = JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Lastesen', given: ['Bench'] }], gender: 'female', birthDate: '1980-01-01' });
    loads.push(await runLoad({ ...common, name: 'create', url: `${fhir}/Patient`, method: 'POST', body: patient }));
    const transaction = JSON.stringify({
      resourceType: 'Bundle', type: 'transaction',
      entry: Array.from({ length: 10 }, (_, n) => ({
        fullUrl: `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
        resource: n === 0 ? { resourceType: 'Patient', name: [{ family: 'Transaksjon' }] } : { resourceType: 'Observation', status: 'final', code: { text: `Måling ${n}` }, subject: { reference: 'urn:uuid:00000000-0000-4000-8000-000000000000' }, valueQuantity: { value: n, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' } },
        request: { method: 'POST', url: n === 0 ? 'Patient' : 'Observation' },
      })),
    });
    loads.push(await runLoad({ ...common, name: '10-entry transaction', url: fhir, method: 'POST', body: transaction }));
    await navet.sandboxes.delete(big.sandbox.name);

    process.stdout.write(`[${engine}] timing create and reset of a 1,000-patient sandbox…\n`);
    const resetName = `bench-1k-${suffix}`;
    timings.push(await time('create sandbox, 1,000 patients', engine, 3, async () => {
      await navet.sandboxes.create({ name: resetName, seed: 'fixtures', generator: { syntheticPatients: 1000 } });
      await navet.sandboxes.delete(resetName);
    }));
    const small = await navet.sandboxes.create({ name: resetName, seed: 'fixtures', generator: { syntheticPatients: 1000 } });
    timings.push(await time('reset, 1,000 patients', engine, 15, async () => {
      await fetch(`${origin}/sandboxes/${resetName}/fhir/Patient`, { method: 'POST', headers: { Authorization: `Bearer ${small.adminKey}`, 'Content-Type': 'application/fhir+json' }, body: patient });
      const res = await fetch(`${origin}/api/sandboxes/${resetName}/reset`, { method: 'POST', headers: { Authorization: `Bearer ${small.adminKey}` } });
      if (res.status !== 200) throw new Error(`reset failed: ${res.status}`);
    }));
    await navet.sandboxes.delete(resetName);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  for (const l of loads) process.stdout.write(`${formatLoad(l)}\n`);
  for (const t of timings) process.stdout.write(`${formatTiming(t)}\n`);
  return { loads, timings };
}
