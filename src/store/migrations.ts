import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

/**
 * Schema migrations, run at start-up. Kysely's Migrator takes a lock, so several Navet processes
 * starting against one PostgreSQL database migrate once.
 */
const resourceColumns = (table: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
  table
    .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
    .addColumn('resource_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('id', 'varchar(64)', (c) => c.notNull())
    .addColumn('version_id', 'integer', (c) => c.notNull())
    .addColumn('last_updated', 'varchar(30)', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull());

const indexColumns = (table: ReturnType<Kysely<unknown>['schema']['createTable']>) =>
  table
    .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
    .addColumn('resource_type', 'varchar(64)', (c) => c.notNull())
    .addColumn('resource_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('param', 'varchar(100)', (c) => c.notNull())
    .addColumn('text', 'text')
    .addColumn('system', 'text')
    .addColumn('code', 'text')
    .addColumn('low', 'double precision')
    .addColumn('high', 'double precision');

const initial: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('sandboxes')
      .addColumn('name', 'varchar(40)', (c) => c.primaryKey())
      .addColumn('admin_key_hash', 'varchar(128)', (c) => c.notNull())
      .addColumn('seed', 'varchar(20)', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('clock_offset_ms', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
      .execute();

    await resourceColumns(db.schema.createTable('resources'))
      .addPrimaryKeyConstraint('resources_pk', ['sandbox', 'resource_type', 'id'])
      .execute();

    await resourceColumns(db.schema.createTable('resource_versions'))
      .addColumn('method', 'varchar(10)', (c) => c.notNull())
      .addPrimaryKeyConstraint('resource_versions_pk', ['sandbox', 'resource_type', 'id', 'version_id'])
      .execute();
    await db.schema
      .createIndex('resource_versions_updated')
      .on('resource_versions')
      .columns(['sandbox', 'last_updated'])
      .execute();

    await indexColumns(db.schema.createTable('search_index')).execute();
    await db.schema
      .createIndex('search_index_resource')
      .on('search_index')
      .columns(['sandbox', 'resource_type', 'resource_id'])
      .execute();
    await db.schema
      .createIndex('search_index_code')
      .on('search_index')
      .columns(['sandbox', 'resource_type', 'param', 'code'])
      .execute();
    await db.schema
      .createIndex('search_index_text')
      .on('search_index')
      .columns(['sandbox', 'resource_type', 'param', 'text'])
      .execute();
    await db.schema
      .createIndex('search_index_low')
      .on('search_index')
      .columns(['sandbox', 'resource_type', 'param', 'low'])
      .execute();

    await db.schema
      .createTable('snapshots')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('label', 'varchar(100)', (c) => c.notNull())
      .addColumn('clock_offset_ms', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
      .addPrimaryKeyConstraint('snapshots_pk', ['sandbox', 'label'])
      .execute();
    await resourceColumns(db.schema.createTable('snapshot_resources'))
      .addColumn('label', 'varchar(100)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('snapshot_resources_key')
      .on('snapshot_resources')
      .columns(['sandbox', 'label', 'resource_type', 'id', 'version_id'])
      .execute();
    await resourceColumns(db.schema.createTable('snapshot_resource_versions'))
      .addColumn('method', 'varchar(10)', (c) => c.notNull())
      .addColumn('label', 'varchar(100)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('snapshot_resource_versions_key')
      .on('snapshot_resource_versions')
      .columns(['sandbox', 'label', 'resource_type', 'id', 'version_id'])
      .execute();
    await indexColumns(db.schema.createTable('snapshot_search_index'))
      .addColumn('label', 'varchar(100)', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('snapshot_search_index_resource')
      .on('snapshot_search_index')
      .columns(['sandbox', 'label', 'resource_type', 'resource_id'])
      .execute();
  },
};

const trustFramework: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('signing_keys')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('kid', 'varchar(100)', (c) => c.notNull())
      .addColumn('alg', 'varchar(10)', (c) => c.notNull())
      .addColumn('private_jwk', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
      .addColumn('retired_at', 'varchar(30)')
      .addPrimaryKeyConstraint('signing_keys_pk', ['sandbox', 'kid'])
      .execute();
    await db.schema
      .createTable('clients')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('client_id', 'varchar(100)', (c) => c.notNull())
      .addColumn('config', 'text', (c) => c.notNull())
      .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
      .addPrimaryKeyConstraint('clients_pk', ['sandbox', 'client_id'])
      .execute();
    // one-time values (assertion and proof jtis), PAR requests, codes, refresh tokens, secrets
    await db.schema
      .createTable('trust_state')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('kind', 'varchar(30)', (c) => c.notNull())
      .addColumn('key', 'varchar(200)', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'double precision', (c) => c.notNull())
      .addPrimaryKeyConstraint('trust_state_pk', ['sandbox', 'kind', 'key'])
      .execute();
    await db.schema.createIndex('trust_state_expiry').on('trust_state').columns(['expires_at']).execute();
  },
};

/** Per-sandbox settings of a service (e.g. PJD's allow-list of personnel categories per organisation). */
const serviceSettings: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('service_settings')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('service', 'varchar(40)', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('service_settings_pk', ['sandbox', 'service'])
      .execute();
  },
};

/** Conformance sessions: what one client sent while a session recorded, the challenges armed, the report. */
const conformance: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('conformance_sessions')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('id', 'varchar(64)', (c) => c.notNull())
      .addColumn('client_id', 'varchar(100)', (c) => c.notNull())
      .addColumn('status', 'varchar(20)', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('report', 'text')
      .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
      .addPrimaryKeyConstraint('conformance_sessions_pk', ['sandbox', 'id'])
      .execute();
    await db.schema
      .createTable('conformance_exchanges')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('session_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('id', 'varchar(64)', (c) => c.notNull())
      .addColumn('at_ms', 'double precision', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('conformance_exchanges_pk', ['sandbox', 'session_id', 'id'])
      .execute();
    await db.schema
      .createTable('conformance_challenges')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('session_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('name', 'varchar(40)', (c) => c.notNull())
      .addColumn('armed_at_ms', 'double precision', (c) => c.notNull())
      .addColumn('status', 'varchar(20)', (c) => c.notNull())
      .addColumn('request_id', 'varchar(64)')
      .addColumn('triggered_at_ms', 'double precision')
      .addColumn('data', 'text')
      .addPrimaryKeyConstraint('conformance_challenges_pk', ['sandbox', 'session_id', 'name'])
      .execute();
  },
};

/** The generation of a sandbox's registries: what processes' read caches are checked against. */
const sandboxGeneration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('sandboxes')
      .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};

/** The change journal that reset and restore undo from; snapshots taken before it restore by comparison. */
const changeJournal: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('resource_changes')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('resource_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('id', 'varchar(64)', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('resource_changes_pk', ['sandbox', 'resource_type', 'id'])
      .execute();
    await db.schema.createIndex('resource_changes_seq').on('resource_changes').columns(['sandbox', 'seq']).execute();
    await db.schema.alterTable('snapshots').addColumn('change_seq', 'bigint').execute();
  },
};

/**
 * Snapshots that hold only what differs from the seed (`snapshot_keys`: the resources they cover, present
 * or not), the state a sandbox was last brought to (`base_label` at change `base_seq`), and the purges of
 * deleted sandboxes still to do (each addressed by the deleted sandbox's own id, not by its name).
 */
const incrementalLifecycle: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('snapshot_keys')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('label', 'varchar(100)', (c) => c.notNull())
      .addColumn('resource_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('snapshot_keys_pk', ['sandbox', 'label', 'resource_type', 'id'])
      .execute();
    await db.schema.alterTable('snapshots').addColumn('based_on', 'varchar(100)').execute();
    await db.schema.alterTable('sandboxes').addColumn('base_label', 'varchar(100)').execute();
    await db.schema.alterTable('sandboxes').addColumn('base_seq', 'bigint').execute();
    await db.schema
      .createTable('sandbox_purges')
      .addColumn('name', 'varchar(40)', (c) => c.primaryKey())
      .addColumn('id', 'varchar(64)', (c) => c.notNull())
      .addColumn('deleted_at', 'varchar(30)', (c) => c.notNull())
      .execute();
  },
};

/**
 * What a process used to keep in its memory, so that any process answers any poll: background tasks
 * (sandbox creations, scenario runs, rehearsals) and the open-creation rate limit's counters.
 */
const sharedServerState: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('background_tasks')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('kind', 'varchar(20)', (c) => c.notNull())
      .addColumn('id', 'varchar(64)', (c) => c.notNull())
      .addColumn('status', 'varchar(20)', (c) => c.notNull())
      .addColumn('content', 'text', (c) => c.notNull())
      .addColumn('stop_requested', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at_ms', 'double precision', (c) => c.notNull())
      .addPrimaryKeyConstraint('background_tasks_pk', ['sandbox', 'kind', 'id'])
      .execute();
    await db.schema
      .createTable('rate_limits')
      .addColumn('sandbox', 'varchar(40)', (c) => c.notNull())
      .addColumn('key', 'varchar(200)', (c) => c.notNull())
      .addColumn('hits', 'integer', (c) => c.notNull())
      .addColumn('reset_at_ms', 'double precision', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limits_pk', ['sandbox', 'key'])
      .execute();
  },
};

const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-trust-framework': trustFramework,
  '0003-service-settings': serviceSettings,
  '0004-sandbox-generation': sandboxGeneration,
  '0005-change-journal': changeJournal,
  '0006-conformance': conformance,
  '0007-incremental-lifecycle': incrementalLifecycle,
  '0008-shared-server-state': sharedServerState,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'navet_migrations',
    migrationLockTableName: 'navet_migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
}

export { sql };
