import type { Server } from 'node:http';
import { freePort, startTestNavet, type TestNavet } from './test-navet';

/**
 * A Navet that listens on a loopback port, for parts that call Navet over real HTTP by its base URL
 * (scenario actors, rehearsals, the CLI).
 */
export interface ListeningNavet extends TestNavet {
  origin: string;
}

export async function startListeningNavet(): Promise<ListeningNavet> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const test = await startTestNavet({ NAVET_BASE_URL: origin });
  const listening: Server = test.navet.app.listen(port, '127.0.0.1');
  return {
    ...test,
    origin,
    close: async () => {
      await new Promise((resolve) => listening.close(resolve));
      await test.close();
    },
  };
}

/** Polls a run (scenario run or rehearsal) until it is no longer running. */
export async function waitForRun(
  test: TestNavet,
  path: string,
  auth: string,
  timeoutMs = 45000,
): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await test.http.get(path).set('Authorization', auth);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.body.status !== 'running') return res.body;
    if (Date.now() > deadline) throw new Error(`${path} still running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
