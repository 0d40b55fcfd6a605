import type { IncrementResponse, Options, Store } from 'express-rate-limit';
import { sql } from 'kysely';
import type { DatabaseHandle } from './database';

/**
 * An express-rate-limit store in the database, so that every Navet process sharing it counts the same
 * hits: one statement adds a hit, or starts a new window when the old one is over.
 */
export class DatabaseRateLimitStore implements Store {
  localKeys = false;
  private windowMs = 60_000;
  private lastPurge = 0;

  constructor(
    private readonly database: Pick<DatabaseHandle, 'db'>,
    /** Names the limit, so that two limits do not share counters. */
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const now = Date.now();
    const resetAt = now + this.windowMs;
    const row = await this.database.db
      .insertInto('rate_limits')
      .values({ sandbox: '', key: this.keyOf(key), hits: 1, reset_at_ms: resetAt })
      .onConflict((oc) =>
        oc.columns(['sandbox', 'key']).doUpdateSet({
          hits: sql<number>`case when rate_limits.reset_at_ms <= ${now} then 1 else rate_limits.hits + 1 end`,
          reset_at_ms: sql<number>`case when rate_limits.reset_at_ms <= ${now} then ${resetAt} else rate_limits.reset_at_ms end`,
        }),
      )
      .returning(['hits', 'reset_at_ms'])
      .executeTakeFirstOrThrow();
    if (now - this.lastPurge > this.windowMs) {
      this.lastPurge = now;
      await this.database.db.deleteFrom('rate_limits').where('reset_at_ms', '<=', now).execute();
    }
    return { totalHits: Number(row.hits), resetTime: new Date(Number(row.reset_at_ms)) };
  }

  async decrement(key: string): Promise<void> {
    await this.database.db
      .updateTable('rate_limits')
      .set({ hits: sql<number>`hits - 1` })
      .where('sandbox', '=', '')
      .where('key', '=', this.keyOf(key))
      .where('hits', '>', 0)
      .execute();
  }

  async resetKey(key: string): Promise<void> {
    await this.database.db
      .deleteFrom('rate_limits')
      .where('sandbox', '=', '')
      .where('key', '=', this.keyOf(key))
      .execute();
  }

  private keyOf(key: string): string {
    return `${this.prefix}:${key}`.slice(0, 200);
  }
}
