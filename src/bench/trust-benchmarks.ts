import path from 'node:path';
import { signClientAssertion } from '../trust/client-assertion-signer';
import { demoAttestation } from '../trust/demo-attestation';
import { loadDemoClients } from '../trust/demo-clients';
import { makeDpopKey, makeDpopProof } from '../trust/dpop-client';
import { formatLoad, type LoadResult, runLoad } from './measure';
import type { NavetProcess } from './navet-process';

/**
 * The trust framework under load: tokens issued per second (client_credentials with private_key_jwt and
 * DPoP), and the guard's cost (a guarded no-op endpoint against an unguarded one). Assertions and proofs
 * are single-use, so they are signed before each run and the run stops after that many requests.
 */
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const PJD_READ = 'nhn:phr/mhd/read-documentreferences';

export async function trustBenchmarks(
  navet: NavetProcess,
  options: { connections: number; tokens: number; guardedCalls: number },
): Promise<LoadResult[]> {
  const { origin, engine } = navet;
  const name = `bench-trust-${Date.now().toString(36)}`;
  const created = await fetch(`${origin}/api/sandboxes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, seed: 'fixtures', generator: { syntheticPatients: 0 } }),
  });
  const adminKey = ((await created.json()) as { adminKey: string }).adminKey;
  const client = loadDemoClients(path.join(__dirname, '..', '..', 'fixtures', 'demo')).find(
    (c) => c.clientId === 'demo-hospital-system',
  );
  if (!client) throw new Error('demo-hospital-system is missing from the fixtures');
  const publicIssuer = `${origin}/sandboxes/${name}/helseid`;
  const tokenPath = `/sandboxes/${name}/helseid/connect/token`;
  const tokenUrl = `${publicIssuer}/connect/token`;
  const dpopKey = await makeDpopKey();
  const first = await fetch(`${origin}${tokenPath}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      DPoP: await makeDpopProof(dpopKey, { method: 'POST', url: tokenUrl }),
    },
    body: 'grant_type=client_credentials',
  });
  const nonce = first.headers.get('dpop-nonce') ?? undefined;

  process.stdout.write(`[${engine}] signing ${options.tokens} client assertions and DPoP proofs…\n`);
  const tokenBodies: { body: string; proof: string }[] = [];
  for (let i = 0; i < options.tokens; i++) {
    const assertion = await signClientAssertion(client.privateJwk, client.clientId, publicIssuer, {
      extraClaims: { assertion_details: [demoAttestation()] },
    });
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
      scope: PJD_READ,
    }).toString();
    tokenBodies.push({ body, proof: await makeDpopProof(dpopKey, { method: 'POST', url: tokenUrl, nonce }) });
  }
  let t = 0;
  const results: LoadResult[] = [];
  results.push(
    await runLoad({
      name: 'token (client_credentials + DPoP)',
      engine,
      url: origin,
      seconds: 0,
      connections: options.connections,
      amount: tokenBodies.length,
      requests: [
        {
          method: 'POST',
          setupRequest: (req) => {
            const next = tokenBodies[t++ % tokenBodies.length];
            return {
              ...req,
              path: tokenPath,
              body: next.body,
              headers: { ...req.headers, 'content-type': 'application/x-www-form-urlencoded', dpop: next.proof },
            };
          },
        },
      ],
    }),
  );

  const lastToken = await fetch(`${origin}${tokenPath}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      DPoP: await makeDpopProof(dpopKey, { method: 'POST', url: tokenUrl, nonce }),
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await signClientAssertion(client.privateJwk, client.clientId, publicIssuer, {
        extraClaims: { assertion_details: [demoAttestation()] },
      }),
      scope: PJD_READ,
    }).toString(),
  });
  const accessToken = ((await lastToken.json()) as { access_token: string }).access_token;
  const pingPath = `/sandboxes/${name}/pjd/pingauth`;
  const pingUrl = `${origin}${pingPath}`;
  process.stdout.write(`[${engine}] signing ${options.guardedCalls} DPoP proofs for the guarded endpoint…\n`);
  const proofs: string[] = [];
  for (let i = 0; i < options.guardedCalls; i++)
    proofs.push(await makeDpopProof(dpopKey, { method: 'GET', url: pingUrl, accessToken }));
  let p = 0;
  results.push(
    await runLoad({
      name: 'guarded no-op (token + DPoP + rules)',
      engine,
      url: origin,
      seconds: 0,
      connections: options.connections,
      amount: proofs.length,
      requests: [
        {
          method: 'GET',
          setupRequest: (req) => ({
            ...req,
            path: pingPath,
            headers: { ...req.headers, authorization: `DPoP ${accessToken}`, dpop: proofs[p++ % proofs.length] },
          }),
        },
      ],
    }),
  );
  results.push(
    await runLoad({
      name: 'unguarded no-op',
      engine,
      url: `${origin}/sandboxes/${name}/pjd/ping`,
      seconds: 0,
      connections: options.connections,
      amount: proofs.length,
    }),
  );
  await fetch(`${origin}/api/sandboxes/${name}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer ${adminKey}` },
  });
  for (const r of results) process.stdout.write(`${formatLoad(r)}\n`);
  return results;
}
