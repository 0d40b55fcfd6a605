import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/**
 * better-sqlite3 statements are reusable, but Kysely's SQLite driver prepares every query afresh (7 % of
 * a guarded request's CPU). This hands Kysely the database with its statements kept per SQL text.
 * Navet never streams a query, so no cached statement is ever busy when it is used again.
 */
const MAX_STATEMENTS = 2000;

export function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      statements.clear();
      sqlite.close();
    },
    prepare: (sql: string) => {
      let statement = statements.get(sql);
      if (!statement) {
        // search SQL varies with the number of values searched for: keep the cache bounded
        if (statements.size >= MAX_STATEMENTS) statements.clear();
        statement = sqlite.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
