import { generateKeyPair, exportJWK, SignJWT } from 'jose';
import { withoutCredentials } from '../../src/conformance/credentials';

/** What a recording keeps of a body: never a usable token, proof or private key, at any depth. */
describe('withoutCredentials', () => {
  it("hashes the v2 test-token service's nested token, proof and private key (HelseID TestTokenDemo shapes)", async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwt = await new SignJWT({ client_id: 'c1' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const privateJwk = JSON.stringify(await exportJWK(privateKey));
    const answer = { isError: false, successResponse: { accessTokenJwt: jwt, dPoPProof: jwt } };
    const request = {
      audience: 'nhn:kjernejournal',
      dPoPProofParameters: { privateKeyForProofCreation: privateJwk, htuClaimValue: 'https://x' },
      list: [jwt],
    };
    const kept = JSON.stringify([withoutCredentials(answer), withoutCredentials(request)]);
    expect(kept).not.toContain(jwt.split('.')[2]);
    expect(kept).not.toContain(privateJwk);
    expect(kept).not.toContain('"d":');
    expect(kept).toContain('"htuClaimValue":"https://x"');
    expect(
      (withoutCredentials(answer) as { successResponse: { accessTokenJwt: { claims: unknown } } }).successResponse
        .accessTokenJwt.claims,
    ).toEqual({ client_id: 'c1' });
  });

  it('keeps FHIR codes and other plain values as they are', () => {
    const bundle = {
      resourceType: 'Bundle',
      entry: [{ resource: { type: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'J01-2' }] } } }],
    };
    expect(withoutCredentials(bundle)).toEqual(bundle);
  });
});
