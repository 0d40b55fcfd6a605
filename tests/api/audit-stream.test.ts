import type { Server } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { FNR_SYSTEM, GRY_TELOKK, HARRY_HANDEL, LINE_DANSER } from '../helpers/documents';
import { koman } from '../helpers/helseid-client';
import { pjdDocumentSearch } from '../helpers/client-calls';
import { createSandbox, freePort, startTestNavet, type TestNavet } from '../helpers/test-navet';

/** GET /api/sandboxes/{name}/audit/stream: the access log as server-sent events, over a listening server. */
let server: TestNavet;
let listening: Server;
let origin: string;
let sandbox: { name: string; auth: string };

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = await startTestNavet({ NAVET_BASE_URL: origin });
  listening = server.navet.app.listen(port, '127.0.0.1');
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
});
afterAll(async () => {
  listening.closeAllConnections();
  await new Promise((resolve) => listening.close(resolve));
  await server.close();
});

/** Opens the stream; `next(predicate)` waits for the first event (seen before or after) that matches. */
async function openStream(query: string) {
  const abort = new AbortController();
  const response = await fetch(`${origin}/api/sandboxes/${sandbox.name}/audit/stream${query}`, {
    headers: { Authorization: sandbox.auth },
    signal: abort.signal,
  });
  const events: EventSourceMessage[] = [];
  const waiting: { match: (e: EventSourceMessage) => boolean; resolve: (e: EventSourceMessage) => void }[] = [];
  const parser = createParser({
    onEvent: (event) => {
      events.push(event);
      for (const w of waiting.filter((w) => w.match(event))) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(event);
      }
    },
  });
  const reading = (async () => {
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } catch {
      // aborted
    }
  })();
  const next = (match: (e: EventSourceMessage) => boolean, timeoutMs = 10_000) =>
    new Promise<EventSourceMessage>((resolve, reject) => {
      const seen = events.find(match);
      if (seen) return resolve(seen);
      const timer = setTimeout(
        () => reject(new Error(`no matching event in ${timeoutMs} ms; got ${events.map((e) => e.event).join(', ')}`)),
        timeoutMs,
      );
      waiting.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  return {
    response,
    events,
    next,
    close: async () => {
      abort.abort();
      await reading;
    },
  };
}

const patientOf = (event: EventSourceMessage) =>
  (
    JSON.parse(event.data) as { entity: { role?: { code: string }; what?: { identifier?: { value: string } } }[] }
  ).entity.find((e) => e.role?.code === '1')?.what?.identifier?.value;

test('the stream sends the newest entries, then each new one as a service writes it, filtered by patient', async () => {
  await pjdDocumentSearch(server, sandbox.name, origin, {
    nin: HARRY_HANDEL,
    details: [koman()],
    eventId: 'evt-before',
  });
  const stream = await openStream(`?patient=${LINE_DANSER}`);
  try {
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const ready = await stream.next((e) => e.event === 'ready');
    expect(JSON.parse(ready.data)).toEqual({ backlog: 0 });

    expect(
      (await pjdDocumentSearch(server, sandbox.name, origin, { nin: HARRY_HANDEL, details: [koman()] })).status,
    ).toBe(200);
    expect(
      (
        await pjdDocumentSearch(server, sandbox.name, origin, {
          nin: LINE_DANSER,
          details: [koman()],
          eventId: 'evt-live',
        })
      ).status,
    ).toBe(200);
    const live = await stream.next((e) => e.event === 'audit');
    const event = JSON.parse(live.data) as { id: string; outcome: string; subtype: { code: string }[] };
    expect(live.id).toBe(event.id);
    expect(patientOf(live)).toBe(LINE_DANSER);
    expect(event.outcome).toBe('0');
    expect(event.subtype[0].code).toBe('ITI-67');
    // only Line Danser's entry came: Harry Handel's are filtered out
    expect(stream.events.filter((e) => e.event === 'audit').map(patientOf)).toEqual([LINE_DANSER]);
  } finally {
    await stream.close();
  }
});

test('a rejected request arrives with its rule and text; a new stream starts with the backlog, oldest first', async () => {
  const stream = await openStream(`?patient=${GRY_TELOKK}&outcome=failure`);
  try {
    await stream.next((e) => e.event === 'ready');
    const rejected = await pjdDocumentSearch(server, sandbox.name, origin, {
      nin: GRY_TELOKK,
      details: [koman({ patients: [{ identifier: { id: HARRY_HANDEL, system: FNR_SYSTEM } }] })],
    });
    expect(rejected.status).toBe(403);
    const event = JSON.parse((await stream.next((e) => e.event === 'audit')).data) as {
      outcome: string;
      outcomeDesc: string;
    };
    expect(event.outcome).toBe('4');
    expect(event.outcomeDesc).toMatch(/^ATT-4: .*attest the patient you ask about/);
  } finally {
    await stream.close();
  }
  const again = await openStream(`?patient=${HARRY_HANDEL}&_count=2`);
  try {
    await again.next((e) => e.event === 'ready');
    const backlog = again.events
      .filter((e) => e.event === 'audit')
      .map((e) => JSON.parse(e.data) as { recorded: string });
    expect(backlog).toHaveLength(2);
    expect(Date.parse(backlog[0].recorded)).toBeLessThanOrEqual(Date.parse(backlog[1].recorded));
  } finally {
    await again.close();
  }
});

test('the stream needs the admin key and refuses unknown filters', async () => {
  const anonymous = await server.http.get(`/api/sandboxes/${sandbox.name}/audit/stream`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.body.issue[0].details.coding[0].code).toBe('NAVET-ADMIN-KEY-MISSING');
  const unknown = await server.http
    .get(`/api/sandboxes/${sandbox.name}/audit/stream?colour=blue`)
    .set('Authorization', sandbox.auth);
  expect(unknown.status).toBe(400);
  expect(unknown.body.issue[0].expression).toEqual(['colour']);
  const badOutcome = await server.http
    .get(`/api/sandboxes/${sandbox.name}/audit/stream?outcome=maybe`)
    .set('Authorization', sandbox.auth);
  expect(badOutcome.status).toBe(400);
});
