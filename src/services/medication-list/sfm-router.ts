import { jsonBody } from '../../http/json-body';
import { type Request, Router } from 'express';
import type { AccessLog } from '../../audit/access-log';
import { type PatientDataEndpoint, type PatientDataHandler, patientDataRoute } from '../../audit/patient-data-route';
import { serviceUrls } from '../../sandbox/service-urls';
import type { Sandbox } from '../../sandbox/sandboxes';
import { accessVerifier, guard, type GuardDependencies } from '../../trust/guard';
import {
  createPatientTicket,
  createSession,
  readList,
  readMedication,
  resolveTicket,
  ticketNin,
  ticketPatientNin,
} from './data-sharing';
import { getMedication, requestedPatientNin } from './get-medication';
import { sendMedication, sentPatientNin } from './send-medication';
import {
  GET_MEDICATION,
  PATIENT_TICKET,
  READ_LIST,
  READ_MEDICATION,
  SEND_MEDICATION,
  SFM_AUDIENCE,
  SFM_SCOPES,
} from './sfm-codes';
import { assertJournalId, ninFromBody, type SfmContext } from './sfm-context';
import type { SfmSettingsStore } from './sfm-settings';

/**
 * SFM of a sandbox (`services.sfm`): the Basic API operations $getMedication and $sendMedication, and the
 * read-only data-sharing API for home care. Every route needs an SFM token (audience e-helse:sfm.api,
 * scope e-helse:sfm.api/sfm.api2, DPoP for DPoP clients) with the tillitsrammeverk attestation.
 */
export { SFM_AUDIENCE, SFM_SCOPES };

type SfmHandler = (context: SfmContext, ...rest: Parameters<PatientDataHandler>) => ReturnType<PatientDataHandler>;
interface SfmEndpoint extends PatientDataEndpoint {
  handler: SfmHandler;
  body: 'fhir' | 'json' | 'none';
  ticket?: boolean;
}

const ENDPOINTS: SfmEndpoint[] = [
  {
    method: 'post',
    path: '/Patient/$getMedication',
    interaction: GET_MEDICATION,
    patientNin: (req: Request) => ninFromBody(req, requestedPatientNin),
    handler: getMedication,
    body: 'fhir',
  },
  {
    method: 'post',
    path: '/Patient/$sendMedication',
    interaction: SEND_MEDICATION,
    patientNin: (req: Request) => ninFromBody(req, sentPatientNin),
    handler: sendMedication,
    body: 'fhir',
  },
  {
    method: 'post',
    path: '/api/PatientTicket',
    interaction: PATIENT_TICKET,
    patientNin: ticketPatientNin,
    handler: createPatientTicket,
    body: 'json',
  },
  {
    method: 'get',
    path: '/List',
    interaction: READ_LIST,
    patientNin: ticketNin,
    handler: readList,
    body: 'none',
    ticket: true,
  },
  {
    method: 'get',
    path: '/Medication',
    interaction: READ_MEDICATION,
    patientNin: ticketNin,
    handler: readMedication,
    body: 'none',
    ticket: true,
  },
];
export const SFM_PATIENT_DATA_ENDPOINTS: PatientDataEndpoint[] = ENDPOINTS;

export function sfmRouter(
  deps: GuardDependencies & { accessLog: AccessLog; settings: SfmSettingsStore; maxBody: string },
): Router {
  const router = Router();
  const options = { audience: SFM_AUDIENCE, anyScope: SFM_SCOPES, requireAttestation: true };
  router.get('/metadata', (req, res) => {
    const base = serviceUrls(deps.baseUrl, (res.locals.sandbox as Sandbox).name).sfm;
    res.type('application/fhir+json').json({
      resourceType: 'CapabilityStatement',
      status: 'active',
      kind: 'instance',
      fhirVersion: '4.0.1',
      format: ['json'],
      date: '2026-11-23',
      implementation: { description: 'Navet SFM (PLL) sandbox', url: base },
      rest: [
        {
          mode: 'server',
          resource: [
            { type: 'List', interaction: [{ code: 'search-type' }] },
            { type: 'Medication', interaction: [{ code: 'search-type' }] },
          ],
          operation: [
            { name: 'getMedication', definition: 'http://ehelse.no/fhir/OperationDefinition/sfm-getMedication' },
            { name: 'sendMedication', definition: 'http://ehelse.no/fhir/OperationDefinition/sfm-sendMedication' },
          ],
        },
      ],
    });
  });
  router.post('/api/Session/create', guard(deps, options), createSession);
  const fhirJson = jsonBody({ limit: deps.maxBody, type: ['application/fhir+json', 'application/json'] });
  const plainJson = jsonBody({ limit: '64kb', type: ['application/json', 'application/fhir+json'] });
  const ticket = resolveTicket(deps.store);
  for (const endpoint of ENDPOINTS) {
    const verify = accessVerifier(deps, { ...options, patientNin: endpoint.patientNin });
    const context = (sandbox: Sandbox, store: SfmContext['store']): SfmContext => ({
      store,
      settings: deps.settings,
      sfmBase: serviceUrls(deps.baseUrl, sandbox.name).sfm,
    });
    const before =
      endpoint.body === 'fhir' ? [fhirJson] : endpoint.body === 'json' ? [plainJson] : endpoint.ticket ? [ticket] : [];
    router[endpoint.method](
      endpoint.path,
      ...before,
      patientDataRoute(
        { accessLog: deps.accessLog, verify, store: deps.store },
        endpoint,
        (req, res, access, store) => {
          assertJournalId(access);
          return endpoint.handler(context(res.locals.sandbox as Sandbox, store), req, res, access, store);
        },
      ),
    );
  }
  return router;
}
