import { useState } from 'preact/hooks';
import { call } from '../api';
import { download, usePoll } from '../parts/poll';
import { SequenceDiagram, type Step } from '../parts/sequence-diagram';
import { Problem, Section, Shown, useAction, useLoad } from '../parts/ui';

interface Scenario {
  name: string;
  title: string;
  description?: string;
}
interface Run {
  id: string;
  status: 'running' | 'passed' | 'failed';
  title?: string;
  error?: boolean;
  steps: Step[];
  checks?: { name: string; kind: string; status: string; message?: string }[];
}

const base = (sandbox: string) => `/api/sandboxes/${encodeURIComponent(sandbox)}`;

export function ScenariosPage({ sandbox }: { sandbox: string }) {
  return (
    <>
      <h1>Scenarios and rehearsals</h1>
      <ScenarioPanel sandbox={sandbox} />
      <RehearsalPanel sandbox={sandbox} />
    </>
  );
}

function ScenarioPanel({ sandbox }: { sandbox: string }) {
  const list = useLoad(() => call<{ scenarios: Scenario[] }>('/api/scenarios', { as: 'operator' }), []);
  const [chosen, setChosen] = useState('');
  const [yaml, setYaml] = useState('');
  const [runId, setRunId] = useState<string>();
  const action = useAction();
  const run = useRunPoll(sandbox, runId);
  const start = (body: Record<string, string>) =>
    action.run(async () => {
      const started = await call<{ id: string }>(`${base(sandbox)}/scenario-runs`, {
        method: 'POST',
        body,
        as: sandbox,
      });
      setRunId(started.id);
    });
  return (
    <Section title="Run a scenario">
      <Shown loaded={list}>
        {({ scenarios }) => (
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              void start({ scenario: chosen || scenarios[0]?.name });
            }}
          >
            <label>
              Shipped scenario{' '}
              <select value={chosen || scenarios[0]?.name} onChange={(e) => setChosen(e.currentTarget.value)}>
                {scenarios.map((s) => (
                  <option value={s.name}>
                    {s.title} ({s.name})
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={action.busy || run.value?.status === 'running'}>
              Run scenario
            </button>
          </form>
        )}
      </Shown>
      <details>
        <summary>Or run your own scenario YAML</summary>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void start({ yaml });
          }}
        >
          <label>
            Scenario YAML <textarea rows={10} value={yaml} onInput={(e) => setYaml(e.currentTarget.value)} required />
          </label>
          <button type="submit" disabled={action.busy}>
            Run this YAML
          </button>
        </form>
      </details>
      <Problem text={action.error ?? run.error} />
      {run.value && (
        <div class="run">
          <h3>
            {run.value.title ?? 'Run'}: <span class={`verdict ${run.value.status}`}>{run.value.status}</span>
            {run.value.error ? ' (stopped on an error)' : ''}
          </h3>
          <SequenceDiagram steps={run.value.steps} />
          <table>
            <thead>
              <tr>
                <th>#</th>
                <th>Actor</th>
                <th>Service</th>
                <th>Operation</th>
                <th>Status</th>
                <th>ms</th>
                <th>Rule / message</th>
              </tr>
            </thead>
            <tbody>
              {run.value.steps.map((s, i) => (
                <tr class={s.status === 'passed' ? '' : 'rejected'}>
                  <td>{i + 1}</td>
                  <td>{s.actor}</td>
                  <td>{s.service}</td>
                  <td>{s.title ?? s.operation}</td>
                  <td>
                    {s.status}
                    {s.httpStatus ? ` (${s.httpStatus})` : ''}
                  </td>
                  <td>{s.ms}</td>
                  <td>
                    {s.rule ? <code>{s.rule}</code> : null} {s.message}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {(run.value.checks ?? []).length > 0 && (
            <ul class="plain">
              {run.value.checks!.map((c) => (
                <li>
                  <span class={`verdict ${c.status}`}>{c.status}</span> {c.name}{' '}
                  <span class="muted">
                    ({c.kind}) {c.message}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Section>
  );
}

function useRunPoll(sandbox: string, runId: string | undefined) {
  return usePoll<Run>(
    runId ? `${base(sandbox)}/scenario-runs/${encodeURIComponent(runId)}` : undefined,
    sandbox,
    (r) => r.status !== 'running',
  );
}

interface Fault {
  backend: 'kjernejournal' | 'reseptformidleren';
  mode: 'unavailable' | 'slow' | 'timeout';
  fromMinute: number;
  minutes: number;
}
interface Progress {
  simulatedMinutes: number;
  totalMinutes: number;
  flowsPlanned: number;
  flowsStarted: number;
  flowsCompleted: number;
  flowsFailed: number;
  calls: number;
}
interface Rehearsal {
  id: string;
  status: 'running' | 'finished' | 'stopped' | 'failed';
  planned?: Record<string, number>;
  progress?: Progress;
}
interface ServiceFigures {
  service: string;
  calls: number;
  successes: number;
  failures: unknown[];
  latencyMs?: { p50: number; p95: number; max: number };
}
interface ReadinessReport {
  municipality?: { name: string; kommunenummer: string; population: number };
  totals?: { calls: number; successes: number; failures: number; flowsCompleted: number; flowsNotCompleted: number };
  prerequisites?: { id: string; title: string; ready: boolean; evidence?: string[] }[];
  actors?: { actor: string; role: string; services: ServiceFigures[] }[];
  incompleteFlows?: { flow?: string; message?: string; [field: string]: unknown }[];
}

function FaultRow({
  fault,
  onChange,
  onRemove,
}: {
  fault: Fault;
  onChange: (fault: Fault) => void;
  onRemove: () => void;
}) {
  return (
    <div class="row">
      <label>
        Backend{' '}
        <select
          value={fault.backend}
          onChange={(e) => onChange({ ...fault, backend: e.currentTarget.value as Fault['backend'] })}
        >
          <option value="reseptformidleren">Reseptformidleren</option>
          <option value="kjernejournal">Kjernejournal</option>
        </select>
      </label>
      <label>
        Mode{' '}
        <select
          value={fault.mode}
          onChange={(e) => onChange({ ...fault, mode: e.currentTarget.value as Fault['mode'] })}
        >
          <option value="unavailable">unavailable</option>
          <option value="slow">slow</option>
          <option value="timeout">timeout</option>
        </select>
      </label>
      <label>
        From minute{' '}
        <input
          type="number"
          min={0}
          value={fault.fromMinute}
          onInput={(e) => onChange({ ...fault, fromMinute: Number(e.currentTarget.value) })}
        />
      </label>
      <label>
        For minutes{' '}
        <input
          type="number"
          min={1}
          value={fault.minutes}
          onInput={(e) => onChange({ ...fault, minutes: Number(e.currentTarget.value) })}
        />
      </label>
      <button type="button" class="small secondary" onClick={onRemove}>
        Remove fault
      </button>
    </div>
  );
}

function RehearsalPanel({ sandbox }: { sandbox: string }) {
  const [hours, setHours] = useState('1');
  const [speed, setSpeed] = useState('3600');
  const [faults, setFaults] = useState<Fault[]>([]);
  const [id, setId] = useState<string>();
  const action = useAction();
  const path = id ? `${base(sandbox)}/rehearsals/${encodeURIComponent(id)}` : undefined;
  const rehearsal = usePoll<Rehearsal>(path, sandbox, (r) => r.status !== 'running', 1500);
  const done = rehearsal.value && rehearsal.value.status !== 'running';
  const report = useLoad(
    async () => (path && done ? call<ReadinessReport>(`${path}/report?format=json`, { as: sandbox }) : undefined),
    [path, done],
  );
  const start = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const started = await call<{ id: string }>(`${base(sandbox)}/rehearsals`, {
        method: 'POST',
        body: { hours: Number(hours), speed: Number(speed), faults },
        as: sandbox,
      });
      setId(started.id);
    });
  };
  const progress = rehearsal.value?.progress;
  return (
    <Section title="Rehearse a day of traffic (municipality sandboxes)">
      <form onSubmit={start}>
        <div class="row">
          <label>
            Hours of traffic{' '}
            <input type="number" min={1} value={hours} onInput={(e) => setHours(e.currentTarget.value)} required />
          </label>
          <label>
            Speed (× real time){' '}
            <input type="number" min={1} value={speed} onInput={(e) => setSpeed(e.currentTarget.value)} required />
          </label>
        </div>
        <fieldset>
          <legend>Faults (optional): a backend off or slow for a window of simulated time</legend>
          {faults.map((f, i) => (
            <FaultRow
              fault={f}
              onChange={(changed) => setFaults(faults.map((x, j) => (j === i ? changed : x)))}
              onRemove={() => setFaults(faults.filter((_, j) => j !== i))}
            />
          ))}
          <button
            type="button"
            class="small secondary"
            onClick={() =>
              setFaults([...faults, { backend: 'reseptformidleren', mode: 'unavailable', fromMinute: 10, minutes: 10 }])
            }
          >
            Add a fault
          </button>
        </fieldset>
        <button type="submit" disabled={action.busy || rehearsal.value?.status === 'running'}>
          Start rehearsal
        </button>
      </form>
      <Problem text={action.error ?? rehearsal.error} />
      {rehearsal.value && (
        <div class="run">
          <h3>
            Rehearsal: <span class={`verdict ${rehearsal.value.status}`}>{rehearsal.value.status}</span>
          </h3>
          {progress && (
            <>
              <label>
                Simulated time {progress.simulatedMinutes} of {progress.totalMinutes} minutes
                <progress max={progress.totalMinutes} value={progress.simulatedMinutes} />
              </label>
              <p>
                Flows: {progress.flowsStarted} of {progress.flowsPlanned} started, {progress.flowsCompleted} completed,{' '}
                {progress.flowsFailed} failed · {progress.calls} calls
              </p>
            </>
          )}
          {rehearsal.value.status === 'running' && path && (
            <button
              type="button"
              class="secondary"
              onClick={() =>
                void action.run(async () => {
                  await call(`${path}/stop`, { method: 'POST', as: sandbox });
                })
              }
            >
              Stop rehearsal
            </button>
          )}
        </div>
      )}
      {path && report.value && <ReadinessView report={report.value} path={path} sandbox={sandbox} id={id as string} />}
      <Problem text={report.error} />
    </Section>
  );
}

function ReadinessView({
  report,
  path,
  sandbox,
  id,
}: {
  report: ReadinessReport;
  path: string;
  sandbox: string;
  id: string;
}) {
  const ready = (report.prerequisites ?? []).every((p) => p.ready);
  return (
    <div class="report">
      <h3>
        Readiness report{report.municipality ? `: ${report.municipality.name}` : ''} —{' '}
        <span class={`verdict ${ready ? 'passed' : 'failed'}`}>{ready ? 'ready' : 'not ready'}</span>
      </h3>
      {report.totals && (
        <p>
          {report.totals.calls} calls, {report.totals.successes} succeeded, {report.totals.failures} failed ·{' '}
          {report.totals.flowsCompleted} flows completed, {report.totals.flowsNotCompleted} not
        </p>
      )}
      <ul class="plain">
        {(report.prerequisites ?? []).map((p) => (
          <li>
            <span class={`verdict ${p.ready ? 'passed' : 'failed'}`}>{p.ready ? '✓ ready' : '✗ not ready'}</span>{' '}
            {p.title} <span class="muted">{(p.evidence ?? []).join('; ')}</span>
          </li>
        ))}
      </ul>
      <table>
        <thead>
          <tr>
            <th>Actor</th>
            <th>Service</th>
            <th>Calls</th>
            <th>Succeeded</th>
            <th>Failed</th>
            <th>p50 / p95 ms</th>
          </tr>
        </thead>
        <tbody>
          {(report.actors ?? []).flatMap((a) =>
            a.services.map((s) => (
              <tr class={s.failures.length ? 'rejected' : ''}>
                <td>{a.actor}</td>
                <td>{s.service}</td>
                <td>{s.calls}</td>
                <td>{s.successes}</td>
                <td>{s.failures.length}</td>
                <td>{s.latencyMs ? `${s.latencyMs.p50} / ${s.latencyMs.p95}` : ''}</td>
              </tr>
            )),
          )}
        </tbody>
      </table>
      <div class="row">
        <button
          type="button"
          class="secondary"
          onClick={() => void download(`${path}/report?format=json`, sandbox, `readiness-${id}.json`)}
        >
          Download JSON
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => void download(`${path}/report?format=html`, sandbox, `readiness-${id}.html`)}
        >
          Download HTML
        </button>
      </div>
    </div>
  );
}
