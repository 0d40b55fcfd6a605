import type { ClientSeeder } from '../sandbox/sandboxes';
import { planMunicipality } from '../sandbox/seed/municipality';
import { recordSystemRegistrations } from '../sandbox/seed/record-system-clients';
import { Clients } from './clients';
import { registerDemoClients } from './demo-clients';

/** A new sandbox's clients: a municipality's record systems, or else the demo clients of the fixtures. */
export const seedClients: ClientSeeder = async (fixturesDir, municipality) => {
  if (!municipality) return (db, sandbox) => registerDemoClients(db, sandbox, fixturesDir);
  const registrations = await recordSystemRegistrations(planMunicipality(municipality));
  return async (db, sandbox) => {
    for (const client of registrations) await new Clients(db).register(sandbox, client);
  };
};
