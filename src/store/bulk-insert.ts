import { CompiledQuery, sql } from 'kysely';
import type { Engine, Executor } from './database';

/**
 * Inserts many rows in few statements. PostgreSQL: the rows travel as one JSON parameter per chunk and
 * the database unpacks them (json_populate_recordset), far faster than one VALUES tuple per row. SQLite:
 * multi-row VALUES of bound parameters, the same SQL text for every full chunk, so the prepared statement
 * is reused (unpacking JSON with json_extract parsed every row once per column).
 */
const CHUNK = 5000;
/** SQLite binds at most 32,766 parameters per statement. */
const SQLITE_PARAMETERS = 30000;

export async function bulkInsert<Row extends object>(
  db: Executor,
  engine: Engine,
  table: string,
  rows: Row[],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const columnList = sql.raw(columns.join(', '));
  if (engine === 'sqlite') {
    const perStatement = Math.min(500, Math.floor(SQLITE_PARAMETERS / columns.length));
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    for (let i = 0; i < rows.length; i += perStatement) {
      const chunk = rows.slice(i, i + perStatement);
      const values: unknown[] = [];
      for (const row of chunk) for (const column of columns) values.push((row as Record<string, unknown>)[column]);
      const text = `insert into ${table} (${columns.join(', ')}) values ${Array(chunk.length).fill(tuple).join(', ')}`;
      await db.executeQuery(CompiledQuery.raw(text, values));
    }
    return;
  }
  for (let i = 0; i < rows.length; i += CHUNK) {
    const json = JSON.stringify(rows.slice(i, i + CHUNK));
    if (engine === 'postgres') {
      await sql`insert into ${sql.table(table)} (${columnList}) select ${columnList} from json_populate_recordset(null::${sql.table(table)}, ${json}::json)`.execute(
        db,
      );
    } else {
      const extracted = sql.raw(columns.map((c) => `json_extract(value, '$.${c}')`).join(', '));
      await sql`insert into ${sql.table(table)} (${columnList}) select ${extracted} from json_each(${json})`.execute(
        db,
      );
    }
  }
}
