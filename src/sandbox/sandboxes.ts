import { type Kysely, sql, type Transaction } from 'kysely';
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound } from '../fhir/operation-outcome';
import { extractIndexValues, type IndexValue } from '../fhir/search-parameters';
import type { FhirResource } from '../fhir/types';
import type { DatabaseHandle } from '../store/database';
import type { Database } from '../store/schema';
import { lastChange } from '../store/change-journal';
import { type LifecycleWork, type ResourceKey, SnapshotRows } from '../store/snapshot-rows';
import { ResourceStore, type SeedEntry } from '../store/resource-store';
import { letWaitersWrite } from '../store/sqlite-driver';
import { adminKeyMatches, generateAdminKey, hashAdminKey } from './admin-keys';
import { clockWithOffset, type SandboxClock } from './sandbox-clock';
import {
  type MunicipalityDescription,
  municipalityGeneratorSettings,
  municipalityResources,
  planMunicipality,
  resolveMunicipality,
} from './seed/municipality';
import { buildSeedResources, type GeneratorSettings, loadGeneratorSettings } from './seed-resources';

/**
 * What a service adds to a new sandbox's seed, built from its seeded patients (`municipality`: a municipality
 * seed). The services' builders are given to Sandboxes by the app: sandbox/ knows no service.
 */
export type SeedBuilder = (
  patients: FhirResource[],
  settings: GeneratorSettings,
  municipality: boolean,
) => Iterable<SeedEntry> | AsyncIterable<SeedEntry>;

/** A new sandbox's client registrations: prepared before its creating transaction, stored inside it. */
export type ClientSeeder = (
  fixturesDir: string,
  municipality?: MunicipalityDescription,
) => Promise<(db: Kysely<Database>, sandbox: string) => Promise<void>>;

/** What the services seed: their resources (in this order) and the clients (trust/). */
export interface SandboxSeeding {
  builders: readonly SeedBuilder[];
  clients: ClientSeeder;
}

/** Sandboxes: creation from a seed, reset, snapshots, the clock and the admin key. */
export type SeedKind = 'fixtures' | 'empty' | 'municipality';

export interface Sandbox {
  name: string;
  seed: SeedKind;
  generator?: GeneratorSettings;
  /** The description a `municipality` seed was built from. */
  municipality?: MunicipalityDescription;
  createdAt: string;
  clock: SandboxClock;
  adminKeyHash: string;
}

export interface CreateSandboxInput {
  name: string;
  seed?: SeedKind;
  generator?: Partial<GeneratorSettings>;
  /** For seed `municipality`: {"preset": "bodo"} or a full description. */
  municipality?: unknown;
  adminKey?: string;
}

export interface SnapshotInfo {
  label: string;
  createdAt: string;
}

export const SANDBOX_NAME = /^[a-z0-9-]{1,40}$/;
/** How far a sandbox clock may move from real time: 100 years each way. */
export const MAX_CLOCK_OFFSET_SECONDS = 100 * 365.25 * 24 * 3600;
const SNAPSHOT_LABEL = /^[A-Za-z0-9._-]{1,100}$/;
/** The snapshot that reset goes back to. */
const SEED_LABEL = '__seed__';

/** Every table that holds a sandbox's rows (keyed by `sandbox`), besides `sandboxes` itself. */
const SANDBOX_DATA_TABLES = [
  'resources',
  'resource_versions',
  'search_index',
  'resource_changes',
  'snapshots',
  'snapshot_keys',
  'snapshot_resources',
  'snapshot_resource_versions',
  'snapshot_search_index',
  'signing_keys',
  'clients',
  'trust_state',
  'service_settings',
  'conformance_sessions',
  'conformance_exchanges',
  'conformance_challenges',
] as const;
/** The settings `generator` may hold. */
const GENERATOR_KEYS = ['seed', 'referenceDate', 'syntheticPatients', 'documentsPerPatient', 'labReportsPerPatient'];
/** Seeds of at most this many resources are kept for the next sandbox of the same settings. */
const SEED_CACHE_LIMIT = 20_000;
/** Rows deleted per transaction when a sandbox is purged. */
const PURGE_CHUNK = 5000;
/** How long a purge waits before its last pass, for requests of the deleted sandbox still under way. */
const PURGE_GRACE_MS = 1000;

/** Hears how far long work is: the phase, and how much of it is done. */
export type SandboxProgress = (phase: 'building' | 'storing' | 'deleting', done: number, total: number) => void;

const RESOURCE_COLUMNS = 'sandbox, resource_type, id, version_id, last_updated, deleted, content';
const INDEX_COLUMNS = 'sandbox, resource_type, resource_id, param, text, system, code, low, high';

export function assertSandboxName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !SANDBOX_NAME.test(name)) {
    throw badRequest(
      'NAVET-SANDBOX-NAME',
      `Sandbox names are 1–40 lower-case letters, digits and hyphens; got ${JSON.stringify(name)}`,
      ['name'],
    );
  }
}

export class Sandboxes {
  private readonly seedCache = new Map<string, SeedEntry[]>();

  constructor(
    private readonly database: DatabaseHandle,
    readonly store: ResourceStore,
    private readonly fixturesDir: string,
    private readonly seeding: SandboxSeeding,
  ) {}

  private get db() {
    return this.database.db;
  }

  defaultGeneratorSettings(): GeneratorSettings {
    return loadGeneratorSettings(this.fixturesDir);
  }

  /**
   * The seed's resources in order, made as they are written: people (kept, the other seeders read the
   * patients), documents, critical information, medication lists, lab results. A small seed is kept
   * with its index rows for the next sandbox of the same settings (tests make many); a large one never.
   */
  private async *seedEntries(
    settings: GeneratorSettings,
    municipality?: MunicipalityDescription,
  ): AsyncGenerator<SeedEntry> {
    const key = JSON.stringify([settings, municipality]);
    const cached = this.seedCache.get(key);
    if (cached) {
      yield* cached;
      return;
    }
    let kept: SeedEntry[] | undefined = [];
    const withIndex = (entry: SeedEntry): SeedEntry => {
      if (!kept) return entry;
      const stored = {
        ...entry.resource,
        meta: {
          ...(entry.resource.meta as object | undefined),
          versionId: String((entry.history?.length ?? 0) + 1),
          lastUpdated: seedTimestamp(settings),
        },
      };
      const indexed = { ...entry, index: extractIndexValues(stored) };
      kept.push(indexed);
      if (kept.length > SEED_CACHE_LIMIT) kept = undefined;
      return indexed;
    };
    // a municipality seeds its own organisations, staff and patient cohort; their clinical data as the fixtures'
    const people = municipality
      ? municipalityResources(planMunicipality(municipality))
      : buildSeedResources(this.fixturesDir, settings);
    const patients = people.filter((r) => r.resourceType === 'Patient');
    for (const resource of people) yield withIndex({ resource });
    for (const build of this.seeding.builders)
      for await (const entry of build(patients, settings, municipality !== undefined)) yield withIndex(entry);
    if (kept) this.seedCache.set(key, kept);
  }

  /** Checks a creation's input without doing any work: name, seed kind and generator settings. */
  checkCreateInput(input: CreateSandboxInput): void {
    assertSandboxName(input.name);
    const seed = input.seed ?? (input.municipality !== undefined ? 'municipality' : 'fixtures');
    if (seed !== 'fixtures' && seed !== 'empty' && seed !== 'municipality')
      throw badRequest(
        'NAVET-SANDBOX-SEED',
        `seed must be "fixtures", "empty" or "municipality"; got ${JSON.stringify(seed)}`,
        ['seed'],
      );
    if (seed !== 'municipality' && input.municipality !== undefined)
      throw badRequest('NAVET-SANDBOX-SEED', 'municipality goes with seed "municipality"', ['municipality']);
    if (seed === 'fixtures') this.generatorSettings(input.generator);
    if (seed === 'municipality') resolveMunicipality(input.municipality);
  }

  /** Creates a sandbox from its seed, in one transaction. `onProgress` hears the phases of long work. */
  async create(
    input: CreateSandboxInput,
    onProgress?: SandboxProgress,
  ): Promise<{ sandbox: Sandbox; adminKey: string }> {
    this.checkCreateInput(input);
    const seed = input.seed ?? (input.municipality !== undefined ? 'municipality' : 'fixtures');
    const municipality = seed === 'municipality' ? resolveMunicipality(input.municipality) : undefined;
    const generator =
      seed === 'fixtures'
        ? this.generatorSettings(input.generator)
        : municipality
          ? municipalityGeneratorSettings(municipality)
          : undefined;
    const adminKey = input.adminKey ?? generateAdminKey();
    const createdAt = new Date().toISOString();
    onProgress?.('building', 0, 1);
    const storeClients = generator ? await this.seeding.clients(this.fixturesDir, municipality) : undefined;
    // a deleted sandbox of this name whose rows are not purged yet: finish that first, in small steps
    await this.purge(input.name, onProgress);
    let stored = 0;
    const bulkLoad = this.database.bulkLoad ?? (<T>(work: () => Promise<T>) => work());
    await bulkLoad(() =>
      this.db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('sandboxes')
          .values({
            name: input.name,
            admin_key_hash: hashAdminKey(adminKey),
            seed,
            settings: JSON.stringify(municipality ? { municipality } : (generator ?? {})),
            clock_offset_ms: 0,
            created_at: createdAt,
            generation: 0,
            base_label: SEED_LABEL,
            base_seq: 0,
          })
          .onConflict((oc) => oc.column('name').doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1)
          throw conflict('NAVET-SANDBOX-EXISTS', `A sandbox named '${input.name}' exists already`);
        // the purge of an earlier sandbox of this name stops here; what it had not done yet is done now
        await trx.deleteFrom('sandbox_purges').where('name', '=', input.name).execute();
        for (const table of SANDBOX_DATA_TABLES)
          await trx.deleteFrom(table).where('sandbox', '=', input.name).execute();
        if (generator) {
          // made and written in batches, never held whole (the total is known only at the end)
          stored = await new ResourceStore(trx, this.database.engine).insertMany(
            input.name,
            this.seedEntries(generator, municipality),
            seedTimestamp(generator),
            (written) => onProgress?.('storing', written, written),
          );
          await storeClients?.(trx, input.name);
        }
        await this.copyToSnapshot(trx, input.name, SEED_LABEL, 0, createdAt);
      }),
    );
    onProgress?.('storing', stored, stored);
    // Both engines plan by their statistics; after a large seed they are stale until read again. Without
    // them SQLite may pick the wrong search_index index (measured: 19 ms instead of 1.4 ms per document
    // search on 200,000 documents).
    if (stored > 500) {
      const tables = [
        'resources',
        'resource_versions',
        'search_index',
        'snapshot_resources',
        'snapshot_resource_versions',
        'snapshot_search_index',
      ];
      if (this.database.engine === 'postgres') await sql.raw(`analyze ${tables.join(', ')}`).execute(this.db);
      else {
        for (const table of tables) await sql.raw(`analyze ${table}`).execute(this.db);
        // SQLite's other connections (the main thread's while the worker seeds, other processes) load the
        // statistics only when the schema changes: without this they plan by whatever they read first
        // (measured: a PPS search flipped between 3 and 12 ms of CPU from one server start to the next).
        await this.db.transaction().execute(async (trx) => {
          await sql.raw('drop view if exists navet_statistics_changed').execute(trx);
          await sql.raw('create view navet_statistics_changed as select 1 as changed').execute(trx);
        });
      }
    }
    return { sandbox: await this.get(input.name), adminKey };
  }

  private generatorSettings(given: Partial<GeneratorSettings> = {}): GeneratorSettings {
    const unknown = Object.keys(given).find((key) => !GENERATOR_KEYS.includes(key));
    if (unknown !== undefined) {
      throw badRequest(
        'NAVET-SANDBOX-GENERATOR',
        `generator has no setting '${unknown}'; the settings are ${GENERATOR_KEYS.join(', ')}`,
        [`generator.${unknown}`],
      );
    }
    const defaults = this.defaultGeneratorSettings();
    const settings = { ...defaults, ...given };
    if (!Number.isInteger(settings.seed))
      throw badRequest('NAVET-SANDBOX-GENERATOR', 'generator.seed must be an integer', ['generator.seed']);
    if (
      !Number.isInteger(settings.syntheticPatients) ||
      settings.syntheticPatients < 0 ||
      settings.syntheticPatients > 20000
    ) {
      throw badRequest(
        'NAVET-SANDBOX-GENERATOR',
        'generator.syntheticPatients must be a whole number from 0 to 20000',
        ['generator.syntheticPatients'],
      );
    }
    const date =
      typeof settings.referenceDate === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(settings.referenceDate)
        ? new Date(`${settings.referenceDate}T00:00:00Z`)
        : undefined;
    const realDate = date && !Number.isNaN(date.getTime()) && date.toISOString().startsWith(settings.referenceDate);
    if (!realDate || date.getUTCFullYear() < 1900 || date.getUTCFullYear() > 2039) {
      throw badRequest(
        'NAVET-SANDBOX-GENERATOR',
        'generator.referenceDate must be a real date YYYY-MM-DD between 1900 and 2039',
        ['generator.referenceDate'],
      );
    }
    const perPatient = settings.documentsPerPatient;
    if (perPatient !== undefined && (!Number.isInteger(perPatient) || perPatient < 0 || perPatient > 50)) {
      throw badRequest('NAVET-SANDBOX-GENERATOR', 'generator.documentsPerPatient must be a whole number from 0 to 50', [
        'generator.documentsPerPatient',
      ]);
    }
    const labReports = settings.labReportsPerPatient;
    if (labReports !== undefined && (!Number.isInteger(labReports) || labReports < 0 || labReports > 100)) {
      throw badRequest(
        'NAVET-SANDBOX-GENERATOR',
        'generator.labReportsPerPatient must be a whole number from 0 to 100',
        ['generator.labReportsPerPatient'],
      );
    }
    return {
      seed: settings.seed,
      referenceDate: settings.referenceDate,
      syntheticPatients: settings.syntheticPatients,
      ...(perPatient !== undefined ? { documentsPerPatient: perPatient } : {}),
      ...(labReports !== undefined ? { labReportsPerPatient: labReports } : {}),
    };
  }

  async find(name: string): Promise<Sandbox | undefined> {
    if (!SANDBOX_NAME.test(name)) return undefined;
    const row = await this.db.selectFrom('sandboxes').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) return undefined;
    this.store.observeSandbox(row.name, row.created_at, Number(row.generation));
    const settings = JSON.parse(row.settings) as GeneratorSettings & { municipality?: MunicipalityDescription };
    return {
      name: row.name,
      seed: row.seed as SeedKind,
      generator: row.seed === 'fixtures' ? settings : undefined,
      ...(row.seed === 'municipality' && settings.municipality ? { municipality: settings.municipality } : {}),
      createdAt: row.created_at,
      clock: clockWithOffset(Number(row.clock_offset_ms)),
      adminKeyHash: row.admin_key_hash,
    };
  }

  async get(name: string): Promise<Sandbox> {
    const sandbox = await this.find(name);
    if (!sandbox) throw notFound('NAVET-SANDBOX-NOT-FOUND', `There is no sandbox named '${name}'`);
    return sandbox;
  }

  async list(): Promise<Sandbox[]> {
    const rows = await this.db.selectFrom('sandboxes').select('name').orderBy('name').execute();
    const sandboxes: Sandbox[] = [];
    for (const row of rows) {
      const sandbox = await this.find(row.name);
      if (sandbox) sandboxes.push(sandbox);
    }
    return sandboxes;
  }

  keyMatches(sandbox: Sandbox, key: string): boolean {
    return adminKeyMatches(key, sandbox.adminKeyHash);
  }

  async setAdminKey(name: string, key: string = generateAdminKey()): Promise<string> {
    await this.get(name);
    await this.db
      .updateTable('sandboxes')
      .set({ admin_key_hash: hashAdminKey(key) })
      .where('name', '=', name)
      .execute();
    return key;
  }

  /** Deletes a sandbox: gone at once (`forget`), then its rows are purged and the space given back. */
  async delete(name: string, onProgress?: SandboxProgress): Promise<void> {
    await this.forget(name);
    await this.purge(name, onProgress);
  }

  /**
   * Removes the sandbox itself, at once: from this moment it does not exist. Its data rows wait for
   * `purge`, which a purge note (`sandbox_purges`) addresses to this sandbox by its own id, so that a
   * sandbox created later under the same name never loses a row to it.
   */
  async forget(name: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const deleted = await trx.deleteFrom('sandboxes').where('name', '=', name).executeTakeFirst();
      if (Number(deleted.numDeletedRows) !== 1)
        throw notFound('NAVET-SANDBOX-NOT-FOUND', `There is no sandbox named '${name}'`);
      const note = { name, id: randomUUID(), deleted_at: new Date().toISOString() };
      await trx
        .insertInto('sandbox_purges')
        .values(note)
        .onConflict((oc) => oc.column('name').doUpdateSet({ id: note.id, deleted_at: note.deleted_at }))
        .execute();
    });
  }

  /** The names of deleted sandboxes whose rows are still to be purged (after a crash, say). */
  async pendingPurges(): Promise<string[]> {
    return (await this.db.selectFrom('sandbox_purges').select('name').orderBy('deleted_at').execute()).map(
      (r) => r.name,
    );
  }

  /**
   * Deletes the data rows of a forgotten sandbox in small statements, so that other writers get their
   * turn between them, then gives the freed pages back to the file system (SQLite). Each statement
   * deletes only while the purge note of that sandbox stands: creating a sandbox of the same name
   * removes the note in its own transaction, and from then on this purge deletes nothing.
   */
  async purge(name: string, onProgress?: SandboxProgress): Promise<void> {
    const note = await this.db.selectFrom('sandbox_purges').selectAll().where('name', '=', name).executeTakeFirst();
    if (!note) return;
    const counts = await Promise.all(
      SANDBOX_DATA_TABLES.map(async (table) =>
        Number(
          (
            await this.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .where('sandbox', '=', name)
              .executeTakeFirstOrThrow()
          ).n,
        ),
      ),
    );
    const total = counts.reduce((sum, n) => sum + n, 0);
    let done = 0;
    onProgress?.('deleting', done, total);
    const rowKey = sql.raw(this.database.engine === 'postgres' ? 'ctid' : 'rowid');
    const noted = sql`exists (select 1 from sandbox_purges p where p.name = ${name} and p.id = ${note.id})`;
    const pass = async (): Promise<number> => {
      let deletedInPass = 0;
      for (const table of SANDBOX_DATA_TABLES) {
        for (;;) {
          const result =
            await sql`delete from ${sql.table(table)} where ${rowKey} in (select ${rowKey} from ${sql.table(table)} where sandbox = ${name} limit ${PURGE_CHUNK}) and ${noted}`.execute(
              this.db,
            );
          const deleted = Number(result.numAffectedRows ?? 0);
          deletedInPass += deleted;
          done += deleted;
          onProgress?.('deleting', Math.min(done, total), total);
          if (deleted < PURGE_CHUNK) break;
          if (this.database.engine === 'sqlite') await letWaitersWrite();
        }
      }
      return deletedInPass;
    };
    await pass();
    // requests that had found the sandbox before it was deleted may still write a row or two: once they
    // are done, passes follow until one finds nothing
    do await new Promise((resolve) => setTimeout(resolve, PURGE_GRACE_MS));
    while ((await pass()) > 0);
    // the purge is done when the space is back: only then does its note go
    await this.database.giveSpaceBack?.();
    await this.db.deleteFrom('sandbox_purges').where('name', '=', name).where('id', '=', note.id).execute();
  }

  /** Back to the seed: data and clock as they were when the sandbox was created. */
  async reset(name: string): Promise<LifecycleWork> {
    return this.restore(name, SEED_LABEL);
  }

  /**
   * Saves the current state. With a journalled seed, a snapshot holds only the resources that may
   * differ from the seed (those written since the state the sandbox was last brought to, and those
   * that state itself held): time and rows in proportion to the changes, not to the sandbox.
   */
  async snapshot(name: string, label: unknown): Promise<SnapshotInfo & { work: LifecycleWork }> {
    if (typeof label !== 'string' || !SNAPSHOT_LABEL.test(label) || label === SEED_LABEL) {
      throw badRequest(
        'NAVET-SNAPSHOT-LABEL',
        `label must be 1–100 letters, digits, '.', '_' or '-' (and not ${SEED_LABEL}); got ${JSON.stringify(label)}`,
        ['label'],
      );
    }
    const createdAt = new Date().toISOString();
    return this.db.transaction().execute(async (trx) => {
      const sandbox = await this.lockSandbox(trx, name);
      const rows = new SnapshotRows(trx, this.database.engine, name);
      const seq = await lastChange(trx, name);
      const seedSeq = await this.seedChangeSeq(trx, name);
      if (seedSeq === null) {
        // a seed from before the journal: what differs from it is not known, so the snapshot is a full copy
        await this.copyToSnapshot(trx, name, label, Number(sandbox.clock_offset_ms), createdAt);
      } else {
        const base = await this.base(trx, name, sandbox, seedSeq);
        const keys = await rows.selectKeys(
          sql`select resource_type, id from resource_changes where sandbox = ${name} and seq > ${base.seq}${
            base.label
              ? sql` union select resource_type, id from snapshot_keys where sandbox = ${name} and label = ${base.label}`
              : sql``
          }`,
        );
        await rows.dropSnapshot(label);
        await trx
          .insertInto('snapshots')
          .values({
            sandbox: name,
            label,
            clock_offset_ms: Number(sandbox.clock_offset_ms),
            created_at: createdAt,
            change_seq: seq,
            based_on: SEED_LABEL,
          })
          .execute();
        await rows.copyCurrent(keys, label);
      }
      await trx.updateTable('sandboxes').set({ base_label: label, base_seq: seq }).where('name', '=', name).execute();
      return { label, createdAt, work: rows.work };
    });
  }

  async deleteSnapshot(name: string, label: string): Promise<void> {
    if (label === SEED_LABEL)
      throw badRequest(
        'NAVET-SNAPSHOT-LABEL',
        `${SEED_LABEL} is the seed that reset goes back to; it cannot be deleted`,
        ['label'],
      );
    await this.db.transaction().execute(async (trx) => {
      const sandbox = await this.lockSandbox(trx, name);
      const found = await trx
        .selectFrom('snapshots')
        .select('label')
        .where('sandbox', '=', name)
        .where('label', '=', label)
        .executeTakeFirst();
      if (!found) throw notFound('NAVET-SNAPSHOT-NOT-FOUND', `Sandbox '${name}' has no snapshot labelled '${label}'`);
      await new SnapshotRows(trx, this.database.engine, name).dropSnapshot(label);
      // what the deleted snapshot held is no longer known: changes count from the seed again
      if (sandbox.base_label === label)
        await trx.updateTable('sandboxes').set({ base_label: null, base_seq: null }).where('name', '=', name).execute();
    });
  }

  async snapshots(name: string): Promise<SnapshotInfo[]> {
    await this.get(name);
    const rows = await this.db
      .selectFrom('snapshots')
      .select(['label', 'created_at'])
      .where('sandbox', '=', name)
      .where('label', '!=', SEED_LABEL)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({ label: r.label, createdAt: r.created_at }));
  }

  /**
   * Brings a snapshot back, and the clock its time. Only resources written since it was taken are
   * rewritten, and of those only the ones that may differ from it: those written since the state the
   * sandbox was last brought to, and those that state or the snapshot hold as differences from the seed.
   */
  async restore(name: string, label: string): Promise<LifecycleWork> {
    return this.db.transaction().execute(async (trx) => {
      const sandbox = await this.lockSandbox(trx, name);
      const snapshot = await trx
        .selectFrom('snapshots')
        .select(['clock_offset_ms', 'change_seq', 'based_on'])
        .where('sandbox', '=', name)
        .where('label', '=', label)
        .executeTakeFirst();
      if (!snapshot)
        throw notFound('NAVET-SNAPSHOT-NOT-FOUND', `Sandbox '${name}' has no snapshot labelled '${label}'`);
      const rows = new SnapshotRows(trx, this.database.engine, name);
      const last = await lastChange(trx, name);
      let rewritten: ResourceKey[];
      if (snapshot.change_seq === null) {
        rewritten = await this.restoreByComparison(trx, rows, name, label);
      } else {
        const since = Number(snapshot.change_seq);
        const seedSeq = label === SEED_LABEL ? since : await this.seedChangeSeq(trx, name);
        const base = await this.base(trx, name, sandbox, seedSeq ?? 0);
        const covering = [base.label, snapshot.based_on ? label : undefined].filter((l): l is string => !!l);
        rewritten = await rows.selectKeys(
          sql`select resource_type, id from resource_changes where sandbox = ${name} and seq > ${Math.max(since, base.seq)}${
            covering.length > 0
              ? sql` union select c.resource_type, c.id from snapshot_keys k join resource_changes c on c.sandbox = k.sandbox and c.resource_type = k.resource_type and c.id = k.id
                  where k.sandbox = ${name} and k.label in (${sql.join(covering)}) and c.seq > ${since}`
              : sql``
          }`,
        );
        await rows.putBack(rewritten, label, snapshot.based_on ?? undefined);
      }
      // the restore is itself the last write of what it put back
      const seq = rewritten.length > 0 ? last + 1 : last;
      await rows.journal(rewritten, seq);
      if (snapshot.change_seq === null)
        await trx
          .updateTable('snapshots')
          .set({ change_seq: seq })
          .where('sandbox', '=', name)
          .where('label', '=', label)
          .execute();
      await trx
        .updateTable('sandboxes')
        .set({ clock_offset_ms: Number(snapshot.clock_offset_ms), base_label: label, base_seq: seq })
        .where('name', '=', name)
        .execute();
      return rows.work;
    });
  }

  /**
   * The first statement of every reset, restore and snapshot: takes the sandbox's row (and with it
   * SQLite's write lock, or the row's lock on PostgreSQL, so they run one at a time per sandbox) and
   * makes every process read the sandbox's registries again.
   */
  private async lockSandbox(trx: Transaction<Database>, name: string) {
    const locked = await trx
      .updateTable('sandboxes')
      .set((eb) => ({ generation: eb('generation', '+', 1) }))
      .where('name', '=', name)
      .executeTakeFirst();
    if (Number(locked.numUpdatedRows) !== 1)
      throw notFound('NAVET-SANDBOX-NOT-FOUND', `There is no sandbox named '${name}'`);
    return trx
      .selectFrom('sandboxes')
      .select(['clock_offset_ms', 'base_label', 'base_seq'])
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
  }

  /** The seed's change number (null: a seed from before the journal). */
  private async seedChangeSeq(trx: Transaction<Database>, name: string): Promise<number | null> {
    const seed = await trx
      .selectFrom('snapshots')
      .select('change_seq')
      .where('sandbox', '=', name)
      .where('label', '=', SEED_LABEL)
      .executeTakeFirst();
    return seed?.change_seq === null || seed?.change_seq === undefined ? null : Number(seed.change_seq);
  }

  /**
   * The state the sandbox was last brought to, as what may differ from the seed since: everything
   * written after change `seq`, and the resources snapshot `label` (if any) holds as differences.
   * Without such a state (its snapshot deleted, or a full copy), the changes count from the seed.
   */
  private async base(
    trx: Transaction<Database>,
    name: string,
    sandbox: { base_label: string | null; base_seq: number | null },
    seedSeq: number,
  ): Promise<{ label?: string; seq: number }> {
    if (sandbox.base_label === null || sandbox.base_seq === null) return { seq: seedSeq };
    if (sandbox.base_label === SEED_LABEL) return { seq: Number(sandbox.base_seq) };
    const snapshot = await trx
      .selectFrom('snapshots')
      .select('based_on')
      .where('sandbox', '=', name)
      .where('label', '=', sandbox.base_label)
      .executeTakeFirst();
    if (snapshot?.based_on !== SEED_LABEL) return { seq: seedSeq };
    return { label: sandbox.base_label, seq: Number(sandbox.base_seq) };
  }

  /**
   * A snapshot taken before changes were journalled (a full copy): only what differs is rewritten,
   * found by comparing each resource's current version (number and write time: numbers repeat after a
   * restore) with it. Returns the resources it rewrote, which are then journalled as written.
   */
  private async restoreByComparison(
    trx: Transaction<Database>,
    rows: SnapshotRows,
    name: string,
    label: string,
  ): Promise<ResourceKey[]> {
    // Every join below is an anti-join of one sandbox's rows against its snapshot: hash joins are linear.
    // With statistics gone stale after rapid writes, PostgreSQL may pick nested loops that compare every
    // row with every row (minutes instead of milliseconds), so they are ruled out for this transaction.
    if (this.database.engine === 'postgres') await sql`set local enable_nestloop = off`.execute(trx);
    const differing = await rows.selectKeys(
      sql`select r.resource_type, r.id from resources r where r.sandbox = ${name} and not exists (select 1 from snapshot_resources s where s.sandbox = ${name} and s.label = ${label} and s.resource_type = r.resource_type and s.id = r.id and s.version_id = r.version_id and s.last_updated = r.last_updated)
        union select s.resource_type, s.id from snapshot_resources s where s.sandbox = ${name} and s.label = ${label} and not exists (select 1 from resources r where r.sandbox = ${name} and r.resource_type = s.resource_type and r.id = s.id and r.version_id = s.version_id and r.last_updated = s.last_updated)`,
    );
    const unchanged = sql`exists (select 1 from resources r join snapshot_resources s on s.sandbox = r.sandbox and s.label = ${label} and s.resource_type = r.resource_type and s.id = r.id and s.version_id = r.version_id and s.last_updated = r.last_updated
      where r.sandbox = ${name} and r.resource_type = si.resource_type and r.id = si.resource_id)`;
    // 1. index rows of changed, new and deleted resources (decided before the resources change)
    await sql`delete from search_index as si where si.sandbox = ${name} and not ${unchanged}`.execute(trx);
    // 2. versions the snapshot does not have, and back the ones it has
    await sql`delete from resource_versions as v where v.sandbox = ${name} and not exists (select 1 from snapshot_resource_versions sv where sv.sandbox = ${name} and sv.label = ${label} and sv.resource_type = v.resource_type and sv.id = v.id and sv.version_id = v.version_id and sv.last_updated = v.last_updated)`.execute(
      trx,
    );
    await sql`insert into resource_versions (${sql.raw(RESOURCE_COLUMNS)}, method) select ${sql.raw(RESOURCE_COLUMNS)}, method from snapshot_resource_versions sv where sv.sandbox = ${name} and sv.label = ${label}
      and not exists (select 1 from resource_versions v where v.sandbox = ${name} and v.resource_type = sv.resource_type and v.id = sv.id and v.version_id = sv.version_id)`.execute(
      trx,
    );
    // 3. current resources that differ from the snapshot, and back the snapshot's
    await sql`delete from resources as r where r.sandbox = ${name} and not exists (select 1 from snapshot_resources s where s.sandbox = ${name} and s.label = ${label} and s.resource_type = r.resource_type and s.id = r.id and s.version_id = r.version_id and s.last_updated = r.last_updated)`.execute(
      trx,
    );
    await sql`insert into resources (${sql.raw(RESOURCE_COLUMNS)}) select ${sql.raw(RESOURCE_COLUMNS)} from snapshot_resources s where s.sandbox = ${name} and s.label = ${label}
      and not exists (select 1 from resources r where r.sandbox = ${name} and r.resource_type = s.resource_type and r.id = s.id)`.execute(
      trx,
    );
    // 4. index rows of the resources that lost theirs in step 1
    await sql`insert into search_index (${sql.raw(INDEX_COLUMNS)}) select ${sql.raw(INDEX_COLUMNS)} from snapshot_search_index ss where ss.sandbox = ${name} and ss.label = ${label}
      and not exists (select 1 from search_index si where si.sandbox = ${name} and si.resource_type = ss.resource_type and si.resource_id = ss.resource_id)`.execute(
      trx,
    );
    rows.work.resources += differing.length;
    return differing;
  }

  /** Copies the sandbox's current data into a full snapshot (replacing one of the same label): the seed. */
  private async copyToSnapshot(
    trx: Transaction<Database>,
    name: string,
    label: string,
    clockOffsetMs: number,
    createdAt: string,
  ): Promise<void> {
    await new SnapshotRows(trx, this.database.engine, name).dropSnapshot(label);
    await trx
      .insertInto('snapshots')
      .values({
        sandbox: name,
        label,
        clock_offset_ms: clockOffsetMs,
        created_at: createdAt,
        change_seq: await lastChange(trx, name),
        based_on: null,
      })
      .execute();
    await sql`insert into snapshot_resources (${sql.raw(RESOURCE_COLUMNS)}, label) select ${sql.raw(RESOURCE_COLUMNS)}, cast(${label} as varchar(100)) from resources where sandbox = ${name}`.execute(
      trx,
    );
    await sql`insert into snapshot_resource_versions (${sql.raw(RESOURCE_COLUMNS)}, method, label) select ${sql.raw(RESOURCE_COLUMNS)}, method, cast(${label} as varchar(100)) from resource_versions where sandbox = ${name}`.execute(
      trx,
    );
    await sql`insert into snapshot_search_index (${sql.raw(INDEX_COLUMNS)}, label) select ${sql.raw(INDEX_COLUMNS)}, cast(${label} as varchar(100)) from search_index where sandbox = ${name}`.execute(
      trx,
    );
  }

  async setClock(name: string, body: { offsetSeconds?: unknown; now?: unknown }): Promise<SandboxClock> {
    await this.get(name);
    let offsetMs: number;
    if (body.offsetSeconds !== undefined && body.now !== undefined)
      throw badRequest('NAVET-CLOCK', 'Send either offsetSeconds or now, not both', ['offsetSeconds']);
    if (typeof body.offsetSeconds === 'number' && Number.isFinite(body.offsetSeconds))
      offsetMs = Math.round(body.offsetSeconds * 1000);
    else if (
      typeof body.now === 'string' &&
      !Number.isNaN(Date.parse(body.now)) &&
      /^\d{4}-\d{2}-\d{2}T/.test(body.now)
    )
      offsetMs = Date.parse(body.now) - Date.now();
    else
      throw badRequest(
        'NAVET-CLOCK',
        'Send {"offsetSeconds": <number>} or {"now": "<ISO date-time, e.g. 2027-01-01T12:00:00Z>"}',
        ['offsetSeconds'],
      );
    if (!(Math.abs(offsetMs) <= MAX_CLOCK_OFFSET_SECONDS * 1000)) {
      const field = body.now !== undefined ? 'now' : 'offsetSeconds';
      throw badRequest(
        'NAVET-CLOCK-RANGE',
        `The clock can move at most ${MAX_CLOCK_OFFSET_SECONDS} seconds (100 years) from real time; ${field} ${JSON.stringify(body[field])} is beyond that. Nothing was changed`,
        [field],
      );
    }
    await this.db.updateTable('sandboxes').set({ clock_offset_ms: offsetMs }).where('name', '=', name).execute();
    return clockWithOffset(offsetMs);
  }
}

/** Seeded resources carry the reference date as their lastUpdated, so a seed is byte-identical every time. */
export function seedTimestamp(settings: GeneratorSettings): string {
  return new Date(`${settings.referenceDate}T00:00:00.000Z`).toISOString();
}
