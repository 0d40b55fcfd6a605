import type { Request } from 'express';
import { defineService, type PatientDataServiceEndpoint } from '../../audit/service-module';
import { buildSeedCriticalInformation } from './seed-critical-information';
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
type KjEndpoint = PatientDataServiceEndpoint<undefined, KjContext>;
type KjRoute = Omit<KjEndpoint, 'patientData' | 'body' | 'scopes'>;

const bodyPatientNin = (req: Request): string | undefined => {
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' && typeof body.resourceType === 'string'
    ? patientNinOfEntry(body as { resourceType: string })
    : undefined;
};
const newEntryNin = (req: Request) => headerPatientNin(req) ?? bodyPatientNin(req);

const ROUTES: KjRoute[] = [
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
  ...KJ_RESOURCE_TYPES.flatMap((type): KjRoute[] => [
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

/** Kjernejournal's critical information as a service module. */
export const KJ_SERVICE = defineService<undefined, KjContext>({
  key: 'criticalInformation',
  base: 'critical-information',
  audience: KJ_AUDIENCE,
  endpoints: ROUTES.map((route) => ({
    ...route,
    patientData: true,
    // the status page's curl example sends its JSON without a Content-Type, so as curl's form default
    body: route.interaction === KJ_STATUS ? 'lenient-json' : 'fhir',
    scopes: [KJ_API_SCOPE],
  })),
  context: (_deps, base, _endpoint, store) => ({ store, base }),
  seed: (patients, settings) => buildSeedCriticalInformation(patients, settings),
});
