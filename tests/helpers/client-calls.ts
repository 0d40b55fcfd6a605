import { makeDpopProof } from '../../src/trust/dpop-client';
import { getToken, type TokenResult } from './helseid-client';
import type { TestNavet } from './test-navet';

/** Calls of the national services as a real client makes them (DPoP token with the attestation). */

/** An ITI-67 document search as a real client sends it (DPoP token with the attestation). */
export async function pjdDocumentSearch(
  server: TestNavet,
  sandbox: string,
  baseUrl: string,
  options: { nin: string; details: unknown; clientId?: string; eventId?: string },
) {
  const token: TokenResult = await getToken(server.http, sandbox, {
    clientId: options.clientId,
    scope: 'nhn:phr/mhd/read-documentreferences',
    details: options.details,
    baseUrl,
  });
  if (token.status !== 200) throw new Error(`no token: ${JSON.stringify(token.body)}`);
  const path = `/sandboxes/${sandbox}/pjd/R4/fhir/DocumentReference/_search`;
  const proof = await makeDpopProof(token.dpopKey, {
    method: 'POST',
    url: `${baseUrl}${path}`,
    accessToken: token.body.access_token,
  });
  return server.http
    .post(path)
    .type('form')
    .set('Authorization', `DPoP ${token.body.access_token}`)
    .set('DPoP', proof)
    .set('nhn-source-system', 'Browser test EPJ')
    .set('nhn-event-id', options.eventId ?? `evt-${Date.now()}`)
    .send({ 'patient.identifier': options.nin });
}

/** A lab submits one report through PPS as the demo lab system does (DPoP token, transaction Bundle). */
export async function ppsSubmit(server: TestNavet, sandbox: string, baseUrl: string, bundle: unknown) {
  const token = await getToken(server.http, sandbox, {
    clientId: 'demo-lab-system',
    scope: 'navet:pps/submit-result',
    baseUrl,
  });
  if (token.status !== 200) throw new Error(`no token: ${JSON.stringify(token.body)}`);
  const path = `/sandboxes/${sandbox}/pps`;
  const proof = await makeDpopProof(token.dpopKey, {
    method: 'POST',
    url: `${baseUrl}${path}`,
    accessToken: token.body.access_token,
  });
  return server.http
    .post(path)
    .type('application/fhir+json')
    .set('Authorization', `DPoP ${token.body.access_token}`)
    .set('DPoP', proof)
    .send(bundle as object);
}
