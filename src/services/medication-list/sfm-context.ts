import type { Request } from 'express';
import { forbidden, notFound } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { FhirResource } from '../../fhir/types';
import { SYSTEMS } from '../../codes/code-systems';
import type { ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { findPatient } from '../documents/document-access';
import type { PllAuthor } from './pll-store';
import type { SfmSettingsStore } from './sfm-settings';

/** What SFM's facades need for one request. */
export interface SfmContext {
  store: ResourceStore;
  settings: SfmSettingsStore;
  sfmBase: string;
}

/**
 * A multi-tenant client (one system serving many organisations) must name the journal it acts for with an
 * `authorization_details` object of type nhn:sfm:journal-id (spec); single-tenant clients need none.
 */
export function assertJournalId(access: AccessContext): void {
  if (access.client.tenancy === 'multi-tenant' && !access.journalId) {
    throw forbidden(
      'NAVET-SFM-JOURNAL-ID',
      'A multi-tenant client must send authorization_details {"type": "nhn:sfm:journal-id", "journal_id": "<the EPR journal\'s id>"} in its token request',
    );
  }
}

export function orgnrOf(access: AccessContext): string {
  return access.organisation?.legalEntity.id ?? access.client.orgnrParent ?? '';
}

/** The organisation (legal entity, named from the sandbox's registry) and practitioner of a request: whose look-ups and sends these are. */
export async function authorOf(access: AccessContext, store: ResourceStore, sandbox: string): Promise<PllAuthor> {
  const orgnr = orgnrOf(access);
  const registered = (
    await store.cachedReads().search(sandbox, {
      ...parseSearchRequest('Organization', [['identifier', `${SYSTEMS.orgnr}|${orgnr}`]]),
      count: 1,
      totalNone: true,
    })
  ).matches[0];
  return {
    orgnr,
    orgName:
      typeof registered?.name === 'string'
        ? registered.name
        : (access.organisation?.legalEntity.name ?? access.client.name ?? orgnr),
    ...(access.practitioner?.name ? { practitioner: access.practitioner.name } : {}),
    ...(access.practitioner?.hprNumber ? { hpr: access.practitioner.hprNumber } : {}),
  };
}

export async function patientByNin(store: ResourceStore, sandbox: string, nin: string): Promise<FhirResource> {
  const patient = await findPatient(store, sandbox, nin);
  if (!patient) throw notFound('NAVET-SFM-PATIENT-NOT-FOUND', `No patient with number ${nin} in this sandbox`);
  return patient;
}

export function ninFromBody(req: Request, find: (body: unknown) => string | undefined): string | undefined {
  try {
    return find(req.body);
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });
