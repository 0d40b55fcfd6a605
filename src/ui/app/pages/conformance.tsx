import { useState } from 'preact/hooks';
import { call } from '../api';
import { download, usePoll } from '../parts/poll';
import type { ClientInfo } from '../parts/snippets';
import { Note, Problem, Section, Shown, useAction, useLoad } from '../parts/ui';
import { href } from '../route';

interface Requirement {
  id: string;
  title?: string;
  text?: string;
  level?: string;
  profiles?: string[];
  source?: { url?: string; upstreamId?: string };
}
interface Challenge {
  name: string;
  description: string;
  requirements: string[];
}
interface Catalogue {
  profiles: string[];
  challenges: Challenge[];
  requirements: Requirement[];
}
interface Session {
  id: string;
  status: string;
  clientId?: string;
  label?: string;
  profiles?: string[];
  verdict?: string;
  counts?: Record<string, number>;
  challenges?: { challenge: string; status: string }[];
}
interface Result {
  requirement: string;
  title?: string;
  level?: string;
  sourceUrl?: string;
  status: 'pass' | 'fail' | 'warning' | 'skip' | 'omit' | 'error';
  message?: string;
  evidence?: unknown;
}
interface Report {
  verdict: string;
  counts?: Record<string, number>;
  results: Result[];
}

const sessions = (sandbox: string) => `/api/sandboxes/${encodeURIComponent(sandbox)}/conformance/sessions`;
const RECENT = 'navet.conformance-sessions';

const catalogue = () => call<Catalogue>('/api/conformance/requirements', { as: 'operator' });

/** Conformance: open a session for a client, watch it record, arm challenges, finish, read the report. */
export function ConformancePage({ sandbox, sessionId }: { sandbox: string; sessionId?: string }) {
  return (
    <>
      <h1>Conformance</h1>
      {sessionId ? <SessionView sandbox={sandbox} id={sessionId} /> : <OpenSession sandbox={sandbox} />}
    </>
  );
}

function OpenSession({ sandbox }: { sandbox: string }) {
  const loaded = useLoad(async () => {
    const [found, clients] = await Promise.all([
      catalogue(),
      call<{ clients: ClientInfo[] }>(`/api/sandboxes/${encodeURIComponent(sandbox)}/clients`, { as: sandbox }),
    ]);
    return { ...found, clients: clients.clients };
  }, [sandbox]);
  const [clientId, setClientId] = useState('');
  const [profiles, setProfiles] = useState<string[]>([]);
  const [label, setLabel] = useState('');
  const action = useAction();
  const recent: string[] = JSON.parse(sessionStorage.getItem(RECENT) ?? '[]') as string[];
  return (
    <>
      <Section title="Open a session">
        <Shown loaded={loaded}>
          {({ profiles: allProfiles, clients }) => {
            const client = clientId || clients[0]?.clientId;
            return (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void action.run(async () => {
                    const opened = await call<Session>(sessions(sandbox), {
                      method: 'POST',
                      body: { clientId: client, profiles, ...(label ? { label } : {}) },
                      as: sandbox,
                    });
                    sessionStorage.setItem(RECENT, JSON.stringify([opened.id, ...recent].slice(0, 10)));
                    location.hash = href(sandbox, 'conformance', opened.id);
                  });
                }}
              >
                <label>
                  Client{' '}
                  <select value={client} onChange={(e) => setClientId(e.currentTarget.value)}>
                    {clients.map((c) => (
                      <option value={c.clientId}>{c.clientId}</option>
                    ))}
                  </select>
                </label>
                <fieldset>
                  <legend>Profiles to grade against</legend>
                  {allProfiles.map((p) => (
                    <label class="check">
                      <input
                        type="checkbox"
                        checked={profiles.includes(p)}
                        onChange={(e) =>
                          setProfiles(e.currentTarget.checked ? [...profiles, p] : profiles.filter((x) => x !== p))
                        }
                      />{' '}
                      {p}
                    </label>
                  ))}
                </fieldset>
                <label>
                  Label (optional) <input value={label} onInput={(e) => setLabel(e.currentTarget.value)} />
                </label>
                <button type="submit" disabled={action.busy || profiles.length === 0}>
                  Start recording
                </button>
                <Problem text={action.error} />
              </form>
            );
          }}
        </Shown>
        {recent.length > 0 && (
          <p>
            Sessions opened in this tab:{' '}
            {recent.map((id) => (
              <a href={href(sandbox, 'conformance', id)}>{id.slice(0, 8)} </a>
            ))}
          </p>
        )}
      </Section>
      <Section title="Requirements">
        <Shown loaded={loaded}>
          {({ requirements }) => (
            <details>
              <summary>{requirements.length} requirements</summary>
              <table>
                <thead>
                  <tr>
                    <th>Id</th>
                    <th>Level</th>
                    <th>Requirement</th>
                    <th>Profiles</th>
                  </tr>
                </thead>
                <tbody>
                  {requirements.map((r) => (
                    <tr>
                      <td>
                        <code>{r.id}</code>
                      </td>
                      <td>{r.level}</td>
                      <td>
                        {r.title}
                        {r.source?.url ? (
                          <>
                            {' '}
                            ·{' '}
                            <a href={r.source.url} target="_blank" rel="noopener noreferrer">
                              {r.source.upstreamId ?? 'source'}
                            </a>
                          </>
                        ) : null}
                      </td>
                      <td>{(r.profiles ?? []).join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
        </Shown>
      </Section>
    </>
  );
}

function SessionView({ sandbox, id }: { sandbox: string; id: string }) {
  const path = `${sessions(sandbox)}/${encodeURIComponent(id)}`;
  const [round, setRound] = useState(0);
  const session = usePoll<Session>(path, sandbox, (s) => s.status !== 'recording', 2000, round);
  const finished = session.value && session.value.status !== 'recording';
  const report = useLoad(
    async () => (finished ? call<Report>(`${path}/report?format=json`, { as: sandbox }) : undefined),
    [finished, round],
  );
  const challenges = useLoad(async () => (await catalogue()).challenges, []);
  const [challenge, setChallenge] = useState('');
  const [showOmitted, setShowOmitted] = useState(false);
  const action = useAction();
  return (
    <>
      <p>
        <a href={href(sandbox, 'conformance')}>← Conformance</a>
      </p>
      <Section title={`Session ${id}`}>
        <Problem text={session.error} />
        {session.value && (
          <>
            <p>
              Client <strong>{session.value.clientId}</strong> · status{' '}
              <strong class="verdict">{session.value.status}</strong>
              {session.value.label ? ` · ${session.value.label}` : ''}
            </p>
            {session.value.counts && (
              <ul class="counts" aria-label="Counts">
                {Object.entries(session.value.counts).map(([k, v]) => (
                  <li>
                    <strong>{v}</strong> {k}
                  </li>
                ))}
              </ul>
            )}
            {(session.value.challenges ?? []).length > 0 && (
              <p>Challenges: {session.value.challenges!.map((c) => `${c.challenge} (${c.status})`).join(', ')}</p>
            )}
            {!finished && (
              <div class="row">
                <form
                  class="row"
                  onSubmit={(e) => {
                    e.preventDefault();
                    const chosen = challenge || challenges.value?.[0]?.name;
                    void action.run(async () => {
                      await call(`${path}/challenges`, { method: 'POST', body: { challenge: chosen }, as: sandbox });
                      setRound((r) => r + 1);
                      return `Armed ${chosen}: it changes Navet's next answer to this client`;
                    });
                  }}
                >
                  <label>
                    Challenge{' '}
                    <select
                      value={challenge || challenges.value?.[0]?.name}
                      onChange={(e) => setChallenge(e.currentTarget.value)}
                    >
                      {(challenges.value ?? []).map((c) => (
                        <option value={c.name} title={c.description}>
                          {c.name}: {c.description}
                        </option>
                      ))}
                    </select>
                  </label>
                  <button type="submit" disabled={action.busy}>
                    Arm challenge
                  </button>
                </form>
                <button
                  type="button"
                  disabled={action.busy}
                  onClick={() =>
                    void action.run(async () => {
                      await call(`${path}/finish`, { method: 'POST', as: sandbox });
                      setRound((r) => r + 1);
                    })
                  }
                >
                  Finish and grade
                </button>
              </div>
            )}
            <Note text={action.message} />
            <Problem text={action.error} />
          </>
        )}
      </Section>
      {finished && (
        <Section
          title="Report"
          actions={
            <span class="row">
              {(['json', 'junit', 'html'] as const).map((format) => (
                <button
                  type="button"
                  class="small secondary"
                  onClick={() =>
                    void download(
                      `${path}/report?format=${format}`,
                      sandbox,
                      `conformance-${id}.${format === 'junit' ? 'xml' : format}`,
                    )
                  }
                >
                  Download {format.toUpperCase()}
                </button>
              ))}
            </span>
          }
        >
          <Shown loaded={report}>
            {(value) =>
              value && (
                <>
                  <p>
                    Verdict: <strong class={`verdict ${value.verdict}`}>{value.verdict}</strong>
                    {value.counts
                      ? ` · ${Object.entries(value.counts)
                          .map(([k, v]) => `${v} ${k}`)
                          .join(', ')}`
                      : ''}
                  </p>
                  <label class="check">
                    <input
                      type="checkbox"
                      checked={showOmitted}
                      onChange={(e) => setShowOmitted(e.currentTarget.checked)}
                    />{' '}
                    Show requirements outside the session's profiles
                  </label>
                  <table>
                    <thead>
                      <tr>
                        <th>Requirement</th>
                        <th>Level</th>
                        <th>Result</th>
                        <th>Message</th>
                      </tr>
                    </thead>
                    <tbody>
                      {value.results
                        .filter((r) => showOmitted || r.status !== 'omit')
                        .map((r) => (
                          <tr class={r.status === 'fail' || r.status === 'error' ? 'rejected' : ''}>
                            <td>
                              <code>{r.requirement}</code>
                              {r.title ? <div>{r.title}</div> : null}
                            </td>
                            <td>{r.level}</td>
                            <td>
                              <span class={`verdict ${r.status}`}>{r.status}</span>
                            </td>
                            <td>{r.message}</td>
                          </tr>
                        ))}
                    </tbody>
                  </table>
                </>
              )
            }
          </Shown>
        </Section>
      )}
    </>
  );
}
