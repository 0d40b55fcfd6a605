import type { SearchRequest } from './search-request';
import type { FhirResource } from './types';

/**
 * The repository the FHIR interactions need: versioned resources of one sandbox and search over them.
 * `store/` implements it (ResourceStore); nothing in `fhir/` knows the tables.
 */
export interface FhirRepository {
  read(sandbox: string, resourceType: string, id: string): Promise<FhirResource>;
  vread(sandbox: string, resourceType: string, id: string, versionId: number): Promise<FhirResource>;
  currentVersion(
    sandbox: string,
    resourceType: string,
    id: string,
  ): Promise<{ versionId: number; deleted: boolean } | undefined>;
  create(sandbox: string, resource: FhirResource, lastUpdated: string, id?: string): Promise<FhirResource>;
  update(
    sandbox: string,
    resource: FhirResource,
    lastUpdated: string,
    expectedVersion?: number,
  ): Promise<{ resource: FhirResource; created: boolean }>;
  delete(sandbox: string, resourceType: string, id: string, lastUpdated: string): Promise<boolean>;
  history(sandbox: string, query: HistoryQuery): Promise<{ total: number; versions: StoredVersion[] }>;
  search(sandbox: string, request: SearchRequest): Promise<SearchResult>;
  /** Runs `work` in one transaction (or in the open one). */
  inTransaction<T>(work: (repository: FhirRepository) => Promise<T>): Promise<T>;
}

export interface StoredVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: string;
  deleted: boolean;
  method: 'POST' | 'PUT' | 'DELETE';
  resource?: FhirResource;
}

export interface SearchResult {
  total?: number;
  matches: FhirResource[];
  included: FhirResource[];
}

export interface HistoryQuery {
  resourceType?: string;
  id?: string;
  since?: string;
  count: number;
  offset: number;
}

/** A FHIR resource id: 1–64 letters, digits, '-' and '.'. */
export function isValidId(id: string): boolean {
  return /^[A-Za-z0-9\-.]{1,64}$/.test(id);
}
