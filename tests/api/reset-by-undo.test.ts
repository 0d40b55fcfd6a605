import { createSandbox, startTestNavet, type TestNavet } from '../helpers/test-navet';

/**
 * Reset and restore put back only what was written since the snapshot (the change journal). Whatever
 * order snapshots, writes, resets and restores come in, the state afterwards is the snapshot's.
 */
let server: TestNavet;
beforeAll(async () => {
  server = await startTestNavet();
});
afterAll(() => server.close());

test('reset and restore in any order give each snapshot back: data, history, search index and access log', async () => {
  const { name, auth } = await createSandbox(server);
  const fhir = `/sandboxes/${name}/fhir`;
  const put = (id: string, body: Record<string, unknown>) =>
    server.http
      .put(`${fhir}/Patient/${id}`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id, ...body });
  const get = (path: string) => server.http.get(`${fhir}/${path}`).set('Authorization', auth);
  const restore = (label: string) =>
    server.http.post(`/api/sandboxes/${name}/snapshots/${label}/restore`).set('Authorization', auth);
  const reset = () => server.http.post(`/api/sandboxes/${name}/reset`).set('Authorization', auth);

  await put('kept', { gender: 'other' });
  await put('a', { gender: 'female' });
  expect(
    (await server.http.post(`/api/sandboxes/${name}/snapshots`).set('Authorization', auth).send({ label: 'one' }))
      .status,
  ).toBe(201);
  await put('a', { gender: 'male' });
  await put('b', { gender: 'unknown' });
  await server.http.delete(`${fhir}/Patient/kept`).set('Authorization', auth);

  // back to the seed (empty): everything written since is gone, history and index rows included
  expect((await reset()).status).toBe(200);
  for (const id of ['kept', 'a', 'b']) expect((await get(`Patient/${id}`)).status).toBe(404);
  expect((await get('Patient?gender=female')).body.total).toBe(0);
  expect((await get('Patient/_history')).body.total).toBe(0);

  // then forward to "one", which holds what was written before it (and undone by the reset)
  expect((await restore('one')).status).toBe(200);
  expect((await get('Patient/a')).body.gender).toBe('female');
  expect((await get('Patient/kept')).body.gender).toBe('other');
  expect((await get('Patient/b')).status).toBe(404);
  expect((await get('Patient?gender=female')).body.total).toBe(1);
  expect((await get('Patient?gender=male')).body.total).toBe(0);
  expect((await get('Patient/a/_history')).body.total).toBe(1);

  // written again after a restore, restored again
  await put('a', { gender: 'male' });
  await put('c', {});
  expect((await restore('one')).status).toBe(200);
  expect((await get('Patient/a')).body.gender).toBe('female');
  expect((await get('Patient/a')).body.meta.versionId).toBe('1');
  expect((await get('Patient/c')).status).toBe(404);
  expect((await get('Patient?gender=male')).body.total).toBe(0);

  // a snapshot taken after a restore is restored as it was taken
  await put('d', { gender: 'male' });
  expect(
    (await server.http.post(`/api/sandboxes/${name}/snapshots`).set('Authorization', auth).send({ label: 'two' }))
      .status,
  ).toBe(201);
  expect((await reset()).status).toBe(200);
  expect((await get('Patient/d')).status).toBe(404);
  expect((await restore('two')).status).toBe(200);
  expect((await get('Patient/d')).body.gender).toBe('male');
  expect((await get('Patient/a')).body.gender).toBe('female');
  expect((await restore('one')).status).toBe(200);
  expect((await get('Patient/d')).status).toBe(404);
});

test('a snapshot taken before changes were journalled (an older database) restores by comparison, and journals what that rewrote', async () => {
  const { name, auth } = await createSandbox(server);
  const fhir = `/sandboxes/${name}/fhir`;
  const put = (id: string, body: Record<string, unknown>) =>
    server.http
      .put(`${fhir}/Patient/${id}`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id, ...body });
  await put('a', { gender: 'female' });
  await server.http.post(`/api/sandboxes/${name}/snapshots`).set('Authorization', auth).send({ label: 'old' });
  await server.navet.database.db
    .updateTable('snapshots')
    .set({ change_seq: null })
    .where('sandbox', '=', name)
    .where('label', '=', 'old')
    .execute();
  await put('a', { gender: 'male' });
  await put('b', {});
  expect(
    (await server.http.post(`/api/sandboxes/${name}/snapshots/old/restore`).set('Authorization', auth)).status,
  ).toBe(200);
  expect((await server.http.get(`${fhir}/Patient/a`).set('Authorization', auth)).body.gender).toBe('female');
  expect((await server.http.get(`${fhir}/Patient/b`).set('Authorization', auth)).status).toBe(404);
  // the reset after it finds what the comparison rewrote in the journal
  expect((await server.http.post(`/api/sandboxes/${name}/reset`).set('Authorization', auth)).status).toBe(200);
  expect((await server.http.get(`${fhir}/Patient/a`).set('Authorization', auth)).status).toBe(404);
});
