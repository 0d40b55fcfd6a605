import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Pool, types } from 'pg';
import { migrateToLatest } from './migrations';
import type { Database } from './schema';
import { withStatementCache } from './statement-cache';

export type Engine = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: Engine;
  /** Where the data lives, for the start-up log (no password). */
  location: string;
  close(): Promise<void>;
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
    handle = { db, engine: 'postgres', location: redact(options.databaseUrl), close: () => db.destroy() };
  } else {
    mkdirSync(options.dataDir, { recursive: true });
    const file = path.resolve(options.dataDir, 'navet.sqlite');
    const sqlite = new BetterSqlite3(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    handle = { db, engine: 'sqlite', location: file, close: () => db.destroy() };
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
