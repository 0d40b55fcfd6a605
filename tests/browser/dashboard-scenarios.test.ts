import path from 'node:path';
import type { Page } from 'playwright-core';
import { openTab, screenshotFor } from '../helpers/browser';
import { type DashboardBrowser, openDashboard } from '../helpers/dashboard-browser';
import { pjdDocumentSearch } from '../helpers/client-calls';
import { LINE_DANSER } from '../helpers/documents';
import { koman } from '../helpers/helseid-client';
import { createSandbox, type TestNavet } from '../helpers/test-navet';

/**
 * The dashboard's scenario, rehearsal and conformance panels in headless Chromium, against the real
 * backends: a shipped scenario run step by step, a municipality sandbox created from its preset and
 * rehearsed, a conformance session recorded while a client calls PJD and its report read.
 */

let dashboard: DashboardBrowser;
let server: TestNavet;
let page: Page;
let origin: string;
let outside: string[];
let sandbox: { name: string; adminKey: string };

beforeAll(async () => {
  dashboard = await openDashboard(20_000);
  ({ server, page, origin, outside } = dashboard);
  sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
  // the admin key as a person enters it
  await page.goto(`${origin}/#/s/${sandbox.name}/overview`);
  await page.getByLabel('Key').fill(sandbox.adminKey);
  await page.getByLabel('Key').press('Enter');
  await page.getByRole('heading', { name: `Sandbox ${sandbox.name}`, exact: true }).waitFor();
}, 120_000);

afterAll(async () => {
  await dashboard?.close();
});

afterEach(() => {
  expect(outside).toEqual([]);
});

const tab = (name: string) => openTab(page, name);
const screenshot = (name: string, fullPage = false) => screenshotFor(page, name, fullPage);

test('run a shipped scenario and watch its steps as a sequence of actors and services', async () => {
  await tab('Scenarios');
  const panel = page.getByRole('region', { name: 'Run a scenario' });
  await panel.getByLabel('Shipped scenario').selectOption('discharge');
  await panel.getByRole('button', { name: 'Run scenario' }).click();
  await panel.locator('.run h3 .verdict').filter({ hasText: 'passed' }).waitFor({ timeout: 60_000 });
  const steps = panel.locator('.run table tbody tr');
  expect(await steps.count()).toBeGreaterThan(3);
  expect(await panel.locator('.sequence .lane-name').count()).toBeGreaterThan(2);
  await expect(panel.locator('.sequence svg').getAttribute('aria-label')).resolves.toMatch(
    /^Sequence of \d+ steps between /,
  );
  await screenshot('scenario', true);
}, 120_000);

test("open a conformance session, watch a client's request arrive, arm a challenge, finish and read the report", async () => {
  await tab('Conformance');
  const open = page.getByRole('region', { name: 'Open a session' });
  await open.getByRole('combobox', { name: /^Client/ }).selectOption('demo-hospital-system');
  await open.getByLabel('pjd-consumer').check();
  await open.getByLabel('Label (optional)').fill('browser test');
  await open.getByRole('button', { name: 'Start recording' }).click();
  const session = page.getByRole('region', { name: /^Session cs-/ });
  await session.getByText('recording').first().waitFor();

  expect((await pjdDocumentSearch(server, sandbox.name, origin, { nin: LINE_DANSER, details: [koman()] })).status).toBe(
    200,
  );
  await session
    .getByRole('list', { name: 'Counts' })
    .getByText(/^[1-9]\d*$/)
    .first()
    .waitFor({ timeout: 15_000 });
  await session.getByRole('combobox', { name: /^Challenge/ }).selectOption('nors-hidden');
  await session.getByRole('button', { name: 'Arm challenge' }).click();
  await session.getByText(/Armed nors-hidden/).waitFor();
  await session.getByRole('button', { name: 'Finish and grade' }).click();

  const report = page.getByRole('region', { name: 'Report' });
  await report.getByText(/^Verdict:/).waitFor({ timeout: 30_000 });
  const rows = report.locator('table tbody tr');
  expect(await rows.count()).toBeGreaterThan(0);
  // omitted requirements are hidden until asked for
  expect(
    await rows
      .filter({ hasText: /^.*omit.*$/ })
      .filter({ has: page.locator('.verdict.omit') })
      .count(),
  ).toBe(0);
  await expect(report.getByRole('cell', { name: /^PJD-/ }).count()).resolves.toBeGreaterThan(0);
  await screenshot('conformance', true);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    report.getByRole('button', { name: 'Download JUNIT' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^conformance-cs-.*\.xml$/);
});

test('create a municipality sandbox from the Bodø preset, rehearse it, stop, and read the readiness report', async () => {
  await page.goto(`${origin}/#/`);
  await page.getByLabel('Name', { exact: true }).fill(`bodo-${process.pid}`.slice(0, 40));
  await page.getByRole('combobox', { name: /^Seed/ }).selectOption('municipality');
  await page.getByRole('combobox', { name: 'Municipality preset', exact: true }).fill('bodo');
  await page.getByRole('button', { name: 'Create sandbox' }).click();
  await page.getByRole('link', { name: /^Open bodo-/ }).click({ timeout: 90_000 });
  await tab('Scenarios');
  const panel = page.getByRole('region', { name: /^Rehearse/ });
  await panel.getByLabel('Hours of traffic').fill('1');
  await panel.getByLabel(/Speed/).fill('3600');
  await panel.getByRole('button', { name: 'Add a fault' }).click();
  await panel.getByRole('button', { name: 'Start rehearsal' }).click();
  await panel.getByText(/^Flows: [1-9]\d* of \d+ started/).waitFor({ timeout: 30_000 });
  await panel.getByRole('button', { name: 'Stop rehearsal' }).click();
  await panel.locator('.verdict').filter({ hasText: 'stopped' }).first().waitFor({ timeout: 30_000 });
  await panel.getByRole('heading', { name: /^Readiness report: Bodø kommune/ }).waitFor();
  expect(await panel.locator('.report table tbody tr').count()).toBeGreaterThan(0);
  await screenshot('rehearsal', true);
}, 180_000);
