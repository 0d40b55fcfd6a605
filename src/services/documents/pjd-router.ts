import type { Request } from 'express';
import { defineService, type PatientDataServiceEndpoint, type ServiceDependencies } from '../../audit/service-module';
import { DEPRECATE, deprecateDocument } from './deprecate-document';
import { findDocumentReferences, ITI_67, patientNinOf, searchParamsOf } from './find-document-references';
import { DOCUMENT_SCOPES, PJD_AUDIENCE, PJD_SCOPES } from '../../codes/pjd-codes';
import type { PjdContext } from './pjd-context';
import { pjdAvailability, PjdSettingsStore, pjdSettingsApi } from './pjd-settings';
import { seedDocuments } from './seed-documents';
import { ITI_65, provideDocumentBundle, providedPatientNin } from './provide-document-bundle';
import { ITI_68, requestedPatientNin, retrieveDocument } from './retrieve-document';

/**
 * Document sharing (PJD) of a sandbox (`services.pjd`), with the real API's paths: `/ping` (no auth),
 * `/pingauth` (token + DPoP), ITI-67 (find), ITI-68 (retrieve, also at the old path) and the sandbox-only
 * ITI-65 (publish) and deprecation.
 */
export { PJD_AUDIENCE, PJD_SCOPES };

const searchPatientNin = (req: Request) => {
  try {
    return patientNinOf(searchParamsOf(req));
  } catch {
    return undefined;
  }
};

type PjdEndpoint = PatientDataServiceEndpoint<PjdSettingsStore, PjdContext>;
const available = (deps: ServiceDependencies<PjdSettingsStore>) => [pjdAvailability(deps.settings)];

/** The endpoints of PJD that return or change patient data: each writes the access log. */
const ENDPOINTS: PjdEndpoint[] = (
  [
    {
      method: 'post',
      path: '/R4/fhir/DocumentReference/_search',
      interaction: ITI_67,
      patientNin: searchPatientNin,
      scopes: [...DOCUMENT_SCOPES.list],
      handler: findDocumentReferences,
    },
    {
      method: 'get',
      path: '/R4/fhir/DocumentReference',
      interaction: ITI_67,
      patientNin: searchPatientNin,
      scopes: [...DOCUMENT_SCOPES.list],
      handler: findDocumentReferences,
    },
    {
      method: 'get',
      path: '/mhd/document',
      interaction: ITI_68,
      patientNin: requestedPatientNin,
      scopes: [DOCUMENT_SCOPES.readDocument],
      handler: retrieveDocument,
    },
    {
      method: 'get',
      path: '/mhd/iti68/document',
      interaction: ITI_68,
      patientNin: requestedPatientNin,
      scopes: [DOCUMENT_SCOPES.readDocument],
      handler: retrieveDocument,
    },
    {
      method: 'post',
      path: '/R4/fhir',
      interaction: ITI_65,
      patientNin: (req) => providedPatientNin(req.body),
      scopes: [DOCUMENT_SCOPES.provide],
      handler: provideDocumentBundle,
    },
    {
      method: 'post',
      path: '/R4/fhir/DocumentReference/:id/$deprecate',
      interaction: DEPRECATE,
      patientNin: requestedPatientNin,
      scopes: [DOCUMENT_SCOPES.provide],
      handler: deprecateDocument,
    },
  ] satisfies Omit<PjdEndpoint, 'patientData' | 'body'>[]
).map((endpoint) => ({
  ...endpoint,
  patientData: true as const,
  body: endpoint.interaction === ITI_65 ? ('fhir' as const) : ('form' as const),
  before: available,
}));

/**
 * The paths as NHN's pages and samples write them, onto the real API's: without `R4` (the find-document
 * page's example, the native sample's `/fhir/documentreference/_search`) and with the retrieve page's
 * double slash (`//mhd/document`). The DPoP htu is checked against the path the client sent.
 */
export function pjdPathAlias(url: string): string {
  const path = url.replace(/^\/{2,}/, '/');
  return /^\/fhir(\/|\?|$)/i.test(path) ? `/R4${path}` : path;
}

/** PJD as a service module. */
export const PJD_SERVICE = defineService<PjdSettingsStore, PjdContext>({
  key: 'pjd',
  base: 'pjd',
  audience: PJD_AUDIENCE,
  rewriteUrl: pjdPathAlias,
  endpoints: [
    {
      patientData: false,
      method: 'get',
      path: '/ping',
      body: 'none',
      handler: (_req, res) => {
        res.json({ status: 'ok' });
      },
    },
    {
      patientData: false,
      method: 'get',
      path: '/pingauth',
      body: 'none',
      scopes: [...PJD_SCOPES],
      handler: (_req, res) => {
        res.json({ status: 'ok', clientId: res.locals.access.client.clientId });
      },
    },
    ...ENDPOINTS,
  ],
  context: (deps, pjdBase, _endpoint, store) => ({ store, settings: deps.settings, pjdBase }),
  seed: async function* (patients, settings, municipality) {
    if (!municipality) for await (const resource of seedDocuments(patients, settings)) yield { resource };
  },
  settings: { path: 'pjd', store: (db) => new PjdSettingsStore(db), api: pjdSettingsApi },
});
