import { useState } from 'preact/hooks';
import { type Bundle, fhir, resourcesOf, search } from '../api';
import { codeText, extension, type MedicationList, type MedicationStatement } from '../fhir-types';
import { Section, Shown, useLoad, when } from './ui';

const RECONCILED_BY = 'https://navet.example/fhir/StructureDefinition/pll-reconciled-by';

function Statements({ sandbox, list }: { sandbox: string; list: MedicationList }) {
  const statements = useLoad(
    () => Promise.all((list.entry ?? []).map((e) => fhir<MedicationStatement>(sandbox, String(e.item.reference)))),
    [sandbox, list.id, list.meta?.versionId],
  );
  return (
    <Shown loaded={statements}>
      {(items) =>
        items.length === 0 ? (
          <p class="muted">The list is empty.</p>
        ) : (
          <table class="nested">
            <thead>
              <tr>
                <th>Medicine</th>
                <th>Dosage</th>
                <th>Status</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr>
                  <td>{s.medicationReference?.display ?? codeText(s.medicationCodeableConcept)}</td>
                  <td>{s.dosage?.[0]?.text}</td>
                  <td>{s.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </Shown>
  );
}

/** The patient's medication list (PLL): its versions, who reconciled each, and what each held. */
export function MedicationListPanel({ sandbox, nin }: { sandbox: string; nin: string }) {
  const versions = useLoad(async () => {
    const [list] = await search<MedicationList>(
      sandbox,
      `List?subject:identifier=${nin}&code=http://loinc.org|10160-0`,
    );
    return list ? resourcesOf(await fhir<Bundle<MedicationList>>(sandbox, `List/${list.id}/_history`)) : [];
  }, [sandbox, nin]);
  const [chosen, setChosen] = useState<string>();
  return (
    <Section title="Medication list (PLL through SFM)">
      <Shown loaded={versions}>
        {(all) => {
          if (all.length === 0) return <p class="muted">No medication list.</p>;
          const shown = all.find((v) => v.meta?.versionId === chosen) ?? all[0];
          return (
            <div class="columns">
              <table>
                <thead>
                  <tr>
                    <th>Version</th>
                    <th>Reconciled</th>
                    <th>By</th>
                    <th>
                      <span class="visually-hidden">Show</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {all.map((v) => (
                    <tr class={v === shown ? 'chosen' : ''}>
                      <td>{v.meta?.versionId}</td>
                      <td>{when(v.date ?? v.meta?.lastUpdated)}</td>
                      <td>{v.source?.display ?? extension(v, RECONCILED_BY)?.valueReference?.display}</td>
                      <td>
                        <button
                          type="button"
                          class="small secondary"
                          aria-pressed={v === shown}
                          onClick={() => setChosen(v.meta?.versionId)}
                        >
                          Show version {v.meta?.versionId}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div>
                <h3>Version {shown.meta?.versionId}</h3>
                <Statements sandbox={sandbox} list={shown} />
              </div>
            </div>
          );
        }}
      </Shown>
    </Section>
  );
}
