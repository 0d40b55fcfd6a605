/**
 * What the guard, the access log and the services read of a sandbox's registries (practitioners, roles,
 * organisations, patients, the citizens' privacy choices), kept per sandbox while its generation stands.
 * Every write of a registry type bumps the sandbox's generation in the database in the write's own
 * transaction, and every request reads the sandbox row first (Sandboxes.find), so a write by any Navet
 * process is seen on the next request.
 */
export const REGISTRY_TYPES: ReadonlySet<string> = new Set([
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Patient',
  // privacy choices: read by every service request
  'Consent',
]);

const MAX_ENTRIES = 20_000;

interface SandboxEntries {
  stamp: string;
  values: Map<string, Promise<unknown>>;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export class ReadCache {
  private readonly sandboxes = new Map<string, SandboxEntries>();

  /** The sandbox as a request just read it: a new creation or generation drops what was kept. */
  observe(sandbox: string, createdAt: string, generation: number): void {
    const stamp = `${createdAt}#${generation}`;
    if (this.sandboxes.get(sandbox)?.stamp !== stamp) this.sandboxes.set(sandbox, { stamp, values: new Map() });
  }

  /**
   * The value kept under `key`, or `load`'s (frozen: it is shared by requests). A value loaded while the
   * generation changed is not kept, since it may predate the change.
   */
  get<T>(sandbox: string, key: string, load: () => Promise<T>): Promise<T> {
    const entries = this.sandboxes.get(sandbox);
    if (!entries) return load();
    const kept = entries.values.get(key) as Promise<T> | undefined;
    if (kept) return kept;
    if (entries.values.size >= MAX_ENTRIES) entries.values.clear();
    const loaded = load().then(deepFreeze);
    entries.values.set(key, loaded);
    loaded.catch(() => entries.values.delete(key));
    return loaded;
  }
}
