import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, uniqueSandboxName } from '../helpers/test-navet';

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
    writeFileSync(
      bundleFile,
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Patient', id: 'from-cli', name: [{ family: 'Kommandolinje' }] },
            request: { method: 'PUT', url: 'Patient/from-cli' },
          },
        ],
      }),
    );
    const seeded = await navet('seed', name, '--bundle', bundleFile);
    expect(seeded.stdout).toContain(`Loaded ${bundleFile}: 1 entries`);

    const reset = await navet('sandbox', 'reset', name);
    expect(reset.stdout).toMatch(/Reset sandbox .* in \d+ ms/);

    const deleted = await navet('sandbox', 'delete', name);
    expect(deleted.stdout).toContain(`Deleted sandbox '${name}'`);
    await expect(navet('sandbox', 'reset', name)).rejects.toMatchObject({
      stderr: expect.stringContaining(`no sandbox named '${name}'`),
    });
  }, 180_000); // six runs of the CLI, each a process of its own

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect((await navet('--version')).stdout.trim()).toBe(version);
  });

  test('seed checks every input first and changes nothing on failure; it never seeds demo without a name', async () => {
    await expect(navet('seed')).rejects.toMatchObject({
      stderr: expect.stringContaining("missing required argument 'name'"),
    });
    const name = uniqueSandboxName('seed');
    await navet('sandbox', 'create', name, '--patients', '0');
    const kept = path.join(dataDir, 'kept.json');
    writeFileSync(
      kept,
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Patient', id: 'kept', name: [{ family: 'Beholdt' }] },
            request: { method: 'PUT', url: 'Patient/kept' },
          },
        ],
      }),
    );
    await navet('seed', name, '--bundle', kept);
    const count = async () =>
      Number(
        /(\d+) resources/.exec(
          (await navet('sandbox', 'list')).stdout.split('\n').find((line) => line.startsWith(name)) ?? '',
        )?.[1],
      );
    const before = await count();

    await expect(navet('seed', name, '--bundle', path.join(dataDir, 'nope.json'))).rejects.toMatchObject({
      stderr: expect.stringContaining('nope.json: no such file'),
    });
    const patient = path.join(dataDir, 'patient.json');
    writeFileSync(patient, JSON.stringify({ resourceType: 'Patient' }));
    await expect(navet('seed', name, '--bundle', patient)).rejects.toMatchObject({
      stderr: expect.stringMatching(
        /patient\.json is a Patient, not a Bundle; navet seed --bundle loads a FHIR Bundle of type transaction or batch/,
      ),
    });
    const failing = path.join(dataDir, 'failing.json');
    writeFileSync(
      failing,
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            resource: { resourceType: 'Patient', birthDate: 'yesterday' },
            request: { method: 'POST', url: 'Patient' },
          },
        ],
      }),
    );
    await expect(navet('seed', name, '--bundle', failing)).rejects.toMatchObject({
      stderr: expect.stringContaining(`Nothing changed: sandbox '${name}' is as it was before`),
    });
    // the Patient a reset would have removed is still there: nothing changed
    expect(await count()).toBe(before);
  }, 180_000); // nine runs of the CLI, each a process of its own

  test('a second serve on a busy port fails clearly before it opens any data', async () => {
    const port = await freePort();
    const busy = createServer().listen(port, '127.0.0.1');
    const fresh = mkdtempSync(path.join(tmpdir(), 'navet-busy-'));
    try {
      const serve = run(tsx, [path.join(root, 'src', 'main.ts'), 'serve'], {
        env: { ...env, NAVET_DATA_DIR: fresh, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: '' },
        cwd: root,
      });
      await expect(serve).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining(`Port ${port} on 127.0.0.1 is in use`),
      });
      expect(existsSync(path.join(fresh, 'navet.sqlite'))).toBe(false);
    } finally {
      busy.close();
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  test('snapshots and the clock from the command line; an out-of-range clock is refused', async () => {
    const name = uniqueSandboxName('snap');
    await navet('sandbox', 'create', name, '--empty');
    expect((await navet('snapshot', 'create', name, 'first')).stdout).toContain(`Saved snapshot 'first' of '${name}'`);
    expect((await navet('snapshot', 'list', name)).stdout).toMatch(/^first\s+\d{4}-/m);
    await expect(navet('clock', 'set', name, '--offset-seconds', '1e300')).rejects.toMatchObject({
      stderr: expect.stringContaining('at most 3155760000 seconds'),
    });
    expect((await navet('clock', 'set', name, '--offset-seconds', '3600')).stdout).toContain('(offset 3600 s)');
  });

  test('a bad sandbox name is refused with a clear message', async () => {
    await expect(navet('sandbox', 'create', 'Not_Valid')).rejects.toMatchObject({
      stderr: expect.stringContaining('lower-case letters, digits and hyphens'),
    });
  });
});
