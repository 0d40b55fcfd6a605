import path from 'node:path';
import type { Page } from 'playwright-core';
import { openTab, screenshotFor } from '../helpers/browser';
import { type DashboardBrowser, openDashboard } from '../helpers/dashboard-browser';
import { LINE_DANSER } from '../helpers/documents';
import { TROY_HAMMER } from '../helpers/sfm';
import { vits } from '../helpers/helseid-client';
import { pjdDocumentSearch, ppsSubmit } from '../helpers/client-calls';
import { labBundle } from '../helpers/lab-results';
import type { TestNavet } from '../helpers/test-navet';

/**
 * The dashboard at / in a real headless Chromium, through a person's journeys. Every request the pages make
 * must go to the Navet under test; the screenshots in docs/screenshots are taken here, so they stay current.
 */
const SANDBOX = `dash-${process.pid}`.slice(0, 40);
/** The critical-information test patient of the spec, with one entry of every type. */
const CRITICAL_INFORMATION_PATIENT = '48882807579';

let dashboard: DashboardBrowser;
let server: TestNavet;
let page: Page;
let origin: string;
let outside: string[];
let adminKey: string;

beforeAll(async () => {
  dashboard = await openDashboard(30_000);
  ({ server, page, origin, outside } = dashboard);
}, 120_000);

afterAll(async () => {
  await dashboard?.close();
});

afterEach(() => {
  // nothing the pages asked for left for another address
  expect(outside).toEqual([]);
});

const tab = (name: string) => openTab(page, name);
const screenshot = (name: string, fullPage = false) => screenshotFor(page, name, fullPage);

test('a new user opens /, creates a sandbox with generator settings and gets its admin key once', async () => {
  await page.goto(`${origin}/`);
  await page.getByRole('heading', { name: 'Sandboxes', exact: true }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill(SANDBOX);
  await page.getByLabel(/Synthetic patients/).fill('12');
  await page.getByLabel(/Random seed/).fill('7');
  await screenshot('sandboxes');
  await page.getByRole('button', { name: 'Create sandbox' }).click();
  await page.getByRole('heading', { name: `Sandbox ${SANDBOX} is ready` }).waitFor({ timeout: 60_000 });
  adminKey = (await page.locator('.snippet pre').first().textContent()) ?? '';
  expect(adminKey).toMatch(/^navet_adm_/);
  // the key is in session storage, not in any address
  expect(await page.evaluate(`sessionStorage.getItem('navet.admin-key.${SANDBOX}')`)).toBe(adminKey);
  expect(page.url()).not.toContain(adminKey);

  await page.getByRole('link', { name: `Open ${SANDBOX}` }).click();
  await page.getByRole('heading', { name: `Sandbox ${SANDBOX}`, exact: true }).waitFor();
  await page.getByRole('cell', { name: `${origin}/sandboxes/${SANDBOX}/pjd` }).waitFor();
  await page.getByRole('cell', { name: 'demo-gp-system' }).first().waitFor();
  // the GP's record system, as a vendor of GP systems picks it
  await page.getByLabel('Show how to call the services as').selectOption('demo-gp-system');
  await page.getByText('PJD: find documents (ITI-67)').first().click();
  const curl = await page.locator('.snippet pre').first().textContent();
  expect(curl).toContain(`${origin}/sandboxes/${SANDBOX}/helseid/create-test-token`);
  expect(curl).toContain(`${origin}/sandboxes/${SANDBOX}/pjd/R4/fhir/DocumentReference/_search`);
  // a health worker of the client's organisation from the sandbox fills the attestation
  await page.locator('.snippet pre').first().filter({ hasText: '"id": "565501872"' }).waitFor();
  await screenshot('sandbox-overview', true);
});

test('snapshots are saved and deleted, the clock moved and set back, with a confirmation before data is lost', async () => {
  await page.getByLabel('Label').fill('before-demo');
  await page.getByRole('button', { name: 'Save snapshot' }).click();
  await page.getByRole('cell', { name: 'before-demo', exact: true }).waitFor();
  await page.getByLabel(/Move by/).fill('48');
  await page.getByRole('button', { name: 'Move clock' }).click();
  await page.getByText('48 h from real time').waitFor();
  await page.getByRole('button', { name: 'Back to real time' }).click();
  await page.getByText('(real time)').waitFor();
  const asked: string[] = [];
  page.once('dialog', (dialog) => {
    asked.push(dialog.message());
  });
  await page.getByRole('button', { name: 'Delete before-demo' }).click();
  await page.getByText('Deleted snapshot before-demo').waitFor();
  expect(asked[0]).toMatch(/Delete snapshot before-demo\?/);
  await page.getByText('No snapshots.').waitFor();
});

/** A lab sends CRP results over a year, with the reference range, so there is a line to plot. */
async function crpResults(): Promise<void> {
  for (const [i, [collected, value]] of (
    [
      ['2026-01-10', 3],
      ['2026-04-02', 18],
      ['2026-06-20', 46],
      ['2026-09-15', 9],
      ['2026-11-01', 4],
    ] as const
  ).entries()) {
    const bundle = labBundle({
      nin: LINE_DANSER,
      reportId: `CRP-${i}`,
      collected: `${collected}T08:00:00+01:00`,
      results: [['NPU19748', value, 'mg/L']],
    });
    for (const entry of bundle.entry) {
      const resource = entry.resource as { resourceType: string; referenceRange?: unknown };
      if (resource.resourceType === 'Observation') {
        const ucum = { unit: 'mg/L', system: 'http://unitsofmeasure.org', code: 'mg/L' };
        resource.referenceRange = [{ low: { value: 0, ...ucum }, high: { value: 5, ...ucum } }];
      }
    }
    const answer = await ppsSubmit(server, SANDBOX, origin, bundle);
    if (answer.status !== 200) throw new Error(`lab submission: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
}

test('find Line Danser by name, see her across the services and open a document', async () => {
  await crpResults();
  await tab('Patients');
  await page.getByLabel('Name or fødselsnummer').fill('Line Danser');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: 'Line Danser' }).click();
  await page.getByRole('heading', { name: /Line Danser/ }).waitFor();
  const documents = page.getByRole('region', { name: 'Documents (PJD)' });
  await documents
    .getByRole('button', { name: /^Open PDF/ })
    .first()
    .waitFor();
  const lab = page.getByRole('region', { name: 'Lab results (PPS)' });
  await lab.getByLabel('Plot').selectOption('NPU19748');
  await lab.locator('.plot canvas').waitFor();
  // the plot's text alternative lists the points
  await expect(lab.locator('.plot').getAttribute('aria-label')).resolves.toContain('2026-06-20 46');
  await page
    .getByRole('region', { name: /Privacy choices/ })
    .getByText('Reservation against Kjernejournal')
    .waitFor();
  await screenshot('patient', true);

  const [popup] = await Promise.all([
    page.waitForEvent('popup'),
    documents
      .getByRole('button', { name: /^Open PDF/ })
      .first()
      .click(),
  ]);
  const saved = await documents.getByRole('link', { name: 'save it' }).getAttribute('href');
  expect(saved).toMatch(/^blob:/);
  const start = await page.evaluate(
    async (url) => new TextDecoder().decode((await (await fetch(url)).arrayBuffer()).slice(0, 5)),
    saved as string,
  );
  expect(start).toBe('%PDF-');
  await popup.close();
});

test('by fødselsnummer: the medication list with its versions and who reconciled, critical information with its versions', async () => {
  await tab('Patients');
  // from the keyboard: type, Enter to search, the result link focused and followed with Enter
  await page.getByLabel('Name or fødselsnummer').fill(TROY_HAMMER);
  await page.getByLabel('Name or fødselsnummer').press('Enter');
  await page.getByRole('link', { name: 'Troy Hammer' }).focus();
  await page.keyboard.press('Enter');
  const medication = page.getByRole('region', { name: /Medication list/ });
  await medication.getByRole('button', { name: 'Show version 1' }).click();
  await medication.getByRole('heading', { name: 'Version 1' }).waitFor();
  await medication
    .getByRole('cell', { name: /Grønn Vits \(HPR 565501872\)/ })
    .first()
    .waitFor();
  await medication.getByRole('cell', { name: /Magnar Koman/ }).waitFor();
  await medication.locator('table.nested tbody tr').first().waitFor();
  await screenshot('medication-list', true);

  await page.goto(`${origin}/#/s/${SANDBOX}/patients/${CRITICAL_INFORMATION_PATIENT}`);
  const critical = page.getByRole('region', { name: 'Critical information (Kjernejournal)' });
  await critical
    .getByRole('button', { name: /^Versions/ })
    .first()
    .click();
  const versions = critical.locator('table.nested tbody tr');
  await versions.first().waitFor();
  await expect(critical.locator('table.nested').textContent()).resolves.toMatch(/Registered by/);
});

test('an access-log entry appears live while a client calls PJD, and the citizen sees who looked', async () => {
  await tab('Access log');
  await page.getByLabel('Patient').fill(LINE_DANSER);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
  // the lab's submissions for her are logged already; no GP has looked yet
  const rows = page.locator('table.log tbody tr');
  await rows.filter({ hasText: 'demo-lab-system' }).first().waitFor();
  const gpRows = rows.filter({ hasText: 'Grønn Vits' });
  expect(await gpRows.count()).toBe(0);
  const answer = await pjdDocumentSearch(server, SANDBOX, origin, {
    nin: LINE_DANSER,
    details: [vits()],
    clientId: 'demo-gp-system',
  });
  expect(answer.status).toBe(200);
  await gpRows.first().waitFor({ timeout: 15_000 });
  const newest = rows.first();
  await expect(newest.textContent()).resolves.toContain('Grønn Vits');
  await expect(newest.textContent()).resolves.toContain('demo-gp-system');
  await expect(newest.textContent()).resolves.toContain('pjd');
  // the filter holds: every line is Line Danser's
  for (const text of await rows.allTextContents()) expect(text).toContain(LINE_DANSER);
  await screenshot('access-log');

  await tab('Citizen');
  await page.getByLabel(/See the citizen's side as/).fill(LINE_DANSER);
  await page.getByRole('button', { name: 'Log in as this citizen' }).click();
  const log = page.getByRole('region', { name: /Who has looked at my record/ });
  await log.getByText('Grønn Vits').first().waitFor();
  await screenshot('citizen');
});

test('service settings are forms: SFM fault injection is saved and read back', async () => {
  await tab('Service settings');
  const sfm = page.getByRole('region', { name: 'SFM: fault injection' });
  await sfm
    .getByRole('group', { name: /Reseptformidleren/ })
    .getByLabel('Mode')
    .selectOption('unavailable');
  await sfm.getByRole('button', { name: 'Save SFM settings' }).click();
  await sfm.getByText('Saved').waitFor();
  const saved = await server.http
    .get(`/api/sandboxes/${SANDBOX}/settings/sfm`)
    .set('Authorization', `Bearer ${adminKey}`);
  expect(saved.body.reseptformidleren.mode).toBe('unavailable');
  await screenshot('settings');
});

test('a wrong admin key is refused and asked for again; the right one opens the sandbox', async () => {
  await page.evaluate(`sessionStorage.setItem('navet.admin-key.${SANDBOX}', 'navet_adm_not-this-one')`);
  await page.goto(`${origin}/#/s/${SANDBOX}/overview`);
  await page.reload();
  await page.getByRole('heading', { name: `That key was not accepted. Admin key of sandbox ${SANDBOX}` }).waitFor();
  await page.getByLabel('Key').fill(adminKey);
  await page.getByLabel('Key').press('Enter');
  await page.getByRole('heading', { name: `Sandbox ${SANDBOX}`, exact: true }).waitFor();
});

test('deleting the sandbox asks first, and the list no longer has it', async () => {
  await tab('Overview');
  const asked: string[] = [];
  page.once('dialog', (dialog) => {
    asked.push(dialog.message());
  });
  await page.getByRole('button', { name: 'Delete sandbox' }).click();
  await page.getByRole('heading', { name: 'Sandboxes', exact: true }).waitFor();
  expect(asked[0]).toMatch(new RegExp(`Delete sandbox ${SANDBOX} with all its data`));
  await page.getByRole('heading', { name: 'All sandboxes' }).waitFor();
  await expect(page.getByRole('cell', { name: SANDBOX, exact: true }).count()).resolves.toBe(0);
  expect((await server.http.get(`/api/sandboxes/${SANDBOX}`).set('Authorization', `Bearer ${adminKey}`)).status).toBe(
    404,
  );
});
