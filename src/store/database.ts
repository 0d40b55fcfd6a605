import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Pool, types } from 'pg';
import { migrateToLatest } from './migrations';
import type { Database } from './schema';
import { letWaitersWrite, NonWaitingSqliteDialect, whileSqliteIsBusy } from './sqlite-driver';
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
}

/**
 * SQLite's page cache while a seed is written (KiB, 256 MB): a seed's transaction touches every page of
 * the search index's B-trees many times; with the default 2 MB it spills and re-reads them all the time.
 */
const BULK_CACHE_KIB = 256 * 1024;
/** Pages returned per step of the incremental vacuum, so that other writers get their turn between steps. */
const VACUUM_STEP_PAGES = 2000;
/** How often the WAL file's truncation is tried while other connections are at work. */
const CHECKPOINT_TRIES = 50;

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
    // a statement that meets the write lock taken fails at once and is tried again later (SQLite's own
    // wait is a sleep that holds the thread's event loop)
    sqlite.pragma('busy_timeout = 0');
    const db = new Kysely<Database>({ dialect: new NonWaitingSqliteDialect(sqlite, withStatementCache(sqlite)) });
    const giveSpaceBack = async () => {
      if (Number(sqlite.pragma('auto_vacuum', { simple: true })) !== 2) return;
      while (Number(sqlite.pragma('freelist_count', { simple: true })) > 0) {
        await whileSqliteIsBusy(() => sqlite.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`));
        await letWaitersWrite();
      }
      // the WAL file shrinks once no other connection reads or writes at that moment (busy: 1 otherwise)
      for (let attempt = 0; attempt < CHECKPOINT_TRIES; attempt++) {
        const [result] = (await whileSqliteIsBusy(() => sqlite.pragma('wal_checkpoint(TRUNCATE)'))) as {
          busy: number;
        }[];
        if (!result?.busy) break;
        await letWaitersWrite();
      }
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
    handle = {
      db,
      engine: 'sqlite',
      location: file,
      close: () => db.destroy(),
      giveSpaceBack,
      bulkLoad,
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
