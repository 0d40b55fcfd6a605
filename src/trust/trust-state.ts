import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';

/**
 * Short-lived trust-framework state in the database, so that several Navet processes sharing one
 * PostgreSQL agree: one-time values (assertion and DPoP proof jtis), PAR requests, authorization codes,
 * refresh tokens and per-sandbox secrets. Expired rows are ignored and purged now and then.
 */
export class TrustState {
  private lastPurge = 0;

  constructor(private readonly db: Kysely<Database>) {}

  /** Records a one-time value; false when it was seen before (a replay). */
  async claimOnce(sandbox: string, kind: string, key: string, expiresAt: number, nowMs: number): Promise<boolean> {
    await this.purgeExpired(nowMs);
    const inserted = await this.db
      .insertInto('trust_state')
      .values({ sandbox, kind, key: key.slice(0, 200), value: '1', expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['sandbox', 'kind', 'key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return true;
    // an expired entry of the same key does not count: take it over
    const taken = await this.db
      .updateTable('trust_state')
      .set({ expires_at: expiresAt })
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('key', '=', key.slice(0, 200))
      .where('expires_at', '<', nowMs)
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) === 1;
  }

  async put(sandbox: string, kind: string, key: string, value: unknown, expiresAt: number): Promise<void> {
    const row = { sandbox, kind, key, value: JSON.stringify(value), expires_at: expiresAt };
    await this.db
      .insertInto('trust_state')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['sandbox', 'kind', 'key']).doUpdateSet({ value: row.value, expires_at: expiresAt }),
      )
      .execute();
  }

  async putIfAbsent(sandbox: string, kind: string, key: string, value: unknown, expiresAt: number): Promise<void> {
    await this.db
      .insertInto('trust_state')
      .values({ sandbox, kind, key, value: JSON.stringify(value), expires_at: expiresAt })
      .onConflict((oc) => oc.columns(['sandbox', 'kind', 'key']).doNothing())
      .execute();
  }

  async get<T>(sandbox: string, kind: string, key: string, nowMs: number): Promise<T | undefined> {
    const row = await this.db
      .selectFrom('trust_state')
      .select(['value', 'expires_at'])
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && row.expires_at >= nowMs ? (JSON.parse(row.value) as T) : undefined;
  }

  /** Reads and deletes in one step: a second take of the same key finds nothing (codes are single-use). */
  async take<T>(sandbox: string, kind: string, key: string, nowMs: number): Promise<T | undefined> {
    const value = await this.get<T>(sandbox, kind, key, nowMs);
    if (value === undefined) return undefined;
    const deleted = await this.db
      .deleteFrom('trust_state')
      .where('sandbox', '=', sandbox)
      .where('kind', '=', kind)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(deleted.numDeletedRows) === 1 ? value : undefined;
  }

  private async purgeExpired(nowMs: number): Promise<void> {
    if (nowMs - this.lastPurge < 60_000) return;
    this.lastPurge = nowMs;
    // sandbox clocks may run ahead; purge by real time with a day's margin
    await this.db
      .deleteFrom('trust_state')
      .where('expires_at', '<', Date.now() - 86_400_000)
      .execute();
  }
}
