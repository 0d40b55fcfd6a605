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
export const asJson = (resource: StorableResource | Bundle): FhirResource => resource as FhirResource;

/** A `fhir/r4` Bundle entry whose resource is loose JSON (what the store returns and the generic API serves). */
export type BundleEntry = Omit<r4.BundleEntry, 'resource' | 'response'> & {
  resource?: FhirResource;
  response?: Omit<r4.BundleEntryResponse, 'outcome'> & { outcome?: StorableResource };
};

/** A `fhir/r4` Bundle (its type, link, total as r4 types them) with loose entries: see BundleEntry. */
export type Bundle = Omit<r4.Bundle, 'entry'> & { entry?: BundleEntry[] };
