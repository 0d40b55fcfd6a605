import { sql } from 'kysely';
import type { Engine, Executor } from './database';

/**
 * Inserts many rows in few statements: the rows travel as one JSON parameter per chunk and the
 * database unpacks them (json_each on SQLite, json_populate_recordset on PostgreSQL). Far faster than
 * one VALUES tuple per row for seeding tens of thousands of index rows.
 */
const CHUNK = 5000;

export async function bulkInsert<Row extends object>(
  db: Executor,
  engine: Engine,
  table: string,
  rows: Row[],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const columnList = sql.raw(columns.join(', '));
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
