import { createSandbox, startTestNavet, type TestNavet } from '../helpers/test-navet';
import { callWithDpop, getToken, koman } from '../helpers/helseid-client';

/** Conformance sessions through the admin API: open, record, arm, finish, report (issue 16). */
let server: TestNavet;
let sandbox: { name: string; auth: string };
beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
});
afterAll(() => server.close());

const sessions = () => `/api/sandboxes/${sandbox.name}/conformance/sessions`;

describe('conformance sessions', () => {
  it('refuses a session without the admin key, without profiles or with an unknown profile', async () => {
    expect(
      (await server.http.post(sessions()).send({ clientId: 'demo-hospital-system', profiles: ['helseid-client'] }))
        .status,
    ).toBe(401);
    const none = await server.http
      .post(sessions())
      .set('Authorization', sandbox.auth)
      .send({ clientId: 'demo-hospital-system' });
    expect(none.status).toBe(400);
    expect(none.body.issue[0].expression).toEqual(['profiles']);
    const unknown = await server.http
      .post(sessions())
      .set('Authorization', sandbox.auth)
      .send({ clientId: 'x', profiles: ['helseid'] });
    expect(unknown.status).toBe(400);
  });

  it('records the token endpoint and API calls of the client, with credentials only as hashes, and grades them', async () => {
    const opened = await server.http
      .post(sessions())
      .set('Authorization', sandbox.auth)
      .send({ clientId: 'demo-hospital-system', profiles: ['helseid-client'], label: 'smoke' });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({
      status: 'recording',
      clientId: 'demo-hospital-system',
      profiles: ['helseid-client'],
    });
    const id = opened.body.id as string;
    const busy = await server.http
      .post(sessions())
      .set('Authorization', sandbox.auth)
      .send({ clientId: 'demo-hospital-system', profiles: ['helseid-client'] });
    expect(busy.status).toBe(409);

    const token = await getToken(server.http, sandbox.name, {
      scope: 'nhn:phr/mhd/read-documentreferences',
      details: [koman()],
    });
    expect(token.status).toBe(200);
    const ping = await callWithDpop(
      server.http,
      `/sandboxes/${sandbox.name}/pjd/pingauth`,
      token.body.access_token,
      token.dpopKey,
    );
    expect(ping.status).toBe(200);

    // a careless client's token in a query string, and the test-token service's key header
    await server.http.get(`/sandboxes/${sandbox.name}/pjd/pingauth?access_token=${token.body.access_token}`);
    await server.http
      .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
      .set('X-Auth-Key', sandbox.auth.replace('Bearer ', ''))
      .send({});

    const recorded = await server.http.get(`${sessions()}/${id}/requests`).set('Authorization', sandbox.auth);
    const requests = recorded.body.requests as Record<string, any>[];
    expect(requests.map((r) => `${r.method} /${r.service}${r.path}`)).toEqual([
      'POST /helseid/connect/token',
      'POST /helseid/connect/token',
      'GET /pjd/pingauth',
      'GET /pjd/pingauth',
      'POST /helseid/create-test-token',
    ]);
    expect(requests.slice(0, 3).map((r) => r.status)).toEqual([400, 200, 200]);
    expect(requests[3].query).toMatch(/^access_token=sha256%3A/);
    expect(requests[4].headers['x-auth-key']).toMatch(/^sha256:/);
    expect(JSON.stringify(requests)).not.toContain(sandbox.auth.replace('Bearer ', ''));
    const text = JSON.stringify(requests);
    expect(text).not.toContain(token.body.access_token);
    expect(text).not.toContain(token.body.access_token.split('.')[2]);
    expect(requests[1].assertion.claims.iss).toBe('demo-hospital-system');
    expect(requests[1].responseBody.access_token.claims.client_id).toBe('demo-hospital-system');
    expect(requests[2].dpop.claims.ath).toBe(requests[2].auth.token.hash);

    const finished = await server.http.post(`${sessions()}/${id}/finish`).set('Authorization', sandbox.auth);
    expect(finished.status).toBe(200);
    const byId = Object.fromEntries(
      (finished.body.results as { requirement: string; status: string }[]).map((r) => [r.requirement, r.status]),
    );
    expect(byId['HID-DPOP-NONCE-TOKEN']).toBe('pass');
    expect(byId['HID-DISCOVERY']).toBe('fail'); // the test helper never reads the metadata document
    expect(byId['PJD-SOURCE-SYSTEM']).toBe('omit');
    expect(byId['HID-CH-DPOP-NONCE-RETRY']).toBe('skip');
    expect(finished.body.verdict).toBe('failed');
    const again = await server.http.post(`${sessions()}/${id}/finish`).set('Authorization', sandbox.auth);
    expect(again.body).toEqual(finished.body);
    const report = await server.http.get(`${sessions()}/${id}/report?format=json`).set('Authorization', sandbox.auth);
    expect(report.body).toEqual(finished.body);
  });
});
