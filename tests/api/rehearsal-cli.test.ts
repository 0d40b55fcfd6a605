import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createSandbox } from '../helpers/test-navet';
import { type ListeningNavet, startListeningNavet } from '../helpers/listening-navet';

/** `navet rehearse` as a user runs it against a listening Navet: progress, the abridged report, the report file. */
const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'navet-rehearse-cli-'));
let server: ListeningNavet;
beforeAll(async () => {
  server = await startListeningNavet();
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('navet rehearse --hours 1 --speed 3600 prints progress and the readiness report, writes it as HTML, exits 0 when ready', async () => {
  const sandbox = await createSandbox(server, {
    seed: 'municipality',
    municipality: {
      kommunenummer: '9996',
      name: 'Klivik kommune',
      population: 1500,
      pjdTermsSigned: true,
      units: [
        { kind: 'home-care', name: 'Hjemmetjenesten Klivik' },
        { kind: 'out-of-hours', name: 'Klivik legevakt' },
      ],
      gpOffices: [{ name: 'Klivik legesenter', gps: 1 }],
      hospitalTrust: { name: 'Klivik sykehus HF', hospitals: [{ name: 'Klivik sykehus' }] },
      recordSystems: [
        { id: 'gp-epj', name: 'Fastlegesystem', usedBy: ['gp-office'], services: ['pll', 'pjd', 'lab-results'] },
        { id: 'municipal-epj', name: 'Kommunal EPJ', usedBy: ['home-care'], services: ['pll'] },
        {
          id: 'legevakt-epj',
          name: 'Legevaktsystem',
          usedBy: ['out-of-hours'],
          services: ['pll', 'critical-information'],
        },
        { id: 'hospital-epj', name: 'Sykehussystem', usedBy: ['hospital'], services: ['pjd', 'lab-results'] },
      ],
    },
  });
  const report = path.join(dir, 'report.html');
  const { stdout } = await run(
    path.join(root, 'node_modules', '.bin', 'tsx'),
    [
      path.join(root, 'src', 'main.ts'),
      'rehearse',
      '--sandbox',
      sandbox.name,
      '--hours',
      '1',
      '--speed',
      '3600',
      '--url',
      server.origin,
      '--admin-key',
      sandbox.adminKey,
      '--report',
      report,
    ],
    { cwd: root },
  );
  expect(stdout).toMatch(/^Rehearsal of Klivik kommune: 1 h at speed 3600, \d+ flows planned \(Ctrl-C stops\)$/m);
  expect(stdout).toMatch(/^Readiness report: Klivik kommune \(9996, 1500 inhabitants\) — rehearsal finished$/m);
  expect(stdout).toMatch(/^ {2}\[ready\] Kjernejournal is reachable/m);
  expect(stdout).toMatch(/^ {2}GP \(Fastlegesystem, Klivik legesenter\) → sfm: \d+ \/ \d+, \d+ \/ \d+ ms$/m);
  expect(existsSync(report)).toBe(true);
  expect(readFileSync(report, 'utf8')).toContain('<h2>Rollout prerequisites</h2>');
}, 120000);
