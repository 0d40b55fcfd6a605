import type { Response } from 'express';
import type { FhirResource } from '../fhir/types';

/**
 * The access log as server-sent events: first the newest `backlog` matching AuditEvents (oldest first),
 * then every new one as it is written (event `audit`, id = the AuditEvent's id, data = the AuditEvent).
 * New events are found by polling the store, so it works with several Navet processes on one database.
 */
export interface AuditStreamOptions {
  pollMs: number;
  backlog: number;
  /** The newest matching AuditEvents, newest first. */
  newest(count: number): Promise<FhirResource[]>;
}

/** How many of the newest events each poll looks at (more new events than this between two polls are cut). */
const WINDOW = 100;
const HEARTBEAT_MS = 15_000;

export function streamAuditEvents(res: Response, options: AuditStreamOptions): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write(`retry: ${Math.max(options.pollMs, 1000)}\n\n`);
  let closed = false;
  let seen = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let lastWrite = Date.now();

  const send = (event: string, id: string | undefined, data: unknown) => {
    res.write(`event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
    lastWrite = Date.now();
  };
  const poll = async (first: boolean) => {
    const newest = await options.newest(WINDOW);
    if (closed) return;
    // the first answer marks the whole window as seen and sends only the backlog
    const fresh = (
      first ? newest.slice(0, options.backlog) : newest.filter((event) => !seen.has(String(event.id)))
    ).reverse();
    seen = new Set(newest.map((event) => String(event.id)));
    for (const event of fresh) send('audit', String(event.id), event);
    if (first) send('ready', undefined, { backlog: fresh.length });
    if (Date.now() - lastWrite >= HEARTBEAT_MS) {
      res.write(': still here\n\n');
      lastWrite = Date.now();
    }
  };
  const loop = (first: boolean) => {
    poll(first).then(
      () => {
        if (!closed) timer = setTimeout(() => loop(false), options.pollMs);
      },
      (error: unknown) => {
        if (closed) return;
        send('problem', undefined, {
          text: `The access log could not be read: ${error instanceof Error ? error.message : String(error)}`,
        });
        res.end();
      },
    );
  };
  res.on('close', () => {
    closed = true;
    if (timer) clearTimeout(timer);
  });
  loop(true);
}
