import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import type { RecordedExchange } from './exchange';
import type { Profile } from './requirement';

/** Sessions, their recordings and challenges in the database, so that they work on both engines and across processes. */
export interface SessionRecord {
  id: string;
  sandbox: string;
  clientId: string;
  label?: string;
  /** Navet's public base URL when the session opened (DPoP htu and assertion aud are checked against it). */
  baseUrl: string;
  profiles: Profile[];
  status: 'recording' | 'finished';
  createdAt: string;
  finishedAt?: string;
  /** What the vendor's tests report they saw (e.g. the NORS count shown to the user), by challenge. */
  observations: { challenge: string; atMs: number; values: Record<string, unknown> }[];
}

export interface ChallengeRecord {
  name: string;
  armedAtMs: number;
  status: 'armed' | 'triggered';
  requestId?: string;
  triggeredAtMs?: number;
  /** What Navet sent (the nonce, the NORS count, the Retry-After seconds, the patient). */
  data: Record<string, unknown>;
}

export class SessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(session: SessionRecord): Promise<void> {
    await this.db
      .insertInto('conformance_sessions')
      .values({
        sandbox: session.sandbox,
        id: session.id,
        client_id: session.clientId,
        status: session.status,
        content: JSON.stringify(session),
        report: null,
        created_at: session.createdAt,
      })
      .execute();
  }

  async find(sandbox: string, id: string): Promise<SessionRecord | undefined> {
    const row = await this.db
      .selectFrom('conformance_sessions')
      .select('content')
      .where('sandbox', '=', sandbox)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? (JSON.parse(row.content) as SessionRecord) : undefined;
  }

  async list(sandbox: string): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('conformance_sessions')
      .select('content')
      .where('sandbox', '=', sandbox)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => JSON.parse(r.content) as SessionRecord);
  }

  /** The sessions of a sandbox that are recording now. */
  async recording(sandbox: string): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('conformance_sessions')
      .select('content')
      .where('sandbox', '=', sandbox)
      .where('status', '=', 'recording')
      .execute();
    return rows.map((r) => JSON.parse(r.content) as SessionRecord);
  }

  async update(session: SessionRecord, report?: string): Promise<void> {
    await this.db
      .updateTable('conformance_sessions')
      .set({ status: session.status, content: JSON.stringify(session), ...(report !== undefined ? { report } : {}) })
      .where('sandbox', '=', session.sandbox)
      .where('id', '=', session.id)
      .execute();
  }

  async report(sandbox: string, id: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('conformance_sessions')
      .select('report')
      .where('sandbox', '=', sandbox)
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.report ?? undefined;
  }

  /** Writes recorded requests in one statement per hundred (one commit, not one per request). */
  async addExchanges(rows: { sandbox: string; sessionId: string; exchange: RecordedExchange }[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 100) {
      await this.db
        .insertInto('conformance_exchanges')
        .values(
          rows.slice(i, i + 100).map(({ sandbox, sessionId, exchange }) => ({
            sandbox,
            session_id: sessionId,
            id: exchange.id,
            at_ms: exchange.atMs,
            seq: exchange.seq,
            content: JSON.stringify(exchange),
          })),
        )
        .execute();
    }
  }

  async exchanges(sandbox: string, sessionId: string): Promise<RecordedExchange[]> {
    const rows = await this.db
      .selectFrom('conformance_exchanges')
      .select('content')
      .where('sandbox', '=', sandbox)
      .where('session_id', '=', sessionId)
      .orderBy('at_ms')
      .orderBy('seq')
      .orderBy('id')
      .execute();
    return rows.map((r) => JSON.parse(r.content) as RecordedExchange);
  }

  async countExchanges(sandbox: string, sessionId: string): Promise<number> {
    const row = await this.db
      .selectFrom('conformance_exchanges')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('sandbox', '=', sandbox)
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async arm(sandbox: string, sessionId: string, name: string, armedAtMs: number): Promise<boolean> {
    const existing = await this.db
      .selectFrom('conformance_challenges')
      .select('name')
      .where('sandbox', '=', sandbox)
      .where('session_id', '=', sessionId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (existing) return false;
    await this.db
      .insertInto('conformance_challenges')
      .values({
        sandbox,
        session_id: sessionId,
        name,
        armed_at_ms: armedAtMs,
        status: 'armed',
        request_id: null,
        triggered_at_ms: null,
        data: null,
      })
      .execute();
    return true;
  }

  /** Marks an armed challenge as played on a request; false when another request (or process) took it first. */
  async trigger(
    sandbox: string,
    sessionId: string,
    name: string,
    requestId: string,
    atMs: number,
    data: Record<string, unknown>,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('conformance_challenges')
      .set({ status: 'triggered', request_id: requestId, triggered_at_ms: atMs, data: JSON.stringify(data) })
      .where('sandbox', '=', sandbox)
      .where('session_id', '=', sessionId)
      .where('name', '=', name)
      .where('status', '=', 'armed')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async setChallengeData(
    sandbox: string,
    sessionId: string,
    name: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.db
      .updateTable('conformance_challenges')
      .set({ data: JSON.stringify(data) })
      .where('sandbox', '=', sandbox)
      .where('session_id', '=', sessionId)
      .where('name', '=', name)
      .execute();
  }

  async challenges(sandbox: string, sessionId: string): Promise<ChallengeRecord[]> {
    const rows = await this.db
      .selectFrom('conformance_challenges')
      .selectAll()
      .where('sandbox', '=', sandbox)
      .where('session_id', '=', sessionId)
      .orderBy('armed_at_ms')
      .orderBy('name')
      .execute();
    return rows.map((r) => ({
      name: r.name,
      armedAtMs: Number(r.armed_at_ms),
      status: r.status as ChallengeRecord['status'],
      ...(r.request_id ? { requestId: r.request_id } : {}),
      ...(r.triggered_at_ms !== null ? { triggeredAtMs: Number(r.triggered_at_ms) } : {}),
      data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : {},
    }));
  }
}
