import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { launchChromium, onlyTheseOrigins } from '../helpers/browser';
import { ASSERTION_TYPE, clientAssertion, demoClient } from '../helpers/helseid-client';
import { createSandbox, freePort, startTestNavet, type TestNavet } from '../helpers/test-navet';

/**
 * The test identity provider page in a real headless Chromium (Debian's, or the one @sparticuz/chromium
 * ships): pick a practitioner, log in, land on the redirect. Nothing may leave for another address.
 */
describe('test identity provider in Chromium', () => {
  let server: TestNavet;
  let listening: Server;
  let callback: Server;
  let browser: Browser;
  let origin: string;
  let callbackUrl: string;
  const received: URL[] = [];

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = await startTestNavet({ NAVET_BASE_URL: origin });
    listening = server.navet.app.listen(port, '127.0.0.1');
    // the client's redirect URI
    const callbackPort = await freePort();
    callbackUrl = `http://127.0.0.1:${callbackPort}/callback`;
    callback = createHttpServer((req, res) => {
      received.push(new URL(req.url ?? '/', callbackUrl));
      res.end('logged in');
    }).listen(callbackPort, '127.0.0.1');
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => callback.close(resolve));
    await new Promise((resolve) => listening.close(resolve));
    await server.close();
  });

  test('a tester picks a practitioner on the login page and the client receives a code', async () => {
    const sandbox = await createSandbox(server, { seed: 'fixtures', generator: { syntheticPatients: 0 } });
    const issuer = `${origin}/sandboxes/${sandbox.name}/helseid`;
    const gp = demoClient('demo-gp-system');
    const registered = await fetch(`${origin}/api/sandboxes/${sandbox.name}/clients`, {
      method: 'POST',
      headers: { Authorization: sandbox.auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        clientId: 'browser-gp',
        name: 'Browser GP system',
        jwks: gp.config.jwks,
        scopes: ['openid', 'nhn:phr/mhd/read-documentreferences'],
        organization: { parent: '100100673' },
        redirectUris: [callbackUrl],
      }),
    });
    expect(registered.status).toBe(201);
    const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const pushed = await fetch(`${issuer}/connect/par`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: 'browser-gp',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await clientAssertion(gp.privateJwk, 'browser-gp', issuer),
        response_type: 'code',
        redirect_uri: callbackUrl,
        scope: 'openid nhn:phr/mhd/read-documentreferences',
        state: 'browser-state',
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    });
    const { request_uri: requestUri } = (await pushed.json()) as { request_uri: string };

    const context = await browser.newContext({ locale: 'en-GB' });
    const outside = await onlyTheseOrigins(context, [origin, new URL(callbackUrl).origin]);
    const page = await context.newPage();
    await page.goto(`${issuer}/connect/authorize?client_id=browser-gp&request_uri=${encodeURIComponent(requestUri)}`);
    await page.getByText('Test identity provider').waitFor();
    await page.getByLabel(/Magnar Koman/).check();
    await Promise.all([page.waitForURL((url) => url.toString().startsWith(callbackUrl)), page.click('#login')]);
    expect(await page.textContent('body')).toBe('logged in');
    const landed = received.find((url) => url.pathname === '/callback') as URL;
    expect(landed.searchParams.get('state')).toBe('browser-state');
    expect(landed.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(outside).toEqual([]);
    await context.close();
  });
});
