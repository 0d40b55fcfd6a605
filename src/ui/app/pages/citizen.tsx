import { useState } from 'preact/hooks';
import { asCitizen, type PrivacyChoices } from '../parts/citizen-token';
import { PrivacyView } from '../parts/privacy-view';
import { Problem, Section, Shown, useAction, useLoad, when } from '../parts/ui';
import { href } from '../route';

interface AccessEntry {
  time: string;
  service: string;
  seen: string;
  documentsOrEntries: number;
  organisation?: string;
  pointOfCare?: string;
  department?: string;
  practitioner?: { name?: string; role?: string };
  purpose?: string;
  careRelation?: string;
  system?: string;
}
interface CitizenDocument {
  id: string;
  title?: string;
  date?: string;
  status?: string;
  blocked: boolean;
}

/** Line Danser, the public test person of the PJD test environment: the suggested citizen. */
const SUGGESTED = '13116900216';

/** What the citizen sees on a Helsenorge-like page, read through the real citizen API as that person. */
export function CitizenPage({ sandbox, nin }: { sandbox: string; nin?: string }) {
  const [typed, setTyped] = useState(nin ?? SUGGESTED);
  if (!nin) {
    return (
      <form
        class="card row"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = href(sandbox, 'citizen', typed);
        }}
      >
        <label>
          See the citizen's side as (fødselsnummer){' '}
          <input value={typed} pattern="\d{11}" required onInput={(e) => setTyped(e.currentTarget.value)} />
        </label>
        <button type="submit">Log in as this citizen</button>
      </form>
    );
  }
  return <CitizenView sandbox={sandbox} nin={nin} />;
}

function CitizenView({ sandbox, nin }: { sandbox: string; nin: string }) {
  const me = useLoad(async () => {
    const [log, privacy, documents] = await Promise.all([
      asCitizen<{ total: number; entries: AccessEntry[] }>(sandbox, nin, '/access-log?_count=50'),
      asCitizen<PrivacyChoices>(sandbox, nin, '/privacy'),
      asCitizen<{ documents: CitizenDocument[] }>(sandbox, nin, '/documents'),
    ]);
    return { log, privacy, documents: documents.documents };
  }, [sandbox, nin]);
  const action = useAction();
  const change = (path: string, method: string, body?: unknown) =>
    action.run(async () => {
      await asCitizen(sandbox, nin, path, method, body);
      me.reload();
    });
  return (
    <div class="citizen">
      <h1>
        Helsenorge-like view <span class="muted">logged in as {nin} (a test token of the citizen API)</span>
      </h1>
      <p>
        <a href={href(sandbox, 'patients', nin)}>The same patient across the services</a>
      </p>
      <Problem text={action.error} />
      <Shown loaded={me}>
        {({ log, privacy, documents }) => (
          <>
            <Section title={`Who has looked at my record (${log.total})`}>
              {log.entries.length === 0 ? (
                <p>Nobody has looked at your record yet.</p>
              ) : (
                <ol class="timeline">
                  {log.entries.map((e) => (
                    <li>
                      <time>{when(e.time)}</time>
                      <strong>{e.practitioner?.name ?? 'Unknown'}</strong>
                      {e.practitioner?.role ? ` (${e.practitioner.role})` : ''},{' '}
                      {[e.department, e.pointOfCare, e.organisation].filter(Boolean).join(', ')}
                      <div class="muted">
                        {e.service}: {e.seen}
                        {e.purpose ? ` · ${e.purpose}` : ''}
                        {e.system ? ` · system: ${e.system}` : ''}
                      </div>
                    </li>
                  ))}
                </ol>
              )}
            </Section>
            <div class="columns">
              <Section title="My privacy choices">
                <PrivacyView choices={privacy} />
                <div class="row">
                  <button
                    type="button"
                    disabled={action.busy}
                    onClick={() =>
                      void change('/privacy/kjernejournal-reservation', 'PUT', {
                        reserved: !privacy.kjernejournalReservation.reserved,
                      })
                    }
                  >
                    {privacy.kjernejournalReservation.reserved
                      ? 'Remove the Kjernejournal reservation'
                      : 'Reserve against Kjernejournal'}
                  </button>
                  <button
                    type="button"
                    disabled={action.busy}
                    onClick={() =>
                      void change('/privacy/kjernejournal-restriction', 'PUT', {
                        restricted: !privacy.kjernejournalRestriction.restricted,
                      })
                    }
                  >
                    {privacy.kjernejournalRestriction.restricted
                      ? 'Lift the restriction'
                      : 'Restrict Kjernejournal to emergencies'}
                  </button>
                  <button
                    type="button"
                    disabled={action.busy}
                    onClick={() => void change('/privacy/lab-results', 'PUT', { blocked: !privacy.labResults.blocked })}
                  >
                    {privacy.labResults.blocked ? 'Unblock my lab results' : 'Block my lab results'}
                  </button>
                </div>
              </Section>
              <Section title="My documents">
                {documents.length === 0 ? (
                  <p class="muted">No documents.</p>
                ) : (
                  <table>
                    <thead>
                      <tr>
                        <th>Date</th>
                        <th>Document</th>
                        <th>Health personnel see it</th>
                        <th>
                          <span class="visually-hidden">Change</span>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {documents.map((d) => (
                        <tr>
                          <td>{when(d.date)}</td>
                          <td>{d.title}</td>
                          <td>{d.blocked ? 'no: blocked' : 'yes'}</td>
                          <td>
                            <button
                              type="button"
                              class="small secondary"
                              disabled={action.busy}
                              onClick={() =>
                                void change(
                                  `/privacy/blocked-documents/${encodeURIComponent(d.id)}`,
                                  d.blocked ? 'DELETE' : 'PUT',
                                )
                              }
                            >
                              {d.blocked ? 'Unblock' : 'Block'}
                              <span class="visually-hidden"> {d.title}</span>
                            </button>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </Section>
            </div>
          </>
        )}
      </Shown>
    </div>
  );
}
