import { formBody } from '../../http/form-body';
import { jsonBody } from '../../http/json-body';
import express, { type Request, Router } from 'express';
import type { AccessLog } from '../../audit/access-log';
import { type PatientDataEndpoint, type PatientDataHandler, patientDataRoute } from '../../audit/patient-data-route';
import { serviceUrls } from '../../sandbox/service-urls';
import type { Sandbox } from '../../sandbox/sandboxes';
import { accessVerifier, guard, type GuardDependencies } from '../../trust/guard';
import { DEPRECATE, deprecateDocument } from './deprecate-document';
import { findDocumentReferences, ITI_67, patientNinOf, searchParamsOf } from './find-document-references';
import { DOCUMENT_SCOPES, PJD_AUDIENCE, PJD_SCOPES } from '../../codes/pjd-codes';
import type { PjdContext } from './pjd-context';
import { pjdAvailability, type PjdSettingsStore } from './pjd-settings';
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

type PjdHandler = (context: PjdContext, ...rest: Parameters<PatientDataHandler>) => ReturnType<PatientDataHandler>;

interface PjdEndpoint extends PatientDataEndpoint {
  scopes: string[];
  handler: PjdHandler;
}

/** The endpoints of PJD that return or change patient data: each writes the access log. */
const ENDPOINTS: PjdEndpoint[] = [
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
];
export const PJD_PATIENT_DATA_ENDPOINTS: PatientDataEndpoint[] = ENDPOINTS;

/**
 * The paths as NHN's pages and samples write them, onto the real API's: without `R4` (the find-document
 * page's example, the native sample's `/fhir/documentreference/_search`) and with the retrieve page's
 * double slash (`//mhd/document`). The DPoP htu is checked against the path the client sent.
 */
export function pjdPathAlias(url: string): string {
  const path = url.replace(/^\/{2,}/, '/');
  return /^\/fhir(\/|\?|$)/i.test(path) ? `/R4${path}` : path;
}

export function pjdRouter(
  deps: GuardDependencies & { accessLog: AccessLog; settings: PjdSettingsStore; maxBody: string },
): Router {
  const router = Router();
  router.use((req, _res, next) => {
    req.url = pjdPathAlias(req.url);
    next();
  });
  router.get('/ping', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/pingauth', guard(deps, { audience: PJD_AUDIENCE, anyScope: PJD_SCOPES }), (_req, res) => {
    res.json({ status: 'ok', clientId: res.locals.access.client.clientId });
  });
  const form = formBody('64kb');
  const fhirJson = jsonBody({ limit: deps.maxBody, type: ['application/fhir+json', 'application/json'] });
  const availability = pjdAvailability(deps.settings);
  for (const endpoint of ENDPOINTS) {
    const verify = accessVerifier(deps, {
      audience: PJD_AUDIENCE,
      anyScope: endpoint.scopes,
      requireAttestation: true,
      patientNin: endpoint.patientNin,
    });
    const context = (sandbox: Sandbox, store: PjdContext['store']): PjdContext => ({
      store,
      settings: deps.settings,
      pjdBase: serviceUrls(deps.baseUrl, sandbox.name).pjd,
    });
    router[endpoint.method](
      endpoint.path,
      endpoint.interaction === ITI_65 ? fhirJson : form,
      availability,
      patientDataRoute({ accessLog: deps.accessLog, verify, store: deps.store }, endpoint, (req, res, access, store) =>
        endpoint.handler(context(res.locals.sandbox as Sandbox, store), req, res, access, store),
      ),
    );
  }
  return router;
}
