import { useState } from 'preact/hooks';
import { call, type Bundle, fhir } from '../api';
import { type Identifier, nameText, type HumanName } from '../fhir-types';
import { keys } from '../keys';
import { type ClientInfo, curlSnippet, librarySnippet, SERVICE_CALLS, type Worker } from '../parts/snippets';
import { confirmLoss, CopyBlock, Note, Problem, Section, Shown, useAction, useLoad, when } from '../parts/ui';

export interface SandboxInfo {
  name: string;
  seed: string;
  generator?: Record<string, unknown>;
  createdAt: string;
  clock: { offsetSeconds: number; now: string };
  services: Record<string, string>;
}

const api = (sandbox: string, path = '') => `/api/sandboxes/${encodeURIComponent(sandbox)}${path}`;

/** A sandbox: its services, clock, reset, snapshots, deletion and its clients with snippets. */
export function OverviewPage({ sandbox }: { sandbox: string }) {
  const info = useLoad(() => call<SandboxInfo>(api(sandbox), { as: sandbox }), [sandbox]);
  return (
    <>
      <h1>Sandbox {sandbox}</h1>
      <Shown loaded={info}>
        {(value) => (
          <>
            <div class="columns">
              <Section title="Services and base URLs">
                <table>
                  <thead>
                    <tr>
                      <th>Service</th>
                      <th>Base URL</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(value.services).map(([service, url]) => (
                      <tr>
                        <td>{service}</td>
                        <td>
                          <code>{url}</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <p class="muted">
                  Seed {value.seed}
                  {value.generator ? ` · generator ${JSON.stringify(value.generator)}` : ''} · created{' '}
                  {when(value.createdAt)}
                </p>
              </Section>
              <ClockPanel sandbox={sandbox} clock={value.clock} onChange={info.reload} />
            </div>
            <div class="columns">
              <SnapshotsPanel sandbox={sandbox} onChange={info.reload} />
              <DangerPanel sandbox={sandbox} />
            </div>
            <ClientsPanel sandbox={sandbox} services={value.services} />
          </>
        )}
      </Shown>
    </>
  );
}

function ClockPanel({
  sandbox,
  clock,
  onChange,
}: {
  sandbox: string;
  clock: SandboxInfo['clock'];
  onChange: () => void;
}) {
  const [at, setAt] = useState('');
  const [hours, setHours] = useState('24');
  const action = useAction();
  const set = (body: Record<string, unknown>) =>
    action.run(async () => {
      const now = await call<{ now: string }>(api(sandbox, '/clock'), { method: 'PUT', body, as: sandbox });
      onChange();
      return `The sandbox clock now says ${when(now.now)}`;
    });
  return (
    <Section title="Clock">
      <p>
        Sandbox time <strong>{when(clock.now)}</strong> (
        {clock.offsetSeconds === 0 ? 'real time' : `${Math.round(clock.offsetSeconds / 36) / 100} h from real time`})
      </p>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void set({ now: new Date(at).toISOString() });
        }}
      >
        <label>
          Set to <input type="datetime-local" value={at} onInput={(e) => setAt(e.currentTarget.value)} required />
        </label>
        <button type="submit" disabled={action.busy}>
          Set clock
        </button>
      </form>
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void set({ offsetSeconds: clock.offsetSeconds + Number(hours) * 3600 });
        }}
      >
        <label>
          Move by (hours, negative for back){' '}
          <input type="number" step="any" value={hours} onInput={(e) => setHours(e.currentTarget.value)} required />
        </label>
        <button type="submit" disabled={action.busy}>
          Move clock
        </button>
      </form>
      <button
        type="button"
        class="secondary"
        disabled={action.busy || clock.offsetSeconds === 0}
        onClick={() => void set({ offsetSeconds: 0 })}
      >
        Back to real time
      </button>
      <Note text={action.message} />
      <Problem text={action.error} />
    </Section>
  );
}

function SnapshotsPanel({ sandbox, onChange }: { sandbox: string; onChange: () => void }) {
  const list = useLoad(
    () => call<{ snapshots: { label: string; createdAt: string }[] }>(api(sandbox, '/snapshots'), { as: sandbox }),
    [sandbox],
  );
  const [label, setLabel] = useState('');
  const action = useAction();
  const save = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      await call(api(sandbox, '/snapshots'), { method: 'POST', body: { label }, as: sandbox });
      list.reload();
      setLabel('');
      return `Saved snapshot ${label}`;
    });
  };
  const restore = (snapshot: string) =>
    confirmLoss(`Restore snapshot ${snapshot}? Everything changed in ${sandbox} since it was saved is lost.`) &&
    action.run(async () => {
      await call(api(sandbox, `/snapshots/${encodeURIComponent(snapshot)}/restore`), { method: 'POST', as: sandbox });
      onChange();
      return `Restored ${snapshot}`;
    });
  const remove = (snapshot: string) =>
    confirmLoss(`Delete snapshot ${snapshot}?`) &&
    action.run(async () => {
      await call(api(sandbox, `/snapshots/${encodeURIComponent(snapshot)}`), { method: 'DELETE', as: sandbox });
      list.reload();
      return `Deleted snapshot ${snapshot}`;
    });
  return (
    <Section title="Snapshots">
      <Shown loaded={list}>
        {(value) =>
          value.snapshots.length === 0 ? (
            <p class="muted">No snapshots.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>Label</th>
                  <th>Saved</th>
                  <th>Actions</th>
                </tr>
              </thead>
              <tbody>
                {value.snapshots.map((s) => (
                  <tr>
                    <td>{s.label}</td>
                    <td>{when(s.createdAt)}</td>
                    <td class="actions">
                      <button type="button" class="small" onClick={() => restore(s.label)}>
                        Restore {s.label}
                      </button>
                      <button type="button" class="small danger" onClick={() => remove(s.label)}>
                        Delete {s.label}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Shown>
      <form class="row" onSubmit={save}>
        <label>
          Label{' '}
          <input
            value={label}
            onInput={(e) => setLabel(e.currentTarget.value)}
            required
            pattern="[A-Za-z0-9._\-]{1,100}"
            placeholder="before-test"
          />
        </label>
        <button type="submit" disabled={action.busy}>
          Save snapshot
        </button>
      </form>
      <Note text={action.message} />
      <Problem text={action.error} />
    </Section>
  );
}

function DangerPanel({ sandbox }: { sandbox: string }) {
  const action = useAction();
  const reset = () =>
    confirmLoss(`Reset ${sandbox} to its seed? All its data and its clock go back to how they were at creation.`) &&
    action.run(async () => {
      const done = await call<{ durationMs: number }>(api(sandbox, '/reset'), { method: 'POST', as: sandbox });
      return `Reset in ${done.durationMs} ms`;
    });
  const remove = () =>
    confirmLoss(`Delete sandbox ${sandbox} with all its data, clients and snapshots?`) &&
    action.run(async () => {
      await call(api(sandbox), { method: 'DELETE', as: sandbox });
      keys.forgetAdmin(sandbox);
      location.hash = '#/';
    });
  return (
    <Section title="Reset or delete">
      <p>Reset brings data and clock back to the seed; registered clients and signing keys stay.</p>
      <div class="row">
        <button type="button" class="danger" disabled={action.busy} onClick={reset}>
          Reset sandbox
        </button>
        <button type="button" class="danger" disabled={action.busy} onClick={remove}>
          Delete sandbox
        </button>
      </div>
      <Note text={action.message} />
      <Problem text={action.error} />
    </Section>
  );
}

function ClientsPanel({ sandbox, services }: { sandbox: string; services: Record<string, string> }) {
  const list = useLoad(() => call<{ clients: ClientInfo[] }>(api(sandbox, '/clients'), { as: sandbox }), [sandbox]);
  const [chosen, setChosen] = useState<string>();
  return (
    <Section title="Clients">
      <Shown loaded={list}>
        {(value) => {
          if (value.clients.length === 0)
            return <p class="muted">No clients registered (POST /api/sandboxes/{sandbox}/clients).</p>;
          const client = value.clients.find((c) => c.clientId === chosen) ?? value.clients[0];
          return (
            <>
              <table>
                <thead>
                  <tr>
                    <th>Client</th>
                    <th>Organisation</th>
                    <th>Scopes</th>
                    <th>Keys</th>
                    <th>DPoP</th>
                  </tr>
                </thead>
                <tbody>
                  {value.clients.map((c) => (
                    <tr>
                      <td>
                        <strong>{c.clientId}</strong>
                        <br />
                        <span class="muted">{c.name}</span>
                      </td>
                      <td>
                        {c.organization?.parent}
                        {c.organization?.child ? ` / ${c.organization.child}` : ''}
                        <br />
                        <span class="muted">{c.tenancy}</span>
                      </td>
                      <td class="scopes">{c.scopes.join(' ')}</td>
                      <td>
                        {(c.jwks?.keys ?? [])
                          .map((k) => `${k.kty ?? ''} ${k.alg ?? ''} ${k.kid ? k.kid.slice(0, 10) + '…' : ''}`)
                          .join(', ')}
                      </td>
                      <td>{c.dpop === false ? 'no (Bearer)' : 'yes'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <label>
                Show how to call the services as{' '}
                <select value={client.clientId} onChange={(e) => setChosen(e.currentTarget.value)}>
                  {value.clients.map((c) => (
                    <option value={c.clientId}>{c.clientId}</option>
                  ))}
                </select>
              </label>
              <Snippets sandbox={sandbox} client={client} services={services} />
            </>
          );
        }}
      </Shown>
    </Section>
  );
}

interface RoleOrPractitioner {
  resourceType: string;
  code?: { coding?: { code?: string }[] }[];
  identifier?: Identifier[];
  name?: HumanName[];
  practitioner?: { reference?: string };
}

/** The first health worker of the client's point of care (or legal entity) in the sandbox, if any. */
async function workerOf(sandbox: string, client: ClientInfo): Promise<Worker | undefined> {
  for (const orgnr of [client.organization?.child, client.organization?.parent].filter(Boolean)) {
    const found = await fhir<Bundle<RoleOrPractitioner>>(
      sandbox,
      `PractitionerRole?organization.identifier=${orgnr}&_include=PractitionerRole:practitioner&_count=5`,
    );
    const resources = (found.entry ?? []).map((e) => e.resource);
    const role = resources.find((r) => r.resourceType === 'PractitionerRole');
    const practitioner = resources.find(
      (r) =>
        r.resourceType === 'Practitioner' && role?.practitioner?.reference?.endsWith(`/${(r as { id?: string }).id}`),
    );
    const pid = practitioner?.identifier?.find((i) => i.system === 'urn:oid:2.16.578.1.12.4.1.4.1')?.value;
    const hpr = practitioner?.identifier?.find((i) => i.system === 'urn:oid:2.16.578.1.12.4.1.4.4')?.value;
    if (pid && hpr)
      return {
        name: nameText(practitioner?.name),
        pid,
        hpr,
        authorization: role?.code?.[0]?.coding?.[0]?.code ?? 'LE',
      };
  }
  return undefined;
}

function Snippets({
  sandbox,
  client,
  services,
}: {
  sandbox: string;
  client: ClientInfo;
  services: Record<string, string>;
}) {
  const worker = useLoad(() => workerOf(sandbox, client).catch(() => undefined), [sandbox, client.clientId]);
  const calls = SERVICE_CALLS.filter((c) => client.scopes.includes(c.scope) && services[c.service]);
  if (calls.length === 0) return <p class="muted">{client.clientId} has no scope of a service.</p>;
  return (
    <>
      {calls.map((c) => (
        <details>
          <summary>{c.title}</summary>
          <CopyBlock
            label={`curl (${c.title})`}
            text={curlSnippet(client, c, services.helseid, services[c.service], worker.value)}
          />
          <CopyBlock
            label={`Node, openid-client (${c.title})`}
            text={librarySnippet(client, c, services.helseid, services[c.service], worker.value)}
          />
        </details>
      ))}
    </>
  );
}
