import { readFileSync } from 'node:fs';
import { type TimingResult, time } from './measure';
import type { NavetProcess } from './navet-process';
import { callJson } from './pjd-benchmarks';

/**
 * Sandbox lifecycle figures: seeding (resources per second), reset, snapshot and restore after a test
 * run's worth of writes (100 PUTs of patients), and delete. Each timing is the median of `runs`.
 */
export interface LifecycleFigures {
  timings: TimingResult[];
  /** Seeded resources per second, by sandbox size. */
  seedRates: {
    name: string;
    engine: string;
    resourcesPerSecond: number;
    resources: number;
    seconds: number;
    peakRssMb?: number;
  }[];
}

const WRITES = 100;

async function writePatients(
  origin: string,
  name: string,
  admin: Record<string, string>,
  round: number,
): Promise<void> {
  const page = await callJson(
    'GET',
    `${origin}/sandboxes/${name}/fhir/Patient?_count=${WRITES}&_total=none`,
    undefined,
    admin,
  );
  for (const { resource } of page.entry as { resource: Record<string, unknown> }[]) {
    const { meta: _meta, ...rest } = resource;
    await callJson(
      'PUT',
      `${origin}/sandboxes/${name}/fhir/Patient/${String(resource.id)}`,
      { ...rest, telecom: [{ system: 'phone', value: `+47 ${90000000 + round}` }] },
      admin,
    );
  }
}

async function resourceCount(origin: string, name: string, admin: Record<string, string>): Promise<number> {
  const types = [
    'Patient',
    'Practitioner',
    'PractitionerRole',
    'Organization',
    'DocumentReference',
    'Binary',
    'AllergyIntolerance',
    'Condition',
    'Flag',
    'List',
    'MedicationStatement',
    'Medication',
    'DiagnosticReport',
    'Observation',
    'Specimen',
    'ServiceRequest',
    'MedicationDispense',
    'Consent',
    'Basic',
    'Composition',
    'Bundle',
  ];
  let n = 0;
  for (const type of types) {
    try {
      n += Number(
        (await callJson('GET', `${origin}/sandboxes/${name}/fhir/${type}?_summary=count`, undefined, admin)).total ?? 0,
      );
    } catch {
      // a type the store does not serve
    }
  }
  return n;
}

/** The resident memory of a process and its children (the workers), in MB. */
export function treeRssMb(pid: number): number {
  const rss = (p: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  let total = 0;
  const visit = (p: number) => {
    try {
      total += rss(p);
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(' ').filter(Boolean))
        visit(Number(child));
    } catch {
      // gone, or not Linux
    }
  };
  visit(pid);
  return Math.round(total);
}

/** CPU time (user + system) a process and its children (the workers) have used so far, in ms. */
export function treeCpuMs(pid: number): number {
  let ticks = 0;
  const visit = (p: number) => {
    try {
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').split(' ').filter(Boolean))
        visit(Number(child));
    } catch {
      // gone, or not Linux
    }
  };
  visit(pid);
  return ticks * 10;
}

/** Creates a sandbox and reports how fast it was seeded and the most memory Navet used meanwhile. */
export async function seedFigure(
  navet: NavetProcess,
  label: string,
  generator: Record<string, unknown>,
): Promise<{ name: string; adminKey: string; figure: LifecycleFigures['seedRates'][number] }> {
  const name = `bench-life-${Date.now().toString(36)}`;
  let peak = treeRssMb(navet.pid);
  const sampler = setInterval(() => {
    peak = Math.max(peak, treeRssMb(navet.pid));
  }, 200);
  const started = process.hrtime.bigint();
  let adminKey: string;
  try {
    // Prefer: wait — the answer comes when the seed is stored (without it, at once with 202)
    adminKey = (
      await callJson('POST', `${navet.origin}/api/sandboxes`, { name, seed: 'fixtures', generator }, { Prefer: 'wait' })
    ).adminKey as string;
  } finally {
    clearInterval(sampler);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const resources = await resourceCount(navet.origin, name, { Authorization: `Bearer ${adminKey}` });
  return {
    name,
    adminKey,
    figure: {
      name: label,
      engine: navet.engine,
      resources,
      seconds: Math.round(seconds * 10) / 10,
      resourcesPerSecond: Math.round(resources / seconds),
      peakRssMb: peak || undefined,
    },
  };
}

export async function lifecycleBenchmarks(
  navet: NavetProcess,
  sizes: number[],
  runs: number,
): Promise<LifecycleFigures> {
  const { origin, engine } = navet;
  const figures: LifecycleFigures = { timings: [], seedRates: [] };
  for (const patients of sizes) {
    process.stdout.write(`[${engine}] lifecycle of a sandbox of ${patients} synthetic patients…\n`);
    const { name, adminKey, figure } = await seedFigure(navet, `seed fixtures + ${patients} patients`, {
      syntheticPatients: patients,
    });
    figures.seedRates.push(figure);
    const admin = { Authorization: `Bearer ${adminKey}` };
    let round = 0;
    const write = () => writePatients(origin, name, admin, round++);
    const timed = async (operation: string, call: () => Promise<Record<string, unknown>>) => {
      // what the last run did (resources, rows, statements: grows with the changes, not with the noise)
      let work: { resources?: number; rows?: number; statements?: number } = {};
      const result = await time(
        `${operation}, ${patients} patients, ${WRITES} writes`,
        engine,
        runs,
        async () => {
          work = ((await call()).work as typeof work | undefined) ?? {};
        },
        write,
      );
      const note =
        work.resources === undefined
          ? ''
          : ` (${work.resources} resources, ${work.rows} rows, ${work.statements} statements)`;
      figures.timings.push({ ...result, name: `${result.name}${note}` });
    };
    await timed('reset', () => callJson('POST', `${origin}/api/sandboxes/${name}/reset`, undefined, admin));
    await timed('snapshot', () =>
      callJson('POST', `${origin}/api/sandboxes/${name}/snapshots`, { label: 'bench' }, admin),
    );
    await timed('restore', () =>
      callJson('POST', `${origin}/api/sandboxes/${name}/snapshots/bench/restore`, undefined, admin),
    );
    figures.timings.push(
      await time(`delete, ${patients} patients`, engine, 1, () =>
        callJson('DELETE', `${origin}/api/sandboxes/${name}`, undefined, admin),
      ),
    );
  }
  return figures;
}
