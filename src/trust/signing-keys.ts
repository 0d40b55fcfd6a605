import { exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema';

/**
 * Each sandbox's token-signing keys (RS256), persisted so that every Navet process signs and verifies
 * with the same keys. Rotation retires the current key but keeps publishing it until the tokens it
 * signed have expired.
 */
export const SIGNING_ALG = 'RS256';
/** How long a retired key stays published: longer than any token it can have signed. */
export const RETIRED_KEY_GRACE_MS = 24 * 3600 * 1000;

export interface SigningKey {
  kid: string;
  privateKey: KeyLike | Uint8Array;
  publicJwk: JWK;
}

export class SigningKeys {
  private readonly cache = new Map<string, SigningKey>();

  constructor(private readonly db: Kysely<Database>) {}

  /** The key that signs new tokens; made on first use. */
  async current(sandbox: string): Promise<SigningKey> {
    const row = await this.db
      .selectFrom('signing_keys')
      .selectAll()
      .where('sandbox', '=', sandbox)
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (row) return this.load(row.kid, row.private_jwk, row.public_jwk);
    return this.create(sandbox);
  }

  /** The public keys to publish: the current one and those retired less than the grace period ago. */
  async published(sandbox: string): Promise<JWK[]> {
    await this.current(sandbox);
    const cutoff = new Date(Date.now() - RETIRED_KEY_GRACE_MS).toISOString();
    const rows = await this.db
      .selectFrom('signing_keys')
      .select(['public_jwk', 'retired_at'])
      .where('sandbox', '=', sandbox)
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', cutoff)]))
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((r) => JSON.parse(r.public_jwk) as JWK);
  }

  /** Makes a new current key; the old one stays published for the grace period. */
  async rotate(sandbox: string): Promise<SigningKey> {
    await this.db
      .updateTable('signing_keys')
      .set({ retired_at: new Date().toISOString() })
      .where('sandbox', '=', sandbox)
      .where('retired_at', 'is', null)
      .execute();
    return this.create(sandbox);
  }

  private async create(sandbox: string): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true, modulusLength: 2048 });
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' };
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG };
    const inserted = await this.db
      .insertInto('signing_keys')
      .values({
        sandbox,
        kid,
        alg: SIGNING_ALG,
        private_jwk: JSON.stringify(privateJwk),
        public_jwk: JSON.stringify(publicJwk),
        created_at: new Date().toISOString(),
        retired_at: null,
      })
      .executeTakeFirst();
    void inserted;
    // another process may have made one at the same moment: use the newest current key
    return this.current(sandbox);
  }

  private async load(kid: string, privateJwk: string, publicJwk: string): Promise<SigningKey> {
    const cached = this.cache.get(kid);
    if (cached) return cached;
    const key = {
      kid,
      privateKey: await importJWK(JSON.parse(privateJwk) as JWK, SIGNING_ALG),
      publicJwk: JSON.parse(publicJwk) as JWK,
    };
    this.cache.set(kid, key);
    return key;
  }
}
