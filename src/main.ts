#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { READ_ONLY_TYPES } from './app';
import { type CliContext, registerAdminCommands } from './cli/admin-commands';
import { withProgress } from './cli/progress';
import { CliInputError, readBundleFiles } from './cli/read-bundles';
import { loadConfig } from './config';
import { conformanceCommands } from './conformance/conformance-cli';
import type { FhirContext } from './fhir/fhir-operations';
import { FhirError } from './fhir/operation-outcome';
import { processBundle } from './fhir/transaction';
import type { Bundle } from './fhir/types';
import { createHttpServer } from './http/http-server';
import { createLogger } from './logger';
import { createNavet, type Navet, PortInUseError } from './navet';
import { readServerInfo } from './sandbox/server-info';
import { serve } from './serve';
import { sandboxUrl, serviceUrls } from './sandbox/service-urls';
import { generateAdminKey } from './sandbox/admin-keys';
import type { CreateSandboxInput } from './sandbox/sandboxes';
import { registerScenarioCommands } from './scenarios/scenario-cli';
import { registerRehearsalCommand } from './scenarios/rehearsal/rehearsal-cli';
import { presetNames } from './sandbox/seed/municipality';
import { SERVICES } from './services/services';

/** The `navet` command line: serve, sandboxes, seeding, snapshots, clock, clients, settings, access log. */
const VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string })
  .version;

async function withNavet<T>(work: (navet: Navet, cli: CliContext) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const navet = await createNavet(config, createLogger('warn'));
  try {
    // the URLs of the server that runs on this database, not of this shell's environment
    const baseUrl = (await readServerInfo(navet.database.db))?.baseUrl ?? config.baseUrl;
    return await work(navet, { baseUrl, print: (line) => process.stdout.write(`${line}\n`) });
  } finally {
    await navet.close();
  }
}

/**
 * Creates a sandbox. With a progress bar to draw (stderr is a terminal) the seed is built in the worker
 * thread so that the bar moves; otherwise here, which spares starting a thread.
 */
async function createWithProgress(navet: Navet, input: CreateSandboxInput & { adminKey: string }): Promise<void> {
  await withProgress(`Creating ${input.name}`, async (onProgress) => {
    if (process.stderr.isTTY) await navet.jobs.create(input, onProgress);
    else await navet.sandboxes.create(input);
  });
}

/** `--municipality`: a preset's name or a JSON description file. */
function municipalityArgument(value: string): unknown {
  if (presetNames().includes(value)) return { preset: value };
  if (!existsSync(value))
    throw new InvalidArgumentError(`'${value}' is neither a preset (${presetNames().join(', ')}) nor a file`);
  return JSON.parse(readFileSync(value, 'utf8'));
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

function printServiceUrls(baseUrl: string, name: string): void {
  for (const [service, url] of Object.entries(serviceUrls(baseUrl, name, SERVICES)))
    process.stdout.write(`  ${service.padEnd(20)} ${url}\n`);
}

const program = new Command();
program
  .name('navet')
  .description("A sandbox of Norway's national health-information sharing hub")
  .version(VERSION, '-V, --version', "print Navet's version");

program
  .command('serve')
  .description('run Navet (NAVET_WORKERS processes, one per core by default; seeds the demo sandbox on first start)')
  .action(async () => {
    await serve(loadConfig());
  });

const sandbox = program.command('sandbox').description('manage sandboxes in the configured database');

sandbox
  .command('create <name>')
  .description('create a sandbox and print its admin key (shown once)')
  .option('--empty', 'start with no data instead of the fixtures')
  .option('--patients <n>', 'number of synthetic patients', wholeNumber)
  .option('--seed <n>', 'random seed of the synthetic data', wholeNumber)
  .option('--documents-per-patient <n>', 'volume mode: this many documents per patient', wholeNumber)
  .option('--lab-reports-per-patient <n>', 'volume mode: this many lab reports per patient', wholeNumber)
  .option(
    '--municipality <file-or-preset>',
    `a municipality's own sandbox: a description file (JSON) or a preset (${presetNames().join(', ')})`,
  )
  .action(
    async (
      name: string,
      options: {
        empty?: boolean;
        patients?: number;
        seed?: number;
        documentsPerPatient?: number;
        labReportsPerPatient?: number;
        municipality?: string;
      },
    ) => {
      await withNavet(async (navet, cli) => {
        const generator = {
          ...(options.patients !== undefined ? { syntheticPatients: options.patients } : {}),
          ...(options.seed !== undefined ? { seed: options.seed } : {}),
          ...(options.documentsPerPatient !== undefined ? { documentsPerPatient: options.documentsPerPatient } : {}),
          ...(options.labReportsPerPatient !== undefined ? { labReportsPerPatient: options.labReportsPerPatient } : {}),
        };
        const input: CreateSandboxInput & { adminKey: string } = options.municipality
          ? {
              name,
              seed: 'municipality',
              municipality: municipalityArgument(options.municipality),
              adminKey: generateAdminKey(),
            }
          : { name, seed: options.empty ? 'empty' : 'fixtures', generator, adminKey: generateAdminKey() };
        navet.sandboxes.checkCreateInput(input);
        if (await navet.sandboxes.find(name))
          throw new CliInputError(`A sandbox named '${name}' exists already (navet sandbox list)`);
        const started = Date.now();
        await createWithProgress(navet, input);
        if (options.municipality) cli.print(`${await navet.sandboxes.store.countResources(name)} resources`);
        cli.print(
          `Created sandbox '${name}' in ${((Date.now() - started) / 1000).toFixed(1)} s.\nAdmin key (shown once): ${input.adminKey}`,
        );
        printServiceUrls(cli.baseUrl, name);
      });
    },
  );

sandbox
  .command('list')
  .description('list sandboxes')
  .action(async () => {
    await withNavet(async (navet, cli) => {
      for (const s of await navet.sandboxes.list()) {
        const count = await navet.sandboxes.store.countResources(s.name);
        cli.print(
          `${s.name.padEnd(40)} ${s.seed.padEnd(9)} ${String(count).padStart(7)} resources  created ${s.createdAt}`,
        );
      }
    });
  });

sandbox
  .command('show <name>')
  .description('seed, clock and the base URL of each service')
  .action(async (name: string) => {
    await withNavet(async (navet, cli) => {
      const found = await navet.sandboxes.get(name);
      cli.print(
        `Sandbox '${found.name}': seed ${found.seed}, created ${found.createdAt}, clock ${found.clock.now().toISOString()} (offset ${found.clock.offsetMs / 1000} s)`,
      );
      printServiceUrls(cli.baseUrl, name);
    });
  });

sandbox
  .command('reset <name>')
  .description('bring a sandbox back to its seed')
  .action(async (name: string) => {
    await withNavet(async (navet, cli) => {
      const started = Date.now();
      await withProgress(`Resetting ${name}`, async (onProgress) => {
        onProgress({ phase: 'resetting', done: 0, total: 1 });
        await navet.sandboxes.reset(name);
        onProgress({ phase: 'resetting', done: 1, total: 1 });
      });
      cli.print(`Reset sandbox '${name}' in ${Date.now() - started} ms`);
    });
  });

sandbox
  .command('delete <name>')
  .description('delete a sandbox and all its data (and give the space back)')
  .action(async (name: string) => {
    await withNavet(async (navet, cli) => {
      const started = Date.now();
      // purged in small steps here: the bar moves between them
      await withProgress(`Deleting ${name}`, (onProgress) =>
        navet.sandboxes.delete(name, (phase, done, total) => onProgress({ phase, done, total })),
      );
      cli.print(`Deleted sandbox '${name}' in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
  });

sandbox
  .command('rotate-key <name>')
  .description('give a sandbox a new admin key and print it')
  .action(async (name: string) => {
    await withNavet(async (navet, cli) => {
      cli.print(`New admin key of '${name}': ${await navet.sandboxes.setAdminKey(name)}`);
    });
  });

/** Loads Bundles into a sandbox; a transaction is all-or-nothing, a batch with a failed entry counts as failed. */
async function loadBundles(
  navet: Navet,
  name: string,
  bundles: { file: string; bundle: Bundle }[],
  print: (line: string) => void,
): Promise<void> {
  const record = await navet.sandboxes.get(name);
  const context: FhirContext = {
    sandbox: name,
    store: navet.sandboxes.store,
    now: () => record.clock.now().toISOString(),
    baseUrl: sandboxUrl(navet.config.baseUrl, name, 'fhir'),
    readOnlyTypes: READ_ONLY_TYPES,
  };
  for (const { file, bundle } of bundles) {
    const result = await processBundle(context, bundle, true);
    const failed = (result.entry ?? []).findIndex(
      (entry) => !/^2/.test(String((entry as { response?: { status?: string } }).response?.status ?? '200')),
    );
    if (failed >= 0)
      throw new CliInputError(
        `${file}: entry ${failed} failed (${(result.entry?.[failed] as { response?: { status?: string } }).response?.status})`,
      );
    print(`Loaded ${file}: ${result.entry?.length ?? 0} entries`);
  }
}

program
  .command('seed <name>')
  .description(
    'seed a sandbox from the fixtures (created if missing, reset if it exists), then load FHIR Bundles into it; on any failure nothing changes',
  )
  .option('--bundle <file...>', 'transaction or batch Bundle files to load after seeding')
  .action(async (name: string, options: { bundle?: string[] }) => {
    // every input is checked before anything changes
    const bundles = readBundleFiles(options.bundle ?? []);
    await withNavet(async (navet, cli) => {
      const existing = await navet.sandboxes.find(name);
      if (existing) {
        const undo = `navet-seed-undo-${Date.now()}`;
        await navet.sandboxes.snapshot(name, undo);
        try {
          await navet.sandboxes.reset(name);
          await loadBundles(navet, name, bundles, cli.print);
        } catch (error) {
          await navet.sandboxes.restore(name, undo);
          throw new CliInputError(`${messageOf(error)}\nNothing changed: sandbox '${name}' is as it was before`);
        } finally {
          await navet.sandboxes.deleteSnapshot(name, undo);
        }
        cli.print(`Reset sandbox '${name}' to its seed`);
      } else {
        const adminKey =
          name === navet.config.demoSandbox && navet.config.demoAdminKey
            ? navet.config.demoAdminKey
            : generateAdminKey();
        await createWithProgress(navet, { name, seed: 'fixtures', adminKey });
        try {
          await loadBundles(navet, name, bundles, cli.print);
        } catch (error) {
          await navet.sandboxes.delete(name);
          throw new CliInputError(`${messageOf(error)}\nNothing changed: sandbox '${name}' was not created`);
        }
        cli.print(`Created sandbox '${name}' from the fixtures. Admin key (shown once): ${adminKey}`);
      }
      cli.print(`Sandbox '${name}' holds ${await navet.sandboxes.store.countResources(name)} resources`);
    });
  });

registerAdminCommands(program, withNavet);
registerScenarioCommands(program);
registerRehearsalCommand(program);
conformanceCommands(program);

function messageOf(error: unknown): string {
  if (error instanceof FhirError)
    return error.issues.map((i) => `${i.expression?.length ? `${i.expression.join(', ')}: ` : ''}${i.text}`).join('\n');
  return error instanceof Error ? error.message : String(error);
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const known = error instanceof FhirError || error instanceof CliInputError || error instanceof PortInUseError;
  process.stderr.write(`navet: ${messageOf(error)}\n`);
  if (!known && error instanceof Error && process.env.NAVET_LOG_LEVEL === 'debug')
    process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
