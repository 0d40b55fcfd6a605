import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { Engine } from './database';
import type { Database } from './schema';

/**
 * The row work of reset, restore and snapshot, always for a given list of resources (`Type/id` keys)
 * and never for a whole sandbox: every statement finds its rows through an index from the keys, so
 * the time grows with the number of keys, not with the sandbox. Keys travel as one JSON parameter per
 * chunk. `work` counts what was done (the figures the API and the bench report).
 */
export type ResourceKey = [resourceType: string, id: string];

export interface LifecycleWork {
  /** Resources put back, or copied into the snapshot. */
  resources: number;
  /** Rows deleted, inserted or updated. */
  rows: number;
  statements: number;
}

/** Keys per statement: small enough for SQLite to hand the event loop back between chunks. */
const KEY_CHUNK = 1000;
const RESOURCE_COLUMNS = ['sandbox', 'resource_type', 'id', 'version_id', 'last_updated', 'deleted', 'content'];

type Table = 'resources' | 'resource_versions' | 'search_index';
const ID_COLUMN: Record<Table, string> = { resources: 'id', resource_versions: 'id', search_index: 'resource_id' };
const SNAPSHOT_TABLE: Record<Table, string> = {
  resources: 'snapshot_resources',
  resource_versions: 'snapshot_resource_versions',
  search_index: 'snapshot_search_index',
};
const COLUMN_NAMES: Record<Table, string[]> = {
  resources: RESOURCE_COLUMNS,
  resource_versions: [...RESOURCE_COLUMNS, 'method'],
  search_index: ['sandbox', 'resource_type', 'resource_id', 'param', 'text', 'system', 'code', 'low', 'high'],
};
const COLUMNS = (table: Table) => sql.raw(COLUMN_NAMES[table].join(', '));
const TABLES: Table[] = ['resources', 'resource_versions', 'search_index'];

export class SnapshotRows {
  readonly work: LifecycleWork = { resources: 0, rows: 0, statements: 0 };

  constructor(
    private readonly trx: Transaction<Database>,
    private readonly engine: Engine,
    private readonly sandbox: string,
  ) {}

  /** Runs a statement that selects (resource_type, id) pairs. */
  async selectKeys(query: RawBuilder<{ resource_type: string; id: string }>): Promise<ResourceKey[]> {
    const result = await query.execute(this.trx);
    this.work.statements++;
    return result.rows.map((row) => [row.resource_type, row.id]);
  }

  /**
   * Replaces the current rows of `keys` with those `label` holds of them (none: the resource is absent
   * then). A snapshot of differences (`seedLabel` given) holds only the keys it covers; the others are
   * put back as the seed has them. Which are which is looked up once per chunk, so that each insert
   * reads from one snapshot for its own keys (a `not exists` per row made PostgreSQL scan the
   * snapshot's keys for each row).
   */
  async putBack(keys: ResourceKey[], label: string, seedLabel?: string): Promise<void> {
    await this.chunked(keys, async (chunk) => {
      let fromLabel = chunk;
      let fromSeed: ResourceKey[] = [];
      if (seedLabel) {
        const covered = new Set(
          (
            await this.selectKeys(
              sql`select sk.resource_type, sk.id from ${this.keyTable(chunk)} k ${this.keysFirst()} snapshot_keys sk on sk.sandbox = ${this.sandbox} and sk.label = ${label} and sk.resource_type = k.resource_type and sk.id = k.id`,
            )
          ).map(([type, id]) => `${type}/${id}`),
        );
        fromLabel = chunk.filter(([type, id]) => covered.has(`${type}/${id}`));
        fromSeed = chunk.filter(([type, id]) => !covered.has(`${type}/${id}`));
      }
      for (const table of [...TABLES].reverse()) await this.deleteRows(table, chunk);
      for (const table of TABLES) {
        if (fromLabel.length > 0) await this.copyBack(table, fromLabel, label);
        if (seedLabel && fromSeed.length > 0) await this.copyBack(table, fromSeed, seedLabel);
      }
      this.work.resources += chunk.length;
    });
  }

  /** Copies the current rows of `keys` into snapshot `label`, and notes the keys as the ones it covers. */
  async copyCurrent(keys: ResourceKey[], label: string): Promise<void> {
    const labelValue = sql`cast(${label} as varchar(100))`;
    await this.chunked(keys, async (chunk) => {
      await this.run(
        sql`insert into snapshot_keys (sandbox, label, resource_type, id) select cast(${this.sandbox} as varchar(40)), ${labelValue}, k.resource_type, k.id from ${this.keyTable(chunk)} k`,
      );
      for (const table of TABLES) {
        await this.run(
          sql`insert into ${sql.table(SNAPSHOT_TABLE[table])} (${COLUMNS(table)}, label) select ${this.prefixed(table, 'x')}, ${labelValue} from ${this.keyTable(chunk)} k ${this.keysFirst()} ${sql.table(table)} x on x.sandbox = ${this.sandbox} and x.resource_type = k.resource_type and x.${sql.raw(ID_COLUMN[table])} = k.id`,
        );
      }
      this.work.resources += chunk.length;
    });
  }

  /** Notes `keys` as written at change `seq` (the journal of store/change-journal.ts). */
  async journal(keys: ResourceKey[], seq: number): Promise<void> {
    await this.chunked(keys, (chunk) =>
      this.run(
        sql`insert into resource_changes (sandbox, resource_type, id, seq) select cast(${this.sandbox} as varchar(40)), k.resource_type, k.id, cast(${seq} as bigint) from ${this.keyTable(chunk)} k where true
          on conflict (sandbox, resource_type, id) do update set seq = excluded.seq`,
      ),
    );
  }

  /** Deletes every row of snapshot `label` (a snapshot of differences: few). */
  async dropSnapshot(label: string): Promise<void> {
    for (const table of ['snapshots', 'snapshot_keys', ...Object.values(SNAPSHOT_TABLE)])
      await this.run(sql`delete from ${sql.table(table)} where sandbox = ${this.sandbox} and label = ${label}`);
  }

  /** Inserts the rows snapshot `label` holds of `keys` into `table`. */
  private async copyBack(table: Table, keys: ResourceKey[], label: string): Promise<void> {
    await this.run(
      sql`insert into ${sql.table(table)} (${COLUMNS(table)}) select ${this.prefixed(table, 's')} from ${this.keyTable(keys)} k ${this.keysFirst()} ${sql.table(SNAPSHOT_TABLE[table])} s on s.sandbox = ${this.sandbox} and s.label = ${label} and s.resource_type = k.resource_type and s.${sql.raw(ID_COLUMN[table])} = k.id`,
    );
  }

  private async deleteRows(table: Table, chunk: ResourceKey[]): Promise<void> {
    const idColumn = sql.raw(ID_COLUMN[table]);
    if (this.engine === 'postgres')
      await this.run(
        sql`delete from ${sql.table(table)} x using ${this.keyTable(chunk)} k where x.sandbox = ${this.sandbox} and x.resource_type = k.resource_type and x.${idColumn} = k.id`,
      );
    else
      await this.run(
        sql`delete from ${sql.table(table)} where rowid in (select x.rowid from ${this.keyTable(chunk)} k ${this.keysFirst()} ${sql.table(table)} x on x.sandbox = ${this.sandbox} and x.resource_type = k.resource_type and x.${idColumn} = k.id)`,
      );
  }

  private prefixed(table: Table, alias: string): RawBuilder<unknown> {
    return sql.raw(COLUMN_NAMES[table].map((c) => `${alias}.${c}`).join(', '));
  }

  /**
   * The join from the keys to a table's rows. SQLite's planner may otherwise walk all rows of a small
   * snapshot (`sandbox`, `label`) and scan the keys for each (7,500 rows × 100 keys: most of a second);
   * its `cross join` keeps the keys outside, each looked up through the index.
   */
  private keysFirst(): RawBuilder<unknown> {
    return sql.raw(this.engine === 'postgres' ? 'join' : 'cross join');
  }

  /** The keys as a table (resource_type, id). */
  private keyTable(keys: ResourceKey[]): RawBuilder<unknown> {
    const json = JSON.stringify(keys);
    if (this.engine === 'postgres')
      return sql`(select e->>0 as resource_type, e->>1 as id from json_array_elements(${json}::json) e)`;
    return sql`(select json_extract(value, '$[0]') as resource_type, json_extract(value, '$[1]') as id from json_each(${json}))`;
  }

  private async run(query: RawBuilder<unknown>): Promise<number> {
    const result = await query.execute(this.trx);
    const rows = Number(result.numAffectedRows ?? 0);
    this.work.statements++;
    this.work.rows += rows;
    return rows;
  }

  /** Works through `keys` in chunks; on SQLite the event loop gets a turn between them. */
  private async chunked(keys: ResourceKey[], work: (chunk: ResourceKey[]) => Promise<unknown>): Promise<void> {
    for (let i = 0; i < keys.length; i += KEY_CHUNK) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      await work(keys.slice(i, i + KEY_CHUNK));
    }
  }
}
