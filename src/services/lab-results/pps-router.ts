import type { Request, Response } from 'express';
import { defineService, type PatientDataServiceEndpoint, type ServiceDependencies } from '../../audit/service-module';
import { sendFhir } from '../../http/fhir-json';
import { PPS_AUDIENCE, PPS_READ_SCOPES, PPS_SCOPES, PPS_SEARCH, PPS_SUBMIT } from './pps-codes';
import { ppsCapabilityStatement } from './pps-metadata';
import { backdoorPersonIdOf, backdoorVerifier, personIdOf } from './pps-request';
import { PpsSettingsStore, ppsSettingsApi } from './pps-settings';
import { seedLabResults } from './seed-lab-results';
import { type PpsContext, searchResults } from './search-results';
import { submitResults, submittedPatientNin } from './submit-results';

/**
 * Pasientens prøvesvar of a sandbox (`services.pps`): the searches behind HelseID (DPoP, attestation),
 * the same searches at `<pps>/backdoor` without authentication when the sandbox enables it, the
 * sandbox-only submission of results by a lab, and the CapabilityStatement.
 */
type PpsEndpoint = PatientDataServiceEndpoint<PpsSettingsStore, PpsContext>;
type PpsHandler = PpsEndpoint['handler'];
type PpsRoute = Omit<PpsEndpoint, 'patientData' | 'body'> & { backdoor: boolean };
const backdoor = (deps: ServiceDependencies<PpsSettingsStore>) => backdoorVerifier(deps.settings);

const search =
  (type: 'DiagnosticReport' | 'Observation'): PpsHandler =>
  (context, req, res, access) =>
    searchResults(type, context, req, res, access);
const searches = (prefix: string, isBackdoor: boolean): PpsRoute[] =>
  (['DiagnosticReport', 'Observation'] as const).flatMap((type) => [
    {
      method: 'post' as const,
      path: `${prefix}/${type}/_search`,
      interaction: PPS_SEARCH,
      patientNin: isBackdoor ? backdoorPersonIdOf : personIdOf,
      scopes: PPS_READ_SCOPES,
      handler: search(type),
      backdoor: isBackdoor,
    },
    {
      method: 'get' as const,
      path: `${prefix}/${type}`,
      interaction: PPS_SEARCH,
      patientNin: isBackdoor ? backdoorPersonIdOf : personIdOf,
      scopes: PPS_READ_SCOPES,
      handler: search(type),
      backdoor: isBackdoor,
    },
  ]);

/** The endpoints of PPS that return or change patient data: each writes the access log. */
const ROUTES: PpsRoute[] = [
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
const BACKDOOR = '/backdoor';
const metadata = (req: Request, res: Response, ppsBase: string) =>
  sendFhir(req, res, 200, ppsCapabilityStatement(ppsBase));

/** PPS as a service module. */
export const PPS_SERVICE = defineService<PpsSettingsStore, PpsContext>({
  key: 'pps',
  base: 'pps',
  audience: PPS_AUDIENCE,
  endpoints: [
    ...['', BACKDOOR].flatMap((prefix) =>
      (['get', 'post'] as const).map((method) => ({
        patientData: false as const,
        method,
        path: `${prefix}/metadata`,
        body: 'none' as const,
        handler: metadata,
      })),
    ),
    ...ROUTES.map(({ backdoor: isBackdoor, ...route }): PpsEndpoint => ({
      ...route,
      patientData: true,
      body: route.interaction === PPS_SUBMIT ? 'fhir' : 'form',
      requireAttestation: route.interaction === PPS_SEARCH,
      ...(isBackdoor ? { verify: backdoor } : {}),
    })),
  ],
  context: (deps, ppsBase, endpoint, store) => {
    const isBackdoor = endpoint.path.startsWith(`${BACKDOOR}/`);
    return { store, settings: deps.settings, ppsBase: `${ppsBase}${isBackdoor ? BACKDOOR : ''}`, backdoor: isBackdoor };
  },
  seed: function* (patients, settings, municipality) {
    if (!municipality) for (const resource of seedLabResults(patients, settings)) yield { resource };
  },
  settings: { path: 'pps', store: (db) => new PpsSettingsStore(db), api: ppsSettingsApi },
});
