import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import supertest from 'supertest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createNavet, type Navet } from '../../src/navet';
import { seedToken } from '../../src/sandbox/seed/resources';

/**
 * A Navet for tests: on SQLite in a temporary directory, or on PostgreSQL when DATABASE_URL is set
 * (the suite runs both ways). Requests go through real HTTP with supertest.
 */
export interface TestNavet {
  navet: Navet;
  http: ReturnType<typeof supertest>;
  close(): Promise<void>;
}

export const TEST_BASE_URL = 'http://navet.test';

export async function startTestNavet(env: Record<string, string> = {}): Promise<TestNavet> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'navet-test-'));
  const config = loadConfig({
    ...process.env,
    NAVET_DATA_DIR: dataDir,
    NAVET_BASE_URL: TEST_BASE_URL,
    NAVET_LOG_LEVEL: 'silent',
    NAVET_OPEN_CREATIONS_PER_MINUTE: '10000',
    ...env,
  });
  const navet = await createNavet(config, createLogger('silent'));
  return {
    navet,
    http: supertest(navet.app),
    close: async () => {
      await navet.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A sandbox name no other test (or test process sharing PostgreSQL) uses. */
export function uniqueSandboxName(prefix = 't'): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`.slice(0, 40);
}

/** Creates a sandbox through the API; returns its name and admin key. */
export async function createSandbox(
  test: TestNavet,
  body: Record<string, unknown> = {},
): Promise<{ name: string; adminKey: string; auth: string }> {
  const name = (body.name as string | undefined) ?? uniqueSandboxName();
  const response = await test.http
    .post('/api/sandboxes')
    .set('Prefer', 'wait')
    .send({ seed: 'empty', ...body, name });
  if (response.status !== 201)
    throw new Error(`creating sandbox failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { name, adminKey: response.body.adminKey, auth: `Bearer ${response.body.adminKey}` };
}

/** Waits until the purge of a deleted sandbox (in the worker, after DELETE answered) is done. */
export async function waitForPurge(test: TestNavet, name: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const note = await test.navet.database.db
      .selectFrom('sandbox_purges')
      .select('name')
      .where('name', '=', name)
      .executeTakeFirst();
    if (!note) return;
    if (Date.now() > until) throw new Error(`the purge of sandbox ${name} did not end in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A TCP port that is free on the loopback interface now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The id of a seeded patient, found by fødselsnummer or D-number (seeded ids are opaque). */
export async function patientIdOf(
  test: TestNavet,
  sandbox: { name: string; auth: string },
  nin: string,
): Promise<string> {
  const found = await test.http
    .get(`/sandboxes/${sandbox.name}/fhir/Patient`)
    .query({ identifier: nin })
    .set('Authorization', sandbox.auth);
  const id = found.body.entry?.[0]?.resource?.id as string | undefined;
  if (found.status !== 200 || !id) throw new Error(`no patient ${nin} in sandbox ${sandbox.name}: ${found.status}`);
  return id;
}

/** The n-th seeded document of a patient (seeded ids are opaque: made by the seed's own id function). */
export const seededDocumentId = (nin: string, n: number): string => `doc-${seedToken(nin)}-${n}`;
