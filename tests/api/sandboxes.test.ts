import { createSandbox, startTestNavet, type TestNavet, uniqueSandboxName, waitForPurge } from '../helpers/test-navet';

let server: TestNavet;
beforeAll(async () => {
  server = await startTestNavet();
});
afterAll(() => server.close());

describe('sandbox admin API', () => {
  test('create returns the admin key once and the service URLs', async () => {
    const name = uniqueSandboxName();
    const res = await server.http.post('/api/sandboxes').send({ name, seed: 'empty' });
    expect(res.status).toBe(201);
    expect(res.body.adminKey).toMatch(/^navet_adm_/);
    expect(res.body.services).toEqual({
      fhir: `http://navet.test/sandboxes/${name}/fhir`,
      helseid: `http://navet.test/sandboxes/${name}/helseid`,
      pjd: `http://navet.test/sandboxes/${name}/pjd`,
      criticalInformation: `http://navet.test/sandboxes/${name}/critical-information`,
      sfm: `http://navet.test/sandboxes/${name}/sfm`,
      pps: `http://navet.test/sandboxes/${name}/pps`,
      citizen: `http://navet.test/sandboxes/${name}/citizen`,
    });
    const read = await server.http.get(`/api/sandboxes/${name}`).set('Authorization', `Bearer ${res.body.adminKey}`);
    expect(read.status).toBe(200);
    expect(read.body.name).toBe(name);
    expect(read.body.adminKey).toBeUndefined();
    const list = await server.http.get('/api/sandboxes');
    expect(list.body.sandboxes.map((s: { name: string }) => s.name)).toContain(name);
  });

  test('names are validated and unique', async () => {
    for (const bad of ['Bodo', 'bodø', '', 'a'.repeat(41), 'has space', 42]) {
      const res = await server.http.post('/api/sandboxes').send({ name: bad, seed: 'empty' });
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression).toEqual(['name']);
    }
    const { name } = await createSandbox(server);
    const again = await server.http.post('/api/sandboxes').send({ name, seed: 'empty' });
    expect(again.status).toBe(409);
    expect((await server.http.post('/api/sandboxes').send({ name: uniqueSandboxName(), seed: 'random' })).status).toBe(
      400,
    );
  });

  test('admin calls need the sandbox key', async () => {
    const { name } = await createSandbox(server);
    expect((await server.http.get(`/api/sandboxes/${name}`)).status).toBe(401);
    expect((await server.http.delete(`/api/sandboxes/${name}`).set('Authorization', 'Bearer wrong')).status).toBe(401);
    expect((await server.http.get('/api/sandboxes/not-there').set('Authorization', 'Bearer x')).status).toBe(404);
  });

  test('snapshot and restore bring a state back; reset goes back to the seed', async () => {
    const { name, auth } = await createSandbox(server);
    const fhir = `/sandboxes/${name}/fhir`;
    await server.http
      .put(`${fhir}/Patient/a`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id: 'a', gender: 'female' });
    const snap = await server.http
      .post(`/api/sandboxes/${name}/snapshots`)
      .set('Authorization', auth)
      .send({ label: 'one-patient' });
    expect(snap.status).toBe(201);
    await server.http
      .put(`${fhir}/Patient/a`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id: 'a', gender: 'male' });
    await server.http.put(`${fhir}/Patient/b`).set('Authorization', auth).send({ resourceType: 'Patient', id: 'b' });

    const restored = await server.http
      .post(`/api/sandboxes/${name}/snapshots/one-patient/restore`)
      .set('Authorization', auth);
    expect(restored.status).toBe(200);
    const a = await server.http.get(`${fhir}/Patient/a`).set('Authorization', auth);
    expect(a.body.gender).toBe('female');
    expect(a.body.meta.versionId).toBe('1');
    expect((await server.http.get(`${fhir}/Patient/b`).set('Authorization', auth)).status).toBe(404);
    expect((await server.http.get(`${fhir}/Patient?gender=male`).set('Authorization', auth)).body.total).toBe(0);

    expect((await server.http.get(`${fhir}/Patient/a/_history`).set('Authorization', auth)).body.total).toBe(1);
    expect((await server.http.get(`${fhir}/Patient?gender=female`).set('Authorization', auth)).body.total).toBe(1);

    // deleted and changed resources come back, with their history and search rows
    await server.http
      .put(`${fhir}/Patient/c`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id: 'c', gender: 'other' });
    await server.http
      .post(`/api/sandboxes/${name}/snapshots`)
      .set('Authorization', auth)
      .send({ label: 'two-patients' });
    await server.http.delete(`${fhir}/Patient/c`).set('Authorization', auth);
    await server.http
      .put(`${fhir}/Patient/a`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id: 'a', gender: 'unknown' });
    await server.http.post(`/api/sandboxes/${name}/snapshots/two-patients/restore`).set('Authorization', auth);
    const c = await server.http.get(`${fhir}/Patient/c`).set('Authorization', auth);
    expect(c.status).toBe(200);
    expect(c.body.gender).toBe('other');
    expect((await server.http.get(`${fhir}/Patient?gender=other`).set('Authorization', auth)).body.total).toBe(1);
    expect((await server.http.get(`${fhir}/Patient?gender=unknown`).set('Authorization', auth)).body.total).toBe(0);
    expect((await server.http.get(`${fhir}/_history`).set('Authorization', auth)).body.total).toBe(2);

    // a version number that repeats after a restore, with other content, is still told apart
    await server.http.post(`/api/sandboxes/${name}/snapshots/one-patient/restore`).set('Authorization', auth);
    await server.http
      .put(`${fhir}/Patient/a`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id: 'a', gender: 'male' });
    await server.http.post(`/api/sandboxes/${name}/snapshots`).set('Authorization', auth).send({ label: 'a-male' });
    await server.http.post(`/api/sandboxes/${name}/snapshots/one-patient/restore`).set('Authorization', auth);
    await server.http
      .put(`${fhir}/Patient/a`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id: 'a', gender: 'unknown' });
    await server.http.post(`/api/sandboxes/${name}/snapshots/a-male/restore`).set('Authorization', auth);
    const a2 = await server.http.get(`${fhir}/Patient/a`).set('Authorization', auth);
    expect(a2.body.meta.versionId).toBe('2');
    expect(a2.body.gender).toBe('male');
    expect((await server.http.get(`${fhir}/Patient/a/_history/2`).set('Authorization', auth)).body.gender).toBe('male');
    expect((await server.http.get(`${fhir}/Patient?gender=unknown`).set('Authorization', auth)).body.total).toBe(0);
    await server.http.post(`/api/sandboxes/${name}/snapshots/two-patients/restore`).set('Authorization', auth);

    const list = await server.http.get(`/api/sandboxes/${name}/snapshots`).set('Authorization', auth);
    expect(list.body.snapshots.map((s: { label: string }) => s.label)).toEqual([
      'one-patient',
      'two-patients',
      'a-male',
    ]);

    expect((await server.http.post(`/api/sandboxes/${name}/reset`).set('Authorization', auth)).status).toBe(200);
    expect((await server.http.get(`${fhir}/Patient?_summary=count`).set('Authorization', auth)).body.total).toBe(0);
    expect(
      (await server.http.post(`/api/sandboxes/${name}/snapshots/nope/restore`).set('Authorization', auth)).status,
    ).toBe(404);
    expect(
      (
        await server.http
          .post(`/api/sandboxes/${name}/snapshots`)
          .set('Authorization', auth)
          .send({ label: 'bad label!' })
      ).status,
    ).toBe(400);
  });

  test('each sandbox has its own clock, read by meta.lastUpdated', async () => {
    const { name, auth } = await createSandbox(server);
    const moved = await server.http
      .put(`/api/sandboxes/${name}/clock`)
      .set('Authorization', auth)
      .send({ now: '2030-06-01T12:00:00Z' });
    expect(moved.status).toBe(200);
    expect(Math.abs(Date.parse(moved.body.now) - Date.parse('2030-06-01T12:00:00Z'))).toBeLessThan(5000);
    const created = await server.http
      .post(`/sandboxes/${name}/fhir/Patient`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient' });
    expect(created.body.meta.lastUpdated.startsWith('2030-06-01')).toBe(true);

    const offset = await server.http
      .put(`/api/sandboxes/${name}/clock`)
      .set('Authorization', auth)
      .send({ offsetSeconds: -86400 });
    expect(offset.body.offsetSeconds).toBe(-86400);
    const other = await createSandbox(server);
    const otherClock = await server.http.get(`/api/sandboxes/${other.name}/clock`).set('Authorization', other.auth);
    expect(otherClock.body.offsetSeconds).toBe(0);
    expect(
      (await server.http.put(`/api/sandboxes/${name}/clock`).set('Authorization', auth).send({ now: 'tomorrow' }))
        .status,
    ).toBe(400);
  });

  test('delete removes the sandbox and its data', async () => {
    const { name, auth } = await createSandbox(server);
    await server.http
      .put(`/sandboxes/${name}/fhir/Patient/x`)
      .set('Authorization', auth)
      .send({ resourceType: 'Patient', id: 'x' });
    expect((await server.http.delete(`/api/sandboxes/${name}`).set('Authorization', auth)).status).toBe(204);
    expect((await server.http.get(`/sandboxes/${name}/fhir/Patient/x`).set('Authorization', auth)).status).toBe(404);
    await waitForPurge(server, name);
    expect(await server.navet.sandboxes.store.countResources(name)).toBe(0);
  });

  test("one sandbox never sees another sandbox's data", async () => {
    const a = await createSandbox(server);
    const b = await createSandbox(server);
    await server.http
      .put(`/sandboxes/${a.name}/fhir/Patient/shared-id`)
      .set('Authorization', a.auth)
      .send({ resourceType: 'Patient', id: 'shared-id', gender: 'female' });
    expect(
      (await server.http.get(`/sandboxes/${b.name}/fhir/Patient/shared-id`).set('Authorization', b.auth)).status,
    ).toBe(404);
    expect(
      (await server.http.get(`/sandboxes/${b.name}/fhir/Patient?gender=female`).set('Authorization', b.auth)).body
        .total,
    ).toBe(0);
    await server.http
      .put(`/sandboxes/${b.name}/fhir/Patient/shared-id`)
      .set('Authorization', b.auth)
      .send({ resourceType: 'Patient', id: 'shared-id', gender: 'male' });
    expect(
      (await server.http.get(`/sandboxes/${a.name}/fhir/Patient/shared-id`).set('Authorization', a.auth)).body.gender,
    ).toBe('female');
  });

  test('healthz answers 200 when the database is reachable', async () => {
    const res = await server.http.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ok');
  });

  test('an operator key, when configured, guards create and list', async () => {
    const guarded = await (await import('../helpers/test-navet')).startTestNavet({ NAVET_OPERATOR_KEY: 'op-secret' });
    try {
      expect(
        (await guarded.http.post('/api/sandboxes').send({ name: uniqueSandboxName(), seed: 'empty' })).status,
      ).toBe(401);
      expect((await guarded.http.get('/api/sandboxes').set('Authorization', 'Bearer nope')).status).toBe(403);
      expect(
        (
          await guarded.http
            .post('/api/sandboxes')
            .set('Authorization', 'Bearer op-secret')
            .send({ name: uniqueSandboxName(), seed: 'empty' })
        ).status,
      ).toBe(201);
    } finally {
      await guarded.close();
    }
  });
});
