import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import supertest from 'supertest';
import { ReferenceVendor } from '../../src/clients/reference-vendor';
import { PROFILES, REQUIREMENTS } from '../../src/conformance/requirement';
import { CarelessVendor } from './careless-client';
import { gradeVendor, notPassed, vendorSandbox, type VendorSandbox } from './harness';

/** The catalogue over HTTP, the session API's refusals, the JUnit and HTML reports, and the CLI's exit codes. */
let v: VendorSandbox;
let http: ReturnType<typeof supertest>;
const root = path.resolve(__dirname, '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const dir = mkdtempSync(path.join(tmpdir(), 'navet-conformance-'));
beforeAll(async () => {
  v = await vendorSandbox();
  http = supertest(v.listening);
});
afterAll(async () => {
  await v.close();
  rmSync(dir, { recursive: true, force: true });
});
const sessions = () => `/api/sandboxes/${v.sandbox.name}/conformance/sessions`;

describe('GET /api/conformance/requirements', () => {
  it('lists the catalogue: at least 40 traffic or challenge requirements, each with its source, across all seven profiles', async () => {
    const res = await http.get('/api/conformance/requirements');
    expect(res.status).toBe(200);
    const requirements = res.body.requirements as typeof REQUIREMENTS;
    const graded = requirements.filter((r) => r.verification !== 'declaration');
    expect(graded.length).toBeGreaterThanOrEqual(40);
    for (const r of requirements) {
      expect(r).toEqual(
        expect.objectContaining({
          id: expect.any(String),
          title: expect.any(String),
          text: expect.any(String),
          level: expect.stringMatching(/^(required|recommended|optional)$/),
          derived: expect.any(Boolean),
          verification: expect.stringMatching(/^(traffic|challenge|declaration)$/),
        }),
      );
      expect(r.source).toEqual(
        expect.objectContaining({
          document: expect.any(String),
          url: expect.stringMatching(/^https:\/\//),
          read: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
        }),
      );
    }
    expect(new Set(graded.flatMap((r) => r.profiles))).toEqual(new Set(res.body.profiles));
    expect(res.body.challenges.map((c: { name: string }) => c.name).sort()).toEqual([
      'dpop-nonce',
      'expired-token',
      'kj-blocked',
      'nors-hidden',
      'paging',
      'pll-conflict',
      'service-unavailable',
    ]);
  });
});

describe('the session API refuses what it cannot do', () => {
  it("an unknown challenge, a challenge armed twice, a report before finish, a bad observation, another sandbox's session", async () => {
    const opened = await http
      .post(sessions())
      .set('Authorization', v.sandbox.auth)
      .send({ clientId: 'someone', profiles: ['pjd-consumer'] });
    const id = opened.body.id as string;
    const arm = (challenge: unknown) =>
      http.post(`${sessions()}/${id}/challenges`).set('Authorization', v.sandbox.auth).send({ challenge });
    const unknown = await arm('earthquake');
    expect(unknown.status).toBe(400);
    expect(unknown.body.issue[0].details.text).toContain('paging');
    expect((await arm('paging')).status).toBe(201);
    expect((await arm('paging')).status).toBe(409);
    const early = await http.get(`${sessions()}/${id}/report`).set('Authorization', v.sandbox.auth);
    expect(early.status).toBe(409);
    expect(early.body.issue[0].details.coding[0].code).toBe('NAVET-CONFORMANCE-RECORDING');
    expect(
      (
        await http
          .post(`${sessions()}/${id}/observations`)
          .set('Authorization', v.sandbox.auth)
          .send({ challenge: 'nors-hidden', norsCount: 'two' })
      ).status,
    ).toBe(400);
    expect(
      (
        await http
          .get(`/api/sandboxes/${v.sandbox.name}x/conformance/sessions/${id}`)
          .set('Authorization', v.sandbox.auth)
      ).status,
    ).toBe(404);
    expect((await http.get(`${sessions()}/nope`).set('Authorization', v.sandbox.auth)).status).toBe(404);
    expect((await http.post(`${sessions()}/${id}/finish`).set('Authorization', v.sandbox.auth)).status).toBe(200);
    expect((await arm('dpop-nonce')).status).toBe(409);
  });
});

describe('reports', () => {
  it("JUnit: a testsuite per profile, a testcase per requirement, failure with the evidence's request ids, properties; HTML says it is not an approval", async () => {
    const report = await gradeVendor(
      v,
      (options) => new CarelessVendor(options, 'PJD-SOURCE-SYSTEM'),
      ['helseid-client', 'pjd-consumer'],
      ['dpop-nonce', 'expired-token', 'paging', 'nors-hidden', 'service-unavailable'],
    );
    const junit = await http
      .get(`${sessions()}/${report.session.id}/report?format=junit`)
      .set('Authorization', v.sandbox.auth);
    expect(junit.type).toBe('application/xml');
    const xml = junit.text;
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml).toContain('<testsuite name="helseid-client"');
    expect(xml).toContain('<testsuite name="pjd-consumer"');
    const inProfiles =
      REQUIREMENTS.filter((r) => r.profiles.includes('helseid-client')).length +
      REQUIREMENTS.filter((r) => r.profiles.includes('pjd-consumer')).length;
    expect(xml.match(/<testcase /g)).toHaveLength(inProfiles);
    const failed = report.results.find((r) => r.requirement === 'PJD-SOURCE-SYSTEM');
    const testcase = xml.slice(
      xml.indexOf('name="PJD-SOURCE-SYSTEM'),
      xml.indexOf('</testcase>', xml.indexOf('name="PJD-SOURCE-SYSTEM')),
    );
    expect(testcase).toContain('<failure message=');
    for (const id of failed?.evidence.requests ?? []) expect(testcase).toContain(id);
    expect(testcase).toContain('<property name="requirement" value="PJD-SOURCE-SYSTEM"/>');
    expect(testcase).toContain('<property name="level" value="required"/>');
    expect(testcase).toContain('<property name="source" value="https://utviklerportal.nhn.no/');
    expect(xml).toContain('<skipped message="Declaration');

    const html = await http
      .get(`${sessions()}/${report.session.id}/report?format=html`)
      .set('Authorization', v.sandbox.auth);
    expect(html.type).toBe('text/html');
    expect(html.text).toContain('Not an approval by Norsk helsenett');
    expect(html.text).toContain(v.clientId);
    expect(html.text).toContain('helseid-client, pjd-consumer');
    expect(html.text).toMatch(/PJD-SOURCE-SYSTEM[\s\S]*?fail/);
    expect(
      (await http.get(`${sessions()}/${report.session.id}/report?format=pdf`).set('Authorization', v.sandbox.auth))
        .status,
    ).toBe(400);
  }, 90_000);
});

describe('navet conformance run / report', () => {
  const keyFile = path.join(dir, 'key.json');
  const cli = (...args: string[]) =>
    promisify(execFile)(tsx, [path.join(root, 'src', 'main.ts'), 'conformance', ...args], {
      cwd: root,
      env: { ...process.env, NAVET_ADMIN_KEY: v.sandbox.auth.replace('Bearer ', '') },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const common = () => ['--url', v.url, '--sandbox', v.sandbox.name, '--client', v.clientId];

  it("exits 0 when the vendor's tests pass, 3 when a required requirement is skipped, 4 when Navet cannot be reached", async () => {
    writeFileSync(keyFile, JSON.stringify(v.privateJwk));
    const vendorTests = `${tsx} src/clients/run-reference-vendor.ts run --url ${v.url} --sandbox ${v.sandbox.name} --client ${v.clientId} --key-file ${keyFile} --profile pps-lab-source`;
    const json = path.join(dir, 'r.json');
    const passed = await cli(
      'run',
      ...common(),
      '--profile',
      'pps-lab-source',
      '--exec',
      vendorTests,
      '--json',
      json,
      '--junit',
      path.join(dir, 'r.xml'),
      '--html',
      path.join(dir, 'r.html'),
    );
    expect(passed.stdout).toContain('PASSED');
    expect(passed.code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    expect(report.verdict).toBe('passed');
    expect(readFileSync(path.join(dir, 'r.xml'), 'utf8')).toContain('<testsuite name="pps-lab-source"');

    const again = await cli('report', report.session.id, '--url', v.url, '--sandbox', v.sandbox.name);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(report.session.id);

    const nothing = await cli('run', ...common(), '--profile', 'pps-consumer', '--exec', 'true');
    expect(nothing.code).toBe(3);
    expect(nothing.stdout).toContain('FAILED');
    expect(nothing.stdout).toContain('PPS-PERSON-ID');

    const unreachable = await cli(
      'run',
      '--url',
      'http://127.0.0.1:1',
      '--sandbox',
      'x',
      '--client',
      'y',
      '--profile',
      'pps-consumer',
      '--exec',
      'true',
    );
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain('cannot be reached');
    const badProfile = await cli('run', ...common(), '--profile', 'pjd', '--exec', 'true');
    expect(badProfile.code).toBe(5);
  }, 120_000);
});

describe("the reference client on one profile at a time, with that profile's challenges", () => {
  it.each(PROFILES.map((p) => [p]))(
    '%s alone passes',
    async (profile) => {
      const report = await gradeVendor(v, (options) => new ReferenceVendor(options), [profile]);
      expect(notPassed(report)).toEqual([]);
      expect(report.verdict).toBe('passed');
    },
    60_000,
  );
});
