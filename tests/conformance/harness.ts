import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Server } from 'node:http';
import supertest from 'supertest';
import { ReferenceVendor, type VendorOptions } from '../../src/clients/reference-vendor';
import type { ConformanceReport } from '../../src/conformance/grade';
import { CHALLENGES, challengesFor } from '../../src/conformance/challenges';
import { PROFILES } from '../../src/conformance/requirement';
import { demoAttestation } from '../../src/trust/demo-attestation';
import { createSandbox, freePort, startTestNavet, type TestNavet } from '../helpers/test-navet';

/**
 * A vendor at Navet, as in CI: a listening Navet, a sandbox with the vendor's registered client, a session
 * with every profile and every challenge armed, the vendor's client run against it, the report.
 */
export interface VendorSandbox {
  server: TestNavet;
  listening: Server;
  url: string;
  sandbox: { name: string; auth: string };
  clientId: string;
  privateJwk: JWK;
  close(): Promise<void>;
}

export const VENDOR_SCOPES = [
  'nhn:phr/mhd/read-documentreferences',
  'nhn:phr/mhd/read-document',
  'navet:pjd/provide-document',
  'nhn:kjernejournal/api',
  'e-helse:sfm.api/sfm.api2',
  'e-helse:sfm.api/sfm.api',
  'nhn:pps/provesvar-read',
  'navet:pps/submit-result',
];

export async function vendorSandbox(): Promise<VendorSandbox> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startTestNavet({ NAVET_BASE_URL: url });
  const listening = await new Promise<Server>((resolve) => {
    const s = server.navet.app.listen(port, '127.0.0.1', () => resolve(s));
  });
  const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = 'reference-epj-1';
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
  const clientId = 'reference-epj';
  const registered = await server.http
    .post(`/api/sandboxes/${sandbox.name}/clients`)
    .set('Authorization', sandbox.auth)
    .send({
      clientId,
      name: 'Referanse-EPJ',
      jwks: { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] },
      scopes: VENDOR_SCOPES,
      organization: { parent: '993467049', child: '874716782' },
      tenancy: 'single-tenant',
      dpop: true,
    });
  if (registered.status !== 201)
    throw new Error(`registering the vendor client failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  return {
    server,
    listening,
    url,
    sandbox,
    clientId,
    privateJwk,
    close: async () => {
      await new Promise((resolve) => listening.close(resolve));
      await server.close();
    },
  };
}

export const ALL_CHALLENGES = CHALLENGES.map((c) => c.name);

/** Opens a session, arms the challenges, runs the vendor's client, finishes; answers the report. */
export async function gradeVendor(
  v: VendorSandbox,
  make: (options: VendorOptions) => ReferenceVendor,
  profiles: readonly string[] = PROFILES,
  challenges: readonly string[] = ALL_CHALLENGES,
): Promise<ConformanceReport> {
  const http = supertest(v.listening);
  const sessions = `/api/sandboxes/${v.sandbox.name}/conformance/sessions`;
  const opened = await http
    .post(sessions)
    .set('Authorization', v.sandbox.auth)
    .send({ clientId: v.clientId, profiles, label: 'test' });
  if (opened.status !== 201) throw new Error(`opening the session failed: ${JSON.stringify(opened.body)}`);
  const id = opened.body.id as string;
  for (const challenge of challenges.filter((c) => challengesFor(profiles).some((d) => d.name === c))) {
    const armed = await http
      .post(`${sessions}/${id}/challenges`)
      .set('Authorization', v.sandbox.auth)
      .send({ challenge });
    if (armed.status !== 201) throw new Error(`arming ${challenge} failed: ${JSON.stringify(armed.body)}`);
  }
  const vendor = make({
    navetUrl: v.url,
    sandbox: v.sandbox.name,
    clientId: v.clientId,
    privateJwk: v.privateJwk,
    attestation: demoAttestation(),
    report: async (challenge, values) => {
      await http
        .post(`${sessions}/${id}/observations`)
        .set('Authorization', v.sandbox.auth)
        .send({ challenge, ...values });
    },
  });
  await vendor.run(profiles);
  const finished = await http.post(`${sessions}/${id}/finish`).set('Authorization', v.sandbox.auth);
  if (finished.status !== 200) throw new Error(`finishing failed: ${JSON.stringify(finished.body)}`);
  return finished.body as ConformanceReport;
}

export const statusesOf = (report: ConformanceReport) =>
  Object.fromEntries(report.results.map((r) => [r.requirement, r.status]));
export const notPassed = (report: ConformanceReport) =>
  report.results
    .filter((r) => r.verification !== 'declaration' && r.status !== 'pass' && r.status !== 'omit')
    .map((r) => `${r.requirement}: ${r.status}: ${r.message} ${JSON.stringify(r.evidence)}`);
