import { makeDpopProof } from '../../src/trust/dpop-client';
import { getToken, type TokenResult } from './helseid-client';
import type { TestNavet } from './test-navet';

/** An ITI-67 document search as a real client sends it (DPoP token with the attestation). */
export async function pjdDocumentSearch(server: TestNavet, sandbox: string, baseUrl: string, options: { nin: string; details: unknown; clientId?: string; eventId?: string }) {
  const token: TokenResult = await getToken(server.http, sandbox, { clientId: options.clientId, scope: 'nhn:phr/mhd/read-documentreferences', details: options.details, baseUrl });
  if (token.status !== 200) throw new Error(`no token: ${JSON.stringify(token.body)}`);
  const path = `/sandboxes/${sandbox}/pjd/R4/fhir/DocumentReference/_search`;
  const proof = await makeDpopProof(token.dpopKey, { method: 'POST', url: `${baseUrl}${path}`, accessToken: token.body.access_token });
  return server.http.post(path).type('form').set('Authorization', `DPoP ${token.body.access_token}`).set('DPoP', proof)
    .set('nhn-source-system', 'Browser test EPJ').set('nhn-event-id', options.eventId ?? `evt-${Date.now()}`).send({ 'patient.identifier': options.nin });
}
