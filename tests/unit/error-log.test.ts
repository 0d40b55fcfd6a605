import Database from 'better-sqlite3';
import express from 'express';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Writable } from 'node:stream';
import supertest from 'supertest';
import { errorHandler } from '../../src/http/error-handler';
import { requestLog } from '../../src/http/request-log';

/** Issue 14: a 500 logs its stable code and the request id; the stack (with the server's paths) only at debug. */
function appLogging(
  level: string,
  routes: (app: express.Express) => void = () => {},
): { app: express.Express; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = pino({ level }, stream);
  const app = express();
  app.use(requestLog(logger));
  app.get('/boom', () => {
    throw new Error(`a bug in ${__filename}`);
  });
  routes(app);
  app.use(errorHandler(logger));
  return { app, lines };
}

test('at info: the error line has NAVET-INTERNAL and the request id, no stack, no path; the answer names the request id', async () => {
  const { app, lines } = appLogging('info');
  const res = await supertest(app).get('/boom').set('X-Request-Id', 'probe-1');
  expect(res.status).toBe(500);
  expect(res.headers['x-request-id']).toBe('probe-1');
  expect(res.body.issue[0].details.text).toContain('probe-1');
  expect(JSON.stringify(res.body)).not.toContain(__filename);
  const error = lines.find((line) => line.msg === 'unexpected error');
  expect(error).toMatchObject({ errorCode: 'NAVET-INTERNAL', requestId: 'probe-1', errorName: 'Error' });
  expect(JSON.stringify(lines)).not.toContain(__filename);
  expect(JSON.stringify(lines)).not.toMatch(/"stack"/);
  expect(lines.find((line) => line.msg === 'request')).toMatchObject({
    requestId: 'probe-1',
    status: 500,
    errorCode: 'NAVET-INTERNAL',
  });
});

test('at debug: the stack is logged too, under the same request id', async () => {
  const { app, lines } = appLogging('debug');
  await supertest(app).get('/boom');
  const stack = lines.find((line) => line.msg === 'unexpected error (stack)') as
    { requestId: string; err: { stack: string } } | undefined;
  expect(stack?.err.stack).toContain(__filename);
  expect(stack?.requestId).toEqual(
    (lines.find((line) => line.msg === 'unexpected error') as { requestId: string }).requestId,
  );
});

test("a request id that is not a plain token is replaced by one of Navet's", async () => {
  const { app } = appLogging('silent');
  const res = await supertest(app).get('/boom').set('X-Request-Id', 'bad id\twith "quotes"');
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});

test('a write that meets a write lock held past its wait answers 503 with Retry-After, writes nothing, logs no NAVET-INTERNAL', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'navet-busy-'));
  const file = path.join(dir, 'locked.sqlite');
  const holder = new Database(file);
  holder.pragma('journal_mode = WAL');
  holder.exec('create table t (x integer)');
  const writer = new Database(file);
  writer.pragma('busy_timeout = 0');
  try {
    holder.exec('begin immediate'); // as a large seed's transaction holds it
    const { app, lines } = appLogging('info', (app) =>
      app.post('/write', () => writer.prepare('insert into t values (1)').run()),
    );
    const res = await supertest(app).post('/write');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].code).toBe('transient');
    expect(res.body.issue[0].details.coding[0].code).toBe('NAVET-DATABASE-BUSY');
    holder.exec('commit');
    expect(writer.prepare('select count(*) as n from t').get()).toEqual({ n: 0 });
    expect(lines.find((line) => line.errorCode === 'NAVET-INTERNAL')).toBeUndefined();
  } finally {
    writer.close();
    holder.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
