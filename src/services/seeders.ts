import type { SandboxSeeding, SeedBuilder } from '../sandbox/sandboxes';
import { seedClients } from '../trust/seed-clients';
import { SERVICES } from './services';

/**
 * What the services seed into a new sandbox, in this order after its people, and its clients. A municipality's
 * documents and lab results come from its rehearsal traffic: only the lists and critical information are seeded.
 */
export const SANDBOX_SEEDING: SandboxSeeding = {
  builders: SERVICES.flatMap((service): SeedBuilder[] => (service.seed ? [service.seed] : [])),
  clients: seedClients,
};
