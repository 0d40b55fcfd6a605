import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Sandbox admin keys: shown once, stored only as a SHA-256 hash. */
export function generateAdminKey(): string {
  return `navet_adm_${randomBytes(24).toString('base64url')}`;
}

export function hashAdminKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function adminKeyMatches(key: string, hash: string): boolean {
  const given = Buffer.from(hashAdminKey(key), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}
