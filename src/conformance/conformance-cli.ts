import { type Command, InvalidArgumentError } from 'commander';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { CHALLENGES, challengesFor } from './challenges';
import type { ConformanceReport } from './grade';
import { htmlReport, junitReport } from './report-formats';
import { isProfile, PROFILES } from './requirement';
import { NavetError } from '../codes/navet-error';

/**
 * `navet conformance run|report`: a vendor's CI talks to a running Navet over HTTP. Exit codes as
 * Inferno's execute: 0 passed, 3 a required requirement failed or was skipped, 4 and up the tool's own errors.
 */
export const EXIT = { passed: 0, failed: 3, navetError: 4, usage: 5 } as const;

class ToolError extends NavetError {
  static override readonly code = 'NAVET-CONFORMANCE-CLI';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Connection {
  url: string;
  sandbox: string;
  adminKey: string;
}

async function api<T>(c: Connection, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${c.url}/api/sandboxes/${encodeURIComponent(c.sandbox)}/conformance/sessions${path}`, {
      method,
      headers: { Authorization: `Bearer ${c.adminKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (error) {
    throw new ToolError(`Navet at ${c.url} cannot be reached: ${(error as Error).message}`, EXIT.navetError);
  }
  const text = await response.text();
  if (!response.ok) {
    let reason = text.slice(0, 300);
    try {
      reason =
        ((JSON.parse(text) as { issue?: { details?: { text?: string } }[] }).issue ?? [])
          .map((i) => i.details?.text)
          .join('; ') || reason;
    } catch {
      /* not JSON */
    }
    throw new ToolError(
      `${method} …/conformance/sessions${path} answered ${response.status}: ${reason}`,
      EXIT.navetError,
    );
  }
  return (response.headers.get('content-type') ?? '').includes('json') ? (JSON.parse(text) as T) : (text as T);
}

const list = (value: string) =>
  value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
const seconds = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number of seconds');
  return Number(value);
};

function connection(options: { url: string; sandbox: string; adminKey?: string }): Connection {
  const adminKey = options.adminKey ?? process.env.NAVET_ADMIN_KEY;
  if (!adminKey) throw new ToolError('the sandbox admin key is needed: --admin-key or NAVET_ADMIN_KEY', EXIT.usage);
  return { url: options.url.replace(/\/$/, ''), sandbox: options.sandbox, adminKey };
}

function summary(report: ConformanceReport): string {
  const lines = [
    `Navet conformance ${report.session.id}: ${report.verdict.toUpperCase()} (${Object.entries(report.counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  ];
  for (const r of report.results.filter(
    (x) => ['fail', 'warning', 'error'].includes(x.status) || (x.status === 'skip' && x.verification !== 'declaration'),
  )) {
    lines.push(`  ${r.status.padEnd(7)} ${r.requirement}: ${r.message}`);
  }
  lines.push(report.notice);
  return lines.join('\n');
}

function write(report: ConformanceReport, options: { json?: string; junit?: string; html?: string }): void {
  if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  if (options.junit) writeFileSync(options.junit, junitReport(report));
  if (options.html) writeFileSync(options.html, htmlReport(report));
}

/** Runs the vendor's command with the session in its environment; resolves with its exit code. */
function runCommand(command: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

/** Waits until no new request came for `idle` seconds (after the first), or `wait` seconds in all. */
async function waitForTraffic(c: Connection, id: string, idle: number, wait: number): Promise<void> {
  const started = Date.now();
  let last = -1;
  let lastChange = Date.now();
  while (Date.now() - started < wait * 1000) {
    const { counts } = await api<{ counts: { requests: number } }>(c, 'GET', `/${id}`);
    if (counts.requests !== last) {
      last = counts.requests;
      lastChange = Date.now();
    }
    if (counts.requests > 0 && Date.now() - lastChange >= idle * 1000) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function exitWith(work: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await work();
  } catch (error) {
    process.stderr.write(`navet conformance: ${(error as Error).message}\n`);
    process.exitCode = error instanceof ToolError ? error.exitCode : EXIT.navetError;
  }
}

export function conformanceCommands(program: Command): void {
  const conformance = program
    .command('conformance')
    .description("grade a vendor's client from the traffic Navet receives (issue 16)");
  conformance
    .command('run')
    .description("open a session, let the vendor's tests run against Navet, grade, write the reports")
    .requiredOption('--url <navet>', "Navet's base URL, e.g. http://localhost:8080")
    .requiredOption('--sandbox <name>', 'the sandbox the client talks to')
    .requiredOption('--client <id>', 'the HelseID client id of the system to grade')
    .requiredOption('--profile <list>', `profiles, comma-separated: ${PROFILES.join(', ')}`, list)
    .option('--admin-key <key>', 'the sandbox admin key (or NAVET_ADMIN_KEY)')
    .option('--label <text>', 'a label for the session (system and version)')
    .option(
      '--challenge <list>',
      `challenges to arm, comma-separated: ${CHALLENGES.map((c) => c.name).join(', ')}, or all (those of the profiles)`,
      list,
      [],
    )
    .option('--exec <command>', "the vendor's tests: run while recording (NAVET_CONFORMANCE_SESSION is set for it)")
    .option('--until-idle <seconds>', 'without --exec: grade once no request came for this long', seconds, 30)
    .option('--wait <seconds>', 'without --exec: grade after this long at the most', seconds, 600)
    .option('--json <file>', 'write the JSON report')
    .option('--junit <file>', 'write the JUnit XML report')
    .option('--html <file>', 'write the HTML report')
    .action(
      (options: {
        url: string;
        sandbox: string;
        client: string;
        profile: string[];
        adminKey?: string;
        label?: string;
        challenge: string[];
        exec?: string;
        untilIdle: number;
        wait: number;
        json?: string;
        junit?: string;
        html?: string;
      }) =>
        exitWith(async () => {
          const c = connection(options);
          const unknown = options.profile.filter((p) => !isProfile(p));
          if (unknown.length)
            throw new ToolError(`unknown profile(s) ${unknown.join(', ')}; use ${PROFILES.join(', ')}`, EXIT.usage);
          const challenges = options.challenge.includes('all')
            ? challengesFor(options.profile).map((ch) => ch.name)
            : options.challenge;
          const session = await api<{ id: string }>(c, 'POST', '', {
            clientId: options.client,
            profiles: options.profile,
            ...(options.label ? { label: options.label } : {}),
          });
          process.stderr.write(
            `Recording session ${session.id} for ${options.client} (${options.profile.join(', ')})\n`,
          );
          for (const name of challenges) await api(c, 'POST', `/${session.id}/challenges`, { challenge: name });
          if (options.exec) {
            const code = await runCommand(options.exec, {
              NAVET_CONFORMANCE_SESSION: session.id,
              NAVET_URL: c.url,
              NAVET_SANDBOX: c.sandbox,
            });
            if (code !== 0) process.stderr.write(`The vendor's command exited with ${code}; grading what it sent\n`);
          } else {
            await waitForTraffic(c, session.id, options.untilIdle, options.wait);
          }
          const report = await api<ConformanceReport>(c, 'POST', `/${session.id}/finish`);
          write(report, options);
          process.stdout.write(`${summary(report)}\n`);
          return report.verdict === 'passed' ? EXIT.passed : EXIT.failed;
        }),
    );

  conformance
    .command('report <session>')
    .description('render the report of a finished session again')
    .requiredOption('--url <navet>', "Navet's base URL")
    .requiredOption('--sandbox <name>', 'the sandbox')
    .option('--admin-key <key>', 'the sandbox admin key (or NAVET_ADMIN_KEY)')
    .option('--json <file>', 'write the JSON report')
    .option('--junit <file>', 'write the JUnit XML report')
    .option('--html <file>', 'write the HTML report')
    .action(
      (
        id: string,
        options: { url: string; sandbox: string; adminKey?: string; json?: string; junit?: string; html?: string },
      ) =>
        exitWith(async () => {
          const report = await api<ConformanceReport>(
            connection(options),
            'GET',
            `/${encodeURIComponent(id)}/report?format=json`,
          );
          write(report, options);
          process.stdout.write(`${summary(report)}\n`);
          return report.verdict === 'passed' ? EXIT.passed : EXIT.failed;
        }),
    );
}
