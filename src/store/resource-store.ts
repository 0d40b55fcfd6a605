import { type Kysely, sql, type Transaction } from 'kysely';
import { randomUUID } from 'node:crypto';
import { conflict, gone, notFound, preconditionFailed } from '../fhir/operation-outcome';
import { extractIndexValues, type IndexValue } from '../fhir/search-parameters';
import type { IncludeSpec, SearchRequest } from '../fhir/search-request';
import { asJson, type FhirResource, type StorableResource } from '../fhir/types';
import {
  type FhirRepository,
  type HistoryQuery,
  isValidId,
  type SearchResult,
  type StoredVersion,
} from '../fhir/repository';
import { bulkInsert } from './bulk-insert';
import type { Engine, Executor } from './database';
import type { Database, ResourceTable, ResourceVersionTable, SearchIndexTable } from './schema';
import { orderByClause, whereClause } from './search-sql';
import { REGISTRY_TYPES, type ReadCache } from './read-cache';
import { recordChanges } from './change-journal';

/**
 * The generic FHIR store: versioned resources as JSON plus search-index rows, every row keyed by
 * sandbox. Service facades and the admin FHIR API read and write through it; nothing else touches
 * the clinical tables.
 */
export type { HistoryQuery, SearchResult, StoredVersion };

/** A resource to seed, optionally with its earlier versions (oldest first). */
export interface SeedEntry {
  resource: StorableResource;
  index?: IndexValue[];
  history?: { resource: StorableResource; lastUpdated: string }[];
}

export type { Executor };

const INSERT_CHUNK = 500;
/** Resources a seed writes per batch: big enough for few statements, small enough to hold. */
const SEED_BATCH = 2000;

export { isValidId };

function withMeta(resource: StorableResource, id: string, versionId: number, lastUpdated: string): FhirResource {
  const { meta, ...rest } = asJson(resource);
  return { ...rest, id, meta: { ...(meta ?? {}), versionId: String(versionId), lastUpdated } } as FhirResource;
}

function parseContent(row: { content: string }): FhirResource {
  return JSON.parse(row.content) as FhirResource;
}

export class ResourceStore implements FhirRepository {
  constructor(
    private readonly db: Executor,
    readonly engine: Engine,
    private readonly readCache?: ReadCache,
    /** Registry reads go through `readCache` (the view `cachedReads()` gives). */
    private readonly cachedView = false,
  ) {}

  /** This store bound to one sandbox: the same reads and writes, without a sandbox argument to get wrong. */
  forSandbox(sandbox: string): SandboxStore {
    return new SandboxStore(this, sandbox);
  }

  /** This store with its registry searches and reads kept per sandbox generation (see ReadCache); itself in a transaction. */
  cachedReads(): ResourceStore {
    if (!this.readCache || this.db.isTransaction || this.cachedView) return this;
    return new ResourceStore(this.db, this.engine, this.readCache, true);
  }

  /** What a request read of its sandbox's row: kept registry reads of an older generation are dropped. */
  observeSandbox(sandbox: string, createdAt: string, generation: number): void {
    this.readCache?.observe(sandbox, createdAt, generation);
  }

  /** A registry write makes every process read the registries of the sandbox again (committed with the write). */
  private async bumpGeneration(sandbox: string, resourceTypes: Iterable<string>): Promise<void> {
    for (const type of resourceTypes) {
      if (!REGISTRY_TYPES.has(type)) continue;
      await this.db
        .updateTable('sandboxes')
        .set((eb) => ({ generation: eb('generation', '+', 1) }))
        .where('name', '=', sandbox)
        .execute();
      return;
    }
  }

  /** Whether this store writes within a transaction someone else commits. */
  get inOpenTransaction(): boolean {
    return this.db.isTransaction;
  }

  /** Runs `work` in one database transaction: all of it happens, or none of it. */
  async inTransaction<T>(work: (store: ResourceStore) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this);
    return (this.db as Kysely<Database>)
      .transaction()
      .execute((trx) => work(new ResourceStore(trx, this.engine, this.readCache)));
  }

  /** `T` names the R4 type the caller knows `resourceType` to be (the JSON is not checked again). */
  async find<T extends StorableResource = FhirResource>(
    sandbox: string,
    resourceType: string,
    id: string,
  ): Promise<T | undefined> {
    const row = await this.db
      .selectFrom('resources')
      .select(['content', 'deleted'])
      .where('sandbox', '=', sandbox)
      .where('resource_type', '=', resourceType)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && !row.deleted ? (parseContent(row) as T) : undefined;
  }

  async read<T extends StorableResource = FhirResource>(sandbox: string, resourceType: string, id: string): Promise<T> {
    const row = await this.db
      .selectFrom('resources')
      .select(['content', 'deleted', 'version_id'])
      .where('sandbox', '=', sandbox)
      .where('resource_type', '=', resourceType)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('NAVET-RESOURCE-NOT-FOUND', `${resourceType}/${id} does not exist in this sandbox`);
    if (row.deleted)
      throw gone(
        'NAVET-RESOURCE-DELETED',
        `${resourceType}/${id} was deleted (version ${row.version_id}); its history is still readable`,
      );
    return parseContent(row) as T;
  }

  async vread(sandbox: string, resourceType: string, id: string, versionId: number): Promise<FhirResource> {
    const row = await this.db
      .selectFrom('resource_versions')
      .select(['content', 'deleted'])
      .where('sandbox', '=', sandbox)
      .where('resource_type', '=', resourceType)
      .where('id', '=', id)
      .where('version_id', '=', versionId)
      .executeTakeFirst();
    if (!row) throw notFound('NAVET-VERSION-NOT-FOUND', `${resourceType}/${id} has no version ${versionId}`);
    if (row.deleted)
      throw gone('NAVET-RESOURCE-DELETED', `Version ${versionId} of ${resourceType}/${id} is its deletion`);
    return parseContent(row);
  }

  async currentVersion(
    sandbox: string,
    resourceType: string,
    id: string,
  ): Promise<{ versionId: number; deleted: boolean } | undefined> {
    const row = await this.db
      .selectFrom('resources')
      .select(['version_id', 'deleted'])
      .where('sandbox', '=', sandbox)
      .where('resource_type', '=', resourceType)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { versionId: row.version_id, deleted: Boolean(row.deleted) } : undefined;
  }

  /** Creates a resource with a new server-assigned id (or the id given, for seeding and transactions). */
  async create(
    sandbox: string,
    resource: StorableResource,
    lastUpdated: string,
    id: string = randomUUID(),
  ): Promise<FhirResource> {
    const stored = withMeta(resource, id, 1, lastUpdated);
    const inserted = await this.db
      .insertInto('resources')
      .values(this.resourceRow(sandbox, stored, 1, lastUpdated, false))
      .onConflict((oc) => oc.columns(['sandbox', 'resource_type', 'id']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1)
      throw conflict('NAVET-ID-TAKEN', `${resource.resourceType}/${id} exists already`);
    await this.writeVersion(sandbox, stored, 1, lastUpdated, 'POST');
    await this.replaceIndex(sandbox, stored);
    await this.bumpGeneration(sandbox, [stored.resourceType]);
    await recordChanges(this.db, sandbox, [{ resourceType: stored.resourceType, id }]);
    return stored;
  }

  /**
   * Updates (or creates, with the client's id) a resource. `expectedVersion` is the If-Match version:
   * a stale one gets 412. A concurrent writer that wins the race makes this one fail with 409.
   */
  async update(
    sandbox: string,
    resource: StorableResource,
    lastUpdated: string,
    expectedVersion?: number,
  ): Promise<{ resource: FhirResource; created: boolean }> {
    const id = resource.id as string;
    const current = await this.currentVersion(sandbox, resource.resourceType, id);
    if (expectedVersion !== undefined && current?.versionId !== expectedVersion) {
      throw preconditionFailed(
        'NAVET-VERSION-CONFLICT',
        current
          ? `If-Match names version ${expectedVersion} of ${resource.resourceType}/${id}, but the current version is ${current.versionId}${current.deleted ? ' (deleted)' : ''}: read it again and re-apply your change`
          : `If-Match names version ${expectedVersion}, but ${resource.resourceType}/${id} does not exist`,
      );
    }
    if (!current) return { resource: await this.create(sandbox, resource, lastUpdated, id), created: true };
    const versionId = current.versionId + 1;
    const stored = withMeta(resource, id, versionId, lastUpdated);
    const updated = await this.db
      .updateTable('resources')
      .set({ version_id: versionId, last_updated: lastUpdated, deleted: 0, content: JSON.stringify(stored) })
      .where('sandbox', '=', sandbox)
      .where('resource_type', '=', resource.resourceType)
      .where('id', '=', id)
      .where('version_id', '=', current.versionId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      throw conflict(
        'NAVET-CONCURRENT-UPDATE',
        `${resource.resourceType}/${id} was changed by another request at the same moment; read it again and retry`,
      );
    }
    await this.writeVersion(sandbox, stored, versionId, lastUpdated, 'PUT');
    await this.replaceIndex(sandbox, stored);
    await this.bumpGeneration(sandbox, [stored.resourceType]);
    await recordChanges(this.db, sandbox, [{ resourceType: stored.resourceType, id }]);
    return { resource: stored, created: current.deleted };
  }

  /** Deletes a resource (a new, deleted version). Deleting what does not exist or is deleted is a no-op. */
  async delete(sandbox: string, resourceType: string, id: string, lastUpdated: string): Promise<boolean> {
    const current = await this.currentVersion(sandbox, resourceType, id);
    if (!current || current.deleted) return false;
    const versionId = current.versionId + 1;
    const tombstone: FhirResource = { resourceType, id, meta: { versionId: String(versionId), lastUpdated } };
    const updated = await this.db
      .updateTable('resources')
      .set({ version_id: versionId, last_updated: lastUpdated, deleted: 1, content: JSON.stringify(tombstone) })
      .where('sandbox', '=', sandbox)
      .where('resource_type', '=', resourceType)
      .where('id', '=', id)
      .where('version_id', '=', current.versionId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1)
      throw conflict(
        'NAVET-CONCURRENT-UPDATE',
        `${resourceType}/${id} was changed by another request at the same moment; retry`,
      );
    await this.db
      .insertInto('resource_versions')
      .values({ ...this.resourceRow(sandbox, tombstone, versionId, lastUpdated, true), method: 'DELETE' })
      .execute();
    await this.db
      .deleteFrom('search_index')
      .where('sandbox', '=', sandbox)
      .where('resource_type', '=', resourceType)
      .where('resource_id', '=', id)
      .execute();
    await this.bumpGeneration(sandbox, [resourceType]);
    await recordChanges(this.db, sandbox, [{ resourceType, id }]);
    return true;
  }

  async history(sandbox: string, query: HistoryQuery): Promise<{ total: number; versions: StoredVersion[] }> {
    let base = this.db.selectFrom('resource_versions').where('sandbox', '=', sandbox);
    if (query.resourceType) base = base.where('resource_type', '=', query.resourceType);
    if (query.id) base = base.where('id', '=', query.id);
    if (query.since) base = base.where('last_updated', '>=', query.since);
    const countRow = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    const rows = await base
      .selectAll()
      .orderBy('last_updated', 'desc')
      .orderBy('version_id', 'desc')
      .orderBy('id')
      .limit(query.count)
      .offset(query.offset)
      .execute();
    return {
      total: Number(countRow?.n ?? 0),
      versions: rows.map((row) => ({
        resourceType: row.resource_type,
        id: row.id,
        versionId: row.version_id,
        lastUpdated: row.last_updated,
        deleted: Boolean(row.deleted),
        method: row.method as StoredVersion['method'],
        resource: row.deleted ? undefined : parseContent(row),
      })),
    };
  }

  async search(sandbox: string, request: SearchRequest): Promise<SearchResult> {
    if (
      this.cachedView &&
      this.readCache &&
      REGISTRY_TYPES.has(request.resourceType) &&
      request.include.length === 0 &&
      request.revinclude.length === 0
    ) {
      return this.readCache.get(sandbox, `search ${JSON.stringify(request)}`, () =>
        this.searchStored(sandbox, request),
      );
    }
    return this.searchStored(sandbox, request);
  }

  private async searchStored(sandbox: string, request: SearchRequest): Promise<SearchResult> {
    const where = whereClause(sandbox, request);
    const from = sql`from resources r where r.sandbox = ${sandbox} and r.resource_type = ${request.resourceType} and r.deleted = 0 and ${where}`;
    let total: number | undefined;
    if (!request.totalNone || request.summaryCount) {
      const counted = await sql<{ n: number | string }>`select count(*) as n ${from}`.execute(this.db);
      total = Number(counted.rows[0]?.n ?? 0);
    }
    if (request.summaryCount || request.count === 0) return { total, matches: [], included: [] };
    const rows = await sql<{
      content: string;
    }>`select r.content ${from} order by ${orderByClause(request)} limit ${request.count} offset ${request.offset}`.execute(
      this.db,
    );
    const matches = rows.rows.map(parseContent);
    const included = await this.includes(sandbox, matches, request.include, request.revinclude);
    return { total, matches, included };
  }

  /** Resources named by _include / _revinclude (with :iterate followed up to a few levels). */
  private async includes(
    sandbox: string,
    matches: FhirResource[],
    include: IncludeSpec[],
    revinclude: IncludeSpec[],
  ): Promise<FhirResource[]> {
    if (matches.length === 0 || (include.length === 0 && revinclude.length === 0)) return [];
    const key = (r: FhirResource) => `${r.resourceType}/${r.id}`;
    const seen = new Set(matches.map(key));
    const included: FhirResource[] = [];
    let frontier = matches;
    for (let depth = 0; depth < 4 && frontier.length > 0; depth++) {
      const found: FhirResource[] = [];
      for (const spec of include) {
        if (depth > 0 && !spec.iterate) continue;
        const sources = frontier.filter((r) => r.resourceType === spec.sourceType);
        if (sources.length === 0) continue;
        const refs = await this.db
          .selectFrom('search_index')
          .select('text')
          .where('sandbox', '=', sandbox)
          .where('resource_type', '=', spec.sourceType)
          .where('param', '=', spec.param)
          .where(
            'resource_id',
            'in',
            sources.map((s) => s.id as string),
          )
          .execute();
        const targets = refs
          .map((r) => r.text)
          .filter((t): t is string => !!t && /^[A-Za-z]+\/[^/]+$/.test(t))
          .filter((t) => !spec.targetType || t.startsWith(`${spec.targetType}/`));
        found.push(...(await this.readMany(sandbox, targets)));
      }
      for (const spec of revinclude) {
        if (depth > 0 && !spec.iterate) continue;
        if (frontier.length === 0) continue;
        const rows = await this.db
          .selectFrom('search_index')
          .select('resource_id')
          .where('sandbox', '=', sandbox)
          .where('resource_type', '=', spec.sourceType)
          .where('param', '=', spec.param)
          .where('text', 'in', frontier.map(key))
          .execute();
        found.push(
          ...(await this.readMany(
            sandbox,
            rows.map((r) => `${spec.sourceType}/${r.resource_id}`),
          )),
        );
      }
      frontier = [];
      for (const resource of found) {
        if (seen.has(key(resource))) continue;
        seen.add(key(resource));
        included.push(resource);
        frontier.push(resource);
      }
    }
    return included;
  }

  /** Reads several resources given as "Type/id"; missing ones are left out. */
  async readMany(sandbox: string, references: string[]): Promise<FhirResource[]> {
    if (this.cachedView && this.readCache && references.every((r) => REGISTRY_TYPES.has(r.split('/')[0]))) {
      return this.readCache.get(sandbox, `read ${references.join(' ')}`, () => this.readStored(sandbox, references));
    }
    return this.readStored(sandbox, references);
  }

  private async readStored(sandbox: string, references: string[]): Promise<FhirResource[]> {
    const byType = new Map<string, Set<string>>();
    for (const reference of references) {
      const [type, id] = reference.split('/');
      if (!byType.has(type)) byType.set(type, new Set());
      byType.get(type)?.add(id);
    }
    const resources: FhirResource[] = [];
    for (const [type, ids] of byType) {
      const rows = await this.db
        .selectFrom('resources')
        .select('content')
        .where('sandbox', '=', sandbox)
        .where('resource_type', '=', type)
        .where('id', 'in', [...ids])
        .where('deleted', '=', 0)
        .execute();
      resources.push(...rows.map(parseContent));
    }
    return resources;
  }

  /**
   * Creates new resources, each with its own time and a new id, in three statements (the access log's
   * group commit). Fails as a whole, e.g. on an id that exists.
   */
  async createMany(
    sandbox: string,
    items: { resource: StorableResource; lastUpdated: string }[],
  ): Promise<FhirResource[]> {
    const stored = items.map(({ resource, lastUpdated }) => withMeta(resource, randomUUID(), 1, lastUpdated));
    const resourceRows = stored.map((resource, i) =>
      this.resourceRow(sandbox, resource, 1, items[i].lastUpdated, false),
    );
    await bulkInsert(this.db, this.engine, 'resources', resourceRows);
    await bulkInsert(
      this.db,
      this.engine,
      'resource_versions',
      resourceRows.map((row) => ({ ...row, method: 'POST' })),
    );
    await bulkInsert(
      this.db,
      this.engine,
      'search_index',
      stored.flatMap((resource) => extractIndexValues(resource).map((v) => this.indexRow(sandbox, resource, v))),
    );
    await this.bumpGeneration(sandbox, new Set(stored.map((r) => r.resourceType)));
    await recordChanges(
      this.db,
      sandbox,
      stored.map((r) => ({ resourceType: r.resourceType, id: r.id as string })),
    );
    return stored;
  }

  /**
   * Inserts many new resources (seeding, before the seed snapshot: not journalled as changes), written in
   * batches as they come, so that a seed of any size is never held whole. Index rows may be given
   * precomputed. `history` holds a resource's earlier versions, oldest first, each with its own time; the
   * resource is then their successor. `onBatch` hears how many are written so far.
   */
  async insertMany(
    sandbox: string,
    resources: Iterable<SeedEntry> | AsyncIterable<SeedEntry>,
    lastUpdated: string,
    onBatch?: (written: number) => void,
  ): Promise<number> {
    let resourceRows: ResourceTable[] = [];
    let versionRows: ResourceVersionTable[] = [];
    let indexRows: SearchIndexTable[] = [];
    const types = new Set<string>();
    let written = 0;
    const flush = async () => {
      await bulkInsert(this.db, this.engine, 'resources', resourceRows);
      await bulkInsert(this.db, this.engine, 'resource_versions', versionRows);
      await bulkInsert(this.db, this.engine, 'search_index', indexRows);
      written += resourceRows.length;
      resourceRows = [];
      versionRows = [];
      indexRows = [];
      onBatch?.(written);
    };
    for await (const { resource, index, history = [] } of resources) {
      const id = resource.id ?? randomUUID();
      history.forEach((earlier, i) => {
        const stored = withMeta({ ...earlier.resource, id }, id, i + 1, earlier.lastUpdated);
        versionRows.push({
          ...this.resourceRow(sandbox, stored, i + 1, earlier.lastUpdated, false),
          method: i === 0 ? 'POST' : 'PUT',
        });
      });
      const versionId = history.length + 1;
      const stored = withMeta(resource, id, versionId, lastUpdated);
      const row = this.resourceRow(sandbox, stored, versionId, lastUpdated, false);
      resourceRows.push(row);
      versionRows.push({ ...row, method: versionId === 1 ? 'POST' : 'PUT' });
      for (const value of index ?? extractIndexValues(stored)) indexRows.push(this.indexRow(sandbox, stored, value));
      types.add(row.resource_type);
      if (resourceRows.length >= SEED_BATCH) await flush();
    }
    if (resourceRows.length > 0) await flush();
    await this.bumpGeneration(sandbox, types);
    return written;
  }

  async countResources(sandbox: string, resourceType?: string): Promise<number> {
    let query = this.db
      .selectFrom('resources')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sandbox', '=', sandbox)
      .where('deleted', '=', 0);
    if (resourceType) query = query.where('resource_type', '=', resourceType);
    const row = await query.executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  private resourceRow(
    sandbox: string,
    resource: FhirResource,
    versionId: number,
    lastUpdated: string,
    deleted: boolean,
  ): ResourceTable {
    return {
      sandbox,
      resource_type: resource.resourceType,
      id: resource.id as string,
      version_id: versionId,
      last_updated: lastUpdated,
      deleted: deleted ? 1 : 0,
      content: JSON.stringify(resource),
    };
  }

  private indexRow(sandbox: string, resource: FhirResource, value: IndexValue): SearchIndexTable {
    return {
      sandbox,
      resource_type: resource.resourceType,
      resource_id: resource.id as string,
      param: value.param,
      text: value.text,
      system: value.system,
      code: value.code,
      low: value.low,
      high: value.high,
    };
  }

  private async writeVersion(
    sandbox: string,
    resource: FhirResource,
    versionId: number,
    lastUpdated: string,
    method: string,
  ): Promise<void> {
    await this.db
      .insertInto('resource_versions')
      .values({ ...this.resourceRow(sandbox, resource, versionId, lastUpdated, false), method })
      .execute();
  }

  private async replaceIndex(sandbox: string, resource: FhirResource): Promise<void> {
    await this.db
      .deleteFrom('search_index')
      .where('sandbox', '=', sandbox)
      .where('resource_type', '=', resource.resourceType)
      .where('resource_id', '=', resource.id as string)
      .execute();
    const rows = extractIndexValues(resource).map((v) => this.indexRow(sandbox, resource, v));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK)
      await this.db
        .insertInto('search_index')
        .values(rows.slice(i, i + INSERT_CHUNK))
        .execute();
  }
}

/** A ResourceStore bound to one sandbox (`store.forSandbox(name)`), for service code. */
export class SandboxStore {
  constructor(
    private readonly store: ResourceStore,
    readonly sandbox: string,
  ) {}

  inTransaction<T>(work: (store: SandboxStore) => Promise<T>): Promise<T> {
    return this.store.inTransaction((store) => work(store.forSandbox(this.sandbox)));
  }

  find<T extends StorableResource = FhirResource>(resourceType: string, id: string): Promise<T | undefined> {
    return this.store.find<T>(this.sandbox, resourceType, id);
  }

  read<T extends StorableResource = FhirResource>(resourceType: string, id: string): Promise<T> {
    return this.store.read<T>(this.sandbox, resourceType, id);
  }

  vread(resourceType: string, id: string, versionId: number): Promise<FhirResource> {
    return this.store.vread(this.sandbox, resourceType, id, versionId);
  }

  currentVersion(resourceType: string, id: string): ReturnType<ResourceStore['currentVersion']> {
    return this.store.currentVersion(this.sandbox, resourceType, id);
  }

  create(resource: StorableResource, lastUpdated: string, id?: string): Promise<FhirResource> {
    return this.store.create(this.sandbox, resource, lastUpdated, id);
  }

  update(
    resource: StorableResource,
    lastUpdated: string,
    expectedVersion?: number,
  ): ReturnType<ResourceStore['update']> {
    return this.store.update(this.sandbox, resource, lastUpdated, expectedVersion);
  }

  delete(resourceType: string, id: string, lastUpdated: string): Promise<boolean> {
    return this.store.delete(this.sandbox, resourceType, id, lastUpdated);
  }

  history(query: HistoryQuery): ReturnType<ResourceStore['history']> {
    return this.store.history(this.sandbox, query);
  }

  search(request: SearchRequest): Promise<SearchResult> {
    return this.store.search(this.sandbox, request);
  }

  readMany(references: string[]): Promise<FhirResource[]> {
    return this.store.readMany(this.sandbox, references);
  }

  createMany(items: { resource: FhirResource; lastUpdated: string }[]): Promise<FhirResource[]> {
    return this.store.createMany(this.sandbox, items);
  }

  countResources(resourceType?: string): Promise<number> {
    return this.store.countResources(this.sandbox, resourceType);
  }
}
