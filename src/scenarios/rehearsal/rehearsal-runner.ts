import { parse as parseYaml } from 'yaml';
import type { SandboxTarget } from '../actor-client';
import { type MunicipalityDescription, planMunicipality } from '../../sandbox/seed/municipality';
import { type CallRecord, rehearsalActors, type Role, runFlow } from './flows';
import { FLOW_RATES, flowCounts, type FlowName } from './rates';
import { NavetError } from '../../codes/navet-error';

/**
 * A day of traffic, compressed: the flows at their scaled rates spread over `hours` of simulated time,
 * which passes `speed` times faster than real time; faults switch a backend off or slow for a window.
 * Bounded in real time and in count, stoppable, with progress readable at any time.
 */
export interface Fault {
  /** PJD takes `slow` and `unavailable` only. */
  backend: 'kjernejournal' | 'reseptformidleren' | 'pjd';
  mode: 'unavailable' | 'slow' | 'timeout';
  /** Simulated minutes after the start. */
  fromMinute: number;
  minutes: number;
  delayMs?: number;
}

export interface RehearsalOptions {
  hours: number;
  speed: number;
  faults: Fault[];
  /** Conformance session ids of this sandbox whose verdicts go into the report. */
  conformanceSessions: string[];
}

export const LIMITS = { maxHours: 24, maxSpeed: 3600, maxRealSeconds: 900, maxFlows: 3000, concurrency: 4 } as const;

export interface RehearsalProgress {
  simulatedMinutes: number;
  totalMinutes: number;
  flowsPlanned: number;
  flowsStarted: number;
  flowsCompleted: number;
  flowsFailed: number;
  calls: number;
}

export interface FlowOutcome {
  flow: FlowName;
  completed: boolean;
  /** The call that broke it, when it did not complete. */
  failedAt?: CallRecord;
}

export interface RehearsalState {
  status: 'running' | 'finished' | 'stopped' | 'failed';
  startedAt: string;
  finishedAt?: string;
  options: RehearsalOptions;
  counts: Record<FlowName, number>;
  capped: boolean;
  progress: RehearsalProgress;
  calls: CallRecord[];
  flows: FlowOutcome[];
  faultLog: string[];
  error?: string;
}

export class RehearsalInputError extends NavetError {
  static override readonly code = 'NAVET-REHEARSAL-OPTIONS';
}

function integer(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new RehearsalInputError(`${name} must be a number from ${min} to ${max}`);
  return value;
}

/** Checks the options of a rehearsal (body or CLI); faults may come as YAML/JSON text. */
export function rehearsalOptions(input: {
  hours?: unknown;
  speed?: unknown;
  faults?: unknown;
  conformanceSessions?: unknown;
}): RehearsalOptions {
  const hours = integer(input.hours, 'hours', 0.25, LIMITS.maxHours, 8);
  const speed = integer(input.speed, 'speed', 1, LIMITS.maxSpeed, 60);
  if ((hours * 3600) / speed > LIMITS.maxRealSeconds)
    throw new RehearsalInputError(
      `${hours} hours at speed ${speed} would take ${Math.round((hours * 3600) / speed)} s; a rehearsal runs at most ${LIMITS.maxRealSeconds} s: raise speed`,
    );
  let faults = typeof input.faults === 'string' ? (parseYaml(input.faults) as unknown) : (input.faults ?? []);
  if (faults && typeof faults === 'object' && !Array.isArray(faults) && 'faults' in faults)
    faults = (faults as { faults: unknown }).faults;
  if (!Array.isArray(faults))
    throw new RehearsalInputError('faults must be a list of {backend, mode, fromMinute, minutes}');
  faults.forEach((f: Record<string, unknown>, i) => {
    if (!['kjernejournal', 'reseptformidleren', 'pjd'].includes(f?.backend as string))
      throw new RehearsalInputError(`faults[${i}].backend must be kjernejournal, reseptformidleren or pjd`);
    if (!['unavailable', 'slow', 'timeout'].includes(f.mode as string))
      throw new RehearsalInputError(`faults[${i}].mode must be unavailable, slow or timeout`);
    if (f.backend === 'pjd' && f.mode === 'timeout')
      throw new RehearsalInputError(`faults[${i}].mode must be slow or unavailable for pjd`);
    integer(f.fromMinute, `faults[${i}].fromMinute`, 0, hours * 60, 0);
    integer(f.minutes, `faults[${i}].minutes`, 1, hours * 60, 1);
    if (f.delayMs !== undefined) integer(f.delayMs, `faults[${i}].delayMs`, 0, 10000, 0);
  });
  const sessions = input.conformanceSessions ?? [];
  if (!Array.isArray(sessions) || !sessions.every((s) => typeof s === 'string'))
    throw new RehearsalInputError('conformanceSessions must be a list of session ids');
  return { hours, speed, faults: faults as Fault[], conformanceSessions: sessions as string[] };
}

/** A PJD fault as PJD's own settings (`slow` waits 2 s unless told); none lifts it. */
function pjdSettingsOf(fault: { mode: string; delayMs?: number } | undefined): {
  delayMs: number;
  unavailable: boolean;
} {
  return { delayMs: fault?.mode === 'slow' ? (fault.delayMs ?? 2000) : 0, unavailable: fault?.mode === 'unavailable' };
}

async function admin(target: SandboxTarget, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${target.url}/api/sandboxes/${target.sandbox}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${target.adminKey}`, 'Content-Type': 'application/json', ...init.headers },
  });
}

/** The cohort's fødselsnumre, read through the sandbox's FHIR API: all patients, and those with a PLL. */
async function patientPools(target: SandboxTarget): Promise<{ all: string[]; withList: string[] }> {
  const fhir = `${target.url}/sandboxes/${target.sandbox}/fhir`;
  const read = async (query: string) =>
    (await (await fetch(`${fhir}/${query}`, { headers: { Authorization: `Bearer ${target.adminKey}` } })).json()) as {
      entry?: { resource: { resourceType: string; identifier?: { system?: string; value?: string }[] } }[];
    };
  const fnrs = (bundle: Awaited<ReturnType<typeof read>>) =>
    (bundle.entry ?? [])
      .filter((e) => e.resource.resourceType === 'Patient')
      .map((e) => e.resource.identifier?.find((i) => i.system === 'urn:oid:2.16.578.1.12.4.1.4.1')?.value)
      .filter((v): v is string => !!v);
  const all = fnrs(await read('Patient?_count=300'));
  const withList = fnrs(await read('List?_count=200&_include=List:subject'));
  return { all, withList: withList.length ? withList : all };
}

export function newRehearsalState(description: MunicipalityDescription, options: RehearsalOptions): RehearsalState {
  let counts = flowCounts(description.population, options.hours);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const capped = total > LIMITS.maxFlows;
  if (capped)
    counts = Object.fromEntries(
      Object.entries(counts).map(([f, n]) => [f, Math.max(1, Math.floor((n * LIMITS.maxFlows) / total))]),
    ) as Record<FlowName, number>;
  return {
    status: 'running',
    startedAt: new Date().toISOString(),
    options,
    counts,
    capped,
    progress: {
      simulatedMinutes: 0,
      totalMinutes: options.hours * 60,
      flowsPlanned: Object.values(counts).reduce((a, b) => a + b, 0),
      flowsStarted: 0,
      flowsCompleted: 0,
      flowsFailed: 0,
      calls: 0,
    },
    calls: [],
    flows: [],
    faultLog: [],
  };
}

/** Runs the rehearsal, updating `state` as it goes; `signal` stops it (the report covers what ran). */
export async function runRehearsal(
  description: MunicipalityDescription,
  target: SandboxTarget,
  state: RehearsalState,
  signal: AbortSignal,
): Promise<void> {
  const { options } = state;
  const plan = planMunicipality(description);
  const actors = rehearsalActors(plan, target);
  for (const actor of actors) await actor.client.register();
  const pools = await patientPools(target);
  if (pools.all.length === 0) throw new Error('the sandbox has no patients to rehearse with');
  let next = 0;
  const pick = (list: string[]) => list[(next++ * 7919) % list.length];
  const roundRobin = new Map<Role, number>();
  const context = {
    actor: (role: Role) => {
      const candidates = actors.filter((a) => a.role === role);
      if (!candidates.length) return undefined;
      const i = roundRobin.get(role) ?? 0;
      roundRobin.set(role, i + 1);
      return candidates[i % candidates.length];
    },
    patient: (withList = false) => pick(withList ? pools.withList : pools.all),
    record: (call: CallRecord) => {
      state.calls.push({ ...call, ...(activeFaults.size ? { faults: [...activeFaults] } : {}) });
      state.progress.calls += 1;
    },
  };

  // the schedule: each flow's runs spread evenly over the simulated day, interleaved
  const durationMs = options.hours * 3600 * 1000;
  const schedule = FLOW_RATES.flatMap((rate) =>
    Array.from({ length: state.counts[rate.flow] }, (_, i) => ({
      flow: rate.flow,
      at: ((i + 0.5) / state.counts[rate.flow]) * durationMs,
    })),
  ).sort((a, b) => a.at - b.at);
  const realStart = Date.now();
  const realClock = () => Math.min(durationMs, (Date.now() - realStart) * options.speed);
  // simulated time is that of the last flow started: when Navet answers slower than the speed asks, the day
  // stretches instead of flows piling up out of their hour (and faults still hit the flows of their window)
  let simulatedClock = 0;
  const simulatedNow = () => simulatedClock;
  const deadline = realStart + LIMITS.maxRealSeconds * 1000;
  const activeFaults = new Set<number>();
  const pjdFaults = options.faults.some((f) => f.backend === 'pjd');
  const applyFaults = async () => {
    const minute = simulatedNow() / 60000;
    const wanted = new Set(
      options.faults
        .map((f, i) => (minute >= f.fromMinute && minute < f.fromMinute + f.minutes ? i : -1))
        .filter((i) => i >= 0),
    );
    if ([...wanted].sort().join() === [...activeFaults].sort().join()) return;
    const settings: Record<string, unknown> = {};
    for (const i of wanted)
      settings[options.faults[i].backend] = {
        mode: options.faults[i].mode,
        ...(options.faults[i].delayMs !== undefined ? { delayMs: options.faults[i].delayMs } : {}),
      };
    const { pjd, ...sfm } = settings as { pjd?: { mode: string; delayMs?: number } };
    await admin(target, '/settings/sfm', { method: 'PUT', body: JSON.stringify(sfm) });
    if (pjdFaults) await admin(target, '/settings/pjd', { method: 'PUT', body: JSON.stringify(pjdSettingsOf(pjd)) });
    state.faultLog.push(
      `minute ${Math.floor(minute)}: ${
        Object.keys(settings).length
          ? Object.entries(settings)
              .map(([b, s]) => `${b} ${(s as { mode: string }).mode}`)
              .join(', ')
          : 'all backends available'
      }`,
    );
    activeFaults.clear();
    for (const i of wanted) activeFaults.add(i);
  };

  const inFlight = new Set<Promise<void>>();
  let index = 0;
  try {
    while ((index < schedule.length || inFlight.size > 0) && !signal.aborted && Date.now() < deadline) {
      state.progress.simulatedMinutes = Math.floor(simulatedNow() / 60000);
      if (options.faults.length) await applyFaults();
      while (index < schedule.length && schedule[index].at <= realClock() && inFlight.size < LIMITS.concurrency) {
        simulatedClock = schedule[index].at;
        if (options.faults.length) await applyFaults();
        const { flow } = schedule[index++];
        state.progress.flowsStarted += 1;
        const running = runFlow(flow, context).then(({ completed, failedAt }) => {
          state.flows.push({ flow, completed, ...(failedAt && !completed ? { failedAt } : {}) });
          if (completed) state.progress.flowsCompleted += 1;
          else state.progress.flowsFailed += 1;
        });
        inFlight.add(running);
        void running.finally(() => inFlight.delete(running));
      }
      await Promise.race([...inFlight, new Promise((resolve) => setTimeout(resolve, 20))]);
    }
    await Promise.all([...inFlight]);
    if (index === schedule.length) simulatedClock = Math.max(simulatedClock, realClock());
    state.progress.simulatedMinutes = Math.floor(simulatedNow() / 60000);
    state.status = signal.aborted || index < schedule.length ? 'stopped' : 'finished';
    if (index < schedule.length)
      state.faultLog.push(
        `${schedule.length - index} flows not started (${signal.aborted ? 'stopped' : `real-time bound of ${LIMITS.maxRealSeconds} s`})`,
      );
  } finally {
    if (options.faults.length)
      await admin(target, '/settings/sfm', { method: 'PUT', body: '{}' }).catch(() => undefined);
    if (pjdFaults)
      await admin(target, '/settings/pjd', { method: 'PUT', body: JSON.stringify(pjdSettingsOf(undefined)) }).catch(
        () => undefined,
      );
    state.finishedAt = new Date().toISOString();
  }
}
