import { decodeJwt } from 'jose';
import { makeDpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { GRY_TELOKK, LINE_DANSER } from '../helpers/documents';
import {
  ASSERTION_TYPE,
  clientAssertion,
  demoClient,
  getToken,
  koman,
  type TokenResult,
  vits,
} from '../helpers/helseid-client';
import { getParameters } from '../helpers/sfm';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';
import { pkcePair, tokenWithDpop } from '../helpers/vendor-clients';

/** What the trust framework must refuse: each test here failed before its fix. */
let server: TestNavet;
let sandbox: { name: string; auth: string; adminKey: string };
let issuer: string;
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const KJ_SCOPE = 'nhn:kjernejournal/api';
const base = (service: string) => `/sandboxes/${sandbox.name}/${service}`;

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  issuer = `${TEST_BASE_URL}${base('helseid')}`;
});
afterAll(() => server.close());

async function registerApi(api: string, scopes: string[]): Promise<string> {
  const res = await server.http
    .post(`/api/sandboxes/${sandbox.name}/clients`)
    .set('Authorization', sandbox.auth)
    .send({
      name: `${api} as an API`,
      api,
      jwks: demoClient('demo-hospital-system').config.jwks,
      scopes,
      organization: { parent: '993467049' },
      dpop: false,
    });
  expect(res.status).toBe(201);
  return res.body.clientId as string;
}

/** A token request of a demo client with its own DPoP key (nonce round-trip included). */
async function tokenOf(
  clientId: string,
  form: Record<string, string>,
  key = undefined as Awaited<ReturnType<typeof makeDpopKey>> | undefined,
) {
  const client = demoClient(clientId);
  return tokenWithDpop(server.http, sandbox.name, key ?? (await makeDpopKey()), async () => ({
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: await clientAssertion(client.privateJwk, clientId, issuer),
    ...form,
  }));
}

async function withDpop(t: TokenResult, method: string, path: string) {
  return {
    Authorization: `DPoP ${t.body.access_token}`,
    DPoP: await makeDpopProof(t.dpopKey, { method, url: `${TEST_BASE_URL}${path}`, accessToken: t.body.access_token }),
  };
}

const readKj = async (t: TokenResult, nin = LINE_DANSER) =>
  server.http
    .get(`${base('critical-information')}/AllergyIntolerance`)
    .set(await withDpop(t, 'GET', `${base('critical-information')}/AllergyIntolerance`))
    .set({ 'nhn-source-system': 'Test EPJ', 'nhn-patient-nin': nin });
const findPjd = async (t: TokenResult, nin = LINE_DANSER) =>
  server.http
    .post(`${base('pjd')}/R4/fhir/DocumentReference/_search`)
    .type('form')
    .set(await withDpop(t, 'POST', `${base('pjd')}/R4/fhir/DocumentReference/_search`))
    .set('nhn-source-system', 'Test EPJ')
    .send({ 'patient.identifier': nin });
const codes = (res: { body: { issue?: { details?: { coding?: { code: string }[] } }[] } }) =>
  (res.body.issue ?? []).map((i) => i.details?.coding?.[0]?.code);

describe("token exchange: only the subject token's API exchanges it", () => {
  test("a second client cannot turn a first client's DPoP-bound Kjernejournal token into its own", async () => {
    const first = await getToken(server.http, sandbox.name, { scope: KJ_SCOPE, details: [koman()] });
    expect(first.status).toBe(200);
    const stolen = await tokenOf('demo-gp-system', {
      grant_type: EXCHANGE,
      subject_token: first.body.access_token,
      subject_token_type: ACCESS_TOKEN,
      scope: KJ_SCOPE,
    });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error_code).toBe('NAVET-EXCHANGE-DPOP-BOUND');
  });

  test('a client that is not the API the token was issued to is refused; the API itself may exchange', async () => {
    const subject = await server.http
      .post(`${base('helseid')}/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'demo-hospital-system', scopes: [KJ_SCOPE], attestation: koman() });
    const other = await tokenOf('demo-gp-system', {
      grant_type: EXCHANGE,
      subject_token: subject.body.access_token,
      subject_token_type: ACCESS_TOKEN,
      scope: KJ_SCOPE,
    });
    expect(other.body.error_code).toBe('NAVET-EXCHANGE-NOT-AUDIENCE');
    const apiId = await registerApi('nhn:kjernejournal', [KJ_SCOPE]);
    const hospital = demoClient('demo-hospital-system');
    const api = await server.http
      .post(`${base('helseid')}/connect/token`)
      .type('form')
      .send({
        grant_type: EXCHANGE,
        subject_token: subject.body.access_token,
        subject_token_type: ACCESS_TOKEN,
        scope: KJ_SCOPE,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(hospital.privateJwk, apiId, issuer),
      });
    expect(api.status).toBe(200);
    expect(decodeJwt(api.body.access_token).act).toEqual({ client_id: apiId, sub: 'demo-hospital-system' });
  });

  test("a citizen's login token never becomes a health-personnel token", async () => {
    const citizen = await server.http
      .post(`${base('helseid')}/create-test-token`)
      .set('X-Auth-Key', sandbox.adminKey)
      .send({ clientId: 'demo-citizen-app', scopes: ['navet:citizen'], user: { pid: GRY_TELOKK } });
    expect(citizen.status).toBe(200);
    const apiId = await registerApi('navet:citizen', [KJ_SCOPE]);
    const hospital = demoClient('demo-hospital-system');
    const res = await server.http
      .post(`${base('helseid')}/connect/token`)
      .type('form')
      .send({
        grant_type: EXCHANGE,
        subject_token: citizen.body.access_token,
        subject_token_type: ACCESS_TOKEN,
        scope: KJ_SCOPE,
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(hospital.privateJwk, apiId, issuer),
      });
    expect(res.status).toBe(400);
    expect(res.body.error_code).toBe('NAVET-EXCHANGE-CITIZEN');
  });
});

describe("whose organisation: legal_entity is the client's own (ATT-13)", () => {
  test('a system registered for Oslo universitetssykehus attesting Fagersta reads none of the four services', async () => {
    const calls: [string, (t: TokenResult) => Promise<{ status: number; body: never }>][] = [
      [KJ_SCOPE, (t) => readKj(t) as never],
      ['nhn:phr/mhd/read-documentreferences', (t) => findPjd(t) as never],
      [
        'e-helse:sfm.api/sfm.api2',
        async (t) =>
          server.http
            .post(`${base('sfm')}/Patient/$getMedication`)
            .type('application/fhir+json')
            .set(await withDpop(t, 'POST', `${base('sfm')}/Patient/$getMedication`))
            .send(getParameters(LINE_DANSER)) as never,
      ],
      [
        'nhn:pps/provesvar-read',
        async (t) =>
          server.http
            .post(`${base('pps')}/DiagnosticReport/_search`)
            .type('form')
            .set(await withDpop(t, 'POST', `${base('pps')}/DiagnosticReport/_search`))
            .set('person-id', LINE_DANSER)
            .send('') as never,
      ],
    ];
    for (const [scope, call] of calls) {
      const t = await getToken(server.http, sandbox.name, {
        clientId: 'demo-hospital-system',
        scope,
        details: [vits()],
      });
      expect(t.status).toBe(200);
      const res = await call(t);
      expect([scope, res.status]).toEqual([scope, 403]);
      expect(codes(res)).toContain('ATT-13');
    }
  });

  test("the access log records the calling client's organisation beside the attested one", async () => {
    const t = await getToken(server.http, sandbox.name, {
      clientId: 'demo-hospital-system',
      scope: KJ_SCOPE,
      details: [koman()],
    });
    const res = await readKj(t).then((r) => r);
    expect(res.status).toBe(200);
    const events = await server.http
      .get(`/sandboxes/${sandbox.name}/fhir/AuditEvent?_count=100`)
      .set('Authorization', sandbox.auth);
    const event = events.body.entry
      .map((e: { resource: Record<string, unknown> }) => e.resource)
      .find((e: { entity?: { detail?: { type: string; valueString: string }[] }[] }) =>
        e.entity?.some((x) =>
          x.detail?.some((d) => d.type === 'access-token-jti' && d.valueString === decodeJwt(t.body.access_token).jti),
        ),
      );
    const agent = event.agent.find(
      (a: { type?: { coding?: { code: string }[] } }) => a.type?.coding?.[0]?.code === 'RESP',
    );
    expect(agent.who.identifier).toEqual({ system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: '993467049' });
    expect(agent.who.display).toContain('Oslo universitetssykehus');
  });
});

describe('who is health personnel: the same rule for logged-in users', () => {
  /** The attestation a client sends when it names no practitioner: only the organisation and the care relationship. */
  const noPractitioner = () => {
    const attestation = koman();
    attestation.practitioner = {
      legal_entity: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
      point_of_care: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
    };
    return attestation;
  };
  async function patientLogin(scope: string): Promise<TokenResult> {
    const gp = demoClient('demo-gp-system');
    const { verifier, challenge } = pkcePair();
    const pushed = await server.http
      .post(`${base('helseid')}/connect/par`)
      .type('form')
      .send({
        client_id: 'demo-gp-system',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(gp.privateJwk, 'demo-gp-system', issuer),
        response_type: 'code',
        redirect_uri: 'http://localhost:3000/callback',
        scope: `openid helseid://scopes/identity/pid ${scope}`,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        authorization_details: JSON.stringify([noPractitioner()]),
        test_pid: GRY_TELOKK,
      });
    expect(pushed.status).toBe(201);
    const login = await server.http
      .get(`${base('helseid')}/connect/authorize`)
      .query({ client_id: 'demo-gp-system', request_uri: pushed.body.request_uri });
    const code = new URL(login.headers.location).searchParams.get('code') as string;
    const dpopKey = await makeDpopKey();
    const res = await tokenOf(
      'demo-gp-system',
      {
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'http://localhost:3000/callback',
        code_verifier: verifier,
      },
      dpopKey,
    );
    expect(res.status).toBe(200);
    return { status: res.status, body: res.body, headers: res.headers as Record<string, string>, dpopKey };
  }

  test('a patient logged in through the practitioner flow reads neither Kjernejournal nor PJD of another patient', async () => {
    const kj = await readKj(await patientLogin(KJ_SCOPE));
    expect(kj.status).toBe(403);
    expect(codes(kj)).toContain('ATT-11');
    const pjd = await findPjd(await patientLogin('nhn:phr/mhd/read-documentreferences'));
    expect(pjd.status).toBe(403);
    expect(codes(pjd)).toContain('ATT-11');
  });
});

test('a refresh token presented by the wrong client is refused without being used up', async () => {
  const gp = demoClient('demo-gp-system');
  const { verifier, challenge } = pkcePair();
  const pushed = await server.http
    .post(`${base('helseid')}/connect/par`)
    .type('form')
    .send({
      client_id: 'demo-gp-system',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await clientAssertion(gp.privateJwk, 'demo-gp-system', issuer),
      response_type: 'code',
      redirect_uri: 'http://localhost:3000/callback',
      scope: `openid offline_access ${KJ_SCOPE}`,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      test_pid: '05898597468',
    });
  const login = await server.http
    .get(`${base('helseid')}/connect/authorize`)
    .query({ client_id: 'demo-gp-system', request_uri: pushed.body.request_uri });
  const code = new URL(login.headers.location).searchParams.get('code') as string;
  const key = await makeDpopKey();
  const tokens = await tokenOf(
    'demo-gp-system',
    { grant_type: 'authorization_code', code, redirect_uri: 'http://localhost:3000/callback', code_verifier: verifier },
    key,
  );
  expect(tokens.body.refresh_token).toBeDefined();
  const wrong = await tokenOf(
    'demo-hospital-system',
    { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token },
    key,
  );
  expect(wrong.body.error_code).toBe('NAVET-REFRESH-CLIENT');
  const owner = await tokenOf(
    'demo-gp-system',
    { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token },
    key,
  );
  expect(owner.body.error_code).toBeUndefined();
  expect(owner.status).toBe(200);
});
