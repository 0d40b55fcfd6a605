import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';

/**
 * Short-lived trust-framework state in the database, so that several Navet processes sharing one
 * PostgreSQL agree: one-time values (assertion and DPoP proof jtis), PAR requests, authorization codes,
 * refresh tokens and per-sandbox secrets. Expired rows are ignored and purged now and then.
 */
interface Claim {
  sandbox: string;
  kind: string;
  key: string;
  expiresAt: number;
  nowMs: number;
  resolve: (fresh: boolean) => void;
  reject: (error: unknown) => void;
}

/** Rows of one insert statement (5 parameters each; SQLite takes up to 32,766). */
const CLAIMS_PER_INSERT = 500;

export class TrustState {
  private lastPurge = 0;
  private claims: Claim[] = [];
  private claiming = false;

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Records a one-time value; false when it was seen before (a replay). The claims of concurrent requests
   * go in one insert (each still learns whether its own row was new), instead of a commit each.
   */
  claimOnce(sandbox: string, kind: string, key: string, expiresAt: number, nowMs: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.claims.push({ sandbox, kind, key: key.slice(0, 200), expiresAt, nowMs, resolve, reject });
      if (!this.claiming) {
        this.claiming = true;
        // claims that arrive in this turn of the event loop join the insert
        setImmediate(() => void this.flushClaims());
      }
    });
  }

  private async flushClaims(): Promise<void> {
    try {
      while (this.claims.length > 0) {
        const batch = this.claims.splice(0, CLAIMS_PER_INSERT);
        try {
          await this.purgeExpired(batch[0].nowMs);
          const inserted = await this.db
            .insertInto('trust_state')
            .values(
              batch.map((c) => ({ sandbox: c.sandbox, kind: c.kind, key: c.key, value: '1', expires_at: c.expiresAt })),
            )
            .onConflict((oc) => oc.columns(['sandbox', 'kind', 'key']).doNothing())
            .returning(['sandbox', 'kind', 'key'])
            .execute();
          const fresh = new Set(inserted.map((row) => `${row.sandbox} ${row.kind} ${row.key}`));
          for (const claim of batch) {
            const id = `${claim.sandbox} ${claim.kind} ${claim.key}`;
            // the first claim of a new row has it; a second claim of the same value in the batch is a replay
            if (fresh.delete(id)) claim.resolve(true);
            else claim.resolve(await this.takeOverExpired(claim));
          }
        } catch (error) {
          for (const claim of batch) claim.reject(error);
        }
      }
    } finally {
      this.claiming = false;
    }
  }

  /** An expired entry of the same key does not count: take it over. */
  private async takeOverExpired(claim: Claim): Promise<boolean> {
    const taken = await this.db
      .updateTable('trust_state')
      .set({ expires_at: claim.expiresAt })
      .where('sandbox', '=', claim.sandbox)
      .where('kind', '=', claim.kind)
      .where('key', '=', claim.key)
      .where('expires_at', '<', claim.nowMs)
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
