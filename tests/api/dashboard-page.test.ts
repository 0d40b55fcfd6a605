import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDashboard } from '../../src/ui/build-dashboard';
import { startTestNavet, type TestNavet } from '../helpers/test-navet';

/** `/` serves the dashboard's page and `/dashboard/*` its bundle, under a policy that allows this Navet only. */
let dir: string;
let server: TestNavet;
let unbuilt: TestNavet;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'navet-dashboard-page-'));
  await buildDashboard(dir);
  server = await startTestNavet({ NAVET_DASHBOARD_DIR: dir });
  unbuilt = await startTestNavet({ NAVET_DASHBOARD_DIR: path.join(dir, 'not-built') });
}, 60_000);
afterAll(async () => {
  await server.close();
  await unbuilt.close();
  rmSync(dir, { recursive: true, force: true });
});

test('GET / is the page, with a policy that lets it load and call nothing but this Navet', async () => {
  const page = await server.http.get('/');
  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.text).toContain('<script type="module" src="/dashboard/app.js">');
  expect(page.headers['content-security-policy']).toMatch(/^default-src 'self';/);
  expect(page.headers['content-security-policy']).not.toMatch(/https?:/);
});

test('the bundle is served, and names no outside address to load', async () => {
  const script = await server.http.get('/dashboard/app.js');
  expect(script.status).toBe(200);
  expect(script.headers['content-type']).toMatch(/javascript/);
  expect(script.text).not.toMatch(/import\s*\(?\s*["']https?:/);
  const style = await server.http.get('/dashboard/app.css');
  expect(style.status).toBe(200);
  expect(style.text).not.toMatch(/@import|url\(\s*["']?https?:/);
  expect((await server.http.get('/dashboard/nothing.js')).status).toBe(404);
});

test('before the dashboard is built, / says how to build it (and the APIs still work)', async () => {
  const page = await unbuilt.http.get('/');
  expect(page.status).toBe(503);
  expect(page.text).toMatch(/npm run build/);
  expect((await unbuilt.http.get('/api/sandboxes')).status).toBe(200);
});
