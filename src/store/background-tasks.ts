import type { Kysely } from 'kysely';
import type { DatabaseHandle } from './database';
import type { Database } from './schema';

/**
 * Long work a request starts and later requests poll — sandbox creations, scenario runs, rehearsals — kept
 * in the database, so that any Navet process sharing it answers any poll. The process running a task writes
 * its status and content (what the poll answers) as it goes; any process may ask it to stop.
 */
export type TaskKind = 'creation' | 'scenario-run' | 'rehearsal';

export interface TaskRecord<T> {
  status: string;
  content: T;
  stopRequested: boolean;
  /** True when a task still said to run has not been written for STALE_MS: the process running it stopped. */
  orphaned: boolean;
}

/** A running task is written at least this often (see TaskWriter), so a silent one is known to be orphaned. */
export const HEARTBEAT_MS = 1000;
export const STALE_MS = 5 * 60_000;

const RUNNING = new Set(['creating', 'running']);

export class BackgroundTasks {
  private readonly db: Kysely<Database>;

  constructor(database: Pick<DatabaseHandle, 'db'>) {
    this.db = database.db;
  }

  /**
   * Records a new task. When one of the same key exists, it is replaced only if it is finished or orphaned;
   * false means a live task holds the key.
   */
  async start(sandbox: string, kind: TaskKind, id: string, status: string, content: unknown): Promise<boolean> {
    const now = Date.now();
    const row = { status, content: JSON.stringify(content), stop_requested: 0, updated_at_ms: now };
    const result = await this.db
      .insertInto('background_tasks')
      .values({ sandbox, kind, id, ...row })
      .onConflict((oc) =>
        oc
          .columns(['sandbox', 'kind', 'id'])
          .doUpdateSet(row)
          .where((eb) =>
            eb.or([
              eb('background_tasks.status', 'not in', [...RUNNING]),
              eb('background_tasks.updated_at_ms', '<', now - STALE_MS),
            ]),
          ),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Writes the task's status and content; answers whether a stop was asked for meanwhile. */
  async update(sandbox: string, kind: TaskKind, id: string, status: string, content: unknown): Promise<boolean> {
    const written = JSON.stringify(content);
    await this.db
      .updateTable('background_tasks')
      .set({ status, content: written, updated_at_ms: Date.now() })
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('id', '=', id)
      .execute();
    const row = await this.db
      .selectFrom('background_tasks')
      .select('stop_requested')
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.stop_requested === 1;
  }

  async get<T>(sandbox: string, kind: TaskKind, id: string): Promise<TaskRecord<T> | undefined> {
    const row = await this.db
      .selectFrom('background_tasks')
      .select(['status', 'content', 'stop_requested', 'updated_at_ms'])
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      status: row.status,
      content: JSON.parse(row.content) as T,
      stopRequested: row.stop_requested === 1,
      orphaned: RUNNING.has(row.status) && row.updated_at_ms < Date.now() - STALE_MS,
    };
  }

  /** The ids of a sandbox's tasks of one kind that still run (orphaned ones left out). */
  async running(sandbox: string, kind: TaskKind): Promise<string[]> {
    const rows = await this.db
      .selectFrom('background_tasks')
      .select('id')
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('status', 'in', [...RUNNING])
      .where('updated_at_ms', '>=', Date.now() - STALE_MS)
      .execute();
    return rows.map((row) => row.id);
  }

  async requestStop(sandbox: string, kind: TaskKind, id: string): Promise<void> {
    await this.db
      .updateTable('background_tasks')
      .set({ stop_requested: 1 })
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('id', '=', id)
      .execute();
  }

  async remove(sandbox: string, kind: TaskKind, id: string): Promise<void> {
    await this.db
      .deleteFrom('background_tasks')
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('id', '=', id)
      .execute();
  }

  /** Removes a task unless it runs (a new task of the same key may have taken it over). */
  async removeFinished(sandbox: string, kind: TaskKind, id: string): Promise<void> {
    await this.db
      .deleteFrom('background_tasks')
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('id', '=', id)
      .where('status', 'not in', [...RUNNING])
      .execute();
  }

  /** Keeps at most `keep` finished tasks of a kind per sandbox (the newest). */
  async prune(sandbox: string, kind: TaskKind, keep: number): Promise<void> {
    const old = await this.db
      .selectFrom('background_tasks')
      .select('id')
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('status', 'not in', [...RUNNING])
      .orderBy('updated_at_ms', 'desc')
      .offset(keep)
      .limit(1000)
      .execute();
    if (old.length === 0) return;
    await this.db
      .deleteFrom('background_tasks')
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where(
        'id',
        'in',
        old.map((row) => row.id),
      )
      .execute();
  }

  /** A writer for one running task: see TaskWriter. */
  writer<T>(sandbox: string, kind: TaskKind, id: string, snapshot: () => { status: string; content: T }): TaskWriter {
    return new TaskWriter((status, content) => this.update(sandbox, kind, id, status, content), snapshot);
  }
}

/**
 * Writes a running task's state: on `changed()` (at most every WRITE_MS), at least every HEARTBEAT_MS,
 * and once more on `finish()`. One write at a time; `onStop` hears a stop asked for by any process.
 */
const WRITE_MS = 200;

export class TaskWriter {
  private timer?: NodeJS.Timeout;
  private heartbeat?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  private inFlight = false;
  private finished = false;
  onStop?: () => void;

  constructor(
    private readonly write: (status: string, content: unknown) => Promise<boolean>,
    private readonly snapshot: () => { status: string; content: unknown },
  ) {
    this.heartbeat = setInterval(() => this.changed(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** The state changed: it is written within WRITE_MS. */
  changed(): void {
    if (this.timer || this.finished) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, WRITE_MS);
    this.timer.unref();
  }

  /** The last write, after every earlier one; resolves once it is stored. */
  async finish(): Promise<void> {
    this.stopWriting();
    this.flush(true);
    await this.writing;
  }

  /** No more writes (the task's row is about to go); resolves once a write under way is done. */
  async stop(): Promise<void> {
    this.stopWriting();
    await this.writing;
  }

  private stopWriting(): void {
    this.finished = true;
    clearTimeout(this.timer);
    clearInterval(this.heartbeat);
  }

  /** Writes the state as it is now; a write asked for while one is under way is left to the next change or heartbeat. */
  private flush(last = false): void {
    if (this.inFlight && !last) return;
    this.inFlight = true;
    this.writing = this.writing.then(async () => {
      const { status, content } = this.snapshot();
      try {
        if ((await this.write(status, content)) && !this.finished) this.onStop?.();
      } catch {
        // a failed write is repeated by the next change or heartbeat
      } finally {
        this.inFlight = false;
      }
    });
  }
}
