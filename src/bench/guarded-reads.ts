import type autocannon from 'autocannon';
import { isValidPersonId } from '../services/lab-results/pps-request';
import { signClientAssertion } from '../trust/client-assertion-signer';
import { demoAttestation } from '../trust/demo-attestation';
import { type DpopKey, makeDpopKey, makeDpopProof } from '../trust/dpop-client';
import type { SampleAnswer } from './bare-server';
import type { NavetProcess } from './navet-process';
import { callJson, demoHospitalClient, dpopToken } from './pjd-benchmarks';

/**
 * The load cases of `npm run bench`: each is one kind of request through Navet, measured against a bare
 * node:http server answering the bytes Navet answered. A case signs its own single-use requests (DPoP
 * proofs, client assertions) just before each round. To measure something new, add a case to LOAD_CASES.
 */
export interface BenchSandbox {
  name: string;
  adminKey: string;
  /** Fødselsnumre of the sandbox's synthetic patients. */
  fnrs: string[];
}

export interface LoadCase {
  name: string;
  /** The figure the issue aims at, in requests per second on SQLite and on PostgreSQL. */
  target?: { sqlite: number; postgres: number };
  /** Gets what the case needs once; answers the maker of `count` fresh requests. */
  setup(navet: NavetProcess, sandbox: BenchSandbox): Promise<(count: number) => Promise<autocannon.Request[]>>;
}

const FULL_CHAIN = { sqlite: 2000, postgres: 1500 };
const FORM = 'application/x-www-form-urlencoded';

/** A guarded request to one path: a new DPoP proof each, the rest from `vary(i)`. */
function guardedRequests(
  origin: string,
  token: string,
  key: DpopKey,
  method: 'GET' | 'POST',
  path: string,
  vary: (i: number) => Pick<autocannon.Request, 'body' | 'headers'>,
) {
  let next = 0;
  return async (count: number): Promise<autocannon.Request[]> => {
    const requests: autocannon.Request[] = [];
    for (let i = 0; i < count; i++) {
      const proof = await makeDpopProof(key, { method, url: `${origin}${path}`, accessToken: token });
      const { body, headers } = vary(next++);
      requests.push({
        method,
        path,
        body,
        headers: { ...headers, authorization: `DPoP ${token}`, dpop: proof, 'nhn-source-system': 'bench' },
      });
    }
    return requests;
  };
}

const kjRead: LoadCase = {
  name: 'KJ GET /AllergyIntolerance',
  target: FULL_CHAIN,
  async setup({ origin }, sandbox) {
    const key = await makeDpopKey();
    const token = await dpopToken(origin, sandbox.name, 'nhn:kjernejournal/api', key);
    return guardedRequests(
      origin,
      token,
      key,
      'GET',
      `/sandboxes/${sandbox.name}/critical-information/AllergyIntolerance`,
      (i) => ({ headers: { 'nhn-patient-nin': sandbox.fnrs[i % sandbox.fnrs.length] } }),
    );
  },
};

const pjdSearch: LoadCase = {
  name: 'PJD ITI-67 DocumentReference search',
  target: FULL_CHAIN,
  async setup({ origin }, sandbox) {
    const key = await makeDpopKey();
    const token = await dpopToken(origin, sandbox.name, 'nhn:phr/mhd/read-documentreferences', key);
    return guardedRequests(
      origin,
      token,
      key,
      'POST',
      `/sandboxes/${sandbox.name}/pjd/R4/fhir/DocumentReference/_search`,
      (i) => ({
        body: `patient.identifier=${sandbox.fnrs[i % sandbox.fnrs.length]}`,
        headers: { 'content-type': FORM },
      }),
    );
  },
};

const sfmGetMedication: LoadCase = {
  name: 'SFM $getMedication',
  target: FULL_CHAIN,
  async setup({ origin }, sandbox) {
    const key = await makeDpopKey();
    const token = await dpopToken(origin, sandbox.name, 'e-helse:sfm.api/sfm.api2', key);
    return guardedRequests(
      origin,
      token,
      key,
      'POST',
      `/sandboxes/${sandbox.name}/sfm/Patient/$getMedication`,
      (i) => ({
        headers: { 'content-type': 'application/fhir+json' },
        body: JSON.stringify({
          resourceType: 'Parameters',
          parameter: [
            {
              name: 'patient',
              resource: {
                resourceType: 'Patient',
                identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: sandbox.fnrs[i % sandbox.fnrs.length] }],
              },
            },
            { name: 'SamtykkeKjernejournal', valueCoding: { code: 'HPMOTTATTSAMTYKKE' } },
          ],
        }),
      }),
    );
  },
};

const ppsSearch: LoadCase = {
  name: 'PPS DiagnosticReport 12 months + specimens',
  target: FULL_CHAIN,
  async setup({ origin }, sandbox) {
    const key = await makeDpopKey();
    const token = await dpopToken(origin, sandbox.name, 'nhn:pps/provesvar-read', key);
    const since = new Date(Date.now() - 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const body = new URLSearchParams([
      ['date', `ge${since}`],
      ['_include', 'DiagnosticReport:specimen'],
    ]).toString();
    // PPS refuses a fixture test person whose check digits are wrong, as it must refuse any non-FNR
    const fnrs = sandbox.fnrs.filter(isValidPersonId);
    return guardedRequests(
      origin,
      token,
      key,
      'POST',
      `/sandboxes/${sandbox.name}/pps/DiagnosticReport/_search`,
      (i) => ({ body, headers: { 'content-type': FORM, 'person-id': fnrs[i % fnrs.length] } }),
    );
  },
};

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const tokens: LoadCase = {
  name: 'tokens issued (client_credentials + DPoP + attestation)',
  target: { sqlite: 1000, postgres: 1000 },
  async setup({ origin }, sandbox) {
    const client = demoHospitalClient();
    const issuer = `${origin}/sandboxes/${sandbox.name}/helseid`;
    const path = `/sandboxes/${sandbox.name}/helseid/connect/token`;
    const key = await makeDpopKey();
    const first = await fetch(`${issuer}/connect/token`, {
      method: 'POST',
      headers: {
        'Content-Type': FORM,
        DPoP: await makeDpopProof(key, { method: 'POST', url: `${issuer}/connect/token` }),
      },
      body: 'grant_type=client_credentials',
    });
    const nonce = first.headers.get('dpop-nonce') ?? undefined;
    return async (count) => {
      const requests: autocannon.Request[] = [];
      for (let i = 0; i < count; i++) {
        const assertion = await signClientAssertion(client.privateJwk, client.clientId, issuer, {
          extraClaims: { assertion_details: [demoAttestation()] },
        });
        const body = new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: assertion,
          scope: 'nhn:phr/mhd/read-documentreferences',
        }).toString();
        requests.push({
          method: 'POST',
          path,
          body,
          headers: {
            'content-type': FORM,
            dpop: await makeDpopProof(key, { method: 'POST', url: `${issuer}/connect/token`, nonce }),
          },
        });
      }
      return requests;
    };
  },
};

const healthz: LoadCase = {
  name: 'Navet /healthz (no guard)',
  async setup() {
    return async (count) => Array.from({ length: count }, () => ({ method: 'GET' as const, path: '/healthz' }));
  },
};

export const LOAD_CASES: LoadCase[] = [healthz, kjRead, pjdSearch, sfmGetMedication, ppsSearch, tokens];

/** One request sent as the load will send it, answered in full: what the bare server must answer. */
export async function sampleAnswer(origin: string, request: autocannon.Request): Promise<SampleAnswer> {
  const res = await fetch(`${origin}${request.path}`, {
    method: request.method ?? 'GET',
    headers: request.headers as Record<string, string>,
    body: request.body as string | undefined,
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status >= 300)
    throw new Error(`${request.method} ${request.path} → ${res.status} ${body.toString().slice(0, 500)}`);
  return { status: res.status, contentType: res.headers.get('content-type') ?? 'application/octet-stream', body };
}

/** The sandbox the load cases share: the fixtures plus NAVET_BENCH_PATIENTS synthetic patients with documents and lab reports. */
export async function createBenchSandbox(origin: string, patients: number): Promise<BenchSandbox> {
  const name = `bench-${Date.now().toString(36)}`;
  const today = new Date().toISOString().slice(0, 10);
  // a seeded sandbox is built in the background: wait for it (RFC 7240)
  const { adminKey } = (await callJson(
    'POST',
    `${origin}/api/sandboxes`,
    { name, seed: 'fixtures', generator: { syntheticPatients: patients, referenceDate: today } },
    { Prefer: 'wait' },
  )) as { adminKey: string };
  const page = await callJson('GET', `${origin}/sandboxes/${name}/fhir/Patient?_count=1000&_total=none`, undefined, {
    Authorization: `Bearer ${adminKey}`,
  });
  const fnrs = (page.entry as { resource: { identifier?: { value: string }[] } }[])
    .map((e) => e.resource.identifier?.[0]?.value)
    .filter((v): v is string => !!v && /^\d{11}$/.test(v));
  return { name, adminKey, fnrs };
}
