import type { JWK } from 'jose';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';
import { Clients } from './clients';

/** The demo clients of a fixtures seed (`clients.json`), with their DEMO-ONLY private keys. */
export interface DemoClient {
  clientId: string;
  privateJwk: JWK;
  config: Record<string, unknown>;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

export function publicJwkOf(privateJwk: JWK): JWK {
  return Object.fromEntries(Object.entries(privateJwk).filter(([k]) => !PRIVATE_MEMBERS.includes(k))) as JWK;
}

export function loadDemoClients(fixturesDir: string): DemoClient[] {
  const file = path.join(fixturesDir, 'clients.json');
  if (!existsSync(file)) return [];
  const entries = JSON.parse(readFileSync(file, 'utf8')) as (Record<string, unknown> & {
    clientId: string;
    privateKeyFile: string;
  })[];
  return entries.map(({ privateKeyFile, ...config }) => {
    const privateJwk = JSON.parse(readFileSync(path.join(fixturesDir, privateKeyFile), 'utf8')) as JWK;
    return { clientId: config.clientId, privateJwk, config: { ...config, jwks: { keys: [publicJwkOf(privateJwk)] } } };
  });
}

export async function registerDemoClients(db: Kysely<Database>, sandbox: string, fixturesDir: string): Promise<void> {
  const clients = new Clients(db);
  for (const demo of loadDemoClients(fixturesDir)) await clients.register(sandbox, demo.config);
}

/**
 * Brings an existing sandbox's demo clients up to the fixtures (new clients, changed scopes), so that a
 * demo sandbox made by an older Navet keeps working after an upgrade. Other clients are left alone.
 */
export async function syncDemoClients(clients: Clients, sandbox: string, fixturesDir: string): Promise<void> {
  for (const demo of loadDemoClients(fixturesDir)) {
    if (await clients.find(sandbox, demo.clientId)) await clients.update(sandbox, demo.clientId, demo.config);
    else {
      try {
        await clients.register(sandbox, demo.config);
      } catch (error) {
        // another Navet process sharing the database registered it at the same moment
        if (!(await clients.find(sandbox, demo.clientId))) throw error;
      }
    }
  }
}
