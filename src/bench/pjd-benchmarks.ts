import { request } from 'node:http';
import path from 'node:path';
import { renderPdf } from '../services/documents/document-pdf';
import { signClientAssertion } from '../trust/client-assertion-signer';
import { demoAttestation } from '../trust/demo-attestation';
import { loadDemoClients } from '../trust/demo-clients';
import { type DpopKey, makeDpopKey, makeDpopProof } from '../trust/dpop-client';
import type autocannon from 'autocannon';
import { formatLoad, formatTiming, type LoadResult, runInRounds, time, type TimingResult } from './measure';
import type { NavetProcess } from './navet-process';

/**
 * Document sharing under load, through the whole chain (token + DPoP + attestation rules + access log):
 * ITI-67 searches on a sandbox of NAVET_BENCH_PJD_PATIENTS patients (10,000) with
 * NAVET_BENCH_PJD_DOCUMENTS documents each (20), and ITI-68 retrievals of a 100 kB PDF.
 */
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Proofs are signed per round and used within a minute (their lifetime here is 60 s). */
const ROUND_SIZE = 500;

/** A JSON call without fetch's 5-minute header timeout: seeding a large sandbox takes longer. */
export function callJson(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if ((res.statusCode ?? 500) >= 300) reject(new Error(`${method} ${url} → ${res.statusCode} ${text}`));
        else resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      });
    });
    req.setTimeout(0);
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The demo hospital's client (its private key included), as the fixtures register it. */
export function demoHospitalClient(): ReturnType<typeof loadDemoClients>[number] {
  const client = loadDemoClients(path.join(__dirname, '..', '..', 'fixtures', 'demo')).find(
    (c) => c.clientId === 'demo-hospital-system',
  );
  if (!client) throw new Error('demo-hospital-system is missing from the fixtures');
  return client;
}

export async function dpopToken(origin: string, sandbox: string, scope: string, key: DpopKey): Promise<string> {
  const client = demoHospitalClient();
  const issuer = `${origin}/sandboxes/${sandbox}/helseid`;
  const send = async (nonce?: string) =>
    fetch(`${issuer}/connect/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        DPoP: await makeDpopProof(key, { method: 'POST', url: `${issuer}/connect/token`, nonce }),
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        scope,
        client_assertion: await signClientAssertion(client.privateJwk, client.clientId, issuer, {
          extraClaims: { assertion_details: [demoAttestation()] },
        }),
      }).toString(),
    });
  let res = await send();
  if (res.status === 400) res = await send(res.headers.get('dpop-nonce') ?? undefined);
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no token for ${scope}: ${JSON.stringify(body)}`);
  return body.access_token;
}

export async function pjdBenchmarks(
  navet: NavetProcess,
  options: { connections: number; calls: number },
): Promise<{ loads: LoadResult[]; timings: TimingResult[] }> {
  const { origin, engine } = navet;
  const patients = Number(process.env.NAVET_BENCH_PJD_PATIENTS ?? 10000);
  const documents = Number(process.env.NAVET_BENCH_PJD_DOCUMENTS ?? 20);
  const name = `bench-pjd-${Date.now().toString(36)}`;
  process.stdout.write(`[${engine}] seeding a sandbox of ${patients} patients with ${documents} documents each…\n`);
  let adminKey = '';
  const timings = [
    await time(`create sandbox, ${patients} × ${documents} documents`, engine, 1, async () => {
      adminKey = (
        await callJson('POST', `${origin}/api/sandboxes`, {
          name,
          seed: 'fixtures',
          generator: { syntheticPatients: patients, documentsPerPatient: documents },
        })
      ).adminKey as string;
    }),
  ];
  const admin = { Authorization: `Bearer ${adminKey}` };
  const page = await callJson(
    'GET',
    `${origin}/sandboxes/${name}/fhir/Patient?_count=1000&_total=none`,
    undefined,
    admin,
  );
  const fnrs = (page.entry as { resource: { identifier?: { value: string }[] } }[])
    .map((e) => e.resource.identifier?.[0]?.value)
    .filter((v): v is string => !!v);

  const key = await makeDpopKey();
  const pjd = `/sandboxes/${name}/pjd`;
  const searchToken = await dpopToken(origin, name, 'nhn:phr/mhd/read-documentreferences', key);
  const rounds = Math.max(1, Math.ceil(options.calls / ROUND_SIZE));
  process.stdout.write(`[${engine}] ITI-67: ${rounds} rounds of ${ROUND_SIZE} searches, proofs signed before each…\n`);
  let patient = 0;
  const searchUrl = `${origin}${pjd}/R4/fhir/DocumentReference/_search`;
  const loads: LoadResult[] = [
    await runInRounds(
      { name: `ITI-67 search, ${documents} docs/patient`, engine, url: origin, connections: options.connections },
      rounds,
      async () => {
        const requests: autocannon.Request[] = [];
        for (let i = 0; i < ROUND_SIZE; i++) {
          const proof = await makeDpopProof(key, { method: 'POST', url: searchUrl, accessToken: searchToken });
          const body = `patient.identifier=${fnrs[patient++ % fnrs.length]}`;
          requests.push({
            method: 'POST',
            path: `${pjd}/R4/fhir/DocumentReference/_search`,
            body,
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: `DPoP ${searchToken}`,
              dpop: proof,
              'nhn-source-system': 'bench',
            },
          });
        }
        return requests;
      },
    ),
  ];

  // a 100 kB PDF published through ITI-65, then retrieved through ITI-68
  const pdf = await renderPdf({
    title: 'Epikrise (benchmark)',
    header: ['Benchmark'],
    paragraphs: ['Stor epikrise.'],
    date: '2026-01-01T00:00:00Z',
    minimumBytes: 100_000,
  });
  const publishToken = await dpopToken(origin, name, 'navet:pjd/provide-document', key);
  const published = await fetch(`${origin}${pjd}/R4/fhir`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/fhir+json',
      Authorization: `DPoP ${publishToken}`,
      DPoP: await makeDpopProof(key, { method: 'POST', url: `${origin}${pjd}/R4/fhir`, accessToken: publishToken }),
      'nhn-source-system': 'bench',
    },
    body: JSON.stringify({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:00000000-0000-4000-8000-00000000000a',
          resource: { resourceType: 'List', status: 'current', mode: 'working' },
        },
        {
          fullUrl: 'urn:uuid:00000000-0000-4000-8000-00000000000b',
          resource: {
            resourceType: 'DocumentReference',
            status: 'current',
            subject: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: fnrs[0] } },
            category: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A00-1' }] }],
            type: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A03-2' }] },
            content: [
              {
                attachment: { url: 'urn:uuid:00000000-0000-4000-8000-00000000000c', title: 'Epikrise (benchmark)' },
                format: { code: 'urn:no:ehelse:document:pdf' },
              },
            ],
          },
        },
        {
          fullUrl: 'urn:uuid:00000000-0000-4000-8000-00000000000c',
          resource: {
            resourceType: 'Binary',
            contentType: 'application/pdf',
            data: Buffer.from(pdf).toString('base64'),
          },
        },
      ],
    }),
  });
  const location = ((await published.json()) as { entry?: { response: { location: string } }[] }).entry?.[1]?.response
    .location;
  if (!location) throw new Error('publishing the benchmark document failed');
  const document = await callJson(
    'GET',
    `${origin}/sandboxes/${name}/fhir/DocumentReference/${location.split('/DocumentReference/')[1].split('/')[0]}`,
    undefined,
    admin,
  );
  const retrievePath = `${pjd}/${(document.content as { attachment: { url: string } }[])[0].attachment.url}`;
  const readToken = await dpopToken(origin, name, 'nhn:phr/mhd/read-document', key);
  process.stdout.write(`[${engine}] ITI-68: ${rounds} rounds of ${ROUND_SIZE} retrievals…\n`);
  loads.push(
    await runInRounds(
      {
        name: `ITI-68 retrieve, ${Math.round(pdf.length / 1000)} kB PDF`,
        engine,
        url: origin,
        connections: options.connections,
      },
      rounds,
      async () => {
        const requests: autocannon.Request[] = [];
        for (let i = 0; i < ROUND_SIZE; i++) {
          const proof = await makeDpopProof(key, {
            method: 'GET',
            url: `${origin}${pjd}/mhd/document`,
            accessToken: readToken,
          });
          requests.push({
            method: 'GET',
            path: retrievePath,
            headers: {
              authorization: `DPoP ${readToken}`,
              dpop: proof,
              'nhn-source-system': 'bench',
              'nhn-patient-nin': fnrs[0],
            },
          });
        }
        return requests;
      },
    ),
  );
  await callJson('DELETE', `${origin}/api/sandboxes/${name}`, undefined, admin);
  for (const l of loads) process.stdout.write(`${formatLoad(l)}\n`);
  for (const t of timings) process.stdout.write(`${formatTiming(t)}\n`);
  return { loads, timings };
}
