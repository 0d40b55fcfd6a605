import { sql } from 'kysely';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createSandbox, startTestNavet, type TestNavet, waitForPurge } from '../helpers/test-navet';

/**
 * Reset, snapshot, restore and delete: each leaves the sandbox exactly as it should be (every row of
 * its resources, versions and search index), does work in proportion to what changed (the `work` the
 * API answers), and never holds the event loop; a deleted sandbox's purge never touches a sandbox
 * created after it under the same name.
 */
jest.setTimeout(240_000);
let server: TestNavet;
beforeAll(async () => {
  server = await startTestNavet();
});
afterAll(() => server.close());

interface Work {
  resources: number;
  rows: number;
  statements: number;
}

/** Every row of a sandbox's resources, versions and search index, in a fixed order. */
async function dump(name: string): Promise<string> {
  const db = server.navet.database.db;
  const tables = await Promise.all(
    (['resources', 'resource_versions', 'search_index'] as const).map(async (table) =>
      (await db.selectFrom(table).selectAll().where('sandbox', '=', name).execute())
        .map((row) => JSON.stringify(Object.entries(row).map(([k, v]) => [k, v === null ? null : String(v)])))
        .sort(),
    ),
  );
  return JSON.stringify(tables);
}

/** The rows a sandbox's name still has in any table (after a purge: none). */
async function rowsOf(name: string): Promise<number> {
  let total = 0;
  for (const table of [
    'resources',
    'resource_versions',
    'search_index',
    'resource_changes',
    'snapshots',
    'snapshot_keys',
    'snapshot_resources',
    'snapshot_resource_versions',
    'snapshot_search_index',
    'signing_keys',
    'clients',
    'trust_state',
  ]) {
    const counted = await sql<{
      n: number | string;
    }>`select count(*) as n from ${sql.table(table)} where sandbox = ${name}`.execute(server.navet.database.db);
    total += Number(counted.rows[0].n);
  }
  return total;
}

function api(sandbox: { name: string; auth: string }) {
  const fhir = `/sandboxes/${sandbox.name}/fhir`;
  const admin = `/api/sandboxes/${sandbox.name}`;
  return {
    put: (type: string, id: string, body: Record<string, unknown>) =>
      server.http
        .put(`${fhir}/${type}/${id}`)
        .set('Authorization', sandbox.auth)
        .send({ resourceType: type, id, ...body }),
    post: (type: string, body: Record<string, unknown>) =>
      server.http
        .post(`${fhir}/${type}`)
        .set('Authorization', sandbox.auth)
        .send({ resourceType: type, ...body }),
    remove: (type: string, id: string) =>
      server.http.delete(`${fhir}/${type}/${id}`).set('Authorization', sandbox.auth),
    get: (path: string) => server.http.get(`${fhir}/${path}`).set('Authorization', sandbox.auth),
    snapshot: async (label: string): Promise<Work> => {
      const res = await server.http.post(`${admin}/snapshots`).set('Authorization', sandbox.auth).send({ label });
      expect(res.status).toBe(201);
      return res.body.work as Work;
    },
    restore: async (label: string): Promise<Work> => {
      const res = await server.http.post(`${admin}/snapshots/${label}/restore`).set('Authorization', sandbox.auth);
      expect(res.status).toBe(200);
      return res.body.work as Work;
    },
    reset: async (): Promise<Work> => {
      const res = await server.http.post(`${admin}/reset`).set('Authorization', sandbox.auth);
      expect(res.status).toBe(200);
      return res.body.work as Work;
    },
  };
}

/** A patient seeded in the sandbox, to update and delete. */
async function seededPatients(sandbox: { name: string; auth: string }, count: number): Promise<string[]> {
  const res = await api(sandbox).get(`Patient?_count=${count}&_total=none`);
  return (res.body.entry as { resource: { id: string } }[]).map((e) => e.resource.id);
}

/** Creates, updates (twice: history), deletes seeded and new resources. */
async function mixedWrites(sandbox: { name: string; auth: string }, tag: string): Promise<void> {
  const call = api(sandbox);
  const [updated, deleted, recreated] = await seededPatients(sandbox, 3);
  expect((await call.put('Patient', updated, { gender: 'other', name: [{ family: `${tag}-1` }] })).status).toBe(200);
  expect((await call.put('Patient', updated, { gender: 'other', name: [{ family: `${tag}-2` }] })).status).toBe(200);
  expect((await call.remove('Patient', deleted)).status).toBe(204);
  expect((await call.remove('Patient', recreated)).status).toBe(204);
  expect((await call.put('Patient', recreated, { gender: 'unknown' })).status).toBe(201);
  expect((await call.post('Patient', { gender: 'female', name: [{ family: `${tag}-new` }] })).status).toBe(201);
  expect((await call.put('Organization', `org-${tag}`, { name: `Org ${tag}` })).status).toBe(201);
}

test('after mixed writes (create, update, delete, re-create), reset, snapshot and restore give back every row exactly, rewriting only what changed', async () => {
  const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 20 } });
  const call = api(sandbox);
  const seed = await dump(sandbox.name);

  await mixedWrites(sandbox, 'a');
  const changed = await dump(sandbox.name);
  expect(changed).not.toBe(seed);
  const reset = await call.reset();
  expect(await dump(sandbox.name)).toBe(seed);
  // 5 resources were written (one patient updated twice, two deleted, one new patient, one organisation)
  expect(reset.resources).toBe(5);

  // a second reset has nothing to put back: what the first rewrote is as the seed has it
  expect((await call.reset()).resources).toBe(0);

  await mixedWrites(sandbox, 'b');
  const atSnapshot = await dump(sandbox.name);
  const snapshot = await call.snapshot('after-b');
  expect(snapshot.resources).toBe(5);

  await mixedWrites(sandbox, 'c');
  await call.put('Patient', 'only-after', { gender: 'male' });
  const restored = await call.restore('after-b');
  expect(await dump(sandbox.name)).toBe(atSnapshot);
  expect(restored.resources).toBeLessThanOrEqual(11);
  expect((await call.get('Patient?family=b-2')).body.total).toBe(1);
  expect((await call.get('Patient?family=c-2')).body.total).toBe(0);
  expect((await call.get('Patient/only-after')).status).toBe(404);

  // a snapshot taken after a restore, replaced under its own label, restored after a reset
  await call.put('Patient', 'later', { gender: 'female' });
  const later = await dump(sandbox.name);
  await call.snapshot('after-b');
  expect((await call.reset()).resources).toBeGreaterThan(0);
  expect(await dump(sandbox.name)).toBe(seed);
  await call.restore('after-b');
  expect(await dump(sandbox.name)).toBe(later);
  const history = await call.get('Patient/later/_history');
  expect(history.body.total).toBe(1);

  // deleting the snapshot the sandbox was last brought to: changes count from the seed again, still exact
  expect(
    (await server.http.delete(`/api/sandboxes/${sandbox.name}/snapshots/after-b`).set('Authorization', sandbox.auth))
      .status,
  ).toBe(204);
  await call.put('Patient', 'last', {});
  await call.reset();
  expect(await dump(sandbox.name)).toBe(seed);
});

test('reset, snapshot and restore do the same work in a sandbox of 20 and of 200 patients', async () => {
  const works: Work[][] = [];
  for (const patients of [20, 200]) {
    const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: patients } });
    const call = api(sandbox);
    await mixedWrites(sandbox, 'x');
    const reset = await call.reset();
    await mixedWrites(sandbox, 'y');
    const snapshot = await call.snapshot('s');
    await mixedWrites(sandbox, 'z');
    const restore = await call.restore('s');
    works.push([reset, snapshot, restore]);
  }
  // the same writes give the same resources and statements whatever the sandbox's size
  expect(works[1].map((w) => [w.resources, w.statements])).toEqual(works[0].map((w) => [w.resources, w.statements]));
  for (const work of works[1]) expect(work.resources).toBeLessThanOrEqual(15);
});

test('a failed restore leaves nothing half-done; one sandbox never sees another sandbox restored', async () => {
  const a = await createSandbox(server);
  const b = await createSandbox(server);
  await api(a).put('Patient', 'p', { gender: 'female' });
  await api(a).snapshot('one');
  await api(b).put('Patient', 'p', { gender: 'male' });
  await api(b).snapshot('one');
  await api(a).put('Patient', 'p', { gender: 'other' });
  const before = await dump(a.name);
  const missing = await server.http
    .post(`/api/sandboxes/${a.name}/snapshots/nope/restore`)
    .set('Authorization', a.auth);
  expect(missing.status).toBe(404);
  expect(await dump(a.name)).toBe(before);
  await api(a).restore('one');
  expect((await api(a).get('Patient/p')).body.gender).toBe('female');
  expect((await api(b).get('Patient/p')).body.gender).toBe('male');
});

test('DELETE answers at once; a sandbox re-created right after under the same name keeps its data while the purge runs', async () => {
  for (let round = 0; round < 3; round++) {
    const old = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 100 } });
    const started = performance.now();
    expect((await server.http.delete(`/api/sandboxes/${old.name}`).set('Authorization', old.auth)).status).toBe(204);
    expect(performance.now() - started).toBeLessThan(2000);
    // the purge of the old sandbox runs in the worker now; the new one is made meanwhile
    const renewed = await createSandbox(server, { name: old.name });
    expect(renewed.adminKey).not.toBe(old.adminKey);
    const mine = await api(renewed).put('Patient', 'mine', { gender: 'female' });
    expect([mine.status, mine.body.issue]).toEqual([201, undefined]);
    await api(renewed).snapshot('kept');
    await waitForPurge(server, old.name);
    expect((await api(renewed).get('Patient/mine')).body.gender).toBe('female');
    expect((await api(renewed).get('Patient?_summary=count')).body.total).toBe(1);
    expect((await api(renewed).restore('kept')).resources).toBe(0);
    expect((await api(renewed).reset()).resources).toBe(1);
    expect((await api(renewed).get('Patient/mine')).status).toBe(404);
    // the old admin key opens nothing
    expect((await server.http.get(`/api/sandboxes/${old.name}`).set('Authorization', old.auth)).status).toBe(401);
  }
});

test('a deleted sandbox with requests in flight: every answer is 2xx or 404, its rows are purged, and the space comes back', async () => {
  const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 50 } });
  const call = api(sandbox);
  const ids = await seededPatients(sandbox, 20);
  const inFlight: Promise<{ status: number }>[] = [];
  for (let i = 0; i < 40; i++) {
    inFlight.push(i % 2 === 0 ? call.get(`Patient/${ids[i % ids.length]}`) : call.put('Patient', `w-${i}`, {}));
    if (i === 20)
      inFlight.push(server.http.delete(`/api/sandboxes/${sandbox.name}`).set('Authorization', sandbox.auth));
  }
  const statuses = (await Promise.all(inFlight)).map((r) => r.status);
  expect(statuses.filter((s) => !/^(2\d\d|404)$/.test(String(s)))).toEqual([]);
  expect((await call.get('Patient?_summary=count')).status).toBe(404);
  await waitForPurge(server, sandbox.name);
  expect(await rowsOf(sandbox.name)).toBe(0);
  if (server.navet.database.engine === 'sqlite') {
    // the space comes back when every purge is done (an earlier test's may still be running)
    for (const name of await server.navet.sandboxes.pendingPurges()) await waitForPurge(server, name);
    const freePages = await sql<{ freelist_count: number }>`pragma freelist_count`.execute(server.navet.database.db);
    expect(Number(freePages.rows[0].freelist_count)).toBe(0);
  }
});

test('a snapshot of a large sandbox with thousands of changes never holds the event loop for 100 ms', async () => {
  const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 200 } });
  // 3,000 new resources, journalled as changes (the access log's own bulk write)
  await server.navet.sandboxes.store.createMany(
    sandbox.name,
    Array.from({ length: 3000 }, (_, i) => ({
      resource: { resourceType: 'Basic', code: { text: `change ${i}` } },
      lastUpdated: new Date().toISOString(),
    })),
  );
  // a busy machine can take the CPU away at any moment: as in bad-input.test.ts, the bound is 100 ms over
  // what the event loop waits when idle for as long, and the best of three tries counts
  const maxDelayMs = async (during: () => Promise<unknown>) => {
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    await during();
    histogram.disable();
    return histogram.max / 1e6;
  };
  let best = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3 && best >= 100; attempt++) {
    let tookMs = 0;
    const blockedMs = await maxDelayMs(async () => {
      const started = performance.now();
      const work = await api(sandbox).snapshot(`big-${attempt}`);
      tookMs = performance.now() - started;
      expect(work.resources).toBe(3000);
    });
    const idleMs = await maxDelayMs(() => new Promise((resolve) => setTimeout(resolve, tookMs)));
    best = Math.min(best, blockedMs - idleMs);
  }
  expect(best).toBeLessThan(100);
}, 480_000);
