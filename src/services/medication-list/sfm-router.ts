import type { Request, Response } from 'express';
import { defineService, type PatientDataServiceEndpoint, type ServiceDependencies } from '../../audit/service-module';
import { seedTimestamp } from '../../sandbox/sandboxes';
import { buildSeedMedicationLists } from './seed-medication-lists';
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
import { SfmSettingsStore, sfmSettingsApi } from './sfm-settings';

/**
 * SFM of a sandbox (`services.sfm`): the Basic API operations $getMedication and $sendMedication, and the
 * read-only data-sharing API for home care. Every route needs an SFM token (audience e-helse:sfm.api,
 * scope e-helse:sfm.api/sfm.api2, DPoP for DPoP clients) with the tillitsrammeverk attestation.
 */
export { SFM_AUDIENCE, SFM_SCOPES };

type SfmEndpoint = PatientDataServiceEndpoint<SfmSettingsStore, SfmContext>;
type SfmRoute = Omit<SfmEndpoint, 'patientData' | 'scopes'> & { ticket?: boolean };
/** The data-sharing reads name their patient by a ticket, resolved before the guard. */
const ticket = (deps: ServiceDependencies<SfmSettingsStore>) => [resolveTicket(deps.store)];

const ROUTES: SfmRoute[] = [
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
function capabilityStatement(_req: Request, res: Response, base: string): void {
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
}

/** SFM as a service module. Every endpoint checks the journal id of the token first. */
export const SFM_SERVICE = defineService<SfmSettingsStore, SfmContext>({
  key: 'sfm',
  base: 'sfm',
  audience: SFM_AUDIENCE,
  endpoints: [
    { patientData: false, method: 'get', path: '/metadata', body: 'none', handler: capabilityStatement },
    {
      patientData: false,
      method: 'post',
      path: '/api/Session/create',
      body: 'none',
      scopes: SFM_SCOPES,
      requireAttestation: true,
      handler: createSession,
    },
    ...ROUTES.map(({ ticket: needsTicket, handler, ...route }): SfmEndpoint => ({
      ...route,
      patientData: true,
      scopes: SFM_SCOPES,
      ...(needsTicket ? { before: ticket } : {}),
      handler: (context, req, res, access, store) => {
        assertJournalId(access);
        return handler(context, req, res, access, store);
      },
    })),
  ],
  context: (deps, sfmBase, _endpoint, store) => ({ store, settings: deps.settings, sfmBase }),
  seed: (patients, settings) =>
    buildSeedMedicationLists(patients, settings).map(({ resource, history }) => ({
      resource,
      ...(history
        ? {
            history: history.map((earlier) => ({
              resource: earlier,
              lastUpdated: String(
                (earlier.meta as { lastUpdated?: string } | undefined)?.lastUpdated ?? seedTimestamp(settings),
              ),
            })),
          }
        : {}),
    })),
  settings: { path: 'sfm', store: (db) => new SfmSettingsStore(db), api: sfmSettingsApi },
});
