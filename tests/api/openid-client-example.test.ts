import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSandbox, freePort, startTestNavet, type TestNavet } from '../helpers/test-navet';

const run = promisify(execFile);

/** The README's scripts, run against a listening sandbox as a user runs them. */
let server: TestNavet;
let listening: Server;
let origin: string;

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = await startTestNavet({ NAVET_BASE_URL: origin });
  listening = server.navet.app.listen(port, '127.0.0.1');
});
afterAll(async () => {
  await new Promise((resolve) => listening.close(resolve));
  await server.close();
});

/** The README's script: a standard OAuth library gets a token and calls a guarded endpoint, nothing Navet-specific. */
describe('examples/openid-client-token.js', () => {
  test('openid-client gets a DPoP token with private_key_jwt and the attestation, and pingauth answers 200', async () => {
    const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const script = path.resolve(__dirname, '..', '..', 'examples', 'openid-client-token.js');
    const { stdout } = await run(process.execPath, [script], {
      env: { ...process.env, NAVET_URL: origin, SANDBOX: sandbox.name },
    });
    expect(stdout).toContain('token_type DPoP');
    expect(stdout).toContain('GET pjd/pingauth → 200');
  });
});

/** The README's demo: hospital publishes, GP finds and fetches, the citizen reads the access log. */
describe('examples/discharge-summary.js', () => {
  test('a discharge summary goes from the hospital to the GP, and the citizen sees the GP by name', async () => {
    const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const script = path.resolve(__dirname, '..', '..', 'examples', 'discharge-summary.js');
    const { stdout } = await run(process.execPath, [script], {
      env: { ...process.env, NAVET_URL: origin, SANDBOX: sandbox.name, ADMIN_KEY: sandbox.adminKey },
    });
    expect(stdout).toContain('1. hospital publishes (ITI-65) → 200');
    expect(stdout).toMatch(/2\. GP finds \(ITI-67\) → 200, 9 documents; newest: Epikrise etter PCI/);
    expect(stdout).toMatch(/GP fetches \(ITI-68\) → 200 application\/pdf, (\d+) bytes \(DocumentReference says \1\)/);
    expect(stdout).toMatch(/Grønn Vits \(Lege\), Fagersta Testlegekontor: Dokument/);
    expect(stdout).not.toContain('05898597468');
  });
});
