import { useState } from 'preact/hooks';
import { ApiError, call } from '../api';
import { keys } from '../keys';
import { KeyForm } from '../parts/key-form';
import { CopyBlock, Problem, Section, Shown, useAction, useLoad, when } from '../parts/ui';
import { href } from '../route';

interface SandboxSummary {
  name: string;
  seed: string;
  createdAt: string;
}
interface Created {
  name: string;
  adminKey: string;
}

/** The list of sandboxes and the form that creates one. */
export function SandboxesPage() {
  const [round, setRound] = useState(0);
  const list = useLoad(() => call<{ sandboxes: SandboxSummary[] }>('/api/sandboxes', { as: 'operator' }), [round]);
  const [created, setCreated] = useState<Created>();
  if (list.error && /operator key|OPERATOR-KEY/i.test(list.error)) {
    return (
      <KeyForm
        label="Operator key of this Navet (NAVET_OPERATOR_KEY)"
        onKey={(key) => {
          keys.setOperator(key);
          setRound((r) => r + 1);
        }}
      />
    );
  }
  return (
    <>
      <h1>Sandboxes</h1>
      {created && (
        <Section title={`Sandbox ${created.name} is ready`}>
          <p>
            Its admin key is shown <strong>once</strong>; this tab keeps it for the session. Save it if you want to
            script against the sandbox.
          </p>
          <CopyBlock label="Admin key" text={created.adminKey} />
          <p>
            <a class="button" href={href(created.name)}>
              Open {created.name}
            </a>
          </p>
        </Section>
      )}
      <Section title="All sandboxes">
        <Shown loaded={list}>
          {(value) =>
            value.sandboxes.length === 0 ? (
              <p>No sandbox yet: create one below.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Seed</th>
                    <th>Created</th>
                    <th>
                      <span class="visually-hidden">Open</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {value.sandboxes.map((s) => (
                    <tr>
                      <td>{s.name}</td>
                      <td>{s.seed}</td>
                      <td>{when(s.createdAt)}</td>
                      <td>
                        <a href={href(s.name)} aria-label={`Open sandbox ${s.name}`}>
                          Open
                        </a>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Shown>
      </Section>
      <CreateSandbox
        onCreated={(c) => {
          keys.setAdmin(c.name, c.adminKey);
          setCreated(c);
          list.reload();
        }}
      />
    </>
  );
}

const GENERATOR_FIELDS: { key: string; label: string; hint: string; type: 'number' | 'date' }[] = [
  { key: 'seed', label: 'Random seed', hint: 'same settings, same data', type: 'number' },
  {
    key: 'syntheticPatients',
    label: 'Synthetic patients',
    hint: 'besides the public test persons (default 300)',
    type: 'number',
  },
  { key: 'referenceDate', label: 'Reference date', hint: 'data is dated back from it', type: 'date' },
  { key: 'documentsPerPatient', label: 'Documents per patient', hint: 'for volume', type: 'number' },
  { key: 'labReportsPerPatient', label: 'Lab reports per patient', hint: 'for volume', type: 'number' },
];

function CreateSandbox({ onCreated }: { onCreated: (created: Created) => void }) {
  const [name, setName] = useState('');
  const [seed, setSeed] = useState<'fixtures' | 'empty' | 'municipality'>('fixtures');
  const [generator, setGenerator] = useState<Record<string, string>>({});
  const [preset, setPreset] = useState('bodo');
  const action = useAction();
  const submit = (event: Event) => {
    event.preventDefault();
    void action.run(async () => {
      const settings = Object.fromEntries(
        Object.entries(generator)
          .filter(([, v]) => v !== '')
          .map(([k, v]) => [k, k === 'referenceDate' ? v : Number(v)]),
      );
      const body: Record<string, unknown> = { name, seed };
      if (seed === 'municipality') body.municipality = { preset };
      if (seed !== 'empty' && Object.keys(settings).length > 0) body.generator = settings;
      // a seeded sandbox is built in the background: wait for it, so that it can be opened at once
      const created = await call<Created>('/api/sandboxes', {
        method: 'POST',
        body,
        as: 'operator',
        headers: { Prefer: 'wait' },
      }).catch((e: unknown) => {
        throw e instanceof ApiError && e.status === 400 && seed === 'municipality'
          ? new Error(`${e.message} (municipality presets need this Navet to have the scenarios feature)`)
          : e;
      });
      onCreated(created);
      setName('');
    });
  };
  return (
    <Section title="Create a sandbox">
      <form class="grid-form" onSubmit={submit}>
        <label>
          Name{' '}
          <input
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            required
            pattern="[a-z0-9-]{1,40}"
            title="1–40 lower-case letters, digits and hyphens"
            placeholder="bodo-pilot"
          />
        </label>
        <label>
          Seed
          <select value={seed} onChange={(e) => setSeed(e.currentTarget.value as typeof seed)}>
            <option value="fixtures">Test persons and synthetic patients (fixtures)</option>
            <option value="municipality">A municipality preset</option>
            <option value="empty">Empty</option>
          </select>
        </label>
        {seed === 'municipality' && (
          <label>
            Municipality preset{' '}
            <input value={preset} onInput={(e) => setPreset(e.currentTarget.value)} list="presets" required />
          </label>
        )}
        <datalist id="presets">
          <option value="bodo" />
        </datalist>
        {seed !== 'empty' && (
          <fieldset>
            <legend>Generator settings (optional)</legend>
            {GENERATOR_FIELDS.map((f) => (
              <label>
                {f.label} <span class="muted">({f.hint})</span>
                <input
                  type={f.type}
                  min={f.type === 'number' ? 0 : undefined}
                  value={generator[f.key] ?? ''}
                  onInput={(e) => setGenerator({ ...generator, [f.key]: e.currentTarget.value })}
                />
              </label>
            ))}
          </fieldset>
        )}
        <div>
          <button type="submit" disabled={action.busy}>
            {action.busy ? 'Creating… (seeding takes a few seconds)' : 'Create sandbox'}
          </button>
        </div>
        <Problem text={action.error} />
      </form>
    </Section>
  );
}
