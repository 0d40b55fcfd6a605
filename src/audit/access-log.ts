import { FhirError } from '../fhir/operation-outcome';
import { parseSearchRequest } from '../fhir/search-request';
import type { FhirResource } from '../fhir/types';
import type { Logger } from '../logger';
import type { ResourceStore } from '../store/resource-store';
import { type AuditEntry, buildAuditEvent } from './audit-event';
import { AuditWriter } from './audit-writer';

/**
 * The one audit writer of every service: one AuditEvent per patient per access, written in one
 * transaction (a write's own, or a group commit of concurrent reads') before any patient data leaves. If the log cannot be written the request fails with 503.
 */
export const AUDIT_UNAVAILABLE = 'NAVET-AUDIT-UNAVAILABLE';

export class AccessLog {
  private readonly writer: AuditWriter;

  constructor(
    private readonly store: ResourceStore,
    private readonly logger: Logger,
  ) {
    this.writer = new AuditWriter(store);
  }

  /**
   * Writes the entries' AuditEvents (all or none) with the sandbox clock's time `recorded`, through
   * `store` when given (the transaction of a write they belong to).
   */
  async record(
    sandbox: string,
    entries: AuditEntry[],
    recorded: string,
    through: ResourceStore = this.store,
  ): Promise<FhirResource[]> {
    if (entries.length === 0) return [];
    try {
      const registry = through.cachedReads();
      const names = await this.organisationNames(registry, sandbox, entries);
      const patientIds = await this.patientIds(registry, sandbox, entries);
      const events = entries.map((entry) =>
        buildAuditEvent(
          { ...entry, patient: { ...entry.patient, id: entry.patient.id ?? patientIds.get(entry.patient.nin) } },
          recorded,
          names,
        ),
      );
      // a write's own transaction carries its log entries; a read's are group-committed with others'
      if (!through.inOpenTransaction) return await this.writer.write(sandbox, events, recorded);
      return await through.createMany(
        sandbox,
        events.map((resource) => ({ resource, lastUpdated: recorded })),
      );
    } catch (error) {
      this.logger.error({ err: error, sandbox }, 'the access log could not be written');
      throw new FhirError(
        503,
        [
          {
            severity: 'fatal',
            code: 'transient',
            navetCode: AUDIT_UNAVAILABLE,
            text: 'The access log could not be written, so nothing is returned: every access to patient data is logged first. Try again.',
          },
        ],
        { 'Retry-After': '1' },
      );
    }
  }

  /** Names of the organisations the entries mention, from the sandbox's Organization resources. */
  private async organisationNames(
    store: ResourceStore,
    sandbox: string,
    entries: AuditEntry[],
  ): Promise<Map<string, string>> {
    const ids = new Set<string>();
    for (const { access } of entries) {
      for (const ref of [
        access.organisation?.legalEntity,
        access.organisation?.pointOfCare,
        access.organisation?.department,
        access.patient?.pointOfCare,
        access.patient?.department,
      ]) {
        if (ref && !ref.name) ids.add(ref.id);
      }
      if (access.client?.orgnrParent) ids.add(access.client.orgnrParent);
    }
    const names = new Map<string, string>();
    if (ids.size === 0) return names;
    for (const organisation of await searchByIdentifiers(store, sandbox, 'Organization', [...ids])) {
      const identifiers = (organisation.identifier ?? []) as { value?: string }[];
      for (const identifier of identifiers) {
        if (identifier.value && ids.has(identifier.value) && typeof organisation.name === 'string')
          names.set(identifier.value, organisation.name);
      }
    }
    return names;
  }

  private async patientIds(store: ResourceStore, sandbox: string, entries: AuditEntry[]): Promise<Map<string, string>> {
    const nins = [...new Set(entries.filter((e) => !e.patient.id).map((e) => e.patient.nin))];
    const ids = new Map<string, string>();
    if (nins.length === 0) return ids;
    for (const patient of await searchByIdentifiers(store, sandbox, 'Patient', nins)) {
      for (const identifier of (patient.identifier ?? []) as { value?: string }[]) {
        if (identifier.value && nins.includes(identifier.value)) ids.set(identifier.value, patient.id as string);
      }
    }
    return ids;
  }
}

/** The resources with any of the identifier values, asked for in chunks a search accepts. */
async function searchByIdentifiers(
  store: ResourceStore,
  sandbox: string,
  type: string,
  values: string[],
): Promise<FhirResource[]> {
  const found: FhirResource[] = [];
  for (let i = 0; i < values.length; i += 50) {
    const chunk = values.slice(i, i + 50);
    found.push(
      ...(
        await store.search(sandbox, {
          ...parseSearchRequest(type, [['identifier', chunk.join(',')]]),
          count: chunk.length * 2,
          totalNone: true,
        })
      ).matches,
    );
  }
  return found;
}
