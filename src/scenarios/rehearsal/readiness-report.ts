import type { MunicipalityDescription, MunicipalityPlan } from '../../sandbox/seed/municipality';
import type { ConformanceVerdict } from './conformance-verdicts';
import type { CallRecord } from './flows';
import { FLOW_RATES } from './rates';
import type { RehearsalState } from './rehearsal-runner';

/**
 * The readiness report of a rehearsal: per actor and service the calls, successes, failures by error
 * code (with the rule's own words) and latency; the flows that never completed; the rollout
 * prerequisites as a checklist with evidence; and conformance verdicts where there are any.
 */
export interface ServiceFigures {
  service: string;
  calls: number;
  successes: number;
  failures: { code: string; count: number; example?: string }[];
  latencyMs: { p50: number; p95: number; max: number };
}

/** A fault's effect: the calls to the services behind its backend while it was in force, and the others. */
export interface FaultImpact {
  fault: string;
  during: ServiceFigures;
  outside: ServiceFigures;
}

export interface Prerequisite {
  id: string;
  title: string;
  ready: boolean;
  evidence: string[];
}

export interface ReadinessReport {
  sandbox: string;
  municipality: { name: string; kommunenummer: string; population: number };
  rehearsal: {
    status: string;
    hours: number;
    speed: number;
    startedAt: string;
    finishedAt?: string;
    simulatedMinutes: number;
    capped: boolean;
    faults: RehearsalState['options']['faults'];
    faultLog: string[];
  };
  rates: { flow: string; title: string; nationalPerDay: number; planned: number; basis: string }[];
  totals: { calls: number; successes: number; failures: number; flowsCompleted: number; flowsNotCompleted: number };
  actors: { actor: string; role: string; services: ServiceFigures[] }[];
  faultImpact: FaultImpact[];
  incompleteFlows: {
    flow: string;
    count: number;
    where: { actor: string; service: string; operation: string; code: string; count: number; example?: string }[];
  }[];
  prerequisites: Prerequisite[];
  conformance: ConformanceVerdict[];
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

const codeOf = (call: CallRecord) => call.rule ?? `HTTP-${call.httpStatus ?? 'none'}`;

function figures(service: string, calls: CallRecord[]): ServiceFigures {
  const latencies = calls.map((c) => c.ms).sort((a, b) => a - b);
  const failures = [
    ...groupBy(
      calls.filter((c) => !c.ok),
      codeOf,
    ),
  ]
    .map(([code, list]) => ({ code, count: list.length, ...(list[0].text ? { example: list[0].text } : {}) }))
    .sort((a, b) => b.count - a.count);
  return {
    service,
    calls: calls.length,
    successes: calls.filter((c) => c.ok).length,
    failures,
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      max: latencies[latencies.length - 1] ?? 0,
    },
  };
}

const SERVICES_BEHIND: Record<string, string[]> = {
  kjernejournal: ['critical-information', 'sfm'],
  reseptformidleren: ['sfm'],
  pjd: ['pjd'],
};

function faultImpact(state: RehearsalState): FaultImpact[] {
  return state.options.faults.map((f, i) => {
    const services = SERVICES_BEHIND[f.backend];
    const calls = state.calls.filter((c) => services.includes(c.service));
    const hit = (c: CallRecord) => c.faults?.includes(i) ?? false;
    const name = services.join(', ');
    return {
      fault: `${f.backend} ${f.mode}${f.delayMs !== undefined ? ` ${f.delayMs} ms` : ''}, minutes ${f.fromMinute}–${f.fromMinute + f.minutes}`,
      during: figures(name, calls.filter(hit)),
      outside: figures(
        name,
        calls.filter((c) => !hit(c)),
      ),
    };
  });
}

export interface ReportInputs {
  sandbox: string;
  description: MunicipalityDescription;
  plan: MunicipalityPlan;
  state: RehearsalState;
  /** Organisations as the sandbox holds them now: name and health-network membership. */
  organisations: { name: string; member: boolean }[];
  /** The record systems' registrations as the sandbox holds them now. */
  registrations: { clientId: string; scopes: string[] }[];
  conformance: ConformanceVerdict[];
}

function prerequisites(inputs: ReportInputs): Prerequisite[] {
  const { state, plan, description } = inputs;
  const calls = state.calls;
  const nonMembers = inputs.organisations.filter((o) => !o.member);
  const kj = calls.filter((c) => c.service === 'critical-information');
  const kjDown = calls.filter((c) => ['KJ-UNAVAILABLE', 'KJ-TIMEOUT'].includes(c.rule ?? ''));
  const systems = [
    ...groupBy(
      plan.clients.filter((c) => c.user !== 'hospital'),
      (c) => c.system,
    ),
  ];
  const registered = new Map(inputs.registrations.map((r) => [r.clientId, r.scopes]));
  const attestationFailures = calls.filter((c) => /^ATT-|NAVET-ATTESTATION/.test(c.rule ?? ''));
  const gpPjd = calls.filter((c) => c.role === 'gp' && c.service === 'pjd');
  return [
    {
      id: 'health-network-membership',
      title: 'Every organisation is a member of the health network (Helsenettet)',
      ready: nonMembers.length === 0,
      evidence: [
        `${inputs.organisations.length - nonMembers.length} of ${inputs.organisations.length} organisations are marked as members`,
        ...nonMembers.slice(0, 5).map((o) => `not a member: ${o.name}`),
      ],
    },
    {
      id: 'kjernejournal-reachable',
      title: 'Kjernejournal is reachable (critical information, the KJ half of $getMedication)',
      ready: kj.some((c) => c.ok) && kjDown.length === 0,
      evidence: [
        `critical-information: ${kj.length} calls, ${kj.filter((c) => c.ok).length} succeeded`,
        `$getMedication answers without Kjernejournal: ${kjDown.length}`,
      ],
    },
    ...systems.map(([system, clients]): Prerequisite => {
      const integrated = clients.filter((c) => (registered.get(c.clientId) ?? []).includes('e-helse:sfm.api/sfm.api2'));
      const sfm = calls.filter((c) => c.service === 'sfm' && clients.some((cl) => c.actor.includes(cl.name)));
      return {
        id: `sfm-integration:${system}`,
        title: `${clients[0].name.split(',')[0]} is integrated with SFM`,
        ready: integrated.length === clients.length && integrated.length > 0,
        evidence: [
          `${integrated.length} of ${clients.length} installations registered with e-helse:sfm.api/sfm.api2`,
          `SFM calls in the rehearsal: ${sfm.length}, ${sfm.filter((c) => c.ok).length} succeeded`,
        ],
      };
    }),
    {
      id: 'attestation',
      title: 'The record systems send the tillitsrammeverk attestation',
      ready: plan.clients.every((c) => c.attestation) && attestationFailures.length === 0,
      evidence: [
        ...plan.clients.filter((c) => !c.attestation).map((c) => `${c.name}: configured without the attestation`),
        `calls refused by an attestation rule: ${attestationFailures.length}${attestationFailures[0] ? ` (first: ${codeOf(attestationFailures[0])})` : ''}`,
      ],
    },
    {
      id: 'pjd-gp-terms',
      title: 'The GPs have signed the PJD terms of use (bruksvilkår)',
      ready: description.pjdTermsSigned === true && gpPjd.every((c) => c.ok),
      evidence: [
        `pjdTermsSigned: ${String(description.pjdTermsSigned ?? false)} in the municipality description`,
        `GP document look-ups: ${gpPjd.length}, ${gpPjd.filter((c) => c.ok).length} succeeded`,
      ],
    },
  ];
}

export function readinessReport(inputs: ReportInputs): ReadinessReport {
  const { state, description } = inputs;
  const calls = state.calls;
  const actors = [...groupBy(calls, (c) => c.actor)].map(([actor, list]) => ({
    actor,
    role: list[0].role,
    services: [...groupBy(list, (c) => c.service)].map(([service, own]) => figures(service, own)),
  }));
  const incomplete = state.flows.filter((f) => !f.completed);
  return {
    sandbox: inputs.sandbox,
    municipality: {
      name: description.name,
      kommunenummer: description.kommunenummer,
      population: description.population,
    },
    rehearsal: {
      status: state.status,
      hours: state.options.hours,
      speed: state.options.speed,
      startedAt: state.startedAt,
      ...(state.finishedAt ? { finishedAt: state.finishedAt } : {}),
      simulatedMinutes: state.progress.simulatedMinutes,
      capped: state.capped,
      faults: state.options.faults,
      faultLog: state.faultLog,
    },
    rates: FLOW_RATES.map((r) => ({
      flow: r.flow,
      title: r.title,
      nationalPerDay: r.perDay,
      planned: state.counts[r.flow],
      basis: r.basis,
    })),
    totals: {
      calls: calls.length,
      successes: calls.filter((c) => c.ok).length,
      failures: calls.filter((c) => !c.ok).length,
      flowsCompleted: state.progress.flowsCompleted,
      flowsNotCompleted: incomplete.length,
    },
    actors,
    faultImpact: faultImpact(state),
    incompleteFlows: [...groupBy(incomplete, (f) => f.flow)].map(([flow, list]) => ({
      flow,
      count: list.length,
      where: [
        ...groupBy(list, (f) =>
          f.failedAt
            ? `${f.failedAt.actor}|${f.failedAt.service}|${f.failedAt.operation}|${codeOf(f.failedAt)}`
            : 'unknown',
        ),
      ].map(([, same]) => {
        const at = same[0].failedAt;
        return {
          actor: at?.actor ?? '—',
          service: at?.service ?? '—',
          operation: at?.operation ?? '—',
          code: at ? codeOf(at) : '—',
          count: same.length,
          ...(at?.text ? { example: at.text } : {}),
        };
      }),
    })),
    prerequisites: prerequisites(inputs),
    conformance: inputs.conformance,
  };
}

const escape = (value: unknown) =>
  String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

export function readinessReportHtml(report: ReadinessReport): string {
  const rows = (cells: unknown[][]) =>
    cells.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join('')}</tr>`).join('');
  const m = report.municipality;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Readiness report — ${escape(m.name)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}.ready{color:#176117}.not-ready{color:#a11}</style></head>
<body><h1>Readiness report: ${escape(m.name)} (${escape(m.kommunenummer)}, ${escape(m.population.toLocaleString('en'))} inhabitants)</h1>
<p>Sandbox ${escape(report.sandbox)} — rehearsal ${escape(report.rehearsal.status)}: ${escape(report.rehearsal.hours)} h at speed ${escape(report.rehearsal.speed)}, ${escape(report.totals.calls)} calls (${escape(report.totals.failures)} failed), ${escape(report.totals.flowsCompleted)} flows completed, ${escape(report.totals.flowsNotCompleted)} not.</p>
<h2>Rollout prerequisites</h2><table><tr><th></th><th>Prerequisite</th><th>Evidence</th></tr>${report.prerequisites.map((p) => `<tr><td class="${p.ready ? 'ready' : 'not-ready'}">${p.ready ? 'ready' : 'not ready'}</td><td>${escape(p.title)}</td><td>${p.evidence.map(escape).join('<br>')}</td></tr>`).join('')}</table>
<h2>Per actor and service</h2><table><tr><th>Actor</th><th>Service</th><th>Calls</th><th>OK</th><th>Failures by code</th><th>p50 / p95 / max ms</th></tr>${report.actors.flatMap((a) => a.services.map((s) => `<tr><td>${escape(a.actor)}</td><td>${escape(s.service)}</td><td>${s.calls}</td><td>${s.successes}</td><td>${s.failures.map((f) => `${escape(f.code)} × ${f.count}${f.example ? `: ${escape(f.example)}` : ''}`).join('<br>')}</td><td>${s.latencyMs.p50} / ${s.latencyMs.p95} / ${s.latencyMs.max}</td></tr>`)).join('')}</table>
<h2>Flows never completed</h2>${report.incompleteFlows.length ? `<table><tr><th>Flow</th><th>Count</th><th>Where it stopped</th></tr>${report.incompleteFlows.map((f) => `<tr><td>${escape(f.flow)}</td><td>${f.count}</td><td>${f.where.map((w) => `${escape(w.actor)} → ${escape(w.service)} → ${escape(w.operation)}: ${escape(w.code)} × ${w.count}`).join('<br>')}</td></tr>`).join('')}</table>` : '<p>All flows completed.</p>'}
<h2>Rates</h2><table><tr><th>Flow</th><th>National per day</th><th>Planned</th><th>Basis</th></tr>${rows(report.rates.map((r) => [r.title, r.nationalPerDay, r.planned, r.basis]))}</table>
<h2>Faults</h2>${report.rehearsal.faultLog.length ? `<ul>${report.rehearsal.faultLog.map((l) => `<li>${escape(l)}</li>`).join('')}</ul>` : '<p>None.</p>'}
${report.faultImpact.length ? `<table><tr><th>Fault</th><th>Services</th><th>Calls (OK) during / outside</th><th>p50 / p95 / max ms during</th><th>p50 / p95 / max ms outside</th></tr>${report.faultImpact.map((f) => `<tr><td>${escape(f.fault)}</td><td>${escape(f.during.service)}</td><td>${f.during.calls} (${f.during.successes}) / ${f.outside.calls} (${f.outside.successes})</td><td>${f.during.latencyMs.p50} / ${f.during.latencyMs.p95} / ${f.during.latencyMs.max}</td><td>${f.outside.latencyMs.p50} / ${f.outside.latencyMs.p95} / ${f.outside.latencyMs.max}</td></tr>`).join('')}</table>` : ''}
<h2>Conformance</h2>${report.conformance.length ? `<table><tr><th>Session</th><th>Status</th><th>Verdict</th><th>Note</th></tr>${rows(report.conformance.map((c) => [c.session, c.status ?? '—', c.verdict ?? '—', c.note ?? '']))}</table>` : '<p>No conformance sessions named.</p>'}
</body></html>`;
}
