import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { makeDpopKey, makeDpopProof, type DpopKey } from '../../src/trust/dpop-client';
import { ASSERTION_TYPE, clientAssertion, demoClient, koman } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; auth: string };
let issuer: string;
const REDIRECT = 'http://localhost:3000/callback';
const SCOPE = 'openid profile offline_access helseid://scopes/identity/pid nhn:phr/mhd/read-documentreferences';

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  issuer = `${TEST_BASE_URL}/sandboxes/${sandbox.name}/helseid`;
});
afterAll(() => server.close());

const gp = () => demoClient('demo-gp-system');
const base = () => `/sandboxes/${sandbox.name}/helseid`;

/** The GP's attestation: Grønn Vits at Fagersta Testlegekontor (no sub-units). */
function vits(): Record<string, unknown> {
  return koman({
    practitioner: {
      identifier: { id: '05898597468', system: 'urn:oid:2.16.578.1.12.4.1.4.1' },
      authorization: { code: 'LE', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
      legal_entity: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
      point_of_care: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
    },
  });
}

async function par(options: {
  details?: unknown;
  assertionDetails?: unknown;
  challenge: string;
  extra?: Record<string, string>;
}) {
  const assertion = await clientAssertion(
    gp().privateJwk,
    'demo-gp-system',
    issuer,
    options.assertionDetails ? { extraClaims: { assertion_details: options.assertionDetails } } : {},
  );
  return server.http
    .post(`${base()}/connect/par`)
    .type('form')
    .send({
      client_id: 'demo-gp-system',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: SCOPE,
      state: 'st-1',
      nonce: 'n-1',
      code_challenge: options.challenge,
      code_challenge_method: 'S256',
      ...(options.details ? { authorization_details: JSON.stringify(options.details) } : {}),
      ...options.extra,
    });
}

async function token(form: Record<string, string>, key: DpopKey) {
  const tokenUrl = `${issuer}/connect/token`;
  const send = async (nonce?: string) =>
    server.http
      .post(`${base()}/connect/token`)
      .type('form')
      .set('DPoP', await makeDpopProof(key, { method: 'POST', url: tokenUrl, nonce }))
      .send({
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(gp().privateJwk, 'demo-gp-system', issuer),
        ...form,
      });
  const first = await send();
  return first.body.error === 'use_dpop_nonce' ? send(first.headers['dpop-nonce']) : first;
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function loginCode(challenge: string, details: unknown = [vits()]) {
  const pushed = await par({ details, challenge });
  expect(pushed.status).toBe(201);
  const login = await server.http
    .get(`${base()}/connect/authorize`)
    .query({ client_id: 'demo-gp-system', request_uri: pushed.body.request_uri, test_pid: '05898597468' });
  expect(login.status).toBe(302);
  const location = new URL(login.headers.location);
  return { code: location.searchParams.get('code') as string, location };
}

describe('authorization code flow with PAR, PKCE and DPoP', () => {
  test('the test identity provider page lists the sandbox practitioners', async () => {
    const pushed = await par({ details: [vits()], challenge: pkce().challenge });
    const page = await server.http
      .get(`${base()}/connect/authorize`)
      .query({ client_id: 'demo-gp-system', request_uri: pushed.body.request_uri });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('Grønn Vits');
    expect(page.text).toContain('value="04056600324"');
    const posted = await server.http
      .post(`${base()}/connect/authorize`)
      .type('form')
      .send({ client_id: 'demo-gp-system', request_uri: pushed.body.request_uri, pid: '05898597468' });
    expect(posted.status).toBe(302);
    expect(posted.headers.location).toMatch(/^http:\/\/localhost:3000\/callback\?code=.+&state=st-1&iss=/);
  });

  test('code → DPoP-bound user token with the PAR attestation → refresh → exchange', async () => {
    const { verifier, challenge } = pkce();
    const { code, location } = await loginCode(challenge);
    expect(location.searchParams.get('state')).toBe('st-1');
    const key = await makeDpopKey();
    const res = await token(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
      key,
    );
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      aud: 'nhn:phr',
      'helseid://claims/identity/pid': '05898597468',
      'helseid://claims/hpr/hpr_number': '565501872',
      family_name: 'Vits',
      'helseid://claims/identity/security_level': '4',
      cnf: { jkt: key.jkt },
    });
    expect(
      (claims['nhn:tillitsrammeverk:parameters'] as { practitioner: { legal_entity: { id: string } } }).practitioner
        .legal_entity.id,
    ).toBe('100100673');
    expect(decodeJwt(res.body.id_token)).toMatchObject({ aud: 'demo-gp-system', nonce: 'n-1', iss: issuer });

    const path = `/sandboxes/${sandbox.name}/pjd/pingauth`;
    const proof = await makeDpopProof(key, {
      method: 'GET',
      url: `${TEST_BASE_URL}${path}`,
      accessToken: res.body.access_token,
    });
    expect(
      (await server.http.get(path).set('Authorization', `DPoP ${res.body.access_token}`).set('DPoP', proof)).status,
    ).toBe(200);

    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token }, key);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(res.body.refresh_token);
    expect(decodeJwt(refreshed.body.access_token)['nhn:tillitsrammeverk:parameters']).toEqual(
      claims['nhn:tillitsrammeverk:parameters'],
    );
    const reused = await token({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token }, key);
    expect(reused.body.error_code).toBe('NAVET-REFRESH-INVALID');
    const otherKey = await token(
      { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token },
      await makeDpopKey(),
    );
    expect(otherKey.body.error_code).toBe('NAVET-REFRESH-DPOP-KEY');

    const exchange = {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: res.body.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'nhn:phr/mhd/read-documentreferences',
    };
    // only the API the token was issued to exchanges it (HelseID's token-exchange sample: the API is the actor)
    expect((await token(exchange, key)).body.error_code).toBe('NAVET-EXCHANGE-NOT-AUDIENCE');
    const hospital = demoClient('demo-hospital-system');
    const api = await server.http
      .post(`/api/sandboxes/${sandbox.name}/clients`)
      .set('Authorization', sandbox.auth)
      .send({
        name: 'PJD as an API',
        api: 'nhn:phr',
        jwks: hospital.config.jwks,
        scopes: ['nhn:phr/mhd/read-documentreferences'],
        organization: { parent: '993467049' },
        dpop: false,
      });
    expect(api.status).toBe(201);
    const exchanged = await server.http
      .post(`${base()}/connect/token`)
      .type('form')
      .send({
        ...exchange,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(hospital.privateJwk, api.body.clientId, issuer),
      });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.issued_token_type).toBe('urn:ietf:params:oauth:token-type:access_token');
    expect(decodeJwt(exchanged.body.access_token)).toMatchObject({
      act: { client_id: api.body.clientId, sub: 'demo-gp-system' },
      'helseid://claims/identity/pid': '05898597468',
    });
  });

  test('in a user flow the guard compares the attested practitioner with the login (ATT-11)', async () => {
    const { verifier, challenge } = pkce();
    const attestation = vits();
    (attestation.practitioner as Record<string, unknown>).identifier = {
      id: '04056600324',
      system: 'urn:oid:2.16.578.1.12.4.1.4.1',
    };
    const { code } = await loginCode(challenge, [attestation]);
    const key = await makeDpopKey();
    const res = await token(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier },
      key,
    );
    const path = `/sandboxes/${sandbox.name}/pjd/pingauth`;
    const proof = await makeDpopProof(key, {
      method: 'GET',
      url: `${TEST_BASE_URL}${path}`,
      accessToken: res.body.access_token,
    });
    const denied = await server.http.get(path).set('Authorization', `DPoP ${res.body.access_token}`).set('DPoP', proof);
    expect(denied.status).toBe(403);
    expect(
      denied.body.issue.map((i: { details: { coding: { code: string }[] } }) => i.details.coding[0].code),
    ).toContain('ATT-11');
  });

  test('a wrong code_verifier, a reused code and a wrong redirect_uri are refused', async () => {
    const key = await makeDpopKey();
    const { verifier, challenge } = pkce();
    const first = await loginCode(challenge);
    expect(
      (
        await token(
          {
            grant_type: 'authorization_code',
            code: first.code,
            redirect_uri: REDIRECT,
            code_verifier: pkce().verifier,
          },
          key,
        )
      ).body.error_code,
    ).toBe('NAVET-PKCE-MISMATCH');
    expect(
      (
        await token(
          { grant_type: 'authorization_code', code: first.code, redirect_uri: REDIRECT, code_verifier: verifier },
          key,
        )
      ).body.error_code,
    ).toBe('NAVET-CODE-INVALID');
    const second = await loginCode(challenge);
    expect(
      (
        await token(
          {
            grant_type: 'authorization_code',
            code: second.code,
            redirect_uri: 'http://localhost:3000/other',
            code_verifier: verifier,
          },
          key,
        )
      ).body.error_code,
    ).toBe('NAVET-CODE-REDIRECT-URI');
  });

  test('PAR refuses the attestation in both places, an unregistered redirect_uri and a missing PKCE challenge', async () => {
    const both = await par({ details: [vits()], assertionDetails: [vits()], challenge: pkce().challenge });
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('access_denied');
    expect(both.body.error_description).toMatch(/^HID-DOUBLE-STRUCTURE/);
    expect(
      (await par({ challenge: pkce().challenge, extra: { redirect_uri: 'https://evil.example/cb' } })).body.error_code,
    ).toBe('NAVET-PAR-REDIRECT-URI');
    expect((await par({ challenge: '', extra: { code_challenge_method: 'plain' } })).body.error_code).toBe(
      'NAVET-PAR-PKCE',
    );
  });

  test('a pushed request expires and cannot be used twice', async () => {
    const own = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const ownIssuer = `${TEST_BASE_URL}/sandboxes/${own.name}/helseid`;
    const assertion = await clientAssertion(gp().privateJwk, 'demo-gp-system', ownIssuer);
    const pushed = await server.http.post(`/sandboxes/${own.name}/helseid/connect/par`).type('form').send({
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
      response_type: 'code',
      redirect_uri: REDIRECT,
      scope: SCOPE,
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });
    const authorize = () =>
      server.http
        .get(`/sandboxes/${own.name}/helseid/connect/authorize`)
        .query({ client_id: 'demo-gp-system', request_uri: pushed.body.request_uri, test_pid: '05898597468' });
    await server.http
      .put(`/api/sandboxes/${own.name}/clock`)
      .set('Authorization', own.auth)
      .send({ offsetSeconds: 120 });
    expect((await authorize()).body.error_code).toBe('NAVET-AUTHORIZE-REQUEST-EXPIRED');
    await server.http.put(`/api/sandboxes/${own.name}/clock`).set('Authorization', own.auth).send({ offsetSeconds: 0 });
    expect((await authorize()).status).toBe(302);
    expect((await authorize()).body.error_code).toBe('NAVET-AUTHORIZE-REQUEST-EXPIRED');
  });
});
