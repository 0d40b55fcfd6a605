import { createSandbox, startTestNavet, type TestNavet } from '../helpers/test-navet';

/** DELETE /api/sandboxes/{name}/snapshots/{label}: a saved state is gone, the seed that reset needs stays. */
let server: TestNavet;
beforeAll(async () => {
  server = await startTestNavet();
});
afterAll(() => server.close());

test('a deleted snapshot leaves the list and can no longer be restored; reset still works', async () => {
  const sandbox = await createSandbox(server);
  const api = `/api/sandboxes/${sandbox.name}`;
  for (const label of ['keep', 'drop'])
    expect((await server.http.post(`${api}/snapshots`).set('Authorization', sandbox.auth).send({ label })).status).toBe(
      201,
    );

  expect((await server.http.delete(`${api}/snapshots/drop`).set('Authorization', sandbox.auth)).status).toBe(204);
  const listed = await server.http.get(`${api}/snapshots`).set('Authorization', sandbox.auth);
  expect(listed.body.snapshots.map((s: { label: string }) => s.label)).toEqual(['keep']);
  const restore = await server.http.post(`${api}/snapshots/drop/restore`).set('Authorization', sandbox.auth);
  expect(restore.status).toBe(404);
  expect(restore.body.issue[0].details.coding[0].code).toBe('NAVET-SNAPSHOT-NOT-FOUND');
  expect((await server.http.post(`${api}/snapshots/keep/restore`).set('Authorization', sandbox.auth)).status).toBe(200);
  expect((await server.http.post(`${api}/reset`).set('Authorization', sandbox.auth)).status).toBe(200);
});

test('deleting a snapshot that does not exist is a 404; the seed cannot be deleted; the admin key is needed', async () => {
  const sandbox = await createSandbox(server);
  const api = `/api/sandboxes/${sandbox.name}`;
  const missing = await server.http.delete(`${api}/snapshots/never-saved`).set('Authorization', sandbox.auth);
  expect(missing.status).toBe(404);
  expect(missing.body.issue[0].details.coding[0].code).toBe('NAVET-SNAPSHOT-NOT-FOUND');
  const seed = await server.http.delete(`${api}/snapshots/__seed__`).set('Authorization', sandbox.auth);
  expect(seed.status).toBe(400);
  expect((await server.http.post(`${api}/reset`).set('Authorization', sandbox.auth)).status).toBe(200);
  expect((await server.http.delete(`${api}/snapshots/never-saved`)).status).toBe(401);
});
