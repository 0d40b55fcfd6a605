import { decodeJwt, decodeProtectedHeader } from 'jose';
import { makeDpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { koman } from '../helpers/helseid-client';
import { createSandbox, startTestNavet, TEST_BASE_URL, type TestNavet } from '../helpers/test-navet';

let server: TestNavet;
let sandbox: { name: string; adminKey: string };
const PJD_READ = 'nhn:phr/mhd/read-documentreferences';

beforeAll(async () => {
  server = await startTestNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
});
afterAll(() => server.close());

async function testToken(body: Record<string, unknown>, key = sandbox.adminKey) {
  return server.http
    .post(`/sandboxes/${sandbox.name}/helseid/create-test-token`)
    .set('X-Auth-Key', key)
    .send({ clientId: 'demo-hospital-system', scopes: [PJD_READ], ...body });
}

/** Calls the guarded pingauth with a Bearer token; answers the status and Navet's error code. */
async function guardVerdict(token: string): Promise<[number, string | undefined]> {
  const res = await server.http.get(`/sandboxes/${sandbox.name}/pjd/pingauth`).set('Authorization', `Bearer ${token}`);
  return [res.status, res.body.issue?.[0]?.details?.coding?.[0]?.code];
}

describe('test-token service', () => {
  test('needs the sandbox admin key in X-Auth-Key', async () => {
    const res = await testToken({}, 'wrong');
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('NAVET-TEST-TOKEN-AUTH');
  });

  test('a plain test token is accepted by the guard', async () => {
    const res = await testToken({ attestation: koman() });
    expect(res.status).toBe(200);
    expect(await guardVerdict(res.body.access_token)).toEqual([200, undefined]);
  });

  test('a DPoP-bound test token works with a proof of that key', async () => {
    const key = await makeDpopKey();
    const res = await testToken({ attestation: koman(), dpopJwk: key.publicJwk });
    expect(decodeJwt(res.body.access_token).cnf).toEqual({ jkt: key.jkt });
    const path = `/sandboxes/${sandbox.name}/pjd/pingauth`;
    const proof = await makeDpopProof(key, {
      method: 'GET',
      url: `${TEST_BASE_URL}${path}`,
      accessToken: res.body.access_token,
    });
    expect(
      (await server.http.get(path).set('Authorization', `DPoP ${res.body.access_token}`).set('DPoP', proof)).status,
    ).toBe(200);
  });

  test('a user token carries the user claims from the registry', async () => {
    const res = await testToken({ user: { pid: '04056600324' }, attestation: koman() });
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      'helseid://claims/identity/pid': '04056600324',
      'helseid://claims/hpr/hpr_number': '9144900',
      family_name: 'Koman',
      'helseid://claims/identity/security_level': '4',
    });
    expect(await guardVerdict(res.body.access_token)).toEqual([200, undefined]);
  });

  test.each([
    ['signed with an invalid key', { signWithInvalidKey: true }, 401, 'NAVET-TOKEN-SIGNATURE'],
    ['an invalid issuer', { invalidIssuer: true }, 401, 'NAVET-TOKEN-ISSUER'],
    ['expired', { expired: true }, 401, 'NAVET-TOKEN-EXPIRED'],
    ['custom header typ', { header: { typ: 'JWT' } }, 401, 'NAVET-TOKEN-TYP'],
    ['custom header kid', { header: { kid: 'unknown-kid' } }, 401, 'NAVET-TOKEN-SIGNATURE'],
    ['without client claims', { withoutClientClaims: true }, 401, 'NAVET-TOKEN-CLIENT-CLAIMS'],
  ])('switch: %s', async (_label, switches, status, code) => {
    const res = await testToken({ attestation: koman(), switches });
    expect(res.status).toBe(200);
    expect(await guardVerdict(res.body.access_token)).toEqual([status, code]);
  });

  test('switch: without user claims — the guard then treats the practitioner as attested by the system', async () => {
    const attestation = koman();
    delete (attestation.practitioner as Record<string, unknown>).identifier;
    const withUser = await testToken({ user: { pid: '04056600324' }, attestation });
    expect(await guardVerdict(withUser.body.access_token)).toEqual([200, undefined]);
    const res = await testToken({ user: { pid: '04056600324' }, attestation, switches: { withoutUserClaims: true } });
    expect(decodeJwt(res.body.access_token)['helseid://claims/identity/pid']).toBeUndefined();
    expect(await guardVerdict(res.body.access_token)).toEqual([403, 'ATT-11']);
  });

  test.each([
    ['hpr_nr', 'ATT-29'],
    ['authorization', 'ATT-32'],
  ])('switch: attestation without %s is refused by rule %s', async (field, rule) => {
    const res = await testToken({ attestation: koman(), switches: { omitAttestationFields: [field] } });
    const attestation = decodeJwt(res.body.access_token)['nhn:tillitsrammeverk:parameters'] as {
      practitioner: Record<string, unknown>;
    };
    expect(attestation.practitioner[field]).toBeUndefined();
    expect(await guardVerdict(res.body.access_token)).toEqual([403, rule]);
  });

  test('switch: without healthcare_service and purpose_of_use_details → ATT-43; either alone is enough', async () => {
    const one = await testToken({ attestation: koman(), switches: { omitAttestationFields: ['healthcare_service'] } });
    expect(await guardVerdict(one.body.access_token)).toEqual([200, undefined]);
    const other = await testToken({
      attestation: koman(),
      switches: { omitAttestationFields: ['purpose_of_use_details'] },
    });
    expect(await guardVerdict(other.body.access_token)).toEqual([200, undefined]);
    const both = await testToken({
      attestation: koman(),
      switches: { omitAttestationFields: ['healthcare_service', 'purpose_of_use_details'] },
    });
    expect(await guardVerdict(both.body.access_token)).toEqual([403, 'ATT-43']);
  });

  test("switch: department and the patient's point of care and department are left out", async () => {
    const attestation = koman({
      patients: [
        {
          point_of_care: { id: '974589095', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
          department: { id: '109765', system: 'urn:oid:2.16.578.1.12.4.1.4.102' },
        },
      ],
    });
    (attestation.practitioner as Record<string, unknown>).department = {
      id: '705592',
      system: 'urn:oid:2.16.578.1.12.4.1.4.102',
    };
    const full = decodeJwt((await testToken({ attestation })).body.access_token)['nhn:tillitsrammeverk:parameters'] as {
      practitioner: Record<string, unknown>;
      patients: Record<string, unknown>[];
    };
    expect(full.practitioner.department).toBeDefined();
    expect(full.patients[0].point_of_care).toBeDefined();
    const res = await testToken({
      attestation,
      switches: { omitAttestationFields: ['department', 'patient.point_of_care', 'patient.department'] },
    });
    const trimmed = decodeJwt(res.body.access_token)['nhn:tillitsrammeverk:parameters'] as typeof full;
    expect(trimmed.practitioner.department).toBeUndefined();
    expect(trimmed.patients[0]).toEqual({});
    expect(await guardVerdict(res.body.access_token)).toEqual([200, undefined]);
  });

  test('an unknown switch field and an unknown client are refused', async () => {
    expect(
      (await testToken({ attestation: koman(), switches: { omitAttestationFields: ['shoe_size'] } })).body.error_code,
    ).toBe('NAVET-TEST-TOKEN-SWITCH');
    expect((await testToken({ clientId: 'nobody' })).body.error_code).toBe('NAVET-TEST-TOKEN-CLIENT');
  });

  test('the header of a normal test token is at+jwt RS256 with the sandbox key', async () => {
    const res = await testToken({});
    expect(decodeProtectedHeader(res.body.access_token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
  });
});
