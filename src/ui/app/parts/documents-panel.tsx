import { useState } from 'preact/hooks';
import { fhir, search } from '../api';
import { codeText, type ContainedPerson, type DocumentReference } from '../fhir-types';
import { Problem, Section, Shown, useLoad, when } from './ui';

interface Binary {
  contentType?: string;
  data?: string;
}

/** Navet names a document's Binary by the SHA-1 its attachment gives (`sha1-<hex>`). */
function binaryIdOf(hashBase64: string): string {
  const bytes = atob(hashBase64);
  return `sha1-${Array.from(bytes, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('')}`;
}

/** Fetches the document's bytes with the admin key and opens them in a new tab; answers their blob: URL. */
async function openDocument(sandbox: string, document: DocumentReference): Promise<string> {
  const attachment = document.content?.[0]?.attachment;
  if (!attachment?.hash) throw new Error('This document has no content hash to find its bytes by');
  const binary = await fhir<Binary>(sandbox, `Binary/${binaryIdOf(attachment.hash)}`);
  const bytes = Uint8Array.from(atob(binary.data ?? ''), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(
    new Blob([bytes], { type: attachment.contentType ?? binary.contentType ?? 'application/octet-stream' }),
  );
  window.open(url, '_blank');
  return url;
}

function authorOf(document: DocumentReference): string {
  const contained = new Map((document.contained ?? []).map((r) => [`#${r.id}`, r as ContainedPerson]));
  return (document.author ?? [])
    .map((a) => {
      const found = a.reference ? contained.get(a.reference) : undefined;
      if (!found) return a.display ?? '';
      return typeof found.name === 'string'
        ? found.name
        : [found.name?.[0]?.given?.join(' '), found.name?.[0]?.family].filter(Boolean).join(' ');
    })
    .filter(Boolean)
    .join(' · ');
}

export function DocumentsPanel({ sandbox, nin }: { sandbox: string; nin: string }) {
  const documents = useLoad(
    () => search<DocumentReference>(sandbox, `DocumentReference?patient:identifier=${nin}&_sort=-date&_count=100`),
    [sandbox, nin],
  );
  const [problem, setProblem] = useState<string>();
  const [opened, setOpened] = useState<{ id?: string; url: string; name: string }>();
  return (
    <Section title="Documents (PJD)">
      <Problem text={problem} />
      {opened && (
        <p class="note" role="status">
          Opened {opened.name} in a new tab:{' '}
          <a href={opened.url} target="_blank" rel="noopener">
            open again
          </a>{' '}
          ·{' '}
          <a href={opened.url} download={opened.name}>
            save it
          </a>
        </p>
      )}
      <Shown loaded={documents}>
        {(list) =>
          list.length === 0 ? (
            <p class="muted">No documents.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Date</th>
                  <th>Type</th>
                  <th>Category</th>
                  <th>Author</th>
                  <th>Status</th>
                  <th>Format</th>
                  <th>
                    <span class="visually-hidden">Open</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((d) => {
                  const attachment = d.content?.[0]?.attachment;
                  const label = d.securityLabel
                    ?.flatMap((l) => l.coding ?? [])
                    .map((c) => c.code)
                    .join(' ');
                  return (
                    <tr>
                      <td>{when(d.date)}</td>
                      <td>{codeText(d.type)}</td>
                      <td>{codeText(d.category?.[0])}</td>
                      <td>{authorOf(d)}</td>
                      <td>
                        {d.status}
                        {label ? ` · ${label}` : ''}
                      </td>
                      <td>{attachment?.contentType}</td>
                      <td>
                        <button
                          type="button"
                          class="small"
                          onClick={() => {
                            setProblem(undefined);
                            const name = `${codeText(d.type)} ${d.date?.slice(0, 10) ?? ''}.${attachment?.contentType?.includes('pdf') ? 'pdf' : 'xml'}`;
                            openDocument(sandbox, d).then(
                              (url) => setOpened({ id: d.id, url, name }),
                              (e: Error) => setProblem(e.message),
                            );
                          }}
                        >
                          Open {attachment?.contentType?.includes('pdf') ? 'PDF' : 'XML'}
                          <span class="visually-hidden">
                            {' '}
                            of {codeText(d.type)} {when(d.date)}
                          </span>
                        </button>
                      </td>
                    </tr>
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
