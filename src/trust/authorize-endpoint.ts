import express, { type Request, type Response, Router } from 'express';
import { randomBytes } from 'node:crypto';
import { parseSearchRequest } from '../fhir/search-request';
import type { Sandbox } from '../sandbox/sandboxes';
import type { ResourceStore } from '../store/resource-store';
import { endSessionEndpoint } from './end-session-endpoint';
import { type AuthorizationCode, CODE_LIFETIME_S, type PushedRequest, REQUEST_URI_PREFIX } from './login-flow';
import { TrustError } from '../http/trust-error';
import type { TrustServices } from './trust-services';

/**
 * `GET <helseid>/connect/authorize?client_id&request_uri`: the sandbox's test identity provider. The
 * tester picks a practitioner of the sandbox or types a fødselsnummer (security level 4, no real
 * authentication); `test_pid=<fnr>` skips the page, as HelseID's test IdP allows. Logging in redirects to
 * the client's redirect_uri with a one-time code.
 */
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const HPR = 'urn:oid:2.16.578.1.12.4.1.4.4';

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

interface Person {
  pid: string;
  hpr?: string;
  name: string;
  qualification?: string;
}

async function practitioners(store: ResourceStore, sandbox: string): Promise<Person[]> {
  const found = await store.search(sandbox, {
    ...parseSearchRequest('Practitioner', [['_sort', 'family']]),
    count: 200,
    totalNone: true,
  });
  return found.matches.flatMap((p) => {
    const identifiers = (p.identifier ?? []) as { system?: string; value?: string }[];
    const pid = identifiers.find((i) => i.system === FNR)?.value;
    if (!pid) return [];
    const name = ((p.name ?? []) as { given?: string[]; family?: string }[])[0];
    const qualification = ((p.qualification ?? []) as { code?: { coding?: { code?: string }[] } }[])[0]?.code
      ?.coding?.[0]?.code;
    return [
      {
        pid,
        hpr: identifiers.find((i) => i.system === HPR)?.value,
        name: [...(name?.given ?? []), name?.family].filter(Boolean).join(' '),
        qualification,
      },
    ];
  });
}

function loginPage(
  sandbox: string,
  clientName: string,
  action: string,
  hidden: Record<string, string>,
  people: Person[],
): string {
  const hiddenFields = Object.entries(hidden)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  const options = people
    .map(
      (p, i) =>
        `<li><label><input type="radio" name="pid" value="${escapeHtml(p.pid)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(p.name)} <small>(${escapeHtml(p.qualification ?? '—')}, HPR ${escapeHtml(p.hpr ?? '—')}, fnr ${escapeHtml(p.pid)})</small></label></li>`,
    )
    .join('');
  return `<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>Navet test-IdP — ${escapeHtml(sandbox)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}li{list-style:none;margin:.3rem 0}button{font-size:1rem;padding:.4rem 1.2rem}</style></head>
<body><h1>Test identity provider</h1>
<p>Sandbox <strong>${escapeHtml(sandbox)}</strong> — <strong>${escapeHtml(clientName)}</strong> asks you to log in. This is a test login at security level 4: no real authentication.</p>
<form method="post" action="${escapeHtml(action)}">${hiddenFields}
<fieldset><legend>Log in as a practitioner of this sandbox</legend><ul>${options || '<li>(no practitioners in this sandbox)</li>'}</ul></fieldset>
<p><label>… or as this fødselsnummer: <input name="test_pid" inputmode="numeric" pattern="\\d{11}" placeholder="11 digits"></label></p>
<button type="submit" id="login">Log in</button></form></body></html>`;
}

export function authorizeEndpoint(
  services: TrustServices,
  store: ResourceStore,
  issuerOf: (sandbox: string) => string,
): Router {
  const router = Router();
  router.use(endSessionEndpoint(services, issuerOf));

  async function pushedRequest(
    sandbox: Sandbox,
    clientId: unknown,
    requestUri: unknown,
  ): Promise<{ handle: string; pushed: PushedRequest }> {
    if (typeof requestUri !== 'string' || !requestUri.startsWith(REQUEST_URI_PREFIX)) {
      throw new TrustError(
        'invalid_request',
        'NAVET-AUTHORIZE-REQUEST-URI',
        'HelseID requires pushed authorization requests: send the request_uri you got from /connect/par',
      );
    }
    const handle = requestUri.slice(REQUEST_URI_PREFIX.length);
    const now = sandbox.clock.now().getTime();
    const pushed = await services.state.get<PushedRequest>(sandbox.name, 'par', handle, now);
    if (!pushed)
      throw new TrustError(
        'invalid_request',
        'NAVET-AUTHORIZE-REQUEST-EXPIRED',
        'The request_uri is unknown, used or expired (it lives 90 s): push the request again',
      );
    if (pushed.clientId !== clientId)
      throw new TrustError(
        'invalid_request',
        'NAVET-AUTHORIZE-CLIENT',
        'client_id differs from the client that pushed the request',
      );
    return { handle, pushed };
  }

  async function login(
    res: Response,
    sandbox: Sandbox,
    handle: string,
    pushed: PushedRequest,
    pid: string,
  ): Promise<void> {
    if (!/^\d{11}$/.test(pid))
      throw new TrustError(
        'invalid_request',
        'NAVET-AUTHORIZE-PID',
        'Log in with an 11-digit fødselsnummer or D-number',
      );
    const now = sandbox.clock.now();
    // the pushed request is single-use: of two logins at once, one wins
    if (!(await services.state.take(sandbox.name, 'par', handle, now.getTime()))) {
      throw new TrustError(
        'invalid_request',
        'NAVET-AUTHORIZE-REQUEST-EXPIRED',
        'The request_uri was used or has expired: push the request again',
      );
    }
    const code = randomBytes(32).toString('base64url');
    const grant: AuthorizationCode = { ...pushed, pid, authTime: Math.floor(now.getTime() / 1000) };
    await services.state.put(sandbox.name, 'code', code, grant, now.getTime() + CODE_LIFETIME_S * 1000);
    const redirect = new URL(pushed.redirectUri);
    redirect.searchParams.set('code', code);
    if (pushed.state !== undefined) redirect.searchParams.set('state', pushed.state);
    redirect.searchParams.set('iss', issuerOf(sandbox.name));
    res.redirect(302, redirect.toString());
  }

  router.get('/connect/authorize', async (req: Request, res: Response) => {
    const sandbox = res.locals.sandbox;
    const { handle, pushed } = await pushedRequest(sandbox, req.query.client_id, req.query.request_uri);
    const testPid = typeof req.query.test_pid === 'string' ? req.query.test_pid : pushed.testPid;
    if (testPid) return login(res, sandbox, handle, pushed, testPid);
    const client = await services.clients.get(sandbox.name, pushed.clientId);
    const action = `${issuerOf(sandbox.name)}/connect/authorize`;
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res
      .type('html')
      .send(
        loginPage(
          sandbox.name,
          client.name,
          action,
          { client_id: pushed.clientId, request_uri: String(req.query.request_uri) },
          await practitioners(store, sandbox.name),
        ),
      );
  });

  router.post(
    '/connect/authorize',
    express.urlencoded({ extended: false, limit: '16kb' }),
    async (req: Request, res: Response) => {
      const sandbox = res.locals.sandbox;
      const body = (req.body ?? {}) as Record<string, string | undefined>;
      const { handle, pushed } = await pushedRequest(sandbox, body.client_id, body.request_uri);
      const pid = body.test_pid?.trim() ? body.test_pid.trim() : (body.pid ?? '');
      await login(res, sandbox, handle, pushed, pid);
    },
  );
  return router;
}
