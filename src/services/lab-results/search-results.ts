import type { Request, Response } from 'express';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { privacyChoicesForCare } from '../../citizen/privacy-choices';
import { badRequest, operationOutcome } from '../../fhir/operation-outcome';
import { MAX_COUNT, parseSearchRequest, type QueryParams, toQueryParams } from '../../fhir/search-request';
import type { Bundle, BundleEntry, FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import { SYSTEMS } from '../../codes/code-systems';
import type { ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { SOURCE_TAG_SYSTEM } from './pps-codes';
import { readPpsRequest } from './pps-request';
import { type PpsSettingsStore, sourcesNotForCare } from './pps-settings';

/**
 * `POST <pps>/DiagnosticReport/_search` and `POST <pps>/Observation/_search` (form-encoded; GET too):
 * the patient of the person-id header, filtered by the spec's parameters in the store, with the
 * includes the spec names. Results the citizen has blocked are hidden and an outcome entry says so;
 * results from sources not yet in care (source stages) are never shown.
 */
export type SearchedType = 'DiagnosticReport' | 'Observation';

export interface PpsContext {
  store: ResourceStore;
  settings: PpsSettingsStore;
  ppsBase: string;
  /** The unauthenticated test backdoor: x-nilar-* headers instead of person-id and friends. */
  backdoor: boolean;
}

const DEFAULT_COUNT = 50;
const FILTERS = ['_id', 'date', '_tag'];
export const INCLUDES: Record<SearchedType, string[]> = {
  DiagnosticReport: [
    'DiagnosticReport:specimen',
    'DiagnosticReport:based-on',
    'DiagnosticReport:result',
    'DiagnosticReport:performer',
    'ServiceRequest:requester',
    'Observation:specimen',
    'Observation:has-member',
  ],
  Observation: [
    'Observation:specimen',
    'Observation:based-on',
    'Observation:has-member',
    'Observation:performer',
    'Observation:report',
    'ServiceRequest:requester',
    'DiagnosticReport:specimen',
  ],
};
export const REVINCLUDES: Record<SearchedType, string[]> = {
  DiagnosticReport: ['Observation:report', 'DiagnosticReport:result'],
  Observation: ['DiagnosticReport:result', 'Observation:has-member'],
};

export function searchParamsOf(req: Request): QueryParams {
  const body =
    req.method === 'POST' && req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
  return toQueryParams({ ...(req.query as Record<string, unknown>), ...body });
}

interface Query {
  store: QueryParams;
  count: number;
  skip: number;
}

function whole(name: string, value: string, min: number): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < min)
    throw badRequest(
      'NAVET-SEARCH-PARAM-VALUE',
      `${name} must be a whole number from ${min}; got '${value.slice(0, 20)}'`,
      [name],
    );
  return Number(value);
}

/** The spec's parameters, checked, as store search parameters. */
function readQuery(type: SearchedType, params: QueryParams): Query {
  const query: Query = { store: [], count: DEFAULT_COUNT, skip: 0 };
  for (const [name, value] of params) {
    if (name === '_format' || name === '_pretty') continue;
    if (name === '_count') query.count = Math.min(whole('_count', value, 0), MAX_COUNT);
    else if (name === '_skip') query.skip = whole('_skip', value, 0);
    else if (name === '_include' || name === '_include:iterate') {
      if (!INCLUDES[type].includes(value))
        throw badRequest(
          'NAVET-SEARCH-INCLUDE',
          `${name}=${value} is not supported on ${type}; use one of ${INCLUDES[type].join(', ')}`,
          [name],
        );
      query.store.push([name, value]);
    } else if (name === '_revinclude' || name === '_revinclude:iterate') {
      if (!REVINCLUDES[type].includes(value))
        throw badRequest(
          'NAVET-SEARCH-INCLUDE',
          `${name}=${value} is not supported on ${type}; use one of ${REVINCLUDES[type].join(', ')}`,
          [name],
        );
      query.store.push([name, value]);
    } else if (FILTERS.includes(name)) query.store.push([name, value]);
    else
      throw badRequest(
        'NAVET-SEARCH-UNKNOWN-PARAM',
        `${type} search has no parameter '${name.slice(0, 60)}'; use ${[...FILTERS, '_count', '_skip', '_include', '_include:iterate', '_revinclude', '_revinclude:iterate'].join(', ')}`,
        [name],
      );
  }
  return query;
}

/** What an include may add: the report's own parts, never a resource of another kind. */
const INCLUDED_TYPES = new Set([
  'DiagnosticReport',
  'Observation',
  'Specimen',
  'ServiceRequest',
  'PractitionerRole',
  'Practitioner',
  'Organization',
]);

/**
 * An included resource is shown only when the match itself could be: the same patient (when it has a
 * subject), a type that belongs to a lab report, not entered-in-error, and not from a source kept from care.
 * References are written by labs, so a reference alone proves nothing.
 */
function includable(resource: FhirResource, nin: string, hiddenSources: string[]): boolean {
  if (!INCLUDED_TYPES.has(resource.resourceType)) return false;
  if (resource.status === 'entered-in-error') return false;
  const subject = resource.subject as { identifier?: { value?: unknown } } | undefined;
  if (subject !== undefined && subject.identifier?.value !== nin) return false;
  const tags = resource.meta?.tag ?? [];
  return !tags.some((tag) => tag?.system === SOURCE_TAG_SYSTEM && hiddenSources.includes(String(tag.code)));
}

function link(base: string, type: SearchedType, params: QueryParams, skip: number, relation: string) {
  const kept = params.filter(([n]) => n !== '_skip');
  return { relation, url: `${base}/${type}?${new URLSearchParams([...kept, ['_skip', String(skip)]]).toString()}` };
}

export async function searchResults(
  type: SearchedType,
  context: PpsContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const request = readPpsRequest(req, context.backdoor);
  access.accessBasis ??= request.accessBasis;
  const params = searchParamsOf(req);
  const query = readQuery(type, params);
  const { nin } = request;
  const now = sandbox.clock.now();
  const choices = await privacyChoicesForCare(context.store, sandbox.name, nin, now);
  const hiddenSources = sourcesNotForCare(await context.settings.read(sandbox.name));
  const criteria: QueryParams = [
    ['subject:identifier', `${SYSTEMS.fnr}|${nin},${SYSTEMS.dnr}|${nin}`],
    ['status:not', 'entered-in-error'],
    ...hiddenSources.map((orgnr): [string, string] => ['_tag:not', `${SOURCE_TAG_SYSTEM}|${orgnr}`]),
    ...query.store,
    ['_sort', '-date'],
    ['_offset', String(query.skip)],
  ];
  const searchRequest = { ...parseSearchRequest(type, criteria), count: query.count };
  const found = choices.labResults.blocked
    ? { total: 0, matches: [], included: [] }
    : await context.store.search(sandbox.name, searchRequest);
  const total = found.total ?? 0;
  const included = found.included.filter((r) => includable(r, nin, hiddenSources));
  const entry: BundleEntry[] = [
    ...found.matches.map((r) => ({
      fullUrl: `${context.ppsBase}/${r.resourceType}/${r.id}`,
      resource: r,
      search: { mode: 'match' as const },
    })),
    ...included.map((r) => ({
      fullUrl: `${context.ppsBase}/${r.resourceType}/${r.id}`,
      resource: r,
      search: { mode: 'include' as const },
    })),
  ];
  if (choices.labResults.blocked) {
    // the national solution must say that results are hidden, without saying which
    entry.push({
      fullUrl: 'urn:uuid:00000000-0000-4000-8000-00000000b10c',
      resource: operationOutcome([
        {
          severity: 'information',
          code: 'suppressed',
          navetCode: 'NAVET-PPS-BLOCKED',
          text: 'Pasienten har sperret prøvesvar: noen eller alle prøvesvar er skjult for helsepersonell (the patient has blocked their lab results; some results are hidden)',
        },
      ]),
      search: { mode: 'outcome' },
    });
  }
  const links = [link(context.ppsBase, type, params, query.skip, 'self')];
  if (query.skip + query.count < total && query.count > 0)
    links.push(link(context.ppsBase, type, params, query.skip + query.count, 'next'));
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: now.toISOString(),
    total,
    link: links,
    entry,
  };
  const patientId = (found.matches[0]?.subject as { reference?: string } | undefined)?.reference?.split('/')[1];
  return {
    patients: [
      {
        nin,
        ...(patientId ? { id: patientId } : {}),
        resources: [...found.matches, ...included].map((r: FhirResource) => `${r.resourceType}/${r.id}`),
      },
    ],
    query: new URLSearchParams(params).toString(),
    send: (response) => {
      if (request.correlationId) response.setHeader('correlation-id', request.correlationId);
      sendFhir(req, response, 200, bundle);
    },
  };
}
