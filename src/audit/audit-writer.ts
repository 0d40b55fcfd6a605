import type { FhirResource } from '../fhir/types';
import type { ResourceStore } from '../store/resource-store';
import './audit-search-parameters';

/**
 * Group commit of the access log: AuditEvents of concurrent requests are written in one transaction,
 * and each request's promise settles only once its own events are committed (or have failed). While
 * one batch commits the next gathers, so batches grow with the load and an idle Navet writes at once.
 * A batch that fails is written again request by request, so one request's failure fails only it.
 */
interface Pending {
  sandbox: string;
  events: FhirResource[];
  recorded: string;
  resolve: (written: FhirResource[]) => void;
  reject: (error: unknown) => void;
}

export class AuditWriter {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly store: ResourceStore) {}

  write(sandbox: string, events: FhirResource[], recorded: string): Promise<FhirResource[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sandbox, events, recorded, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        // requests that reach the log in this turn of the event loop join the batch
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        try {
          const written = await this.store.inTransaction(async (store) => {
            const results: FhirResource[][] = [];
            for (const [sandbox, pending] of groupBySandbox(batch)) {
              const stored = await store.createMany(
                sandbox,
                pending.flatMap((p) => p.events.map((resource) => ({ resource, lastUpdated: p.recorded }))),
              );
              let at = 0;
              for (const p of pending) {
                results[batch.indexOf(p)] = stored.slice(at, at + p.events.length);
                at += p.events.length;
              }
            }
            return results;
          });
          batch.forEach((p, i) => p.resolve(written[i]));
        } catch {
          for (const p of batch) await this.writeAlone(p);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeAlone(p: Pending): Promise<void> {
    try {
      p.resolve(
        await this.store.inTransaction((store) =>
          store.createMany(
            p.sandbox,
            p.events.map((resource) => ({ resource, lastUpdated: p.recorded })),
          ),
        ),
      );
    } catch (error) {
      p.reject(error);
    }
  }
}

function groupBySandbox(batch: Pending[]): Map<string, Pending[]> {
  const groups = new Map<string, Pending[]>();
  for (const p of batch) groups.set(p.sandbox, [...(groups.get(p.sandbox) ?? []), p]);
  return groups;
}
