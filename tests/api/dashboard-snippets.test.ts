import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { librarySnippet, SERVICE_CALLS } from '../../src/ui/app/parts/snippets';
import { createSandbox, freePort, startTestNavet, type TestNavet } from '../helpers/test-navet';

/**
 * The dashboard's Node snippets run as a vendor would run them — copied into a file beside the client's
 * private key, with the standard openid-client — and every service answers 200.
 */
const run = promisify(execFile);
let server: TestNavet;
let listening: Server;
let origin: string;
let dir: string;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = await startTestNavet({ NAVET_BASE_URL: origin });
  listening = server.navet.app.listen(port, '127.0.0.1');
  dir = mkdtempSync(path.join(tmpdir(), 'navet-snippets-'));
  copyFileSync(
    path.resolve(__dirname, '..', '..', 'fixtures', 'demo', 'client-keys', 'demo-gp-system.demo-private-key.json'),
    path.join(dir, 'private-key.json'),
  );
});
afterAll(async () => {
  listening.closeAllConnections();
  await new Promise((resolve) => listening.close(resolve));
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const SERVICE_PATHS: Record<string, string> = {
  pjd: 'pjd',
  criticalInformation: 'critical-information',
  sfm: 'sfm',
  pps: 'pps',
};
// Grønn Vits, the public test GP of Fagersta Testlegekontor (the seeded demo-gp-system's organisation)
const GRONN_VITS = { name: 'Grønn Vits', pid: '05898597468', hpr: '565501872', authorization: 'LE' };

test.each(SERVICE_CALLS.filter((c) => c.service !== 'citizen').map((c) => [c.title, c] as const))(
  'the Node snippet for %s gets a token and a 200',
  async (_title, call) => {
    const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const base = `${origin}/sandboxes/${sandbox.name}`;
    const client = { clientId: 'demo-gp-system', scopes: [call.scope], organization: { parent: '100100673' } };
    const file = path.join(dir, `${call.service}.js`);
    writeFileSync(
      file,
      librarySnippet(client, call, `${base}/helseid`, `${base}/${SERVICE_PATHS[call.service]}`, GRONN_VITS),
    );
    const { stdout } = await run(process.execPath, [file], {
      cwd: dir,
      env: { ...process.env, NODE_PATH: path.resolve(__dirname, '..', '..', 'node_modules') },
      timeout: 30_000,
    });
    expect(stdout).toMatch(/^200 \{/);
  },
);
