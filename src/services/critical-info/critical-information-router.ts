import { jsonBody } from '../../http/json-body';
import { type Request, Router } from 'express';
import type { AccessLog } from '../../audit/access-log';
import { type PatientDataEndpoint, type PatientDataHandler, patientDataRoute } from '../../audit/patient-data-route';
import { serviceUrls } from '../../sandbox/service-urls';
import type { Sandbox } from '../../sandbox/sandboxes';
import { accessVerifier, type GuardDependencies } from '../../trust/guard';
import { criticalInformationStatus, KJ_STATUS, statusNin } from './critical-information-status';
import { patientNinOfEntry } from './critical-information-entry';
import { headerPatientNin } from './kj-access';
import { KJ_API_SCOPE, KJ_AUDIENCE, KJ_RESOURCE_TYPES } from './kj-codes';
import {
  KJ_HISTORY,
  KJ_READ,
  type KjContext,
  readEntry,
  readHistory,
  readVersion,
  searchEntries,
} from './read-critical-information';
import { createEntry, deleteEntry, KJ_CREATE, KJ_DELETE, KJ_UPDATE, updateEntry } from './write-critical-information';

/**
 * Kjernejournal's critical-information API of a sandbox (`services.criticalInformation`), with the real
 * API's paths below the base: `/status`, reads per type, read by id, version and history, create, update
 * and (soft) delete. Every call needs a HelseID token for nhn:kjernejournal with nhn:kjernejournal/api and
 * an attestation, and goes to the access log.
 */
type KjHandler = (context: KjContext, ...rest: Parameters<PatientDataHandler>) => ReturnType<PatientDataHandler>;
interface KjEndpoint extends PatientDataEndpoint {
  handler: KjHandler;
}

const bodyPatientNin = (req: Request): string | undefined => {
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' && typeof body.resourceType === 'string'
    ? patientNinOfEntry(body as { resourceType: string })
    : undefined;
};
const newEntryNin = (req: Request) => headerPatientNin(req) ?? bodyPatientNin(req);

const ENDPOINTS: KjEndpoint[] = [
  {
    method: 'post',
    path: '/status',
    interaction: KJ_STATUS,
    patientNin: statusNin,
    handler: criticalInformationStatus,
  },
  {
    method: 'get',
    path: '/AllergyIntolerance',
    interaction: KJ_READ,
    patientNin: headerPatientNin,
    handler: searchEntries('AllergyIntolerance'),
  },
  {
    method: 'get',
    path: '/Conditions',
    interaction: KJ_READ,
    patientNin: headerPatientNin,
    handler: searchEntries('Condition'),
  },
  // the documentation spells the read `Conditions` (not verified); the singular works too
  {
    method: 'get',
    path: '/Condition',
    interaction: KJ_READ,
    patientNin: headerPatientNin,
    handler: searchEntries('Condition'),
  },
  { method: 'get', path: '/Flag', interaction: KJ_READ, patientNin: headerPatientNin, handler: searchEntries('Flag') },
  ...KJ_RESOURCE_TYPES.flatMap((type): KjEndpoint[] => [
    {
      method: 'get',
      path: `/${type}/:id`,
      interaction: KJ_READ,
      patientNin: headerPatientNin,
      handler: readEntry(type),
    },
    {
      method: 'get',
      path: `/${type}/:id/_history`,
      interaction: KJ_HISTORY,
      patientNin: headerPatientNin,
      handler: readHistory(type),
    },
    {
      method: 'get',
      path: `/${type}/:id/_history/:vid`,
      interaction: KJ_HISTORY,
      patientNin: headerPatientNin,
      handler: readVersion(type),
    },
    { method: 'post', path: `/${type}`, interaction: KJ_CREATE, patientNin: newEntryNin, handler: createEntry(type) },
    {
      method: 'put',
      path: `/${type}/:id`,
      interaction: KJ_UPDATE,
      patientNin: headerPatientNin,
      handler: updateEntry(type),
    },
    {
      method: 'delete',
      path: `/${type}/:id`,
      interaction: KJ_DELETE,
      patientNin: headerPatientNin,
      handler: deleteEntry(type),
    },
    {
      method: 'delete',
      path: `/${type}/:id/_history/:vid`,
      interaction: KJ_DELETE,
      patientNin: headerPatientNin,
      handler: deleteEntry(type),
    },
  ]),
];
export const KJ_PATIENT_DATA_ENDPOINTS: PatientDataEndpoint[] = ENDPOINTS;

export function criticalInformationRouter(deps: GuardDependencies & { accessLog: AccessLog; maxBody: string }): Router {
  const router = Router();
  const json = jsonBody({ limit: deps.maxBody, type: ['application/fhir+json', 'application/json'] });
  // the status page's curl example sends its JSON without a Content-Type, so as curl's form default
  const statusJson = jsonBody({
    limit: deps.maxBody,
    type: ['application/fhir+json', 'application/json', 'application/x-www-form-urlencoded'],
  });
  for (const endpoint of ENDPOINTS) {
    const verify = accessVerifier(deps, {
      audience: KJ_AUDIENCE,
      anyScope: [KJ_API_SCOPE],
      requireAttestation: true,
      patientNin: endpoint.patientNin,
    });
    router[endpoint.method](
      endpoint.path,
      endpoint.interaction === KJ_STATUS ? statusJson : json,
      patientDataRoute({ accessLog: deps.accessLog, verify, store: deps.store }, endpoint, (req, res, access, store) =>
        endpoint.handler(
          { store, base: serviceUrls(deps.baseUrl, (res.locals.sandbox as Sandbox).name).criticalInformation },
          req,
          res,
          access,
          store,
        ),
      ),
    );
  }
  return router;
}
