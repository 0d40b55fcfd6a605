import { type SandboxSeeding, seedTimestamp } from '../sandbox/sandboxes';
import { seedClients } from '../trust/seed-clients';
import { buildSeedCriticalInformation } from './critical-info/seed-critical-information';
import { seedDocuments } from './documents/seed-documents';
import { seedLabResults } from './lab-results/seed-lab-results';
import { buildSeedMedicationLists } from './medication-list/seed-medication-lists';

/**
 * What the services seed into a new sandbox, in this order after its people, and its clients. A municipality's
 * documents and lab results come from its rehearsal traffic: only the lists and critical information are seeded.
 */
export const SANDBOX_SEEDING: SandboxSeeding = {
  builders: [
    async function* (patients, settings, municipality) {
      if (!municipality) for await (const resource of seedDocuments(patients, settings)) yield { resource };
    },
    (patients, settings) => buildSeedCriticalInformation(patients, settings),
    (patients, settings) =>
      buildSeedMedicationLists(patients, settings).map(({ resource, history }) => ({
        resource,
        ...(history
          ? {
              history: history.map((earlier) => ({
                resource: earlier,
                lastUpdated: String(earlier.meta?.lastUpdated ?? seedTimestamp(settings)),
              })),
            }
          : {}),
      })),
    function* (patients, settings, municipality) {
      if (!municipality) for (const resource of seedLabResults(patients, settings)) yield { resource };
    },
  ],
  clients: seedClients,
};
