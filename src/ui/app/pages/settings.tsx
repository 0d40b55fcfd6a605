import { useEffect, useState } from 'preact/hooks';
import { call } from '../api';
import { Note, Problem, Section, Shown, useAction, useLoad } from '../parts/ui';

const settingsPath = (sandbox: string, service: string) =>
  `/api/sandboxes/${encodeURIComponent(sandbox)}/settings/${service}`;

/** One service's settings: loaded, edited as a form, saved with PUT. */
function useSettings<T>(sandbox: string, service: string) {
  const loaded = useLoad(() => call<T>(settingsPath(sandbox, service), { as: sandbox }), [sandbox, service]);
  const [draft, setDraft] = useState<T>();
  useEffect(() => {
    if (loaded.value) setDraft(loaded.value);
  }, [loaded.value]);
  const action = useAction();
  const save = (body: unknown) =>
    action.run(async () => {
      setDraft(await call<T>(settingsPath(sandbox, service), { method: 'PUT', body, as: sandbox }));
      return 'Saved: it applies from the next request.';
    });
  return { loaded, draft, setDraft, action, save };
}

export function SettingsPage({ sandbox }: { sandbox: string }) {
  return (
    <>
      <h1>Service settings</h1>
      <div class="columns">
        <SfmSettingsForm sandbox={sandbox} />
        <PpsSettingsForm sandbox={sandbox} />
      </div>
      <PjdSettingsForm sandbox={sandbox} />
    </>
  );
}

interface Backend {
  mode: string;
  delayMs: number;
}
interface SfmSettings {
  kjernejournal: Backend;
  reseptformidleren: Backend;
}
const MODES = ['available', 'slow', 'timeout', 'unavailable'];
const HALVES: { key: keyof SfmSettings; title: string }[] = [
  { key: 'kjernejournal', title: 'Kjernejournal (allergies, dispenses)' },
  { key: 'reseptformidleren', title: 'Reseptformidleren (the list)' },
];

function SfmSettingsForm({ sandbox }: { sandbox: string }) {
  const s = useSettings<SfmSettings>(sandbox, 'sfm');
  return (
    <Section title="SFM: fault injection">
      <Shown loaded={s.loaded}>
        {() =>
          s.draft && (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void s.save(s.draft);
              }}
            >
              {HALVES.map(({ key, title }) => (
                <fieldset>
                  <legend>{title}</legend>
                  <label>
                    Mode{' '}
                    <select
                      value={s.draft?.[key].mode}
                      onChange={(e) =>
                        s.setDraft({ ...s.draft!, [key]: { ...s.draft![key], mode: e.currentTarget.value } })
                      }
                    >
                      {MODES.map((m) => (
                        <option value={m}>{m}</option>
                      ))}
                    </select>
                  </label>
                  <label>
                    Delay (ms){' '}
                    <input
                      type="number"
                      min={0}
                      value={s.draft?.[key].delayMs}
                      onInput={(e) =>
                        s.setDraft({ ...s.draft!, [key]: { ...s.draft![key], delayMs: Number(e.currentTarget.value) } })
                      }
                    />
                  </label>
                </fieldset>
              ))}
              <button type="submit" disabled={s.action.busy}>
                Save SFM settings
              </button>
              <Note text={s.action.message} />
              <Problem text={s.action.error} />
            </form>
          )
        }
      </Shown>
    </Section>
  );
}

interface PpsSettings {
  backdoorEnabled: boolean;
  sourceStages: Record<string, string>;
}
const STAGES = [
  'manual-quality-assurance',
  'automatic-single-system',
  'minimum-care',
  'all-lab-systems',
  'full-production',
];

/** Rows of organisation number → value, edited as a list. */
function OrgRows({
  rows,
  onChange,
  valueLabel,
  renderValue,
}: {
  rows: [string, string][];
  onChange: (rows: [string, string][]) => void;
  valueLabel: string;
  renderValue: (value: string, set: (value: string) => void, label: string) => preact.JSX.Element;
}) {
  const set = (index: number, row: [string, string]) => onChange(rows.map((r, i) => (i === index ? row : r)));
  return (
    <>
      {rows.map(([orgnr, value], index) => (
        <div class="row">
          <label>
            Organisation number{' '}
            <input value={orgnr} pattern="\d{9}" required onInput={(e) => set(index, [e.currentTarget.value, value])} />
          </label>
          {renderValue(value, (v) => set(index, [orgnr, v]), valueLabel)}
          <button
            type="button"
            class="small secondary"
            onClick={() => onChange(rows.filter((_, i) => i !== index))}
            aria-label={`Remove ${orgnr || 'this row'}`}
          >
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="small secondary" onClick={() => onChange([...rows, ['', '']])}>
        Add an organisation
      </button>
    </>
  );
}

function PpsSettingsForm({ sandbox }: { sandbox: string }) {
  const s = useSettings<PpsSettings>(sandbox, 'pps');
  const rows = Object.entries(s.draft?.sourceStages ?? {});
  const [editing, setEditing] = useState<[string, string][]>();
  const shown = editing ?? rows;
  return (
    <Section title="PPS: backdoor and source stages">
      <Shown loaded={s.loaded}>
        {() =>
          s.draft && (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                void s
                  .save({ backdoorEnabled: s.draft!.backdoorEnabled, sourceStages: Object.fromEntries(shown) })
                  .then(() => setEditing(undefined));
              }}
            >
              <label class="check">
                <input
                  type="checkbox"
                  checked={s.draft.backdoorEnabled}
                  onChange={(e) => s.setDraft({ ...s.draft!, backdoorEnabled: e.currentTarget.checked })}
                />{' '}
                The test backdoor (x-nilar-* headers, no token) is on
              </label>
              <fieldset>
                <legend>Rollout stage per lab source (results in the first two stages are not shown for care)</legend>
                <OrgRows
                  rows={shown}
                  onChange={setEditing}
                  valueLabel="Stage"
                  renderValue={(value, set, label) => (
                    <label>
                      {label}{' '}
                      <select value={value || 'full-production'} onChange={(e) => set(e.currentTarget.value)}>
                        {STAGES.map((st) => (
                          <option value={st}>{st}</option>
                        ))}
                      </select>
                    </label>
                  )}
                />
              </fieldset>
              <button type="submit" disabled={s.action.busy}>
                Save PPS settings
              </button>
              <Note text={s.action.message} />
              <Problem text={s.action.error} />
            </form>
          )
        }
      </Shown>
    </Section>
  );
}

interface PjdSettings {
  allowedAuthorizations: Record<string, string[]>;
  delayMs?: number;
  unavailable?: boolean;
}

function PjdSettingsForm({ sandbox }: { sandbox: string }) {
  const s = useSettings<PjdSettings>(sandbox, 'pjd');
  const [editing, setEditing] = useState<[string, string][]>();
  const shown =
    editing ??
    Object.entries(s.draft?.allowedAuthorizations ?? {}).map(([org, codes]): [string, string] => [
      org,
      codes.join(', '),
    ]);
  const body = () => ({
    allowedAuthorizations: Object.fromEntries(
      shown.map(([org, codes]) => [org, codes.split(/[\s,]+/).filter(Boolean)]),
    ),
    delayMs: s.draft?.delayMs ?? 0,
    unavailable: s.draft?.unavailable ?? false,
  });
  return (
    <Section title="PJD: who may see documents (allow-lists), delay and availability">
      <p class="muted">
        A consuming organisation (its legal entity's orgnr) listed here lets only these personnel categories (Volven
        9060, e.g. LE, SP, PS) of its own see documents. No rows: everyone may.
      </p>
      <Shown loaded={s.loaded}>
        {() => (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void s.save(body()).then(() => setEditing(undefined));
            }}
          >
            <OrgRows
              rows={shown}
              onChange={setEditing}
              valueLabel="Allowed categories"
              renderValue={(value, set, label) => (
                <label>
                  {label}{' '}
                  <input value={value} placeholder="LE, PS" required onInput={(e) => set(e.currentTarget.value)} />
                </label>
              )}
            />
            <fieldset>
              <legend>Fault injection (document answers)</legend>
              <label>
                Delay (ms){' '}
                <input
                  type="number"
                  min={0}
                  max={30000}
                  value={s.draft?.delayMs ?? 0}
                  onInput={(e) => s.setDraft({ ...s.draft!, delayMs: Number(e.currentTarget.value) })}
                />
              </label>
              <label class="check">
                <input
                  type="checkbox"
                  checked={s.draft?.unavailable ?? false}
                  onChange={(e) => s.setDraft({ ...s.draft!, unavailable: e.currentTarget.checked })}
                />{' '}
                Unavailable (503 with Retry-After)
              </label>
            </fieldset>
            <div>
              <button type="submit" disabled={s.action.busy}>
                Save PJD settings
              </button>
            </div>
            <Note text={s.action.message} />
            <Problem text={s.action.error} />
          </form>
        )}
      </Shown>
    </Section>
  );
}
