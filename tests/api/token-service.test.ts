import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import { ASSERTION_TYPE, callWithDpop, clientAssertion, demoClient, getToken, koman } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string };
let issuer: string;
const PJD_READ = 'nhn:phr/mhd/read-documentreferences';

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  issuer = `${TEST_BASE_URL}/sandboxes/${sandbox.name}/helseid`;
});
afterAll(() => server.close());

describe('discovery and keys', () => {
  test('openid-configuration names the sandbox issuer and HelseID endpoints', async () => {
    const res = await server.http.get(`/sandboxes/${sandbox.name}/helseid/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      issuer,
      token_endpoint: `${issuer}/connect/token`,
      pushed_authorization_request_endpoint: `${issuer}/connect/par`,
      authorization_endpoint: `${issuer}/connect/authorize`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
    });
    expect(res.body.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['RS256', 'PS256', 'ES256']));
    expect(res.body.scopes_supported).toEqual(expect.arrayContaining(['nhn:tillitsrammeverk:parameters', PJD_READ]));
    expect(res.body.authorization_details_types_supported).toEqual([
      'nhn:tillitsrammeverk:parameters',
      'helseid_authorization',
      'nhn:sfm:journal-id',
    ]);
    const jwks = await server.http.get(`/sandboxes/${sandbox.name}/helseid/.well-known/openid-configuration/jwks`);
    expect(jwks.body.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.body.keys[0].d).toBeUndefined();
  });

  test('rotation signs new tokens with a new key and keeps the old one published, so its tokens still work', async () => {
    const own = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const jwksPath = `/sandboxes/${own.name}/helseid/.well-known/openid-configuration/jwks`;
    const old = await getToken(server.http, own.name, { scope: PJD_READ, details: [koman()] });
    const before = (await server.http.get(jwksPath)).body.keys.map((k: { kid: string }) => k.kid);
    expect((await server.http.post(`/api/sandboxes/${own.name}/signing-keys/rotate`)).status).toBe(401);
    const rotated = await server.http
      .post(`/api/sandboxes/${own.name}/signing-keys/rotate`)
      .set('Authorization', own.auth);
    expect(rotated.status).toBe(200);
    const after = (await server.http.get(jwksPath)).body.keys.map((k: { kid: string }) => k.kid);
    expect(after).toEqual([rotated.body.kid, ...before]);
    const fresh = await getToken(server.http, own.name, { scope: PJD_READ, details: [koman()] });
    expect(decodeProtectedHeader(fresh.body.access_token).kid).toBe(rotated.body.kid);
    expect(decodeProtectedHeader(old.body.access_token).kid).toBe(before[0]);
    expect(
      (await callWithDpop(server.http, `/sandboxes/${own.name}/pjd/pingauth`, old.body.access_token, old.dpopKey))
        .status,
    ).toBe(200);
    expect(
      (await callWithDpop(server.http, `/sandboxes/${own.name}/pjd/pingauth`, fresh.body.access_token, fresh.dpopKey))
        .status,
    ).toBe(200);
  });
});

describe('client_credentials with private_key_jwt and DPoP', () => {
  test('the first request gets use_dpop_nonce with a DPoP-Nonce header; the retry gets a DPoP-bound at+jwt', async () => {
    const result = await getToken(server.http, sandbox.name, { scope: PJD_READ, details: [koman()] });
    expect(result.status).toBe(200);
    expect(result.body.token_type).toBe('DPoP');
    expect(result.headers['cache-control']).toBe('no-store');
    const header = decodeProtectedHeader(result.body.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    const claims = decodeJwt(result.body.access_token);
    expect(claims).toMatchObject({
      iss: issuer,
      aud: 'nhn:phr',
      scope: [PJD_READ],
      client_id: 'demo-hospital-system',
      client_amr: 'private_key_jwt',
      cnf: { jkt: result.dpopKey.jkt },
      'helseid://claims/client/claims/orgnr_parent': '993467049',
      'helseid://claims/client/claims/orgnr_child': '874716782',
      'helseid://claims/client/client_tenancy': 'single-tenant',
    });
    expect(
      (claims['nhn:tillitsrammeverk:parameters'] as { practitioner: { hpr_nr: { id: string } } }).practitioner.hpr_nr
        .id,
    ).toBe('9144900');
  });

  test('the token opens a guarded endpoint with a DPoP proof, and only so', async () => {
    const { body, dpopKey } = await getToken(server.http, sandbox.name, { scope: PJD_READ, details: [koman()] });
    const path = `/sandboxes/${sandbox.name}/pjd/pingauth`;
    const ok = await callWithDpop(server.http, path, body.access_token, dpopKey);
    expect(ok.status).toBe(200);
    const noProof = await server.http.get(path).set('Authorization', `DPoP ${body.access_token}`);
    expect(noProof.status).toBe(401);
    expect(noProof.headers['www-authenticate']).toMatch(/^DPoP error="invalid_dpop_proof"/);
    const asBearer = await server.http.get(path).set('Authorization', `Bearer ${body.access_token}`);
    expect(asBearer.status).toBe(401);
    expect(asBearer.body.issue[0].details.coding[0].code).toBe('NAVET-TOKEN-DPOP-BOUND');
    const missing = await server.http.get(path);
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/DPoP algs=/);
    expect((await server.http.get(`/sandboxes/${sandbox.name}/pjd/ping`)).status).toBe(200);
  });

  test('a token for another API is refused by audience; one without the scope by scope', async () => {
    const kj = await getToken(server.http, sandbox.name, { scope: 'nhn:kjernejournal/api', details: [koman()] });
    expect(kj.status).toBe(200);
    const wrongAud = await callWithDpop(
      server.http,
      `/sandboxes/${sandbox.name}/pjd/pingauth`,
      kj.body.access_token,
      kj.dpopKey,
    );
    expect(wrongAud.status).toBe(401);
    expect(wrongAud.body.issue[0].details.coding[0].code).toBe('NAVET-TOKEN-AUDIENCE');
  });

  test('an expired token is refused by the sandbox clock', async () => {
    const own = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const { body, dpopKey } = await getToken(server.http, own.name, { scope: PJD_READ, details: [koman()] });
    await server.http
      .put(`/api/sandboxes/${own.name}/clock`)
      .set('Authorization', own.auth)
      .send({ offsetSeconds: 3600 });
    const res = await callWithDpop(server.http, `/sandboxes/${own.name}/pjd/pingauth`, body.access_token, dpopKey);
    expect(res.status).toBe(401);
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-TOKEN-EXPIRED');
  });

  test('garbage and huge tokens are refused at the guard', async () => {
    const path = `/sandboxes/${sandbox.name}/pjd/pingauth`;
    const garbage = await server.http.get(path).set('Authorization', 'Bearer not-a-jwt');
    expect(garbage.status).toBe(401);
    expect(garbage.body.issue[0].details.coding[0].code).toBe('NAVET-TOKEN-MALFORMED');
    const huge = await server.http.get(path).set('Authorization', `Bearer ${'a'.repeat(12000)}`);
    expect(huge.status).toBe(401);
    expect(huge.body.issue[0].details.coding[0].code).toBe('NAVET-TOKEN-TOO-LARGE');
    // beyond Node's header limit the HTTP server itself answers 431
    expect((await server.http.get(path).set('Authorization', `Bearer ${'a'.repeat(20000)}`)).status).toBe(431);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    expect(
      (await server.http.get(path).set('Authorization', `Bearer ${none}`)).body.issue[0].details.coding[0].code,
    ).toBe('NAVET-TOKEN-ALG');
  });

  test('a token from another sandbox is refused', async () => {
    const other = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const { body, dpopKey } = await getToken(server.http, other.name, { scope: PJD_READ, details: [koman()] });
    const res = await callWithDpop(server.http, `/sandboxes/${sandbox.name}/pjd/pingauth`, body.access_token, dpopKey);
    expect(res.status).toBe(401);
    expect(['NAVET-TOKEN-ISSUER', 'NAVET-TOKEN-SIGNATURE']).toContain(res.body.issue[0].details.coding[0].code);
  });

  test('an attestation that breaks a rule is refused at the guard with 403 naming the rule', async () => {
    const attestation = koman();
    (attestation.care_relationship as Record<string, unknown>).healthcare_service = undefined;
    (attestation.care_relationship as Record<string, unknown>).purpose_of_use_details = undefined;
    const { body, dpopKey } = await getToken(server.http, sandbox.name, {
      scope: PJD_READ,
      details: [JSON.parse(JSON.stringify(attestation))],
    });
    const res = await callWithDpop(server.http, `/sandboxes/${sandbox.name}/pjd/pingauth`, body.access_token, dpopKey);
    expect(res.status).toBe(403);
    expect(res.body.issue.map((i: { details: { coding: { code: string }[] } }) => i.details.coding[0].code)).toContain(
      'ATT-43',
    );
  });
});

describe('client authentication is refused with a specific error', () => {
  const tokenPath = () => `/sandboxes/${sandbox.name}/helseid/connect/token`;
  async function post(assertion: string, extra: Record<string, string> = {}) {
    return server.http
      .post(tokenPath())
      .type('form')
      .send({
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
        scope: PJD_READ,
        ...extra,
      });
  }
  const hospital = () => demoClient('demo-hospital-system');
  const bearerClient = async () => {
    // a client registered for Bearer tokens, so that these tests need no DPoP proof
    const res = await server.http
      .post(`/api/sandboxes/${sandbox.name}/clients`)
      .set('Authorization', sandbox.auth)
      .send({
        name: 'Bearer client',
        jwks: { keys: [(hospital().config.jwks as { keys: unknown[] }).keys[0]] },
        scopes: [PJD_READ],
        organization: { parent: '993467049', child: '874716782' },
        dpop: false,
      });
    return res.body.clientId as string;
  };
  let clientId: string;
  beforeAll(async () => {
    clientId = await bearerClient();
  });
  const assertion = (options = {}) => clientAssertion(hospital().privateJwk, clientId, issuer, options);
  const codeOf = (res: { body: { error_code: string } }) => res.body.error_code;

  test('a Bearer client gets a Bearer token that works as Bearer', async () => {
    const res = await post(await assertion(), { resource: 'nhn:phr' });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    expect(decodeJwt(res.body.access_token).cnf).toBeUndefined();
    const ping = await server.http
      .get(`/sandboxes/${sandbox.name}/pjd/pingauth`)
      .set('Authorization', `Bearer ${res.body.access_token}`);
    expect(ping.status).toBe(200);
  });

  test('the older typ JWT and the token endpoint as aud are accepted', async () => {
    expect((await post(await assertion({ typ: 'JWT', aud: `${issuer}/connect/token` }))).status).toBe(200);
  });

  test.each([
    ['a wrong typ', { typ: 'at+jwt' }, 'NAVET-ASSERTION-TYP'],
    ['a wrong aud', { aud: 'https://helseid-sts.test.nhn.no' }, 'NAVET-ASSERTION-AUD'],
    ['a lifetime over 60 s', { lifetimeSeconds: 120 }, 'NAVET-ASSERTION-LIFETIME'],
    ['an expired assertion', { iatOffsetSeconds: -120 }, 'NAVET-ASSERTION-EXPIRED'],
    ['iss other than sub', { iss: 'someone-else' }, 'NAVET-ASSERTION-ISS-SUB'],
  ])('%s', async (_label, options, code) => {
    const res = await post(await assertion(options));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(codeOf(res)).toBe(code);
  });

  test('a replayed assertion', async () => {
    const once = await assertion();
    expect((await post(once)).status).toBe(200);
    const again = await post(once);
    expect(again.status).toBe(401);
    expect(codeOf(again)).toBe('NAVET-ASSERTION-REPLAY');
  });

  test('alg none and HS256 signed with the public key', async () => {
    const parts = (await assertion()).split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'client-authentication+jwt' })).toString('base64url')}.${parts[1]}.`;
    expect(codeOf(await post(none))).toBe('NAVET-ASSERTION-ALG');
    const { createHmac } = await import('node:crypto');
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'client-authentication+jwt' })).toString(
      'base64url',
    );
    const signature = createHmac('sha256', JSON.stringify((hospital().config.jwks as { keys: unknown[] }).keys[0]))
      .update(`${header}.${parts[1]}`)
      .digest('base64url');
    expect(codeOf(await post(`${header}.${parts[1]}.${signature}`))).toBe('NAVET-ASSERTION-ALG');
  });

  test('garbage, an unknown client and a key the client does not own', async () => {
    expect(codeOf(await post('not-a-jwt'))).toBe('NAVET-ASSERTION-MALFORMED');
    expect(codeOf(await post(await clientAssertion(hospital().privateJwk, 'nobody', issuer)))).toBe(
      'NAVET-CLIENT-UNKNOWN',
    );
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const stranger = { ...(await exportJWK(privateKey)), kid: hospital().privateJwk.kid };
    expect(codeOf(await post(await clientAssertion(stranger, clientId, issuer)))).toBe('NAVET-ASSERTION-SIGNATURE');
  });

  test('both assertion_details and authorization_details → HID-DOUBLE-STRUCTURE', async () => {
    const res = await post(
      await assertion({ extraClaims: { assertion_details: [koman()], authorization_details: [koman()] } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('access_denied');
    expect(res.body.error_description).toMatch(/^HID-DOUBLE-STRUCTURE/);
  });

  test('scopes the client may not have, a scope missing, an unknown resource', async () => {
    expect(codeOf(await post(await assertion(), { scope: 'nhn:kjernejournal/api' }))).toBe('NAVET-SCOPE-NOT-ALLOWED');
    expect(codeOf(await post(await assertion(), { scope: '' }))).toBe('NAVET-SCOPE-MISSING');
    expect(codeOf(await post(await assertion(), { resource: 'nhn:unknown' }))).toBe('NAVET-RESOURCE-UNKNOWN');
    expect(codeOf(await post(await assertion(), { grant_type: 'password' }))).toBe('NAVET-GRANT-TYPE');
  });

  test('a DPoP client without a proof is told to send one', async () => {
    const hospitalAssertion = await clientAssertion(hospital().privateJwk, 'demo-hospital-system', issuer);
    const res = await post(hospitalAssertion);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('NAVET-DPOP-REQUIRED');
    expect(res.headers['dpop-nonce']).toBeTruthy();
  });
});

describe('client registry', () => {
  test('register, list, read, update keys and delete', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const api = `/api/sandboxes/${sandbox.name}/clients`;
    const created = await server.http
      .post(api)
      .set('Authorization', sandbox.auth)
      .send({
        name: 'Vendor EPR',
        jwks: { keys: [jwk] },
        scopes: [PJD_READ],
        organization: { parent: '994919806', child: '994945688' },
        tenancy: 'multi-tenant',
        dpop: true,
      });
    expect(created.status).toBe(201);
    const id = created.body.clientId;
    expect(
      (await server.http.get(api).set('Authorization', sandbox.auth)).body.clients.map(
        (c: { clientId: string }) => c.clientId,
      ),
    ).toContain(id);
    expect((await server.http.get(`${api}/${id}`).set('Authorization', sandbox.auth)).body.tenancy).toBe(
      'multi-tenant',
    );
    const { publicKey: newKey } = await generateKeyPair('ES256', { extractable: true });
    const updated = await server.http
      .put(`${api}/${id}/jwks`)
      .set('Authorization', sandbox.auth)
      .send({ keys: [await exportJWK(newKey)] });
    expect(updated.status).toBe(200);
    expect(updated.body.jwks.keys[0].x).not.toBe(jwk.x);
    expect((await server.http.delete(`${api}/${id}`).set('Authorization', sandbox.auth)).status).toBe(204);
    expect((await server.http.get(`${api}/${id}`).set('Authorization', sandbox.auth)).status).toBe(404);
  });

  test('a private key, an unknown scope and a bad orgnr are refused', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const api = `/api/sandboxes/${sandbox.name}/clients`;
    const base = { name: 'x', scopes: [PJD_READ], organization: { parent: '994919806' } };
    const priv = await server.http
      .post(api)
      .set('Authorization', sandbox.auth)
      .send({ ...base, jwks: { keys: [await exportJWK(privateKey)] } });
    expect(priv.status).toBe(400);
    expect(priv.body.issue[0].details.text).toMatch(/private key material/);
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const keys = { keys: [await exportJWK(publicKey)] };
    expect(
      (
        await server.http
          .post(api)
          .set('Authorization', sandbox.auth)
          .send({ ...base, jwks: keys, scopes: ['nhn:everything'] })
      ).status,
    ).toBe(400);
    expect(
      (
        await server.http
          .post(api)
          .set('Authorization', sandbox.auth)
          .send({ ...base, jwks: keys, organization: { parent: '123' } })
      ).status,
    ).toBe(400);
    expect((await server.http.post(api).send({ ...base, jwks: keys })).status).toBe(401);
  });
});
