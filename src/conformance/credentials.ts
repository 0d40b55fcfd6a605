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
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const JWT = /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/;
const CREDENTIAL_FIELDS = [
  'client_assertion',
  'access_token',
  'id_token',
  'refresh_token',
  'subject_token',
  'code',
  'code_verifier',
  'request',
  'assertion',
];

/** Nested fields that carry a credential (HelseID's v2 test-token service nests its token, proof and key). */
const NESTED_CREDENTIAL_FIELD = /^(accessTokenJwt|dPoPProof|assertion|token)$|private|secret|password/i;

function hidden(raw: string): unknown {
  const decoded = decodeCredential(raw);
  return decoded.malformed
    ? { hash: decoded.hash }
    : { hash: decoded.hash, header: decoded.header, claims: decoded.claims };
}

function withoutNestedCredentials(value: unknown, depth: number): unknown {
  if (depth > 32 || !value || typeof value !== 'object') return value;
  if (Array.isArray(value))
    return value.map((item) =>
      typeof item === 'string' && JWT.test(item) ? hidden(item) : withoutNestedCredentials(item, depth + 1),
    );
  const copy: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(value as Record<string, unknown>)) {
    if (typeof raw === 'string' && (JWT.test(raw) || NESTED_CREDENTIAL_FIELD.test(field))) copy[field] = hidden(raw);
    else if (raw && typeof raw === 'object' && NESTED_CREDENTIAL_FIELD.test(field))
      copy[field] = { hash: hashOf(stableJson(raw)) };
    else copy[field] = withoutNestedCredentials(raw, depth + 1);
  }
  return copy;
}

/**
 * A form or JSON body with its credentials replaced by { decoded claims, hash }: the OAuth fields at the
 * top, and at any depth every JWT and every field named for a token, proof, key or secret.
 */
export function withoutCredentials(value: unknown): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return withoutNestedCredentials(value, 0);
  const copy: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(value as Record<string, unknown>)) {
    if (
      typeof raw === 'string' &&
      (CREDENTIAL_FIELDS.includes(field) || JWT.test(raw) || NESTED_CREDENTIAL_FIELD.test(field))
    )
      copy[field] = hidden(raw);
    else copy[field] = withoutNestedCredentials(raw, 1);
  }
  return copy;
}
