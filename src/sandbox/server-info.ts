import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';

/**
 * What the running `navet serve` tells the CLI about itself (its public base URL), kept in the shared
 * database: the CLI then prints the URLs the server really answers on, not its own environment's.
 * Stored as a service setting of no sandbox ('' is never a sandbox name).
 */
export interface ServerInfo {
  baseUrl: string;
  startedAt: string;
}

const KEY = { sandbox: '', service: 'navet-server' } as const;

export async function recordServerInfo(db: Kysely<Database>, info: ServerInfo): Promise<void> {
  const settings = JSON.stringify(info);
  await db
    .insertInto('service_settings')
    .values({ ...KEY, settings })
    .onConflict((oc) => oc.columns(['sandbox', 'service']).doUpdateSet({ settings }))
    .execute();
}

export async function readServerInfo(db: Kysely<Database>): Promise<ServerInfo | undefined> {
  const row = await db
    .selectFrom('service_settings')
    .select('settings')
    .where('sandbox', '=', KEY.sandbox)
    .where('service', '=', KEY.service)
    .executeTakeFirst();
  return row ? (JSON.parse(row.settings) as ServerInfo) : undefined;
}
