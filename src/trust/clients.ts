import type { JWK } from 'jose';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound } from '../fhir/operation-outcome';
import type { Database } from '../store/schema';
import { ALL_SCOPES, API_RESOURCES, isKnownAudience } from './scopes';

/** The client registry of a sandbox: the systems that may ask the token service for tokens. */
export interface Client {
  clientId: string;
  name: string;
  jwks: { keys: JWK[] };
  scopes: string[];
  organization: { parent: string; child?: string };
  supplier?: string;
  tenancy: 'single-tenant' | 'multi-tenant';
  /** true: tokens are DPoP-bound and a proof is required; false: Bearer tokens. */
  dpop: boolean;
  redirectUris: string[];
  accessTokenLifetimeSeconds: number;
  /** The audience of the API this client is (e.g. "e-helse:sfm.api"): it may exchange tokens issued to that API. */
  api?: string;
  createdAt: string;
}

const ORGNR = /^\d{9}$/;
const KEY_TYPES = new Set(['RSA', 'EC']);
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

function assertJwks(value: unknown): asserts value is { keys: JWK[] } {
  const keys = (value as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw badRequest('NAVET-CLIENT-JWKS', 'jwks must be {"keys": [public JWK, …]} with at least one key', ['jwks']);
  keys.forEach((key: unknown, i) => {
    const jwk = key as Record<string, unknown>;
    if (!jwk || typeof jwk !== 'object' || !KEY_TYPES.has(String(jwk.kty)))
      throw badRequest('NAVET-CLIENT-JWKS', `jwks.keys[${i}] must be an RSA or EC public key (kty "RSA" or "EC")`, [
        `jwks.keys[${i}].kty`,
      ]);
    const secret = PRIVATE_MEMBERS.filter((m) => m in jwk);
    if (secret.length)
      throw badRequest(
        'NAVET-CLIENT-JWKS-PRIVATE',
        `jwks.keys[${i}] holds private key material (${secret.join(', ')}); register only the public key`,
        [`jwks.keys[${i}]`],
      );
  });
}

/** Checks a registration body and fills defaults. */
export function clientFromInput(
  input: Record<string, unknown>,
  existing?: Client,
): Omit<Client, 'clientId' | 'createdAt'> {
  const name = input.name ?? existing?.name;
  if (typeof name !== 'string' || !name.trim())
    throw badRequest('NAVET-CLIENT-NAME', "name is required: the client system's name", ['name']);
  const jwks = input.jwks ?? existing?.jwks;
  assertJwks(jwks);
  const scopes = input.scopes ?? existing?.scopes;
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string'))
    throw badRequest('NAVET-CLIENT-SCOPES', 'scopes must be a non-empty array of scope strings', ['scopes']);
  const unknown = scopes.filter((s) => !ALL_SCOPES.includes(s));
  if (unknown.length)
    throw badRequest(
      'NAVET-CLIENT-SCOPES',
      `Unknown scope(s): ${unknown.join(', ')}. Known: ${ALL_SCOPES.join(', ')}`,
      ['scopes'],
    );
  const organization = (input.organization ?? existing?.organization) as
    { parent?: unknown; child?: unknown } | undefined;
  if (!organization || typeof organization.parent !== 'string' || !ORGNR.test(organization.parent))
    throw badRequest(
      'NAVET-CLIENT-ORGANIZATION',
      'organization.parent must be the 9-digit orgnr of the legal entity the client belongs to',
      ['organization.parent'],
    );
  if (organization.child !== undefined && (typeof organization.child !== 'string' || !ORGNR.test(organization.child)))
    throw badRequest('NAVET-CLIENT-ORGANIZATION', 'organization.child must be a 9-digit orgnr', ['organization.child']);
  const supplier = input.supplier ?? existing?.supplier;
  if (supplier !== undefined && (typeof supplier !== 'string' || !ORGNR.test(supplier)))
    throw badRequest('NAVET-CLIENT-SUPPLIER', 'supplier must be the 9-digit orgnr of the system vendor', ['supplier']);
  const tenancy = input.tenancy ?? existing?.tenancy ?? 'single-tenant';
  if (tenancy !== 'single-tenant' && tenancy !== 'multi-tenant')
    throw badRequest('NAVET-CLIENT-TENANCY', 'tenancy must be "single-tenant" or "multi-tenant"', ['tenancy']);
  const dpop = input.dpop ?? existing?.dpop ?? true;
  if (typeof dpop !== 'boolean')
    throw badRequest('NAVET-CLIENT-DPOP', 'dpop must be true (DPoP-bound tokens) or false (Bearer tokens)', ['dpop']);
  const redirectUris = input.redirectUris ?? existing?.redirectUris ?? [];
  if (!Array.isArray(redirectUris) || !redirectUris.every((u) => typeof u === 'string' && /^https?:\/\//.test(u)))
    throw badRequest('NAVET-CLIENT-REDIRECT', 'redirectUris must be an array of http(s) URLs', ['redirectUris']);
  const lifetime = input.accessTokenLifetimeSeconds ?? existing?.accessTokenLifetimeSeconds ?? 600;
  if (typeof lifetime !== 'number' || !Number.isInteger(lifetime) || lifetime < 10 || lifetime > 86400)
    throw badRequest('NAVET-CLIENT-LIFETIME', 'accessTokenLifetimeSeconds must be a whole number from 10 to 86400', [
      'accessTokenLifetimeSeconds',
    ]);
  const api = input.api ?? existing?.api;
  if (api !== undefined && (typeof api !== 'string' || !isKnownAudience(api))) {
    throw badRequest(
      'NAVET-CLIENT-API',
      `api must be the audience of the API this client is (${API_RESOURCES.map((r) => r.audience).join(', ')}); such a client may exchange tokens issued to it`,
      ['api'],
    );
  }
  return {
    ...(api ? { api: api as string } : {}),
    name,
    jwks,
    scopes,
    organization: {
      parent: organization.parent,
      ...(organization.child ? { child: organization.child as string } : {}),
    },
    ...(supplier ? { supplier: supplier as string } : {}),
    tenancy,
    dpop,
    redirectUris: redirectUris as string[],
    accessTokenLifetimeSeconds: lifetime,
  };
}

export class Clients {
  constructor(private readonly db: Kysely<Database>) {}

  async register(sandbox: string, input: Record<string, unknown>): Promise<Client> {
    const clientId = typeof input.clientId === 'string' ? input.clientId : randomUUID();
    if (!/^[A-Za-z0-9._:-]{1,100}$/.test(clientId))
      throw badRequest('NAVET-CLIENT-ID', 'clientId must be 1–100 letters, digits, ".", "_", ":" or "-"', ['clientId']);
    const client: Client = { clientId, ...clientFromInput(input), createdAt: new Date().toISOString() };
    const inserted = await this.db
      .insertInto('clients')
      .values({ sandbox, client_id: clientId, config: JSON.stringify(client), created_at: client.createdAt })
      .onConflict((oc) => oc.columns(['sandbox', 'client_id']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1)
      throw conflict('NAVET-CLIENT-EXISTS', `A client with id '${clientId}' exists already in this sandbox`);
    return client;
  }

  async find(sandbox: string, clientId: string): Promise<Client | undefined> {
    const row = await this.db
      .selectFrom('clients')
      .select('config')
      .where('sandbox', '=', sandbox)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row ? (JSON.parse(row.config) as Client) : undefined;
  }

  async get(sandbox: string, clientId: string): Promise<Client> {
    const client = await this.find(sandbox, clientId);
    if (!client) throw notFound('NAVET-CLIENT-NOT-FOUND', `Sandbox '${sandbox}' has no client '${clientId}'`);
    return client;
  }

  async list(sandbox: string): Promise<Client[]> {
    const rows = await this.db
      .selectFrom('clients')
      .select('config')
      .where('sandbox', '=', sandbox)
      .orderBy('created_at')
      .orderBy('client_id')
      .execute();
    return rows.map((r) => JSON.parse(r.config) as Client);
  }

  async update(sandbox: string, clientId: string, input: Record<string, unknown>): Promise<Client> {
    const existing = await this.get(sandbox, clientId);
    const client: Client = { ...existing, ...clientFromInput(input, existing) };
    await this.db
      .updateTable('clients')
      .set({ config: JSON.stringify(client) })
      .where('sandbox', '=', sandbox)
      .where('client_id', '=', clientId)
      .execute();
    return client;
  }

  async delete(sandbox: string, clientId: string): Promise<void> {
    await this.get(sandbox, clientId);
    await this.db.deleteFrom('clients').where('sandbox', '=', sandbox).where('client_id', '=', clientId).execute();
  }
}
