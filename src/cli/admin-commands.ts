import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { searchAccessLog } from '../audit/audit-search-api';
import type { QueryParams } from '../fhir/search-request';
import type { Navet } from '../navet';
import type { ServiceSettingsStore } from '../sandbox/service-settings';
import { PjdSettingsStore, parsePjdSettings } from '../services/documents/pjd-settings';
import { PpsSettingsStore, parsePpsSettings } from '../services/lab-results/pps-settings';
import { SfmSettingsStore, parseSfmSettings } from '../services/medication-list/sfm-settings';
import { CliInputError } from './read-bundles';

/** The CLI's commands for what the admin API offers: snapshots, clock, clients, settings, the access log. */
export interface CliContext {
  /** The running server's public base URL (or this environment's, when no server has run). */
  baseUrl: string;
  print(line: string): void;
}

type WithNavet = <T>(work: (navet: Navet, cli: CliContext) => Promise<T>) => Promise<T>;

/** `<json>` or `@file.json`. */
function jsonArgument(value: string, what: string): unknown {
  let text = value;
  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch {
      throw new CliInputError(`${what}: cannot read the file ${value.slice(1)}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliInputError(`${what} is not JSON: ${(error as Error).message}`);
  }
}

interface ServiceSettings {
  store: ServiceSettingsStore<object>;
  parse(body: unknown, current: object): object;
}

function settingsOf(navet: Navet, service: string): ServiceSettings {
  const db = navet.database.db;
  const services: Record<string, () => ServiceSettings> = {
    pjd: () => ({
      store: new PjdSettingsStore(db) as unknown as ServiceSettingsStore<object>,
      parse: (body, current) => parsePjdSettings(body, current as Parameters<typeof parsePjdSettings>[1]),
    }),
    sfm: () => ({
      store: new SfmSettingsStore(db) as unknown as ServiceSettingsStore<object>,
      parse: (body) => parseSfmSettings(body),
    }),
    pps: () => ({
      store: new PpsSettingsStore(db) as unknown as ServiceSettingsStore<object>,
      parse: (body, current) => parsePpsSettings(body, current as Parameters<typeof parsePpsSettings>[1]),
    }),
  };
  const make = Object.hasOwn(services, service) ? services[service] : undefined;
  if (!make)
    throw new CliInputError(
      `'${service}' has no settings; the services with settings are ${Object.keys(services).join(', ')}`,
    );
  return make();
}

const AUDIT_FILTERS = [
  'patient',
  'practitioner',
  'organization',
  'client',
  'service',
  'outcome',
  'from',
  'to',
  'event-id',
];

export function registerAdminCommands(program: Command, withNavet: WithNavet): void {
  const snapshot = program.command('snapshot').description('save and bring back states of a sandbox');
  snapshot
    .command('list <sandbox>')
    .description('list snapshots')
    .action((name: string) =>
      withNavet(async (navet, cli) => {
        for (const s of await navet.sandboxes.snapshots(name)) cli.print(`${s.label.padEnd(40)} ${s.createdAt}`);
      }),
    );
  snapshot
    .command('create <sandbox> <label>')
    .description('save the current state (data and clock)')
    .action((name: string, label: string) =>
      withNavet(async (navet, cli) => {
        const saved = await navet.sandboxes.snapshot(name, label);
        cli.print(`Saved snapshot '${saved.label}' of '${name}' at ${saved.createdAt}`);
      }),
    );
  snapshot
    .command('restore <sandbox> <label>')
    .description('bring a saved state back')
    .action((name: string, label: string) =>
      withNavet(async (navet, cli) => {
        await navet.sandboxes.restore(name, label);
        cli.print(`Restored snapshot '${label}' of '${name}'`);
      }),
    );
  snapshot
    .command('delete <sandbox> <label>')
    .description('delete a snapshot')
    .action((name: string, label: string) =>
      withNavet(async (navet, cli) => {
        await navet.sandboxes.deleteSnapshot(name, label);
        cli.print(`Deleted snapshot '${label}' of '${name}'`);
      }),
    );

  const clock = program.command('clock').description("a sandbox's own clock");
  clock
    .command('show <sandbox>')
    .description("the sandbox's time and offset")
    .action((name: string) =>
      withNavet(async (navet, cli) => {
        const { clock: c } = await navet.sandboxes.get(name);
        cli.print(`${c.now().toISOString()} (offset ${c.offsetMs / 1000} s)`);
      }),
    );
  clock
    .command('set <sandbox>')
    .description('move the clock: --offset-seconds or --now')
    .option('--offset-seconds <n>', 'seconds from real time (negative: the past)')
    .option('--now <iso>', "the sandbox's time now, e.g. 2027-01-01T12:00:00Z")
    .action((name: string, options: { offsetSeconds?: string; now?: string }) =>
      withNavet(async (navet, cli) => {
        const offsetSeconds = options.offsetSeconds === undefined ? undefined : Number(options.offsetSeconds);
        if (offsetSeconds !== undefined && Number.isNaN(offsetSeconds))
          throw new CliInputError(`--offset-seconds must be a number; got ${options.offsetSeconds}`);
        const c = await navet.sandboxes.setClock(name, { offsetSeconds, now: options.now });
        cli.print(`${c.now().toISOString()} (offset ${c.offsetMs / 1000} s)`);
      }),
    );

  const client = program.command('client').description('HelseID clients registered in a sandbox');
  client
    .command('list <sandbox>')
    .description('list clients')
    .action((name: string) =>
      withNavet(async (navet, cli) => {
        await navet.sandboxes.get(name);
        for (const c of await navet.trust.clients.list(name))
          cli.print(`${c.clientId.padEnd(30)} ${c.name}  scopes: ${c.scopes.join(' ')}`);
      }),
    );
  client
    .command('register <sandbox> <json>')
    .description('register a client: its JSON (as POST /api/sandboxes/{name}/clients) or @file.json')
    .action((name: string, json: string) =>
      withNavet(async (navet, cli) => {
        await navet.sandboxes.get(name);
        const input = jsonArgument(json, 'The client');
        if (typeof input !== 'object' || input === null || Array.isArray(input))
          throw new CliInputError(
            'The client must be a JSON object like {"name": "My EPR", "jwks": {"keys": [...]}, "scopes": [...]}',
          );
        cli.print(JSON.stringify(await navet.trust.clients.register(name, input as Record<string, unknown>), null, 2));
      }),
    );
  client
    .command('delete <sandbox> <clientId>')
    .description('delete a client')
    .action((name: string, clientId: string) =>
      withNavet(async (navet, cli) => {
        await navet.sandboxes.get(name);
        await navet.trust.clients.delete(name, clientId);
        cli.print(`Deleted client '${clientId}' of '${name}'`);
      }),
    );

  const settings = program.command('settings').description("a service's settings in a sandbox (pjd, sfm, pps)");
  settings
    .command('show <sandbox> <service>')
    .description('print the settings')
    .action((name: string, service: string) =>
      withNavet(async (navet, cli) => {
        await navet.sandboxes.get(name);
        cli.print(JSON.stringify(await settingsOf(navet, service).store.read(name), null, 2));
      }),
    );
  settings
    .command('set <sandbox> <service> <json>')
    .description('replace the settings: JSON (as PUT /api/sandboxes/{name}/settings/{service}) or @file.json')
    .action((name: string, service: string, json: string) =>
      withNavet(async (navet, cli) => {
        await navet.sandboxes.get(name);
        const { store, parse } = settingsOf(navet, service);
        const parsed = parse(jsonArgument(json, 'The settings'), await store.read(name));
        await store.write(name, parsed);
        cli.print(JSON.stringify(parsed, null, 2));
      }),
    );

  const audit = program.command('audit <sandbox>').description('search the access log, newest first');
  for (const filter of AUDIT_FILTERS)
    audit.option(`--${filter} <value>`, `filter by ${filter} (as GET /api/sandboxes/{name}/audit)`);
  audit
    .option('--count <n>', 'events per page (at most 100)')
    .option('--page <n>', 'page number')
    .option('--json', 'print the searchset Bundle');
  audit.action((name: string, options: Record<string, string | boolean | undefined>) =>
    withNavet(async (navet, cli) => {
      const found = await navet.sandboxes.get(name);
      const params: QueryParams = [];
      for (const filter of AUDIT_FILTERS) {
        const key = filter.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
        if (typeof options[key] === 'string') params.push([filter, options[key] as string]);
      }
      if (typeof options.count === 'string') params.push(['_count', options.count]);
      if (typeof options.page === 'string') params.push(['_page', options.page]);
      const bundle = await searchAccessLog(navet.sandboxes, cli.baseUrl, found, params);
      if (options.json) {
        cli.print(JSON.stringify(bundle, null, 2));
        return;
      }
      cli.print(`${bundle.total ?? 0} events`);
      for (const entry of bundle.entry ?? []) {
        const event = entry.resource as {
          recorded?: string;
          outcome?: string;
          type?: { display?: string };
          subtype?: { display?: string; code?: string }[];
          agent?: { who?: { display?: string } }[];
        };
        const what = event.subtype?.[0]?.display ?? event.subtype?.[0]?.code ?? event.type?.display ?? '';
        cli.print(
          `${event.recorded ?? ''}  ${event.outcome === '0' ? 'success' : 'failure'}  ${what}  ${
            event.agent
              ?.map((a) => a.who?.display)
              .filter(Boolean)
              .join(', ') ?? ''
          }`,
        );
      }
    }),
  );
}
