import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Pool, types } from 'pg';
import { migrateToLatest } from './migrations';
import type { Database } from './schema';
import { withStatementCache } from './statement-cache';

export type Engine = 'sqlite' | 'postgres';

/** The database or an open transaction: what store functions run their queries on. */
export type Executor = Kysely<Database> | Transaction<Database>;

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: Engine;
  /** Where the data lives, for the start-up log (no password). */
  location: string;
  close(): Promise<void>;
  /** Returns the pages freed by deletes to the file system (SQLite's incremental vacuum, in steps). */
  giveSpaceBack?(): Promise<void>;
  /** Runs a bulk load (a seed) with settings for it: SQLite keeps far more pages in memory meanwhile. */
  bulkLoad?<T>(work: () => Promise<T>): Promise<T>;
  /**
   * SQLite: a second connection that never waits for the write lock (SQLite's wait is a sleep that holds
   * the event loop): a write while another connection holds the lock fails at once with SQLITE_BUSY, and
   * `writeWithoutWaiting` tries again later. PostgreSQL waits without holding the loop: `db` itself.
   */
  nonWaiting(): Kysely<Database>;
}

/** How long `writeWithoutWaiting` goes on trying while the SQLite write lock is taken (a large seed holds it). */
const NON_WAITING_DEADLINE_MS = 60_000;

function isSqliteBusy(error: unknown): boolean {
  return String((error as { code?: unknown } | undefined)?.code ?? '').startsWith('SQLITE_BUSY');
}

/**
 * Runs a small write on the non-waiting connection; while the SQLite write lock is taken it tries again
 * every 20 ms (the event loop goes on meanwhile), for up to `deadlineMs`.
 */
export async function writeWithoutWaiting<T>(
  handle: Pick<DatabaseHandle, 'nonWaiting'>,
  write: (db: Kysely<Database>) => Promise<T>,
  deadlineMs = NON_WAITING_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      return await write(handle.nonWaiting());
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * SQLite's page cache while a seed is written (KiB, 256 MB): a seed's transaction touches every page of
 * the search index's B-trees many times; with the default 2 MB it spills and re-reads them all the time.
 */
const BULK_CACHE_KIB = 256 * 1024;
/** Pages returned per step of the incremental vacuum, so that other writers get their turn between steps. */
const VACUUM_STEP_PAGES = 2000;

/**
 * SQLite transactions take the write lock when they begin (waiting up to busy_timeout for another
 * connection's statement, e.g. the sandbox worker's): a deferred transaction that read first cannot
 * write once another connection has committed meanwhile (SQLITE_BUSY), which a request would see as a 500.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

// bigint columns (clock offsets) as JS numbers
types.setTypeParser(20, (value) => Number(value));

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
}

export async function openDatabase(options: { databaseUrl?: string; dataDir: string }): Promise<DatabaseHandle> {
  let handle: DatabaseHandle;
  if (options.databaseUrl) {
    const pool = new Pool({ connectionString: options.databaseUrl, max: 10 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    handle = {
      db,
      engine: 'postgres',
      location: redact(options.databaseUrl),
      close: () => db.destroy(),
      nonWaiting: () => db,
    };
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    const file = path.resolve(options.dataDir, 'navet.sqlite');
    const sqlite = new BetterSqlite3(file);
    // A new database gives freed pages back to the file system on request (after a sandbox is deleted);
    // auto_vacuum can only be chosen before the first table exists.
    const empty = sqlite.prepare('select count(*) as n from sqlite_master').get() as { n: number };
    if (empty.n === 0) sqlite.pragma('auto_vacuum = INCREMENTAL');
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
    const giveSpaceBack = async () => {
      if (Number(sqlite.pragma('auto_vacuum', { simple: true })) !== 2) return;
      while (Number(sqlite.pragma('freelist_count', { simple: true })) > 0) {
        sqlite.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      sqlite.pragma('wal_checkpoint(TRUNCATE)');
    };
    const bulkLoad = async <T>(work: () => Promise<T>): Promise<T> => {
      const before = Number(sqlite.pragma('cache_size', { simple: true }));
      sqlite.pragma(`cache_size = -${BULK_CACHE_KIB}`);
      try {
        return await work();
      } finally {
        sqlite.pragma(`cache_size = ${before}`);
      }
    };
    let nonWaiting: Kysely<Database> | undefined;
    handle = {
      db,
      engine: 'sqlite',
      location: file,
      close: async () => {
        await nonWaiting?.destroy();
        await db.destroy();
      },
      giveSpaceBack,
      bulkLoad,
      nonWaiting: () => {
        if (!nonWaiting) {
          const connection = new BetterSqlite3(file);
          connection.pragma('busy_timeout = 0');
          nonWaiting = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
        }
        return nonWaiting;
      },
    };
  }
  // Several processes starting at once against one PostgreSQL may race to create the migration
  // tables; the loser retries and finds the work done.
  for (let attempt = 1; ; attempt++) {
    try {
      await migrateToLatest(handle.db as unknown as Kysely<unknown>);
      return handle;
    } catch (error) {
      if (attempt >= 3) {
        await handle.close();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

export async function databaseIsReachable(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
