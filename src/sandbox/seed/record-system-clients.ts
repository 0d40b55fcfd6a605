import { exportJWK, generateKeyPair } from 'jose';
import type { MunicipalityPlan } from './municipality';

/**
 * The registrations of a municipality's record systems (one per system and organisation that uses it),
 * with the scopes of the services the municipality integrates. Each gets a new public key whose private
 * half is thrown away: the vendor puts its own key in with `PUT /api/sandboxes/{name}/clients/{id}/jwks`
 * (a rehearsal re-registers the clients with keys of its own).
 */
export async function recordSystemRegistrations(plan: MunicipalityPlan): Promise<Record<string, unknown>[]> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'placeholder', alg: 'ES256' };
  // a system integrated with none of the services has nothing to ask HelseID for: it is not registered
  return plan.clients
    .filter((client) => client.scopes.length > 0)
    .map((client) => ({
      clientId: client.clientId,
      name: client.name,
      jwks: { keys: [jwk] },
      scopes: client.scopes,
      organization: {
        parent: client.legalEntity,
        ...(client.pointOfCare !== client.legalEntity ? { child: client.pointOfCare } : {}),
      },
      tenancy: 'single-tenant',
      dpop: true,
    }));
}
