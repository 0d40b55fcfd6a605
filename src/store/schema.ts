/** The tables of Navet's database. Every table is keyed by sandbox first. */
export interface SandboxTable {
  name: string;
  admin_key_hash: string;
  seed: string;
  settings: string;
  clock_offset_ms: number;
  created_at: string;
  /** Bumped by every write of a registry type (store/read-cache.ts). */
  generation: number;
  /** The snapshot the sandbox was last made equal to (taken or restored), and the change it was then at. */
  base_label: string | null;
  base_seq: number | null;
}

export interface ResourceTable {
  sandbox: string;
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: string;
  deleted: number;
  content: string;
}

export interface ResourceVersionTable extends ResourceTable {
  method: string;
}

export interface SearchIndexTable {
  sandbox: string;
  resource_type: string;
  resource_id: string;
  param: string;
  text: string | null;
  system: string | null;
  code: string | null;
  low: number | null;
  high: number | null;
}

export interface SnapshotTable {
  sandbox: string;
  label: string;
  clock_offset_ms: number;
  created_at: string;
  /** The sandbox's last change when the snapshot was taken (null: taken before changes were recorded). */
  change_seq: number | null;
  /** Null: a full copy. Otherwise the full snapshot (the seed) it holds the differences from. */
  based_on: string | null;
}

/** The resources a snapshot of differences covers: its rows of these replace the seed's (none: absent then). */
export interface SnapshotKeyTable {
  sandbox: string;
  label: string;
  resource_type: string;
  id: string;
}

/** A deleted sandbox whose rows are still to be purged; `id` names that sandbox, not a later one of its name. */
export interface SandboxPurgeTable {
  name: string;
  id: string;
  deleted_at: string;
}

/** Which resources changed since when: the last write of each, numbered per sandbox (restore undoes only these). */
export interface ResourceChangeTable {
  sandbox: string;
  resource_type: string;
  id: string;
  seq: number;
}

export type SnapshotResourceTable = ResourceTable & { label: string };
export type SnapshotResourceVersionTable = ResourceVersionTable & { label: string };
export type SnapshotSearchIndexTable = SearchIndexTable & { label: string };

export interface SigningKeyTable {
  sandbox: string;
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: string;
  retired_at: string | null;
}

export interface ClientTable {
  sandbox: string;
  client_id: string;
  config: string;
  created_at: string;
}

export interface TrustStateTable {
  sandbox: string;
  kind: string;
  key: string;
  value: string;
  expires_at: number;
}

export interface ServiceSettingsTable {
  sandbox: string;
  service: string;
  settings: string;
}

/** A conformance session of one client (src/conformance): its settings and, once graded, its report. */
export interface ConformanceSessionTable {
  sandbox: string;
  id: string;
  client_id: string;
  status: string;
  content: string;
  report: string | null;
  created_at: string;
}
/** One recorded request and Navet's answer, in a session. */
export interface ConformanceExchangeTable {
  sandbox: string;
  session_id: string;
  id: string;
  at_ms: number;
  seq: number;
  content: string;
}
/** A challenge armed in a session, and when it was played. */
export interface ConformanceChallengeTable {
  sandbox: string;
  session_id: string;
  name: string;
  armed_at_ms: number;
  status: string;
  request_id: string | null;
  triggered_at_ms: number | null;
  data: string | null;
}

/** A creation, scenario run or rehearsal: its status and what polls answer, kept up to date by the process running it. */
export interface BackgroundTaskTable {
  sandbox: string;
  kind: string;
  id: string;
  status: string;
  content: string;
  /** Set by any process to ask the one running the task to stop it. */
  stop_requested: number;
  /** When the running process last wrote (a task whose process died stops being updated). */
  updated_at_ms: number;
}

/** Hits per client and window of a rate limit ('' as sandbox: server-wide). */
export interface RateLimitTable {
  sandbox: string;
  key: string;
  hits: number;
  reset_at_ms: number;
}

export interface Database {
  background_tasks: BackgroundTaskTable;
  rate_limits: RateLimitTable;
  conformance_sessions: ConformanceSessionTable;
  conformance_exchanges: ConformanceExchangeTable;
  conformance_challenges: ConformanceChallengeTable;
  service_settings: ServiceSettingsTable;
  signing_keys: SigningKeyTable;
  clients: ClientTable;
  trust_state: TrustStateTable;
  sandboxes: SandboxTable;
  resources: ResourceTable;
  resource_versions: ResourceVersionTable;
  search_index: SearchIndexTable;
  snapshots: SnapshotTable;
  snapshot_keys: SnapshotKeyTable;
  sandbox_purges: SandboxPurgeTable;
  resource_changes: ResourceChangeTable;
  snapshot_resources: SnapshotResourceTable;
  snapshot_resource_versions: SnapshotResourceVersionTable;
  snapshot_search_index: SnapshotSearchIndexTable;
}
