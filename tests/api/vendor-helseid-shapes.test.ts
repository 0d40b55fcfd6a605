import { decodeJwt, decodeProtectedHeader } from 'jose';
import { randomUUID } from 'node:crypto';
import { makeDpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { demoClient, koman, vits } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';
import { ASSERTION_TYPE, dotnetJwt, nimbusJwt, pkcePair, tokenWithDpop } from '../helpers/vendor-clients';

/**
 * HelseID request shapes of NHN's public sample clients, replayed against Navet unchanged (each test names
 * its source). The vendor changes only the authority URL.
 */
let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let issuer: string;
const gp = () => demoClient('demo-gp-system');
const helseid = () => `/sandboxes/${sandbox.name}/helseid`;
const ATTESTATION = 'nhn:tillitsrammeverk:parameters';
/** kjernejournal-innlogging-klient, src/main/resources/application.properties: helseid.scopes and helseid.resources. */
const KOTLIN_SCOPES =
  'openid profile helseid://scopes/identity/pid helseid://scopes/identity/security_level helseid://scopes/identity/assurance_level helseid://scopes/hpr/hpr_number nhn:kjernejournal/innlogging nhn:kjernejournal/tillitsrammeverk offline_access';
const KOTLIN_REDIRECT = 'http://localhost:8888/api/callback';

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  issuer = `${TEST_BASE_URL}${helseid()}`;
});
afterAll(() => server.close());

async function register(body: Record<string, unknown>) {
  const res = await server.http
    .post(`/api/sandboxes/${sandbox.name}/clients`)
    .set('Authorization', sandbox.auth)
    .send({ name: 'Vendor client', jwks: gp().config.jwks, organization: { parent: '100100673' }, ...body });
  expect(res.body.issue ?? []).toEqual([]);
  expect(res.status).toBe(201);
  return res.body.clientId as string;
}

describe('client assertions as .NET and Nimbus sign them', () => {
  test('.NET JwtPayload: iat a string of digits, typ JWT, aud the issuer with its trailing slash (HelseID "Using client assertions"; PJD SimpleNativeClientWithDPoP/Program.cs)', async () => {
    const key = await makeDpopKey();
    const res = await tokenWithDpop(server.http, sandbox.name, key, async () => ({
      grant_type: 'client_credentials',
      client_id: 'demo-gp-system',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await dotnetJwt(gp().privateJwk, 'demo-gp-system', `${issuer}/`),
      scope: 'nhn:phr/mhd/read-documentreferences',
    }));
    expect(res.body.error_description).toBeUndefined();
    expect(res.status).toBe(200);
  });

  test('.NET token-exchange sample: aud the token endpoint, iat a string (PJD TokenExchange.ClientCredentials/Program.cs)', async () => {
    const key = await makeDpopKey();
    const res = await tokenWithDpop(server.http, sandbox.name, key, async () => ({
      grant_type: 'client_credentials',
      client_id: 'demo-gp-system',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await dotnetJwt(gp().privateJwk, 'demo-gp-system', `${issuer}/connect/token`),
      scope: 'nhn:kjernejournal/api',
    }));
    expect(res.status).toBe(200);
  });

  test('Nimbus: no iat, no typ, no kid, aud the token endpoint (kjernejournal-innlogging-klient helseid/HelseID.kt)', async () => {
    const key = await makeDpopKey();
    const assertion = await nimbusJwt(gp().privateJwk, 'demo-gp-system', `${issuer}/connect/token`);
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'RS256' });
    expect(decodeJwt(assertion).iat).toBeUndefined();
    const res = await tokenWithDpop(server.http, sandbox.name, key, async () => ({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await nimbusJwt(gp().privateJwk, 'demo-gp-system', `${issuer}/connect/token`),
      scope: 'nhn:kjernejournal/api',
    }));
    expect(res.status).toBe(200);
  });

  test('lifetime is judged by nbf/exp: a string iat does not excuse more than 60 s, and a bad iat is named', async () => {
    const key = await makeDpopKey();
    const send = async (claims: Record<string, unknown>) =>
      tokenWithDpop(server.http, sandbox.name, key, async () => ({
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        scope: 'nhn:kjernejournal/api',
        client_assertion: await nimbusJwt(gp().privateJwk, 'demo-gp-system', issuer, { jti: randomUUID(), ...claims }),
      }));
    const now = Math.floor(Date.now() / 1000);
    expect((await send({ iat: String(now), nbf: now, exp: now + 120 })).body.error_code).toBe(
      'NAVET-ASSERTION-LIFETIME',
    );
    expect((await send({ nbf: now + 600, exp: now + 630 })).body.error_code).toBe('NAVET-ASSERTION-NOT-YET-VALID');
    const bad = await send({ iat: 'yesterday' });
    expect(bad.body.error_code).toBe('NAVET-ASSERTION-CLAIM');
    expect(bad.body.error_description).toContain('"iat"');
  });
});

describe('pushed authorization requests as the samples push them', () => {
  test('PJD demo EPJ: a signed request object with authorization_details, iat as a string (PatientHealthRecordsEPJ/.../Controllers/HomeController.cs)', async () => {
    const scope =
      'nhn:phr/mhd/read-documentreferences nhn:phr/mhd/read-document openid profile offline_access helseid://scopes/identity/pid helseid://scopes/identity/security_level';
    const clientId = await register({ scopes: scope.split(' '), redirectUris: ['http://localhost:3000/callback'] });
    const { challenge } = pkcePair();
    const attestation = koman({
      practitioner: {
        authorization: { code: 'LE', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
        legal_entity: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
        point_of_care: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
      },
    });
    const request = await dotnetJwt(gp().privateJwk, clientId, issuer, {
      typ: 'client-authentication+jwt',
      claims: { authorization_details: attestation },
    });
    const res = await server.http
      .post(`${helseid()}/connect/par`)
      .type('form')
      .send({
        client_id: clientId,
        client_assertion: await dotnetJwt(gp().privateJwk, clientId, issuer, { typ: 'client-authentication+jwt' }),
        client_assertion_type: ASSERTION_TYPE,
        request,
        scope,
        redirect_uri: 'http://localhost:3000/callback',
        response_type: 'code',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'abc',
      });
    expect(res.body.error_description).toBeUndefined();
    expect(res.status).toBe(201);
    expect(res.body.request_uri).toMatch(/^urn:ietf:params:oauth:request_uri:/);
  });

  test('a request object living longer than 60 s is refused, naming the lifetime', async () => {
    const now = Math.floor(Date.now() / 1000);
    const request = await nimbusJwt(gp().privateJwk, 'demo-gp-system', issuer, {
      nbf: now,
      exp: now + 600,
      response_type: 'code',
    });
    const res = await server.http
      .post(`${helseid()}/connect/par`)
      .type('form')
      .send({
        client_id: 'demo-gp-system',
        client_assertion: await dotnetJwt(gp().privateJwk, 'demo-gp-system', issuer),
        client_assertion_type: ASSERTION_TYPE,
        request,
      });
    expect(res.body.error_code).toBe('NAVET-PAR-REQUEST-OBJECT');
    expect(res.body.error_description).toMatch(/at most 60 s/);
  });
});

describe('the Kotlin Kjernejournal client: one attestation per token request (kjernejournal-innlogging-klient)', () => {
  test('PAR with test_pid → code → a new patient attested in each refresh; a refresh without one gives none', async () => {
    const clientId = await register({
      scopes: [...KOTLIN_SCOPES.split(' '), 'nhn:kjernejournal/api'],
      redirectUris: [KOTLIN_REDIRECT],
    });
    const { verifier, challenge } = pkcePair();
    // helseid/HelseID.kt pushedAuthenticationRequest: Nimbus AuthenticationRequest + resources + acr_values, test_security_level, test_pid
    const pushed = await server.http
      .post(`${helseid()}/connect/par`)
      .type('form')
      .send({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: KOTLIN_REDIRECT,
        scope: KOTLIN_SCOPES,
        state: 'kj-state',
        nonce: 'kj-nonce',
        resource: 'nhn:kjernejournal',
        code_challenge: challenge,
        code_challenge_method: 'S256',
        acr_values: 'idp:testidp-oidc',
        test_security_level: '4',
        test_pid: '05898597468',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await nimbusJwt(gp().privateJwk, clientId, issuer),
      });
    expect(pushed.status).toBe(201);
    const login = await server.http
      .get(`${helseid()}/connect/authorize`)
      .query({ request_uri: pushed.body.request_uri, client_id: clientId });
    expect(login.status).toBe(302);
    const code = new URL(login.headers.location).searchParams.get('code') as string;
    const key = await makeDpopKey('RS256');
    const tokenUrl = `${issuer}/connect/token`;
    // hentHelseIdToken: the scope and resource again, the attestation (when any) in authorization_details
    const tokenRequest = (grant: Record<string, string>, attestation?: unknown) =>
      tokenWithDpop(server.http, sandbox.name, key, async () => ({
        ...grant,
        scope: KOTLIN_SCOPES,
        resource: 'nhn:kjernejournal',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await nimbusJwt(
          gp().privateJwk,
          clientId,
          tokenUrl,
          attestation ? { authorization_details: attestation } : {},
        ),
      }));
    const first = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: KOTLIN_REDIRECT,
      code_verifier: verifier,
    });
    expect(first.status).toBe(200);
    expect(decodeJwt(first.body.access_token)[ATTESTATION]).toBeUndefined();
    expect(decodeJwt(first.body.id_token)).toMatchObject({
      'helseid://claims/identity/assurance_level': 'high',
      'helseid://claims/identity/security_level': '4',
    });

    // pages/Pasientvalg.kt: each chosen patient is attested by a refresh carrying the attestation
    const patient = (nin: string) => ({
      ...vits(),
      patients: [{ identifier: { id: nin, system: 'urn:oid:2.16.578.1.12.4.1.4.1' } }],
    });
    const forLine = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: first.body.refresh_token },
      patient('13116900216'),
    );
    expect(forLine.body.error_description).toBeUndefined();
    expect(
      (decodeJwt(forLine.body.access_token)[ATTESTATION] as { patients: { identifier: { id: string } }[] }).patients[0]
        .identifier.id,
    ).toBe('13116900216');
    const forHarry = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: forLine.body.refresh_token },
      patient('08077000292'),
    );
    expect(forHarry.status).toBe(200);
    expect(
      (decodeJwt(forHarry.body.access_token)[ATTESTATION] as { patients: { identifier: { id: string } }[] }).patients[0]
        .identifier.id,
    ).toBe('08077000292');
    const without = await tokenRequest({ grant_type: 'refresh_token', refresh_token: forHarry.body.refresh_token });
    expect(without.status).toBe(200);
    expect(decodeJwt(without.body.access_token)[ATTESTATION]).toBeUndefined();

    // logoutHelseID: discovery's end_session_endpoint with id_token_hint and post_logout_redirect_uri (helseid.logout.uri)
    const logout = await server.http.get(
      `${helseid()}/connect/endsession?id_token_hint=${first.body.id_token}&post_logout_redirect_uri=${encodeURIComponent('http://localhost:8888/')}`,
    );
    expect(logout.status).toBe(302);
    expect(logout.headers.location).toBe('http://localhost:8888/');
    const elsewhere = await server.http
      .get(`${helseid()}/connect/endsession`)
      .query({ id_token_hint: first.body.id_token, post_logout_redirect_uri: 'https://evil.example/' });
    expect(elsewhere.body.error_code).toBe('NAVET-ENDSESSION-REDIRECT');
  });
});

describe('resource indicators: one login, a token per API (PJD NativeClients/SimpleResourceIndicatorsDemo/Program.cs)', () => {
  test("PAR with two resource values; the code gives the first API's token, a refresh with resource the second's", async () => {
    const scopes = [
      'openid',
      'profile',
      'offline_access',
      'helseid://scopes/identity/security_level',
      'nhn:phr/mhd/read-documentreferences',
      'nhn:kjernejournal/api',
    ];
    const clientId = await register({ scopes, redirectUris: ['http://localhost:3000/callback'] });
    const { verifier, challenge } = pkcePair();
    const form = new URLSearchParams({
      client_id: clientId,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await dotnetJwt(gp().privateJwk, clientId, issuer),
      response_type: 'code',
      redirect_uri: 'http://localhost:3000/callback',
      scope: scopes.join(' '),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      test_pid: '05898597468',
    });
    form.append('resource', 'nhn:phr');
    form.append('resource', 'nhn:kjernejournal');
    const pushed = await server.http.post(`${helseid()}/connect/par`).type('form').send(form.toString());
    expect(pushed.body.error_description).toBeUndefined();
    const login = await server.http
      .get(`${helseid()}/connect/authorize`)
      .query({ request_uri: pushed.body.request_uri, client_id: clientId });
    const code = new URL(login.headers.location).searchParams.get('code') as string;
    const key = await makeDpopKey();
    const assertion = async () => ({
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await dotnetJwt(gp().privateJwk, clientId, issuer),
    });
    const first = await tokenWithDpop(server.http, sandbox.name, key, async () => ({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://localhost:3000/callback',
      code_verifier: verifier,
      resource: 'nhn:phr',
      ...(await assertion()),
    }));
    expect(first.status).toBe(200);
    // HelseID.Samples ApiAccess/AccessTokenUpdaters/TokenResponseExtensions.cs reads HelseID's rt_expires_in
    expect(first.body.rt_expires_in).toBeGreaterThan(0);
    expect(decodeJwt(first.body.access_token)).toMatchObject({
      aud: 'nhn:phr',
      scope: [
        'openid',
        'profile',
        'offline_access',
        'helseid://scopes/identity/security_level',
        'nhn:phr/mhd/read-documentreferences',
      ],
    });
    const second = await tokenWithDpop(server.http, sandbox.name, key, async () => ({
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token,
      resource: 'nhn:kjernejournal',
      ...(await assertion()),
    }));
    expect(second.status).toBe(200);
    expect(decodeJwt(second.body.access_token)).toMatchObject({
      aud: 'nhn:kjernejournal',
      scope: expect.arrayContaining(['nhn:kjernejournal/api']),
    });
    expect(decodeJwt(second.body.access_token).scope).not.toContain('nhn:phr/mhd/read-documentreferences');
    const other = await tokenWithDpop(server.http, sandbox.name, key, async () => ({
      grant_type: 'refresh_token',
      refresh_token: second.body.refresh_token,
      resource: 'e-helse:sfm.api',
      ...(await assertion()),
    }));
    expect(other.body.error_code).toBe('NAVET-RESOURCE-NOT-GRANTED');
  });
});

describe("HelseID's identity scopes (utviklerportal, Teknisk referanse: Scopes)", () => {
  const IDENTITY = [
    'helseid://scopes/identity/pid',
    'helseid://scopes/identity/pid_pseudonym',
    'helseid://scopes/identity/assurance_level',
    'helseid://scopes/identity/security_level',
    'helseid://scopes/identity/network',
    'helseid://scopes/hpr/hpr_number',
    'helseid://scopes/identity/all',
    'helseid://scopes/hpr',
  ];

  test('every one is in discovery, can be registered, and its claim is in the tokens of a login', async () => {
    const discovery = await server.http.get(`${helseid()}/.well-known/openid-configuration`);
    for (const scope of IDENTITY) expect(discovery.body.scopes_supported).toContain(scope);
    const clientId = await register({
      scopes: ['openid', 'profile', 'offline_access', ...IDENTITY, 'nhn:phr/mhd/read-documentreferences'],
      redirectUris: ['http://localhost:3000/callback'],
    });
    const { verifier, challenge } = pkcePair();
    const pushed = await server.http
      .post(`${helseid()}/connect/par`)
      .type('form')
      .send({
        client_id: clientId,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await dotnetJwt(gp().privateJwk, clientId, issuer),
        response_type: 'code',
        redirect_uri: 'http://localhost:3000/callback',
        scope: `openid profile ${IDENTITY.join(' ')} nhn:phr/mhd/read-documentreferences`,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        test_pid: '05898597468',
      });
    expect(pushed.status).toBe(201);
    const login = await server.http
      .get(`${helseid()}/connect/authorize`)
      .query({ request_uri: pushed.body.request_uri, client_id: clientId });
    const code = new URL(login.headers.location).searchParams.get('code') as string;
    const res = await tokenWithDpop(server.http, sandbox.name, await makeDpopKey(), async () => ({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'http://localhost:3000/callback',
      code_verifier: verifier,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await dotnetJwt(gp().privateJwk, clientId, issuer),
    }));
    expect(res.status).toBe(200);
    for (const token of [res.body.id_token, res.body.access_token]) {
      const claims = decodeJwt(token);
      for (const claim of ['pid', 'pid_pseudonym', 'assurance_level', 'security_level', 'network'])
        expect(claims[`helseid://claims/identity/${claim}`]).toBeDefined();
      expect(claims['helseid://claims/hpr/hpr_number']).toBe('565501872');
    }
  });
});

describe('multi-tenant clients (HelseID.Library StructuredClaims; SFM.tools doc/SFM Full/using_helseid_accesstoken.md)', () => {
  const JOURNAL = '7fbfbcbd-6f08-4e95-9f7a-9d69c40f6a35';
  const organisationDetails = (value: string) => ({
    type: 'helseid_authorization',
    practitioner_role: { organization: { identifier: { system: 'urn:oid:1.0.6523', type: 'ENH', value } } },
  });

  test('NO:ORGNR:<parent>:<child> decides the organisation claims; the journal id object lands as nhn:sfm:journal-id', async () => {
    const clientId = await register({
      tenancy: 'multi-tenant',
      organization: { parent: '994919806' },
      scopes: ['e-helse:sfm.api/sfm.api2'],
    });
    const key = await makeDpopKey();
    const res = await tokenWithDpop(server.http, sandbox.name, key, async () => ({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_assertion_type: ASSERTION_TYPE,
      scope: 'e-helse:sfm.api/sfm.api2',
      client_assertion: await dotnetJwt(gp().privateJwk, clientId, issuer, {
        typ: 'client-authentication+jwt',
        claims: {
          assertion_details: [
            organisationDetails('NO:ORGNR:958935420:883953142'),
            { type: 'nhn:sfm:journal-id', value: { journal_id: JOURNAL } },
          ],
        },
      }),
    }));
    expect(res.body.error_description).toBeUndefined();
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      'helseid://claims/client/claims/orgnr_parent': '958935420',
      'helseid://claims/client/claims/orgnr_child': '883953142',
      'helseid://claims/client/client_tenancy': 'multi-tenant',
      'nhn:sfm:journal-id': JOURNAL,
    });
  });

  test('NO:ORGNR:<parent>: (HelseID.Library without a child) names the parent and no child', async () => {
    const clientId = await register({
      tenancy: 'multi-tenant',
      organization: { parent: '994919806', child: '994945688' },
      scopes: ['e-helse:sfm.api/sfm.api2'],
    });
    const res = await tokenWithDpop(server.http, sandbox.name, await makeDpopKey(), async () => ({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      scope: 'e-helse:sfm.api/sfm.api2',
      client_assertion: await dotnetJwt(gp().privateJwk, clientId, issuer, {
        claims: { assertion_details: organisationDetails('NO:ORGNR:958935420:') },
      }),
    }));
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.body.access_token);
    expect(claims['helseid://claims/client/claims/orgnr_parent']).toBe('958935420');
    expect(claims['helseid://claims/client/claims/orgnr_child']).toBeUndefined();
  });

  test('a single-tenant client cannot name another parent', async () => {
    const res = await tokenWithDpop(server.http, sandbox.name, await makeDpopKey(), async () => ({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      scope: 'e-helse:sfm.api/sfm.api2',
      client_assertion: await dotnetJwt(gp().privateJwk, 'demo-gp-system', issuer, {
        claims: { assertion_details: organisationDetails('NO:ORGNR:958935420:883953142') },
      }),
    }));
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('NAVET-ORGANIZATION-PARENT');
  });
});

describe("HelseID's test-token service contract (HelseID.Samples HelseId.Samples.TestTokenDemo)", () => {
  const ttt = () => `${helseid()}/v2/create-test-token-with-key`;

  test('DemoSuperman as .NET serialises it (camelCase, defaults left out) → {isError, successResponse}', async () => {
    const res = await server.http
      .post(ttt())
      .set('X-Auth-Key', sandbox.adminKey)
      .send({
        audience: 'the_universe',
        withoutDefaultClientClaims: true,
        withoutDefaultUserClaims: true,
        expirationParameters: {},
        headerParameters: { typ: '' },
        clientClaimsParameters: {
          scope: ['save', 'the_world'],
          clientId: 'superman',
          sfmJournalId: '',
          orgnrParent: '123456789',
          orgnrChild: '',
          orgnrSupplier: '',
          authenticationMethodsReferences: [],
          clientAuthenticationMethodsReferences: '',
          clientName: 'Superman client',
          jti: '',
          cnfJkt: '',
          cnfPublicKey: '',
        },
        userClaimsParameters: {
          pid: '20080012345',
          pidPseudonym: '',
          hprNumber: '',
          name: 'Clark Kent',
          givenName: '',
          middleName: '',
          familyName: '',
          identityProvider: '',
          securityLevel: '1337',
          assuranceLevel: '',
          network: '',
          amr: '',
          subject: '',
          sid: '',
        },
        setSubject: true,
        tillitsrammeverkClaimsParameters: {},
        dPoPProofParameters: { htuClaimValue: '', htmClaimValue: '', privateKeyForProofCreation: '' },
        apiSpecificClaims: [],
      });
    expect(res.status).toBe(200);
    expect(res.body.isError).toBe(false);
    expect(res.body.successResponse.dPoPProof).toBeNull();
    const claims = decodeJwt(res.body.successResponse.accessTokenJwt);
    expect(claims).toMatchObject({
      aud: 'the_universe',
      client_id: 'superman',
      scope: ['save', 'the_world'],
      'helseid://claims/client/claims/orgnr_parent': '123456789',
      name: 'Clark Kent',
      'helseid://claims/identity/pid': '20080012345',
      'helseid://claims/identity/security_level': '1337',
    });
    expect(typeof claims.sub).toBe('string');
    expect(claims['helseid://claims/client/client_name']).toBe('Superman client');
  });

  test("DemoTillitsrammeverkWithDpop: a DPoP-bound token with its proof, which Navet's guard accepts", async () => {
    const path = `/sandboxes/${sandbox.name}/pjd/pingauth`;
    const body = {
      createDPoPTokenWithDPoPProof: true,
      dPoPProofParameters: { htmClaimValue: 'GET', htuClaimValue: `${TEST_BASE_URL}${path}` },
      audience: 'nhn:phr',
      clientClaimsParameters: { scope: ['nhn:phr/mhd/read-document'], clientId: 'fake', orgnrParent: '100100673' },
      userClaimsParameters: { name: 'Grønn Vits', securityLevel: '4', pid: '05898597468' },
      setPidPseudonym: true,
      getHprNumberFromHprregisteret: true,
      createTillitsrammeverkClaims: true,
      tillitsrammeverkClaimsParameters: {
        practitionerAuthorizationCode: 'LE',
        practitionerLegalEntityId: '100100673',
        practitionerLegalEntityName: 'Fagersta',
        practitionerPointOfCareId: '100100673',
        practitionerPointOfCareName: 'Fagersta',
      },
    };
    const res = await server.http.post(ttt()).set('X-Auth-Key', sandbox.adminKey).send(body);
    expect(res.status).toBe(200);
    const { accessTokenJwt, dPoPProof } = res.body.successResponse;
    const claims = decodeJwt(accessTokenJwt);
    expect(claims['helseid://claims/hpr/hpr_number']).toBe('565501872');
    expect(claims['helseid://claims/identity/pid_pseudonym']).toBeDefined();
    expect((claims.cnf as { jkt: string }).jkt).toBeDefined();
    expect(
      (claims[ATTESTATION] as { practitioner: { legal_entity: { id: string } } }).practitioner.legal_entity.id,
    ).toBe('100100673');
    const ping = await server.http.get(path).set('Authorization', `DPoP ${accessTokenJwt}`).set('DPoP', dPoPProof);
    expect(ping.body.issue ?? []).toEqual([]);
    expect(ping.status).toBe(200);

    // InvalidDPoPProofParameters.SetIatValueInThePast: the proof is refused
    const stale = await server.http
      .post(ttt())
      .set('X-Auth-Key', sandbox.adminKey)
      .send({
        ...body,
        dPoPProofParameters: { ...body.dPoPProofParameters, invalidDPoPProofParameters: 'SetIatValueInThePast' },
      });
    const refused = await server.http
      .get(path)
      .set('Authorization', `DPoP ${stale.body.successResponse.accessTokenJwt}`)
      .set('DPoP', stale.body.successResponse.dPoPProof);
    expect(refused.status).toBe(401);
  });

  test('switches: invalid issuer, invalid key, expired; errors in the same answer shape', async () => {
    const base = {
      audience: 'nhn:phr',
      clientClaimsParameters: { scope: ['nhn:phr/mhd/read-document'], clientId: 'fake', orgnrParent: '100100673' },
    };
    const path = `/sandboxes/${sandbox.name}/pjd/pingauth`;
    for (const [switches, code] of [
      [{ setInvalidIssuer: true }, 'NAVET-TOKEN-ISSUER'],
      [{ signJwtWithInvalidSigningKey: true }, 'NAVET-TOKEN-SIGNATURE'],
      [{ expirationParameters: { setExpirationTimeAsExpired: true } }, 'NAVET-TOKEN-EXPIRED'],
    ] as const) {
      const res = await server.http
        .post(ttt())
        .set('X-Auth-Key', sandbox.adminKey)
        .send({ ...base, ...switches });
      const ping = await server.http
        .get(path)
        .set('Authorization', `Bearer ${res.body.successResponse.accessTokenJwt}`);
      expect(ping.status).toBe(401);
      expect(ping.body.issue[0].details.coding[0].code).toBe(code);
    }
    const noKey = await server.http.post(ttt()).send(base);
    expect(noKey.status).toBe(401);
    expect(noKey.body).toMatchObject({
      isError: true,
      errorResponse: { errorMessage: expect.stringContaining('X-Auth-Key') },
    });
    const noAudience = await server.http.post(ttt()).set('X-Auth-Key', sandbox.adminKey).send({});
    expect(noAudience.status).toBe(400);
    expect(noAudience.body.errorResponse.errorMessage).toContain('audience');
  });
});
