import express, { Router } from 'express';
import type { AccessLog } from '../../audit/access-log';
import { type PatientDataEndpoint, patientDataRoute } from '../../audit/patient-data-route';
import { serviceUrls } from '../../sandbox/service-urls';
import type { Sandbox } from '../../sandbox/sandboxes';
import { accessVerifier, guard, type GuardDependencies } from '../../trust/guard';
import { findDocumentReferences, ITI_67, patientNinOf, searchParamsOf } from './find-document-references';
import { DOCUMENT_SCOPES, PJD_AUDIENCE, PJD_SCOPES } from './pjd-codes';

/**
 * Document sharing (PJD) of a sandbox (`services.pjd`), with the real API's paths: `/ping` (no auth),
 * `/pingauth` (token + DPoP), and ITI-67 (find document references).
 */
export { PJD_AUDIENCE, PJD_SCOPES };

const safePatientNin = (req: express.Request) => {
  try {
    return patientNinOf(searchParamsOf(req));
  } catch {
    return undefined;
  }
};

/** The endpoints of PJD that return patient data: each writes the access log. */
export const PJD_PATIENT_DATA_ENDPOINTS: PatientDataEndpoint[] = [
  { method: 'post', path: '/R4/fhir/DocumentReference/_search', interaction: ITI_67, patientNin: safePatientNin },
  { method: 'get', path: '/R4/fhir/DocumentReference', interaction: ITI_67, patientNin: safePatientNin },
];

export function pjdRouter(deps: GuardDependencies & { accessLog: AccessLog }): Router {
  const router = Router();
  router.get('/ping', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/pingauth', guard(deps, { audience: PJD_AUDIENCE, anyScope: PJD_SCOPES }), (_req, res) => {
    res.json({ status: 'ok', clientId: res.locals.access.client.clientId });
  });
  const verify = accessVerifier(deps, { audience: PJD_AUDIENCE, anyScope: [...DOCUMENT_SCOPES.list], requireAttestation: true, patientNin: safePatientNin });
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  for (const endpoint of PJD_PATIENT_DATA_ENDPOINTS) {
    router[endpoint.method](endpoint.path, form, patientDataRoute({ accessLog: deps.accessLog, verify }, endpoint, (req, res, access) => {
      const sandbox = res.locals.sandbox as Sandbox;
      return findDocumentReferences(deps.store, serviceUrls(deps.baseUrl, sandbox.name).pjd, req, res, access);
    }));
  }
  return router;
}
