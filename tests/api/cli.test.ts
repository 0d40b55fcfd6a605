import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { uniqueSandboxName } from '../helpers/test-navet';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

/** The navet CLI as a user runs it, against the same database configuration as the tests. */
describe('navet CLI', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'navet-cli-'));
  const env = { ...process.env, NAVET_DATA_DIR: dataDir, NAVET_LOG_LEVEL: 'silent' };
  const navet = (...args: string[]) => run(tsx, [path.join(root, 'src', 'main.ts'), ...args], { env, cwd: root });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('sandbox create, list, reset, seed --bundle and delete', async () => {
    const name = uniqueSandboxName('cli');
    const created = await navet('sandbox', 'create', name, '--patients', '20');
    expect(created.stdout).toMatch(/Admin key \(shown once\): navet_adm_/);
    expect(created.stdout).toContain(`/sandboxes/${name}/fhir`);

    const listed = await navet('sandbox', 'list');
    expect(listed.stdout).toMatch(new RegExp(`${name}\\s+fixtures\\s+\\d+ resources`));

    const bundleFile = path.join(dataDir, 'bundle.json');
    writeFileSync(bundleFile, JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { resourceType: 'Patient', id: 'from-cli', name: [{ family: 'Kommandolinje' }] }, request: { method: 'PUT', url: 'Patient/from-cli' } }] }));
    const seeded = await navet('seed', name, '--bundle', bundleFile);
    expect(seeded.stdout).toContain(`Loaded ${bundleFile}: 1 entries`);

    const reset = await navet('sandbox', 'reset', name);
    expect(reset.stdout).toMatch(/Reset sandbox .* in \d+ ms/);

    const deleted = await navet('sandbox', 'delete', name);
    expect(deleted.stdout).toContain(`Deleted sandbox '${name}'`);
    await expect(navet('sandbox', 'reset', name)).rejects.toMatchObject({ stderr: expect.stringContaining(`no sandbox named '${name}'`) });
  });

  test('a bad sandbox name is refused with a clear message', async () => {
    await expect(navet('sandbox', 'create', 'Not_Valid')).rejects.toMatchObject({ stderr: expect.stringContaining('lower-case letters, digits and hyphens') });
  });
});
