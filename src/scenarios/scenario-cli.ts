import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { parseScenario, ScenarioFileError, shippedScenarioText } from './scenario-file';
import { type CheckResult, runScenario, type StepResult } from './scenario-runner';

/** `navet scenario run <file|name> --sandbox <s> [--url <navet>]`: live steps, a summary, exit 0 / 3 / ≥ 4. */
export const EXIT = { passed: 0, failed: 3, error: 4, unreachable: 5 } as const;

export interface CliTarget {
  url: string;
  sandbox: string;
  adminKey?: string;
}

export function targetOf(options: {
  sandbox: string;
  url?: string;
  adminKey?: string;
}): CliTarget & { adminKey: string } {
  const adminKey =
    options.adminKey ??
    process.env.NAVET_ADMIN_KEY ??
    (options.sandbox === (process.env.NAVET_DEMO_SANDBOX ?? 'demo') ? process.env.NAVET_DEMO_ADMIN_KEY : undefined);
  if (!adminKey)
    throw new Error(`the admin key of sandbox '${options.sandbox}' is needed: --admin-key <key> or NAVET_ADMIN_KEY`);
  return {
    url: (options.url ?? process.env.NAVET_URL ?? 'http://localhost:8080').replace(/\/+$/, ''),
    sandbox: options.sandbox,
    adminKey,
  };
}

const mark = (status: string) => (status === 'passed' ? '✓' : status === 'failed' ? '✗' : '!');

export function stepLine(step: StepResult): string {
  const call = `${step.actor} → ${step.service} → ${step.operation}${step.cleanup ? ' (cleanup)' : ''}`;
  const head = `  ${mark(step.status)} ${step.id.padEnd(34)} ${call.padEnd(62)} ${String(step.httpStatus ?? '—').padStart(3)} ${String(step.ms).padStart(6)} ms`;
  const why = step.status === 'passed' ? '' : `\n      ${step.rule ? `${step.rule}: ` : ''}${step.message ?? ''}`;
  return head + why;
}

export function checkLine(check: CheckResult): string {
  return `  ${mark(check.status)} check: ${check.name} (${check.kind})${check.message ? `\n      ${check.message}` : ''}`;
}

export function registerScenarioCommands(program: Command): void {
  const scenario = program.command('scenario').description('run cross-actor scenarios against a running Navet');
  scenario
    .command('run <file-or-name>')
    .description('run a scenario file (or a shipped scenario by name) against a sandbox')
    .requiredOption('--sandbox <name>', 'the sandbox to run in')
    .option('--url <navet>', 'base URL of the running Navet (NAVET_URL; default http://localhost:8080)')
    .option('--admin-key <key>', "the sandbox's admin key (NAVET_ADMIN_KEY)")
    .action(async (fileOrName: string, options: { sandbox: string; url?: string; adminKey?: string }) => {
      let text: string | undefined;
      if (existsSync(fileOrName)) text = readFileSync(fileOrName, 'utf8');
      else text = shippedScenarioText(fileOrName);
      if (text === undefined) {
        process.stderr.write(`navet: no scenario file or shipped scenario '${fileOrName}'\n`);
        process.exit(EXIT.error);
      }
      let parsed;
      try {
        parsed = parseScenario(text, fileOrName);
      } catch (error) {
        if (!(error instanceof ScenarioFileError)) throw error;
        for (const p of error.problems)
          process.stderr.write(`${fileOrName}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ''}${p.message}\n`);
        process.exit(EXIT.error);
      }
      const target = targetOf(options);
      try {
        await fetch(`${target.url}/healthz`);
      } catch {
        process.stderr.write(`navet: no Navet answers at ${target.url} (start it with npm start, or pass --url)\n`);
        process.exit(EXIT.unreachable);
      }
      process.stdout.write(`Scenario ${parsed.name}: ${parsed.title}\nSandbox ${target.sandbox} at ${target.url}\n`);
      const result = await runScenario(parsed, target, {
        step: (s) => process.stdout.write(`${stepLine(s)}\n`),
        check: (c) => process.stdout.write(`${checkLine(c)}\n`),
      });
      const passedSteps = result.steps.filter((s) => s.status === 'passed').length;
      const passedChecks = result.checks.filter((c) => c.status === 'passed').length;
      process.stdout.write(
        `${result.status.toUpperCase()}: ${passedSteps}/${parsed.steps.length + (parsed.cleanup?.length ?? 0)} steps, ${passedChecks}/${parsed.checks?.length ?? 0} checks passed in ${result.ms} ms\n`,
      );
      process.exit(result.status === 'passed' ? EXIT.passed : result.status === 'failed' ? EXIT.failed : EXIT.error);
    });
}
