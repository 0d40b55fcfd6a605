import { useState } from 'preact/hooks';
import { search } from '../api';
import { type Patient, nameText, ninOf } from '../fhir-types';
import { asCitizen, type PrivacyChoices } from '../parts/citizen-token';
import { CriticalInformationPanel } from '../parts/critical-information-panel';
import { DocumentsPanel } from '../parts/documents-panel';
import { LabResultsPanel } from '../parts/lab-results-panel';
import { MedicationListPanel } from '../parts/medication-list-panel';
import { PrivacyView } from '../parts/privacy-view';
import { Section, Shown, useLoad } from '../parts/ui';
import { href } from '../route';

/** Search by name or fødselsnummer. */
export function PatientsPage({ sandbox }: { sandbox: string }) {
  const [query, setQuery] = useState('');
  const [asked, setAsked] = useState<string>();
  const found = useLoad(async () => {
    if (!asked) return undefined;
    const q = asked.trim();
    const param = /^\d{11}$/.test(q) ? `identifier=${q}` : `name=${encodeURIComponent(q)}`;
    return search<Patient>(sandbox, `Patient?${param}&_count=50&_sort=family`);
  }, [sandbox, asked]);
  return (
    <>
      <h1>Patients</h1>
      <form
        class="row card"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(query);
        }}
      >
        <label>
          Name or fødselsnummer{' '}
          <input
            type="search"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
            placeholder="Line Danser or 13116900216"
            required
            autoFocus
          />
        </label>
        <button type="submit">Search</button>
      </form>
      {asked && (
        <Section title={`Patients matching “${asked}”`}>
          <Shown loaded={found}>
            {(patients) =>
              !patients || patients.length === 0 ? (
                <p>No patient found.</p>
              ) : (
                <table>
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>Fødselsnummer</th>
                      <th>Born</th>
                      <th>Gender</th>
                    </tr>
                  </thead>
                  <tbody>
                    {patients.map((p) => (
                      <tr>
                        <td>
                          <a href={href(sandbox, 'patients', ninOf(p))}>{nameText(p.name)}</a>
                        </td>
                        <td>{ninOf(p)}</td>
                        <td>{p.birthDate}</td>
                        <td>{p.gender}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Shown>
        </Section>
      )}
    </>
  );
}

/** One patient across every service. */
export function PatientPage({ sandbox, nin }: { sandbox: string; nin: string }) {
  const patient = useLoad(async () => (await search<Patient>(sandbox, `Patient?identifier=${nin}`))[0], [sandbox, nin]);
  const privacy = useLoad(() => asCitizen<PrivacyChoices>(sandbox, nin, '/privacy'), [sandbox, nin]);
  const name = patient.value ? nameText(patient.value.name) : nin;
  return (
    <>
      <p>
        <a href={href(sandbox, 'patients')}>← Patients</a>
      </p>
      <h1>
        {name} <span class="muted">{nin}</span>
      </h1>
      <Shown loaded={patient}>
        {(p) =>
          p ? (
            <p class="muted">
              Born {p.birthDate} · {p.gender} ·{' '}
              <a href={href(sandbox, 'citizen', nin)}>See the citizen's side as {name}</a> ·{' '}
              <a href={href(sandbox, 'access-log')}>Access log</a>
            </p>
          ) : (
            <p>This sandbox has no Patient resource with that number; the services may still know it.</p>
          )
        }
      </Shown>
      <DocumentsPanel sandbox={sandbox} nin={nin} />
      <div class="columns">
        <CriticalInformationPanel sandbox={sandbox} nin={nin} />
        <Section title="Privacy choices (the citizen's)">
          <Shown loaded={privacy}>{(choices) => <PrivacyView choices={choices} />}</Shown>
        </Section>
      </div>
      <MedicationListPanel sandbox={sandbox} nin={nin} />
      <LabResultsPanel sandbox={sandbox} nin={nin} />
    </>
  );
}
