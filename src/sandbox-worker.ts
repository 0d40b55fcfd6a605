import { parentPort, workerData } from 'node:worker_threads';
import { FhirError } from './fhir/operation-outcome';
import { openDatabase } from './store/database';
import { ResourceStore } from './store/resource-store';
import type { JobReply, JobRequest, WorkerSettings } from './sandbox/sandbox-jobs';
import { Sandboxes } from './sandbox/sandboxes';
import { SANDBOX_SEEDING } from './services/seeders';

/**
 * The sandbox worker thread: builds and stores seeds (and deletes sandboxes) on its own database
 * connection, so the server's event loop keeps answering while it works. One job at a time.
 */
async function main(): Promise<void> {
  const settings = workerData as WorkerSettings;
  const database = await openDatabase({ databaseUrl: settings.databaseUrl, dataDir: settings.dataDir });
  const sandboxes = new Sandboxes(
    database,
    new ResourceStore(database.db, database.engine),
    settings.fixturesDir,
    SANDBOX_SEEDING,
  );
  const port = parentPort;
  if (!port) throw new Error('sandbox-worker runs as a worker thread only');
  let queue = Promise.resolve();
  port.on('message', (request: JobRequest | 'close') => {
    if (request === 'close') {
      queue = queue.then(() => database.close()).then(() => port.close());
      return;
    }
    queue = queue.then(() => run(request));
  });

  async function run(request: JobRequest): Promise<void> {
    const reply = (message: JobReply) => port?.postMessage(message);
    try {
      if (request.kind === 'create') {
        await sandboxes.create(request.input, (phase, done, total) =>
          reply({ id: request.id, progress: { phase, done, total } }),
        );
      } else {
        await sandboxes.purge(request.name, (phase, done, total) =>
          reply({ id: request.id, progress: { phase, done, total } }),
        );
      }
      reply({ id: request.id, done: true });
    } catch (error) {
      if (error instanceof FhirError) reply({ id: request.id, error: { status: error.status, issues: error.issues } });
      else
        reply({
          id: request.id,
          error: {
            status: 500,
            issues: [
              {
                severity: 'fatal',
                code: 'exception',
                navetCode: 'NAVET-INTERNAL',
                text: `The sandbox worker failed: ${error instanceof Error ? error.name : 'error'}`,
              },
            ],
          },
        });
    }
  }
}

void main();
