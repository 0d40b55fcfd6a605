import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSandbox } from '../helpers/test-navet';
import { type ListeningNavet, startListeningNavet } from '../helpers/listening-navet';

/** `navet scenario run` as a user runs it, against a listening Navet: live steps, a summary, exit 0 / 3 / ≥ 4. */
const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const dir = mkdtempSync(path.join(tmpdir(), 'navet-scenario-cli-'));

let server: ListeningNavet;
let sandbox: { name: string; adminKey: string };
beforeAll(async () => {
  server = await startListeningNavet();
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function scenarioRun(fileOrName: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      tsx,
      [
        path.join(root, 'src', 'main.ts'),
        'scenario',
        'run',
        fileOrName,
        '--sandbox',
        sandbox.name,
        '--url',
        server.origin,
        '--admin-key',
        sandbox.adminKey,
      ],
      { cwd: root, env: { ...process.env, NAVET_LOG_LEVEL: 'silent' } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe('navet scenario run', () => {
  test.each(['discharge', 'legemiddelsamstemming', 'critical-information', 'lab-results', 'kjernejournal-reservation'])(
    '%s passes with exit 0, one line per step',
    async (name) => {
      const result = await scenarioRun(name);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^PASSED: (\d+)\/\1 steps, (\d+)\/\2 checks passed in \d+ ms$/m);
      expect(result.stdout).toMatch(/✓ \S+\s+\S+ → \S+ → \S+\s+\d{3}\s+\d+ ms/);
    },
    60000,
  );

  test('a failing expectation exits 3 and names the step and the rule', async () => {
    const file = path.join(dir, 'broken.yaml');
    writeFileSync(
      file,
      readFileSync(path.join(root, 'fixtures', 'scenarios', 'discharge.yaml'), 'utf8').replace(
        'practitioner: { hpr: "565501872" }        # Grønn Vits',
        'practitioner: { hpr: "565501872" }\n    scopes: ["nhn:phr/mhd/read-document"]',
      ),
    );
    const result = await scenarioRun(file);
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/✗ gp-finds-documents .* 403/);
    expect(result.stdout).toContain('NAVET-TOKEN-SCOPE: HTTP 403, expected 200; The access token lacks the scope');
    expect(result.stdout).toMatch(/^FAILED: 1\/6 steps/m);
  }, 60000);

  test('a bad scenario file exits 4 with file:line:column of each problem', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'name: bad\ntitle: Bad\nactors:\n  gp:\n    title: GP\n    citizen: { fnr: "123" }\nsteps:\n  - id: one\n    actor: gp\n    call: citizen.access-log\n    colour: blue\n',
    );
    const result = await scenarioRun(file);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`${file}:6:21: actors.gp.citizen.fnr: must match pattern`);
    expect(result.stderr).toContain(`${file}:8:5: steps.0: unknown field 'colour'`);
  }, 60000);

  test('no Navet at the URL exits 5', async () => {
    const { code, stderr } = await run(
      tsx,
      [
        path.join(root, 'src', 'main.ts'),
        'scenario',
        'run',
        'discharge',
        '--sandbox',
        'x',
        '--url',
        'http://127.0.0.1:9',
        '--admin-key',
        'k',
      ],
      { cwd: root },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(code).toBe(5);
    expect(stderr).toContain('no Navet answers at http://127.0.0.1:9');
  }, 60000);
});
