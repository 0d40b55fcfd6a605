import type supertest from 'supertest';
import { type AssertionOptions, signClientAssertion } from '../../src/trust/client-assertion-signer';
import { makeDpopKey, makeDpopProof } from '../../src/trust/dpop-client';
import { demoAttestation } from '../../src/trust/demo-attestation';
import { loadDemoClients } from '../../src/trust/demo-clients';
import { TEST_BASE_URL } from './test-navet';
import path from 'node:path';
import type { JWK } from 'jose';

/** A vendor's side of the trust framework, for tests: client assertions, DPoP proofs, the nonce round-trip. */
export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const demoClients = loadDemoClients(path.resolve(__dirname, '..', '..', 'fixtures', 'demo'));
export const demoClient = (id: string) => {
  const client = demoClients.find((c) => c.clientId === id);
  if (!client) throw new Error(`no demo client ${id}`);
  return client;
};

export type { AssertionOptions };
export const clientAssertion = signClientAssertion;

/** The attestation of Magnar Koman (LE, HPR 9144900) at Rikshospitalet, as a real client sends it. */
export const koman = demoAttestation;

/** The attestation of the GP Grønn Vits (LE, HPR 565501872) at Fagersta Testlegekontor, or at another office. */
export const vits = (legal = '100100673', pointOfCare = legal) =>
  koman({
    practitioner: {
      identifier: { id: '05898597468', system: 'urn:oid:2.16.578.1.12.4.1.4.1', authority: 'Skatteetaten' },
      hpr_nr: { id: '565501872', system: 'urn:oid:2.16.578.1.12.4.1.4.4' },
      authorization: { code: 'LE', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
      legal_entity: { id: legal, system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
      point_of_care: { id: pointOfCare, system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
    },
  });

/** An attestation of Magnar Koman for a client's own organisation (legal_entity = its parent, ATT-13). */
export function attestationFor(clientId: string): Record<string, unknown> {
  const { parent, child } = demoClient(clientId).config.organization as { parent: string; child?: string };
  const base = koman();
  return {
    ...base,
    practitioner: {
      ...(base.practitioner as object),
      legal_entity: { id: parent, system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
      point_of_care: { id: child ?? parent, system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
    },
  };
}

export interface TokenResult {
  status: number;
  body: Record<string, string>;
  headers: Record<string, string>;
  dpopKey: Awaited<ReturnType<typeof makeDpopKey>>;
}

/**
 * client_credentials with DPoP the way a vendor does it: the first request gets use_dpop_nonce, the
 * retry carries the nonce (and a fresh assertion).
 */
export async function getToken(
  http: ReturnType<typeof supertest>,
  sandbox: string,
  options: {
    clientId?: string;
    scope: string;
    resource?: string;
    details?: unknown;
    assertion?: AssertionOptions;
    dpop?: boolean;
    privateJwk?: JWK;
    baseUrl?: string;
  },
): Promise<TokenResult> {
  // a client registered in the test signs with the key it names; a demo client with its fixture key
  const client = options.privateJwk
    ? { clientId: options.clientId as string, privateJwk: options.privateJwk }
    : demoClient(options.clientId ?? 'demo-hospital-system');
  const issuer = `${options.baseUrl ?? TEST_BASE_URL}/sandboxes/${sandbox}/helseid`;
  const tokenUrl = `${issuer}/connect/token`;
  const dpopKey = await makeDpopKey();
  const send = async (nonce?: string) => {
    const assertion = await clientAssertion(client.privateJwk, client.clientId, issuer, {
      ...options.assertion,
      extraClaims: {
        ...(options.details ? { assertion_details: options.details } : {}),
        ...options.assertion?.extraClaims,
      },
    });
    let request = http.post(`/sandboxes/${sandbox}/helseid/connect/token`).type('form');
    if (options.dpop !== false)
      request = request.set('DPoP', await makeDpopProof(dpopKey, { method: 'POST', url: tokenUrl, nonce }));
    return request.send({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
      scope: options.scope,
      ...(options.resource ? { resource: options.resource } : {}),
    });
  };
  let res = await send();
  if (res.status === 400 && res.body.error === 'use_dpop_nonce') res = await send(res.headers['dpop-nonce']);
  return { status: res.status, body: res.body, headers: res.headers as Record<string, string>, dpopKey };
}

/** Calls a guarded endpoint with a DPoP-bound token and a fresh proof. */
export async function callWithDpop(
  http: ReturnType<typeof supertest>,
  path: string,
  token: string,
  dpopKey: TokenResult['dpopKey'],
  method = 'GET',
) {
  const proof = await makeDpopProof(dpopKey, {
    method,
    url: `${TEST_BASE_URL}${path.split('?')[0]}`,
    accessToken: token,
  });
  return http.get(path).set('Authorization', `DPoP ${token}`).set('DPoP', proof);
}
