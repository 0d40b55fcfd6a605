import { parseSearchRequest } from '../../src/fhir/search-request';
import { createSandbox, startTestNavet, type TestNavet } from '../helpers/test-navet';

/** `store.forSandbox(name)`: the store's reads and writes bound to one sandbox, never reaching another. */
let server: TestNavet;
let a: string;
let b: string;
beforeAll(async () => {
  server = await startTestNavet();
  const options = { seed: 'fixtures', generator: { syntheticPatients: 0 } } as const;
  a = (await createSandbox(server, options)).name;
  b = (await createSandbox(server, options)).name;
});
afterAll(() => server.close());

const now = '2026-06-01T10:00:00.000Z';
const organization = (name: string) => ({ resourceType: 'Organization', name });

test('a bound store writes and reads in its own sandbox only', async () => {
  const store = server.navet.sandboxes.store;
  const inA = store.forSandbox(a);
  const inB = store.forSandbox(b);
  expect(inA.sandbox).toBe(a);
  const created = await inA.create(organization('Bound A'), now, 'bound-org');
  expect(created.id).toBe('bound-org');
  expect(await store.find(a, 'Organization', 'bound-org')).toMatchObject({ name: 'Bound A' });
  expect(await inB.find('Organization', 'bound-org')).toBeUndefined();
  expect(await store.find(b, 'Organization', 'bound-org')).toBeUndefined();

  const { resource } = await inA.update({ ...created, name: 'Bound A2' }, now, 1);
  expect(resource.meta).toMatchObject({ versionId: '2' });
  expect(await inA.vread('Organization', 'bound-org', 1)).toMatchObject({ name: 'Bound A' });
  expect(await inA.currentVersion('Organization', 'bound-org')).toEqual({ versionId: 2, deleted: false });
  expect(await inB.currentVersion('Organization', 'bound-org')).toBeUndefined();
  const history = await inA.history({ resourceType: 'Organization', id: 'bound-org', count: 10, offset: 0 });
  expect(history.total).toBe(2);

  const found = await inA.search(parseSearchRequest('Organization', [['name', 'Bound A2']]));
  expect(found.matches.map((m) => m.id)).toEqual(['bound-org']);
  expect((await inB.search(parseSearchRequest('Organization', [['name', 'Bound A2']]))).matches).toEqual([]);
  expect(await inA.readMany(['Organization/bound-org'])).toHaveLength(1);
  expect(await inB.readMany(['Organization/bound-org'])).toHaveLength(0);
  expect(await inA.countResources('Organization')).toBe(await store.countResources(a, 'Organization'));

  expect(await inB.delete('Organization', 'bound-org', now)).toBe(false);
  expect(await inA.delete('Organization', 'bound-org', now)).toBe(true);
});

test('a transaction of a bound store stays bound, and a failed one leaves nothing', async () => {
  const inA = server.navet.sandboxes.store.forSandbox(a);
  await expect(
    inA.inTransaction(async (store) => {
      expect(store.sandbox).toBe(a);
      await store.create(organization('In transaction'), now, 'tx-org');
      throw new Error('rolled back');
    }),
  ).rejects.toThrow('rolled back');
  expect(await inA.find('Organization', 'tx-org')).toBeUndefined();
  await inA.inTransaction((store) => store.create(organization('Committed'), now, 'tx-org'));
  expect(await server.navet.sandboxes.store.find(a, 'Organization', 'tx-org')).toMatchObject({ name: 'Committed' });
  expect(await server.navet.sandboxes.store.find(b, 'Organization', 'tx-org')).toBeUndefined();
});
