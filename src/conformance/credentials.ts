import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { DecodedCredential } from './exchange';

/** A token, proof or assertion as a recording keeps it: decoded claims and a hash, never the value. */
export function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

export function decodeCredential(value: string): DecodedCredential {
  const hash = hashOf(value);
  try {
    const header = decodeProtectedHeader(value) as Record<string, unknown>;
    const claims = decodeJwt(value) as Record<string, unknown>;
    // a DPoP proof's public key is kept as is (it is public); nothing else in a header is secret
    return { hash, header, claims };
  } catch {
    return { hash, header: {}, claims: {}, malformed: true };
  }
}

/** Stable JSON (sorted keys), so that the same body always hashes the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const JWT = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;
const CREDENTIAL_FIELDS = ['client_assertion', 'access_token', 'id_token', 'refresh_token', 'subject_token', 'code', 'code_verifier', 'request', 'assertion'];

/** A form or JSON answer with its credentials replaced by { decoded claims, hash }. */
export function withoutCredentials(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [field, raw] of Object.entries(copy)) {
    // the named credential fields, and any other value that is a JWT
    if (typeof raw !== 'string' || !(CREDENTIAL_FIELDS.includes(field) || JWT.test(raw))) continue;
    const decoded = decodeCredential(raw);
    copy[field] = decoded.malformed ? { hash: decoded.hash } : { hash: decoded.hash, header: decoded.header, claims: decoded.claims };
  }
  return copy;
}
