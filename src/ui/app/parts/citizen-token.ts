import { call } from '../api';
import { keys } from '../keys';
import type { ClientInfo } from './snippets';

/**
 * A citizen's access token from the sandbox's test-token service (admin key), for a registered client with
 * the scope navet:citizen: the dashboard then reads the real citizen API as that person.
 */
export const CITIZEN_SCOPE = 'navet:citizen';

export async function citizenToken(sandbox: string, nin: string): Promise<string> {
  const { clients } = await call<{ clients: ClientInfo[] }>(`/api/sandboxes/${encodeURIComponent(sandbox)}/clients`, {
    as: sandbox,
  });
  const client = clients.find((c) => c.scopes.includes(CITIZEN_SCOPE));
  if (!client)
    throw new Error(
      `No client of sandbox ${sandbox} has the scope ${CITIZEN_SCOPE}; register one (like the seeded demo-citizen-app) to see the citizen's side`,
    );
  const token = await call<{ access_token: string }>(
    `/sandboxes/${encodeURIComponent(sandbox)}/helseid/create-test-token`,
    {
      method: 'POST',
      headers: { 'X-Auth-Key': keys.admin(sandbox) ?? '' },
      body: { clientId: client.clientId, scopes: [CITIZEN_SCOPE], user: { pid: nin } },
    },
  );
  return token.access_token;
}

/** Calls the citizen API as that person. */
export async function asCitizen<T>(
  sandbox: string,
  nin: string,
  path: string,
  method = 'GET',
  body?: unknown,
): Promise<T> {
  const token = await citizenToken(sandbox, nin);
  return call<T>(`/sandboxes/${encodeURIComponent(sandbox)}/citizen${path}`, {
    method,
    body,
    headers: { Authorization: `Bearer ${token}` },
  });
}

export interface PrivacyChoices {
  kjernejournalReservation: { reserved: boolean; since?: string };
  kjernejournalRestriction: { restricted: boolean; since?: string };
  blockedPractitioners: { id: string; hprNumber: string; name?: string; since: string }[];
  labResults: { blocked: boolean; since?: string };
  blockedDocuments: { documentId: string; since: string }[];
  proxies: {
    id: string;
    proxyNin: string;
    proxyName?: string;
    relationship: string;
    since: string;
    validUntil?: string;
  }[];
}
