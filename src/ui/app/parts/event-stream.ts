import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { request } from '../api';

/**
 * Reads a server-sent-events stream with fetch, so the admin key travels in the Authorization header (the
 * browser's EventSource cannot send one, and the key must never be in a URL). Reconnects after a drop.
 */
export function followEvents(
  path: string,
  as: string,
  onEvent: (event: EventSourceMessage) => void,
  onState: (state: string) => void,
): () => void {
  const abort = new AbortController();
  let retryMs = 1000;
  const run = async () => {
    while (!abort.signal.aborted) {
      try {
        const response = await request(path, { as, headers: { Accept: 'text/event-stream' }, signal: abort.signal });
        onState('connected');
        const parser = createParser({
          onEvent,
          onRetry: (ms) => {
            retryMs = ms;
          },
        });
        const reader = (response.body as ReadableStream<Uint8Array>).getReader();
        const decoder = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.feed(decoder.decode(value, { stream: true }));
        }
        onState('reconnecting');
      } catch (error) {
        if (abort.signal.aborted) return;
        onState(`stopped: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  void run();
  return () => abort.abort();
}
