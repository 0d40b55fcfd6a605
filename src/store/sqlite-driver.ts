import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  SqliteDialect,
  type SqliteDatabase,
} from 'kysely';

/**
 * How long a statement goes on trying while another connection (the sandbox worker, another process)
 * holds SQLite's write lock; a large seed holds it for seconds.
 */
export const LOCK_WAIT_DEADLINE_MS = 60_000;
/** The longest pause between two tries for the write lock: a purge leaves gaps this long between its chunks. */
export const LOCK_RETRY_MAX_MS = 5;

export function isSqliteBusy(error: unknown): boolean {
  return String((error as { code?: unknown } | undefined)?.code ?? '').startsWith('SQLITE_BUSY');
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A pause between two steps of long work that takes the write lock again and again (a purge's chunks): longer
 * than the pause between two tries of a waiting statement, so that every waiter gets its turn.
 */
export const letWaitersWrite = () => pause(2 * LOCK_RETRY_MAX_MS);

/**
 * Runs `work` (synchronous SQLite calls on a connection with busy_timeout 0) until it does not meet a
 * taken lock; between tries the event loop goes on (SQLite's own wait is a sleep that holds the thread).
 */
export async function whileSqliteIsBusy<T>(
  work: () => T,
  between: { before(): void; after(): Promise<void> } = { before: () => {}, after: async () => {} },
  deadlineMs = LOCK_WAIT_DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return work();
    } catch (error) {
      if (!isSqliteBusy(error) || Date.now() > deadline) throw error;
      between.before();
      await pause(Math.min(2 ** attempt, LOCK_RETRY_MAX_MS));
      await between.after();
    }
  }
}

/** Kysely's one-connection mutex (the driver hands out its single connection to one user at a time). */
class Mutex {
  private held?: Promise<void>;
  private release?: () => void;

  async lock(): Promise<void> {
    while (this.held) await this.held;
    this.held = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  unlock(): void {
    const release = this.release;
    this.held = undefined;
    this.release = undefined;
    release?.();
  }
}

/**
 * A statement outside a transaction that meets the lock (an autocommit write, or `begin immediate`) lets
 * the connection go while it waits, so reads (e.g. /healthz) and other work go on meanwhile. Inside a
 * transaction (which holds the write lock since its `begin immediate`) statements run as they are.
 */
class NonWaitingConnection implements DatabaseConnection {
  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly statements: SqliteDatabase,
    private readonly mutex: Mutex,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const run = () => this.run<R>(query);
    try {
      return Promise.resolve(run());
    } catch (error) {
      if (!isSqliteBusy(error) || this.sqlite.inTransaction) return Promise.reject(error);
      return whileSqliteIsBusy(run, { before: () => this.mutex.unlock(), after: () => this.mutex.lock() });
    }
  }

  private run<R>(query: CompiledQuery): QueryResult<R> {
    const statement = this.statements.prepare(query.sql);
    const parameters = query.parameters as unknown[];
    if (statement.reader) return { rows: statement.all(parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return {
      numAffectedRows: changes === undefined || changes === null ? undefined : BigInt(changes),
      insertId: lastInsertRowid === undefined || lastInsertRowid === null ? undefined : BigInt(lastInsertRowid),
      rows: [],
    };
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Navet does not stream SQLite queries');
  }
}

/**
 * SQLite transactions take the write lock when they begin: a deferred transaction that read first cannot
 * write once another connection has committed meanwhile (SQLITE_BUSY), which a request would see as a 500.
 */
class NonWaitingSqliteDriver implements Driver {
  private readonly mutex = new Mutex();
  private readonly connection: NonWaitingConnection;

  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly statements: SqliteDatabase,
  ) {
    this.connection = new NonWaitingConnection(sqlite, statements, this.mutex);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.mutex.lock();
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    this.mutex.unlock();
  }

  async destroy(): Promise<void> {
    this.statements.close();
  }
}

/**
 * Kysely on better-sqlite3 for a connection that never sleeps on a lock (busy_timeout 0): a statement that
 * meets the write lock taken tries again after a pause in which the event loop (and this connection's
 * other users) go on.
 */
export class NonWaitingSqliteDialect extends SqliteDialect {
  constructor(
    private readonly sqlite: BetterSqlite3.Database,
    private readonly statements: SqliteDatabase,
  ) {
    super({ database: statements });
  }

  override createDriver(): Driver {
    return new NonWaitingSqliteDriver(this.sqlite, this.statements);
  }
}
