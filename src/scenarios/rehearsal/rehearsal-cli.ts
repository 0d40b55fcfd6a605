import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import type { MunicipalityDescription } from '../../sandbox/seed/municipality';
import { EXIT, targetOf } from '../scenario-cli';
import { reportOf } from './rehearsal-api';
import { readinessReportHtml, type ReadinessReport } from './readiness-report';
import { newRehearsalState, RehearsalInputError, rehearsalOptions, runRehearsal } from './rehearsal-runner';

/** `navet rehearse --sandbox <s> [--hours 8] [--speed 60] [--faults <file>]`: live progress, Ctrl-C stops, then the report. */
export function summaryLines(report: ReadinessReport): string[] {
  const lines = [
    `Readiness report: ${report.municipality.name} (${report.municipality.kommunenummer}, ${report.municipality.population} inhabitants) — rehearsal ${report.rehearsal.status}`,
    `  ${report.totals.calls} calls, ${report.totals.successes} OK, ${report.totals.failures} failed; flows completed ${report.totals.flowsCompleted}, not completed ${report.totals.flowsNotCompleted}`,
    'Prerequisites:',
    ...report.prerequisites.map((p) => `  [${p.ready ? 'ready' : 'NOT READY'}] ${p.title} — ${p.evidence.join('; ')}`),
    'Per actor and service (calls / OK, p50 / p95 ms, failures):',
    ...report.actors.flatMap((a) =>
      a.services.map(
        (s) =>
          `  ${a.actor} → ${s.service}: ${s.calls} / ${s.successes}, ${s.latencyMs.p50} / ${s.latencyMs.p95} ms${s.failures.length ? `, ${s.failures.map((f) => `${f.code} × ${f.count}`).join(', ')}` : ''}`,
      ),
    ),
  ];
  if (report.faultImpact.length)
    lines.push(
      'Faults (calls / OK, p50 / p95 ms, during the fault | outside it):',
      ...report.faultImpact.map(
        ({ fault, during: d, outside: o }) =>
          `  ${fault} → ${d.service}: ${d.calls} / ${d.successes}, ${d.latencyMs.p50} / ${d.latencyMs.p95} ms | ${o.calls} / ${o.successes}, ${o.latencyMs.p50} / ${o.latencyMs.p95} ms`,
      ),
    );
  if (report.incompleteFlows.length)
    lines.push(
      'Flows never completed:',
      ...report.incompleteFlows.flatMap((f) =>
        f.where.map(
          (w) =>
            `  ${f.flow}: ${w.count} × stopped at ${w.actor} → ${w.service} → ${w.operation}: ${w.code}${w.example ? ` (${w.example})` : ''}`,
        ),
      ),
    );
  if (report.conformance.length)
    lines.push(
      'Conformance:',
      ...report.conformance.map((c) => `  ${c.session}: ${c.verdict ?? c.note ?? c.status ?? '—'}`),
    );
  return lines;
}

export function registerRehearsalCommand(program: Command): void {
  program
    .command('rehearse')
    .description('drive a municipality sandbox through a day of traffic and print the readiness report')
    .requiredOption('--sandbox <name>', 'the municipality sandbox')
    .option('--hours <n>', 'simulated hours of the working day', '8')
    .option('--speed <n>', 'how much faster than real time', '60')
    .option(
      '--faults <file>',
      'YAML/JSON list of faults: {backend: kjernejournal|reseptformidleren|pjd, mode: unavailable|slow|timeout (pjd: slow|unavailable), fromMinute, minutes, delayMs?}',
    )
    .option('--report <file>', 'write the report there (.html for HTML, else JSON)')
    .option('--url <navet>', 'base URL of the running Navet (NAVET_URL; default http://localhost:8080)')
    .option('--admin-key <key>', "the sandbox's admin key (NAVET_ADMIN_KEY)")
    .action(
      async (options: {
        sandbox: string;
        hours: string;
        speed: string;
        faults?: string;
        report?: string;
        url?: string;
        adminKey?: string;
      }) => {
        const target = targetOf(options);
        let chosen;
        try {
          chosen = rehearsalOptions({
            hours: Number(options.hours),
            speed: Number(options.speed),
            faults: options.faults ? readFileSync(options.faults, 'utf8') : undefined,
          });
        } catch (error) {
          if (!(error instanceof RehearsalInputError)) throw error;
          process.stderr.write(`navet: ${error.message}\n`);
          process.exit(EXIT.error);
        }
        let described: { municipality?: MunicipalityDescription };
        try {
          const response = await fetch(`${target.url}/api/sandboxes/${target.sandbox}`, {
            headers: { Authorization: `Bearer ${target.adminKey}` },
          });
          described = (await response.json()) as { municipality?: MunicipalityDescription };
          if (response.status !== 200) throw new Error(`GET /api/sandboxes/${target.sandbox}: ${response.status}`);
        } catch (error) {
          process.stderr.write(
            `navet: ${(error as Error).message.includes('fetch') ? `no Navet answers at ${target.url}` : (error as Error).message}\n`,
          );
          process.exit(EXIT.unreachable);
        }
        if (!described.municipality) {
          process.stderr.write(
            `navet: sandbox '${target.sandbox}' is not a municipality sandbox (navet sandbox create <name> --municipality bodo)\n`,
          );
          process.exit(EXIT.error);
        }
        const state = newRehearsalState(described.municipality, chosen);
        const abort = new AbortController();
        process.once('SIGINT', () => abort.abort());
        process.stdout.write(
          `Rehearsal of ${described.municipality.name}: ${chosen.hours} h at speed ${chosen.speed}, ${state.progress.flowsPlanned} flows planned (Ctrl-C stops)\n`,
        );
        const timer = setInterval(() => {
          const p = state.progress;
          process.stdout.write(
            `  minute ${String(p.simulatedMinutes).padStart(4)}/${p.totalMinutes}: ${p.flowsStarted} flows started, ${p.flowsCompleted} completed, ${p.flowsFailed} not, ${p.calls} calls\n`,
          );
        }, 1000);
        try {
          await runRehearsal(described.municipality, target, state, abort.signal);
        } finally {
          clearInterval(timer);
        }
        const report = await reportOf(target.sandbox, described.municipality, target, state);
        process.stdout.write(`${summaryLines(report).join('\n')}\n`);
        if (options.report) {
          writeFileSync(
            options.report,
            options.report.endsWith('.html') ? readinessReportHtml(report) : JSON.stringify(report, null, 2),
          );
          process.stdout.write(`Report written to ${options.report}\n`);
        }
        process.exit(
          report.prerequisites.every((p) => p.ready) && report.totals.flowsNotCompleted === 0
            ? EXIT.passed
            : EXIT.failed,
        );
      },
    );
}
