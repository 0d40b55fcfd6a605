#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { loadConfig } from './config';
import { conformanceCommands } from './conformance/conformance-cli';
import type { FhirContext } from './fhir/fhir-operations';
import { FhirError } from './fhir/operation-outcome';
import { processBundle } from './fhir/transaction';
import { createLogger } from './logger';
import { createNavet, ensureDemoSandbox, listen, type Navet, startupSummary } from './navet';
import { READ_ONLY_TYPES } from './app';
import { serviceUrls } from './sandbox/service-urls';

/** The `navet` command line: serve, sandbox management and seeding. */
async function withNavet<T>(work: (navet: Navet) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const navet = await createNavet(config, createLogger('warn'));
  try {
    return await work(navet);
  } finally {
    await navet.close();
  }
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
}

const program = new Command();
program.name('navet').description('A sandbox of Norway\'s national health-information sharing hub');

program.command('serve')
  .description('run Navet (seeds the demo sandbox on first start)')
  .action(async () => {
    const config = loadConfig();
    const navet = await createNavet(config);
    const demo = await ensureDemoSandbox(navet);
    const server = await listen(navet);
    process.stdout.write(`${startupSummary(navet, demo)}\n`);
    const stop = () => {
      server.close(() => void navet.close().then(() => process.exit(0)));
      setTimeout(() => process.exit(0), 5000).unref();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

const sandbox = program.command('sandbox').description('manage sandboxes in the configured database');

sandbox.command('create <name>')
  .description('create a sandbox and print its admin key (shown once)')
  .option('--empty', 'start with no data instead of the fixtures')
  .option('--patients <n>', 'number of synthetic patients', positiveInteger)
  .option('--seed <n>', 'random seed of the synthetic data', positiveInteger)
  .action(async (name: string, options: { empty?: boolean; patients?: number; seed?: number }) => {
    await withNavet(async (navet) => {
      const generator = { ...(options.patients !== undefined ? { syntheticPatients: options.patients } : {}), ...(options.seed !== undefined ? { seed: options.seed } : {}) };
      const { adminKey } = await navet.sandboxes.create({ name, seed: options.empty ? 'empty' : 'fixtures', generator });
      process.stdout.write(`Created sandbox '${name}'.\nAdmin key (shown once): ${adminKey}\n`);
      for (const [service, url] of Object.entries(serviceUrls(navet.config.baseUrl, name))) process.stdout.write(`  ${service.padEnd(20)} ${url}\n`);
    });
  });

sandbox.command('list')
  .description('list sandboxes')
  .action(async () => {
    await withNavet(async (navet) => {
      for (const s of await navet.sandboxes.list()) {
        const count = await navet.sandboxes.store.countResources(s.name);
        process.stdout.write(`${s.name.padEnd(40)} ${s.seed.padEnd(9)} ${String(count).padStart(7)} resources  created ${s.createdAt}\n`);
      }
    });
  });

sandbox.command('reset <name>')
  .description('bring a sandbox back to its seed')
  .action(async (name: string) => {
    await withNavet(async (navet) => {
      const started = Date.now();
      await navet.sandboxes.reset(name);
      process.stdout.write(`Reset sandbox '${name}' in ${Date.now() - started} ms\n`);
    });
  });

sandbox.command('delete <name>')
  .description('delete a sandbox and all its data')
  .action(async (name: string) => {
    await withNavet(async (navet) => {
      await navet.sandboxes.delete(name);
      process.stdout.write(`Deleted sandbox '${name}'\n`);
    });
  });

sandbox.command('rotate-key <name>')
  .description('give a sandbox a new admin key and print it')
  .action(async (name: string) => {
    await withNavet(async (navet) => {
      process.stdout.write(`New admin key of '${name}': ${await navet.sandboxes.setAdminKey(name)}\n`);
    });
  });

program.command('seed [name]')
  .description('seed a sandbox from the fixtures (created if missing, reset if it exists), then load FHIR Bundles into it')
  .option('--bundle <file...>', 'transaction or batch Bundle files to load after seeding')
  .action(async (name: string | undefined, options: { bundle?: string[] }) => {
    await withNavet(async (navet) => {
      const target = name ?? navet.config.demoSandbox;
      const existing = await navet.sandboxes.find(target);
      if (existing) {
        await navet.sandboxes.reset(target);
        process.stdout.write(`Reset sandbox '${target}' to its seed\n`);
      } else {
        const { adminKey } = await navet.sandboxes.create({ name: target, seed: 'fixtures', adminKey: target === navet.config.demoSandbox ? navet.config.demoAdminKey : undefined });
        process.stdout.write(`Created sandbox '${target}' from the fixtures. Admin key (shown once): ${adminKey}\n`);
      }
      const sandboxRecord = await navet.sandboxes.get(target);
      const context: FhirContext = {
        sandbox: target, store: navet.sandboxes.store, now: () => sandboxRecord.clock.now().toISOString(),
        baseUrl: serviceUrls(navet.config.baseUrl, target).fhir, readOnlyTypes: READ_ONLY_TYPES,
      };
      for (const file of options.bundle ?? []) {
        const result = await processBundle(context, JSON.parse(readFileSync(file, 'utf8')), true);
        process.stdout.write(`Loaded ${file}: ${result.entry?.length ?? 0} entries\n`);
      }
      process.stdout.write(`Sandbox '${target}' holds ${await navet.sandboxes.store.countResources(target)} resources\n`);
    });
  });

conformanceCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof FhirError ? error.issues.map((i) => i.text).join('\n') : error instanceof Error ? error.message : String(error);
  process.stderr.write(`navet: ${message}\n`);
  process.exit(1);
});
