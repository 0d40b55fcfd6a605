import { useEffect, useState } from 'preact/hooks';
import type { AuditEvent } from '../fhir-types';
import { type AuditLine, auditLine } from '../parts/audit-summary';
import { followEvents } from '../parts/event-stream';
import { Section, when } from '../parts/ui';

const FILTERS: { key: string; label: string; hint: string }[] = [
  { key: 'patient', label: 'Patient', hint: 'fødselsnummer' },
  { key: 'practitioner', label: 'Practitioner', hint: 'HPR number or fødselsnummer' },
  { key: 'organisation', label: 'Organisation', hint: 'orgnr or RESH id' },
  { key: 'client', label: 'Client', hint: 'client_id' },
];
const SERVICES = ['', 'pjd', 'critical-information', 'sfm', 'pps'];
const KEEP = 300;

/** The access log, live: the newest entries, then each new one as the services write it. */
export function AccessLogPage({ sandbox }: { sandbox: string }) {
  const [draft, setDraft] = useState<Record<string, string>>({});
  const [filters, setFilters] = useState<Record<string, string>>({});
  const [lines, setLines] = useState<AuditLine[]>([]);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    setLines([]);
    setState('connecting');
    const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => v.trim() !== ''));
    query.set('_count', '50');
    return followEvents(
      `/api/sandboxes/${encodeURIComponent(sandbox)}/audit/stream?${query.toString()}`,
      sandbox,
      (event) => {
        if (event.event === 'audit') {
          const line = auditLine(JSON.parse(event.data) as AuditEvent);
          setLines((old) => (old.some((l) => l.id === line.id) ? old : [line, ...old].slice(0, KEEP)));
        } else if (event.event === 'ready') {
          setState('live');
        } else if (event.event === 'problem') {
          setState(`stopped: ${(JSON.parse(event.data) as { text: string }).text}`);
        }
      },
      setState,
    );
  }, [sandbox, filters]);
  return (
    <>
      <h1>
        Access log{' '}
        <span class={`live ${state === 'live' ? 'on' : ''}`} role="status">
          {state}
        </span>
      </h1>
      <form
        class="card filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        {FILTERS.map((f) => (
          <label>
            {f.label}{' '}
            <input
              value={draft[f.key] ?? ''}
              placeholder={f.hint}
              onInput={(e) => setDraft({ ...draft, [f.key]: e.currentTarget.value })}
            />
          </label>
        ))}
        <label>
          Service{' '}
          <select value={draft.service ?? ''} onChange={(e) => setDraft({ ...draft, service: e.currentTarget.value })}>
            {SERVICES.map((s) => (
              <option value={s}>{s || 'any'}</option>
            ))}
          </select>
        </label>
        <label>
          Outcome{' '}
          <select value={draft.outcome ?? ''} onChange={(e) => setDraft({ ...draft, outcome: e.currentTarget.value })}>
            <option value="">any</option>
            <option value="success">allowed</option>
            <option value="failure">rejected</option>
          </select>
        </label>
        <button type="submit">Apply filters</button>
      </form>
      <Section title={`Entries (${lines.length}${lines.length === KEEP ? '+' : ''}), newest first`}>
        {lines.length === 0 ? (
          <p class="muted">
            Nothing logged yet{Object.keys(filters).length ? ' for these filters' : ''}: call a service and it shows
            here.
          </p>
        ) : (
          <table class="log" aria-live="polite">
            <thead>
              <tr>
                <th>Time</th>
                <th>Outcome</th>
                <th>Service</th>
                <th>What</th>
                <th>Patient</th>
                <th>Practitioner</th>
                <th>Organisation</th>
                <th>Client</th>
              </tr>
            </thead>
            <tbody>
              {lines.map((l) => (
                <tr class={l.ok ? '' : 'rejected'}>
                  <td>{when(l.time)}</td>
                  <td>
                    {l.ok ? (
                      'allowed'
                    ) : (
                      <>
                        <strong>rejected</strong> <code>{l.rule}</code>
                        <br />
                        <span class="rule-text">{l.text}</span>
                      </>
                    )}
                  </td>
                  <td>{l.service}</td>
                  <td>
                    {l.interaction}
                    {l.purpose ? <span class="muted"> · {l.purpose}</span> : null}
                  </td>
                  <td>{l.patient}</td>
                  <td>{l.practitioner}</td>
                  <td>{l.organisation}</td>
                  <td>{l.client}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}
