import path from 'node:path';
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium when it is there, otherwise the
 * Chromium that the npm package @sparticuz/chromium ships (so a fresh machine needs no apt step). Background
 * networking is off, so the browser itself calls nothing outside.
 */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const QUIET = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launchChromium(): Promise<Browser> {
  if (existsSync(DEBIAN_CHROMIUM)) {
    return chromium.launch({
      executablePath: DEBIAN_CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', ...QUIET],
    });
  }
  const packaged = (await import('@sparticuz/chromium')).default;
  return chromium.launch({ executablePath: await packaged.executablePath(), args: [...packaged.args, ...QUIET] });
}

/**
 * Lets the context's pages reach only `origins`: any other request is aborted and recorded, and a test
 * checks that the list stays empty (blob: and data: URLs never leave the browser).
 */
export async function onlyTheseOrigins(context: BrowserContext, origins: string[]): Promise<string[]> {
  const outside: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (origins.includes(url.origin)) return route.continue();
    outside.push(url.toString());
    return route.abort('blockedbyclient');
  });
  context.on('request', (request) => {
    const url = new URL(request.url());
    if (
      !['blob:', 'data:'].includes(url.protocol) &&
      !origins.includes(url.origin) &&
      !outside.includes(url.toString())
    )
      outside.push(url.toString());
  });
  return outside;
}

/** Where the browser tests write the README's screenshots. */
export const SCREENSHOTS = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');

/** A page of the sandbox, from the dashboard's navigation bar. */
export async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Sandbox pages' }).getByRole('link', { name, exact: true }).click();
}

/** A screenshot for the README, taken from the top of the page. */
export async function screenshotFor(page: Page, name: string, fullPage = false): Promise<void> {
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
}
