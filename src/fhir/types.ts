import type * as r4 from 'fhir/r4';

/** Any FHIR R4 resource, typed by `@types/fhir` (`fhir/r4`). Service code builds and reads these. */
export type R4Resource = r4.FhirResource;

/**
 * A FHIR resource as arbitrary JSON: what a client sent before validation, and what the store keeps and
 * the generic REST API serves. Navet keeps resources as JSON and reads them with FHIRPath.
 */
export interface FhirResource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string; profile?: string[]; tag?: r4.Coding[]; [key: string]: unknown };
  [key: string]: unknown;
}

/** What the store takes: loose JSON or a typed R4 resource (an R4 interface has no index signature). */
export type StorableResource = FhirResource | R4Resource;

/** Views a typed R4 resource as loose JSON, e.g. for the store's and FHIRPath's generic code. */
export const asJson = (resource: StorableResource): FhirResource => resource as FhirResource;

export interface BundleEntry {
  fullUrl?: string;
  resource?: FhirResource;
  search?: { mode: 'match' | 'include' | 'outcome'; score?: number };
  request?: { method: string; url: string; ifNoneExist?: string; ifMatch?: string };
  response?: { status: string; location?: string; etag?: string; lastModified?: string; outcome?: FhirResource };
}

export interface Bundle extends FhirResource {
  resourceType: 'Bundle';
  type: string;
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: BundleEntry[];
}
