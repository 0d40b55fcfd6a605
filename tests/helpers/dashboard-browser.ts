import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { buildDashboard } from '../../src/ui/build-dashboard';
import { launchChromium, onlyTheseOrigins } from './browser';
import { freePort, startTestNavet, type TestNavet } from './test-navet';

/** A listening Navet with a freshly built dashboard, and a page of headless Chromium on a laptop screen. */
export interface DashboardBrowser {
  server: TestNavet;
  page: Page;
  origin: string;
  /** Addresses other than the Navet under test that the pages asked for (a test expects none). */
  outside: string[];
  close(): Promise<void>;
}

export async function openDashboard(timeoutMs: number): Promise<DashboardBrowser> {
  const dashboardDir = mkdtempSync(path.join(tmpdir(), 'navet-dashboard-'));
  await buildDashboard(dashboardDir);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startTestNavet({ NAVET_BASE_URL: origin, NAVET_DASHBOARD_DIR: dashboardDir });
  const listening = server.navet.app.listen(port, '127.0.0.1');
  const browser = await launchChromium();
  // a laptop screen; a locale and zone set, since the packaged Chromium has none of its own
  const context = await browser.newContext({
    viewport: { width: 1366, height: 860 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const outside = await onlyTheseOrigins(context, [origin]);
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  page.on('dialog', (dialog) => void dialog.accept());
  return {
    server,
    page,
    origin,
    outside,
    close: async () => {
      await browser.close();
      listening.closeAllConnections();
      await new Promise((resolve) => listening.close(resolve));
      await server.close();
      rmSync(dashboardDir, { recursive: true, force: true });
    },
  };
}
