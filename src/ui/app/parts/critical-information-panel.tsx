import { useState } from 'preact/hooks';
import { type Bundle, fhir, resourcesOf, search } from '../api';
import { codeText, type ContainedPerson, type CriticalEntry } from '../fhir-types';
import { Section, Shown, useLoad, when } from './ui';

/** Who registered and who last changed an entry: Kjernejournal's contained PractitionerRoles. */
function person(entry: CriticalEntry, id: string): string {
  const role = entry.contained?.find((r) => r.id === id) as ContainedPerson | undefined;
  if (!role) return '';
  return [role.practitioner?.display, codeText(role.code?.[0]), role.organization?.display].filter(Boolean).join(', ');
}

function categoryOf(entry: CriticalEntry): string {
  const first = entry.category?.[0];
  if (typeof first === 'string') return `${entry.resourceType} (${first})`;
  return codeText(first) || entry.resourceType;
}

function statusOf(entry: CriticalEntry): string {
  return codeText(entry.clinicalStatus) || entry.status || '';
}

function Versions({ sandbox, entry }: { sandbox: string; entry: CriticalEntry }) {
  const versions = useLoad(
    async () => resourcesOf(await fhir<Bundle<CriticalEntry>>(sandbox, `${entry.resourceType}/${entry.id}/_history`)),
    [sandbox, entry.id],
  );
  return (
    <Shown loaded={versions}>
      {(list) => (
        <table class="nested">
          <thead>
            <tr>
              <th>Version</th>
              <th>Written</th>
              <th>Status</th>
              <th>Registered by</th>
              <th>Changed by</th>
            </tr>
          </thead>
          <tbody>
            {list.map((v) => (
              <tr>
                <td>{v.meta?.versionId}</td>
                <td>{when(v.meta?.lastUpdated)}</td>
                <td>{statusOf(v)}</td>
                <td>{person(v, 'recorderRef')}</td>
                <td>{person(v, 'updaterRef')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Shown>
  );
}

export function CriticalInformationPanel({ sandbox, nin }: { sandbox: string; nin: string }) {
  const entries = useLoad(
    async () =>
      (
        await Promise.all([
          search<CriticalEntry>(sandbox, `AllergyIntolerance?patient:identifier=${nin}`),
          search<CriticalEntry>(sandbox, `Condition?subject:identifier=${nin}`),
          search<CriticalEntry>(sandbox, `Flag?subject:identifier=${nin}`),
        ])
      ).flat(),
    [sandbox, nin],
  );
  const [open, setOpen] = useState<string>();
  return (
    <Section title="Critical information (Kjernejournal)">
      <Shown loaded={entries}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted">No critical information.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Entry</th>
                  <th>Kind</th>
                  <th>Status</th>
                  <th>Version</th>
                  <th>Registered by</th>
                  <th>
                    <span class="visually-hidden">Versions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => {
                  const key = `${e.resourceType}/${e.id}`;
                  return (
                    <>
                      <tr>
                        <td>
                          {codeText(e.code)}
                          {e.criticality ? <span class="muted"> · {e.criticality}</span> : null}
                        </td>
                        <td>{categoryOf(e)}</td>
                        <td>{statusOf(e)}</td>
                        <td>{e.meta?.versionId}</td>
                        <td>{person(e, 'recorderRef')}</td>
                        <td>
                          <button
                            type="button"
                            class="small secondary"
                            aria-expanded={open === key}
                            onClick={() => setOpen(open === key ? undefined : key)}
                          >
                            Versions<span class="visually-hidden"> of {codeText(e.code)}</span>
                          </button>
                        </td>
                      </tr>
                      {open === key && (
                        <tr>
                          <td colSpan={6}>
                            <Versions sandbox={sandbox} entry={e} />
                          </td>
                        </tr>
                      )}
                    </>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Shown>
    </Section>
  );
}
