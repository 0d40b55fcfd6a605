import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { signClientAssertion } from '../trust/client-assertion-signer';
import { loadDemoClients } from '../trust/demo-clients';
import { makeDpopKey, makeDpopProof } from '../trust/dpop-client';
import { type LoadResult, runLoad } from './measure';
import type { NavetProcess } from './navet-process';

/**
 * What conformance recording costs the guarded path: a guarded no-op (token + DPoP) with no session in the
 * sandbox, and with a session recording that client, each beside a bare node:http server on the same machine.
 */
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

async function bareHttpServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-e', `require('node:http').createServer((q, s) => s.end('{"status":"ok"}')).listen(${port}, '127.0.0.1')`],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 50; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return child;
    } catch {
      /* not yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the bare node:http server did not start');
}

export async function conformanceBenchmarks(
  navet: NavetProcess,
  options: { connections: number; calls: number; rounds: number; barePort: number },
): Promise<LoadResult[]> {
  const { origin, engine } = navet;
  const name = `bench-cf-${Date.now().toString(36)}`;
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
  const issuer = `${origin}/sandboxes/${name}/helseid`;
  const tokenUrl = `${issuer}/connect/token`;
  const dpopKey = await makeDpopKey();
  const form = async () =>
    new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await signClientAssertion(client.privateJwk, client.clientId, issuer),
      scope: 'nhn:phr/mhd/read-documentreferences',
    }).toString();
  const first = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      DPoP: await makeDpopProof(dpopKey, { method: 'POST', url: tokenUrl }),
    },
    body: await form(),
  });
  const nonce = first.headers.get('dpop-nonce') ?? undefined;
  const issued = await fetch(tokenUrl, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      DPoP: await makeDpopProof(dpopKey, { method: 'POST', url: tokenUrl, nonce }),
    },
    body: await form(),
  });
  const accessToken = ((await issued.json()) as { access_token: string }).access_token;
  const pingPath = `/sandboxes/${name}/pjd/pingauth`;

  const guarded = async (label: string): Promise<{ result: LoadResult; perSecond: number }> => {
    const proofs: string[] = [];
    for (let i = 0; i < options.calls; i++)
      proofs.push(await makeDpopProof(dpopKey, { method: 'GET', url: `${origin}${pingPath}`, accessToken }));
    let p = 0;
    const started = Date.now();
    const result = await runLoad({
      name: `guarded no-op, ${label}`,
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
    });
    return { result, perSecond: Math.round(proofs.length / ((Date.now() - started) / 1000)) };
  };
  const sessions = `${origin}/api/sandboxes/${name}/conformance/sessions`;
  const admin = { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' };
  const bare = await bareHttpServer(options.barePort);
  const results: LoadResult[] = [];
  const rate: Record<'bare' | 'off' | 'on', number[]> = { bare: [], off: [], on: [] };
  let recorded = 0;
  try {
    // off and on alternate, so that a busy machine slows both alike; each beside a bare node:http figure
    for (let round = 0; round < options.rounds; round++) {
      process.stdout.write(`[${engine}] recording overhead, round ${round + 1} of ${options.rounds}…\n`);
      const started = Date.now();
      results.push(
        await runLoad({
          name: 'bare node:http (reference)',
          engine,
          url: `http://127.0.0.1:${options.barePort}/`,
          seconds: 0,
          connections: options.connections,
          amount: options.calls,
        }),
      );
      rate.bare.push(Math.round(options.calls / ((Date.now() - started) / 1000)));
      const off = await guarded('recording off');
      results.push(off.result);
      rate.off.push(off.perSecond);
      const opened = await fetch(sessions, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ clientId: client.clientId, profiles: ['helseid-client'] }),
      });
      const { id } = (await opened.json()) as { id: string };
      await new Promise((resolve) => setTimeout(resolve, 1100)); // the recorder's session cache
      const on = await guarded('recording on');
      results.push(on.result);
      rate.on.push(on.perSecond);
      recorded += (
        (await (await fetch(`${sessions}/${id}/finish`, { method: 'POST', headers: admin })).json()) as {
          session: { requests: number };
        }
      ).session.requests;
      await new Promise((resolve) => setTimeout(resolve, 1100));
    }
  } finally {
    bare.kill();
    await fetch(`${origin}/api/sandboxes/${name}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${adminKey}` },
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  process.stdout.write(
    `[${engine}] req/s per round — bare node:http ${rate.bare.join(', ')}; recording off ${rate.off.join(', ')}; recording on ${rate.on.join(', ')} (${recorded} requests recorded)\n`,
  );
  process.stdout.write(
    `[${engine}] recording overhead on the guarded path: ${(100 * (1 - median(rate.on) / median(rate.off))).toFixed(1)} % (median ${median(rate.off)} → ${median(rate.on)} req/s; bare node:http ${median(rate.bare)} req/s)\n`,
  );
  return results;
}
