import { sql } from 'kysely';
import type { Executor } from './database';

/**
 * The change journal: for each resource of a sandbox, the number of its last write. A snapshot notes the
 * last number when it is taken; whatever differs from it now was written since, so restoring it puts
 * back only the resources with a higher number — time in proportion to the changes, not to the sandbox
 * (sandbox/sandboxes.ts; the row work is in snapshot-rows.ts).
 */
export async function lastChange(db: Executor, sandbox: string): Promise<number> {
  const row = await db
    .selectFrom('resource_changes')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('sandbox', '=', sandbox)
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/** Notes a write of each `Type/id` (within the write's transaction). */
export async function recordChanges(
  db: Executor,
  sandbox: string,
  keys: { resourceType: string; id: string }[],
): Promise<void> {
  if (keys.length === 0) return;
  const seq = (await lastChange(db, sandbox)) + 1;
  for (let i = 0; i < keys.length; i += 500) {
    await db
      .insertInto('resource_changes')
      .values(keys.slice(i, i + 500).map((k) => ({ sandbox, resource_type: k.resourceType, id: k.id, seq })))
      .onConflict((oc) => oc.columns(['sandbox', 'resource_type', 'id']).doUpdateSet({ seq }))
      .execute();
  }
}
