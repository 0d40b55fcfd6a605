import { useState } from 'preact/hooks';
import { call } from '../api';
import { download, usePoll } from '../parts/poll';
import { SequenceDiagram, type Step } from '../parts/sequence-diagram';
import { Note, Problem, Section, Shown, useAction, useLoad } from '../parts/ui';

interface Scenario { name: string; title: string; description?: string }
interface Run { id: string; status: 'running' | 'passed' | 'failed'; title?: string; error?: boolean; steps: Step[]; checks?: { name: string; kind: string; status: string; message?: string }[] }
interface Rehearsal { id: string; status: string; [field: string]: unknown }

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
  const start = (body: Record<string, string>) => action.run(async () => {
    const started = await call<{ id: string }>(`${base(sandbox)}/scenario-runs`, { method: 'POST', body, as: sandbox });
    setRunId(started.id);
  });
  return (
    <Section title="Run a scenario">
      <Shown loaded={list}>{({ scenarios }) => (
        <form class="row" onSubmit={(e) => { e.preventDefault(); void start({ scenario: chosen || scenarios[0]?.name }); }}>
          <label>Shipped scenario <select value={chosen || scenarios[0]?.name} onChange={(e) => setChosen(e.currentTarget.value)}>
            {scenarios.map((s) => <option value={s.name}>{s.title} ({s.name})</option>)}
          </select></label>
          <button type="submit" disabled={action.busy || run.value?.status === 'running'}>Run scenario</button>
        </form>
      )}</Shown>
      <details>
        <summary>Or run your own scenario YAML</summary>
        <form onSubmit={(e) => { e.preventDefault(); void start({ yaml }); }}>
          <label>Scenario YAML <textarea rows={10} value={yaml} onInput={(e) => setYaml(e.currentTarget.value)} required /></label>
          <button type="submit" disabled={action.busy}>Run this YAML</button>
        </form>
      </details>
      <Problem text={action.error ?? run.error} />
      {run.value && (
        <div class="run">
          <h3>{run.value.title ?? 'Run'}: <span class={`verdict ${run.value.status}`}>{run.value.status}</span>{run.value.error ? ' (stopped on an error)' : ''}</h3>
          <SequenceDiagram steps={run.value.steps} />
          <table>
            <thead><tr><th>#</th><th>Actor</th><th>Service</th><th>Operation</th><th>Status</th><th>ms</th><th>Rule / message</th></tr></thead>
            <tbody>{run.value.steps.map((s, i) => (
              <tr class={s.status === 'passed' ? '' : 'rejected'}><td>{i + 1}</td><td>{s.actor}</td><td>{s.service}</td><td>{s.title ?? s.operation}</td><td>{s.status}{s.httpStatus ? ` (${s.httpStatus})` : ''}</td><td>{s.ms}</td><td>{s.rule ? <code>{s.rule}</code> : null} {s.message}</td></tr>
            ))}</tbody>
          </table>
          {(run.value.checks ?? []).length > 0 && (
            <ul class="plain">{run.value.checks!.map((c) => <li><span class={`verdict ${c.status}`}>{c.status}</span> {c.name} <span class="muted">({c.kind}) {c.message}</span></li>)}</ul>
          )}
        </div>
      )}
    </Section>
  );
}

function useRunPoll(sandbox: string, runId: string | undefined) {
  return usePoll<Run>(runId ? `${base(sandbox)}/scenario-runs/${encodeURIComponent(runId)}` : undefined, sandbox, (r) => r.status !== 'running');
}

const FINISHED = new Set(['finished', 'passed', 'failed', 'done', 'completed', 'error', 'stopped']);

function RehearsalPanel({ sandbox }: { sandbox: string }) {
  const [hours, setHours] = useState('8');
  const [speed, setSpeed] = useState('600');
  const [faults, setFaults] = useState('');
  const [id, setId] = useState<string>();
  const action = useAction();
  const rehearsal = usePoll<Rehearsal>(id ? `${base(sandbox)}/rehearsals/${encodeURIComponent(id)}` : undefined, sandbox, (r) => FINISHED.has(r.status), 2000);
  const report = useLoad(async () => {
    if (!id || !rehearsal.value || !FINISHED.has(rehearsal.value.status)) return undefined;
    return call<Record<string, unknown>>(`${base(sandbox)}/rehearsals/${encodeURIComponent(id)}/report?format=json`, { as: sandbox });
  }, [id, rehearsal.value?.status]);
  const start = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const body: Record<string, unknown> = { hours: Number(hours), speed: Number(speed) };
      if (faults.trim()) {
        try { body.faults = JSON.parse(faults); } catch { throw new Error('Faults must be JSON, e.g. {"sfm": {"reseptformidleren": {"mode": "unavailable"}}}'); }
      }
      const started = await call<{ id: string }>(`${base(sandbox)}/rehearsals`, { method: 'POST', body, as: sandbox });
      setId(started.id);
    });
  };
  const { id: _id, status, ...progress } = rehearsal.value ?? { id: '', status: '' };
  return (
    <Section title="Rehearse days of traffic">
      <form class="row" onSubmit={start}>
        <label>Hours of traffic <input type="number" min={1} value={hours} onInput={(e) => setHours(e.currentTarget.value)} required /></label>
        <label>Speed (× real time) <input type="number" min={1} value={speed} onInput={(e) => setSpeed(e.currentTarget.value)} required /></label>
        <label>Faults (JSON, optional) <input value={faults} onInput={(e) => setFaults(e.currentTarget.value)} placeholder='{"sfm": …}' /></label>
        <button type="submit" disabled={action.busy}>Start rehearsal</button>
      </form>
      <Problem text={action.error ?? rehearsal.error} />
      {rehearsal.value && (
        <>
          <p>Rehearsal {rehearsal.value.id}: <strong>{status}</strong></p>
          <pre class="progress">{JSON.stringify(progress, null, 2)}</pre>
        </>
      )}
      {id && report.value && (
        <>
          <h3>Readiness report</h3>
          <pre class="progress">{JSON.stringify(report.value, null, 2)}</pre>
          <div class="row">
            <button type="button" class="secondary" onClick={() => void download(`${base(sandbox)}/rehearsals/${encodeURIComponent(id)}/report?format=json`, sandbox, `rehearsal-${id}.json`)}>Download JSON</button>
            <button type="button" class="secondary" onClick={() => void download(`${base(sandbox)}/rehearsals/${encodeURIComponent(id)}/report?format=html`, sandbox, `rehearsal-${id}.html`)}>Download HTML</button>
          </div>
        </>
      )}
      <Note text={report.error} />
    </Section>
  );
}
