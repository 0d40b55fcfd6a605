import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSandbox, freePort, startTestNavet, type TestNavet } from '../helpers/test-navet';

const run = promisify(execFile);


/** The README's script: a standard OAuth library gets a token and calls a guarded endpoint, nothing Navet-specific. */
describe('examples/openid-client-token.js', () => {
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

  test('openid-client gets a DPoP token with private_key_jwt and the attestation, and pingauth answers 200', async () => {
    const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const script = path.resolve(__dirname, '..', '..', 'examples', 'openid-client-token.js');
    const { stdout } = await run(process.execPath, [script], { env: { ...process.env, NAVET_URL: origin, SANDBOX: sandbox.name } });
    expect(stdout).toContain('token_type DPoP');
    expect(stdout).toContain('GET pjd/pingauth → 200');
  });
});
