import { formBody } from '../../http/form-body';
import { jsonBody } from '../../http/json-body';
import express, { type Request, Router } from 'express';
import type { AccessLog } from '../../audit/access-log';
import { type PatientDataEndpoint, type PatientDataHandler, patientDataRoute } from '../../audit/patient-data-route';
import { sendFhir } from '../../http/fhir-json';
import { serviceUrls } from '../../sandbox/service-urls';
import type { Sandbox } from '../../sandbox/sandboxes';
import { accessVerifier, type GuardDependencies } from '../../trust/guard';
import { PPS_AUDIENCE, PPS_READ_SCOPES, PPS_SCOPES, PPS_SEARCH, PPS_SUBMIT } from './pps-codes';
import { ppsCapabilityStatement } from './pps-metadata';
import { backdoorPersonIdOf, backdoorVerifier, personIdOf } from './pps-request';
import type { PpsSettingsStore } from './pps-settings';
import { type PpsContext, searchResults } from './search-results';
import { submitResults, submittedPatientNin } from './submit-results';

/**
 * Pasientens prøvesvar of a sandbox (`services.pps`): the searches behind HelseID (DPoP, attestation),
 * the same searches at `<pps>/backdoor` without authentication when the sandbox enables it, the
 * sandbox-only submission of results by a lab, and the CapabilityStatement.
 */
type PpsHandler = (context: PpsContext, ...rest: Parameters<PatientDataHandler>) => ReturnType<PatientDataHandler>;

interface PpsEndpoint extends PatientDataEndpoint {
  scopes: string[];
  handler: PpsHandler;
  backdoor: boolean;
}

const search =
  (type: 'DiagnosticReport' | 'Observation'): PpsHandler =>
  (context, req, res, access) =>
    searchResults(type, context, req, res, access);
const searches = (prefix: string, backdoor: boolean): PpsEndpoint[] =>
  (['DiagnosticReport', 'Observation'] as const).flatMap((type) => [
    {
      method: 'post' as const,
      path: `${prefix}/${type}/_search`,
      interaction: PPS_SEARCH,
      patientNin: backdoor ? backdoorPersonIdOf : personIdOf,
      scopes: PPS_READ_SCOPES,
      handler: search(type),
      backdoor,
    },
    {
      method: 'get' as const,
      path: `${prefix}/${type}`,
      interaction: PPS_SEARCH,
      patientNin: backdoor ? backdoorPersonIdOf : personIdOf,
      scopes: PPS_READ_SCOPES,
      handler: search(type),
      backdoor,
    },
  ]);

/** The endpoints of PPS that return or change patient data: each writes the access log. */
const ENDPOINTS: PpsEndpoint[] = [
  ...searches('', false),
  ...searches('/backdoor', true),
  {
    method: 'post',
    path: '/',
    interaction: PPS_SUBMIT,
    patientNin: (req: Request) => submittedPatientNin(req.body),
    scopes: [PPS_SCOPES.submit],
    handler: submitResults,
    backdoor: false,
  },
];
export const PPS_PATIENT_DATA_ENDPOINTS: PatientDataEndpoint[] = ENDPOINTS;

export function ppsRouter(
  deps: GuardDependencies & { accessLog: AccessLog; settings: PpsSettingsStore; maxBody: string },
): Router {
  const router = Router();
  const metadata = (req: Request, res: express.Response) =>
    sendFhir(
      req,
      res,
      200,
      ppsCapabilityStatement(serviceUrls(deps.baseUrl, (res.locals.sandbox as Sandbox).name).pps),
    );
  for (const prefix of ['', '/backdoor']) {
    router.get(`${prefix}/metadata`, metadata);
    router.post(`${prefix}/metadata`, metadata);
  }
  const form = formBody('64kb');
  const fhirJson = jsonBody({ limit: deps.maxBody, type: ['application/fhir+json', 'application/json'] });
  const backdoor = backdoorVerifier(deps.settings);
  for (const endpoint of ENDPOINTS) {
    const verify = endpoint.backdoor
      ? backdoor
      : accessVerifier(deps, {
          audience: PPS_AUDIENCE,
          anyScope: endpoint.scopes,
          requireAttestation: endpoint.interaction === PPS_SEARCH,
          patientNin: endpoint.patientNin,
        });
    const context = (sandbox: Sandbox, store: PpsContext['store']): PpsContext => ({
      store,
      settings: deps.settings,
      ppsBase: `${serviceUrls(deps.baseUrl, sandbox.name).pps}${endpoint.backdoor ? '/backdoor' : ''}`,
      backdoor: endpoint.backdoor,
    });
    router[endpoint.method](
      endpoint.path,
      endpoint.interaction === PPS_SUBMIT ? fhirJson : form,
      patientDataRoute({ accessLog: deps.accessLog, verify, store: deps.store }, endpoint, (req, res, access, store) =>
        endpoint.handler(context(res.locals.sandbox as Sandbox, store), req, res, access, store),
      ),
    );
  }
  return router;
}
