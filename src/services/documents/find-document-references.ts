import type { Request, Response } from 'express';
import type { Interaction } from '../../audit/audit-event';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { pageLinks } from '../../fhir/bundles';
import { badRequest } from '../../fhir/operation-outcome';
import { parseSearchRequest, type QueryParams, toQueryParams } from '../../fhir/search-request';
import type { Bundle, FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import type { AccessContext } from '../../trust/access-context';
import {
  assertConsumerAccess,
  documentsBlockedByConsent,
  findPatient,
  isBlocked,
  servedDocument,
} from './document-access';
import { AGE_LIMIT_YEARS, DOCUMENT_SCOPES } from '../../codes/pjd-codes';
import type { PjdContext } from './pjd-context';
import { ownValue } from '../../own-value';

/**
 * ITI-67 Find Document References: `POST /R4/fhir/DocumentReference/_search` (form-encoded, as the real
 * demo client sends it) and `GET /R4/fhir/DocumentReference`. The patient's documents are filtered by the
 * MHD parameters in the store; blocking (NORS), the age limits of the kjernejournalforskriften scope,
 * sorting and paging are applied to that one patient's set.
 */
export const ITI_67: Interaction = {
  service: 'pjd',
  code: 'ITI-67',
  display: 'Find Document References',
  action: 'R',
  seen: 'Dokumentliste',
};

const PATIENT_PARAMS = ['patient.identifier', 'patient'];
/** MHD parameters and the store's SearchParameters they become. */
const FILTERS: Record<string, string> = {
  status: 'status',
  category: 'category',
  type: 'type',
  date: 'date',
  creation: 'creation',
  period: 'period',
  facility: 'facility',
  setting: 'setting',
  'security-label': 'security-label',
  format: 'format',
  event: 'event',
  'author.given': 'author-given',
  'author.family': 'author-family',
};
const MAX_DOCUMENTS_PER_PATIENT = 1000;

type SortKey = (d: FhirResource) => string;
const containedName =
  (id: string): SortKey =>
  (d) =>
    String(((d.contained ?? []) as { id?: string; name?: string }[]).find((r) => r.id === id)?.name ?? '');
const firstCode =
  (element: string): SortKey =>
  (d) => {
    const value = d[element] as { coding?: { code?: string }[] } | { coding?: { code?: string }[] }[] | undefined;
    return String((Array.isArray(value) ? value[0] : value)?.coding?.[0]?.code ?? '');
  };
const SORTS: Record<string, SortKey> = {
  date: (d) => String(d.date ?? ''),
  name: (d) => String((d.content as { attachment?: { title?: string } }[] | undefined)?.[0]?.attachment?.title ?? ''),
  type: firstCode('type'),
  category: firstCode('category'),
  securityLabel: firstCode('securityLabel'),
  department: containedName('department'),
  organization: containedName('institution'),
};

export function searchParamsOf(req: Request): QueryParams {
  const source =
    req.method === 'POST'
      ? { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) }
      : (req.query as Record<string, unknown>);
  return toQueryParams(source);
}

/** The patient's fødselsnummer from `patient.identifier` (bare or system|value). */
export function patientNinOf(params: QueryParams): string | undefined {
  const raw = params.find(([name]) => PATIENT_PARAMS.includes(name))?.[1];
  if (!raw) return undefined;
  const value = raw.includes('|') ? raw.slice(raw.lastIndexOf('|') + 1) : raw;
  return value.trim() || undefined;
}

function positiveInteger(name: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value))
    throw badRequest('NAVET-SEARCH-PARAM-VALUE', `${name} must be a whole number from 1; got '${value}'`, [name]);
  return Number(value);
}

interface Query {
  filters: QueryParams;
  count: number;
  page: number;
  sort: { key: SortKey; descending: boolean }[];
}

function readQuery(params: QueryParams): Query {
  const query: Query = { filters: [], count: 20, page: 1, sort: [{ key: SORTS.date, descending: true }] };
  for (const [name, value] of params) {
    if (PATIENT_PARAMS.includes(name) || name === '_format') continue;
    const [base, modifier] = name.split(':');
    if (name === '_page') query.page = positiveInteger('_page', value);
    else if (name === '_count') query.count = Math.min(positiveInteger('_count', value), 100);
    else if (name === '_sort') {
      query.sort = value.split(',').map((s) => {
        const descending = s.startsWith('-');
        const key = ownValue(SORTS, descending ? s.slice(1) : s);
        if (!key)
          throw badRequest(
            'NAVET-SEARCH-SORT',
            `_sort=${s} is not supported; sort by ${Object.keys(SORTS).join(', ')} (- before it for descending)`,
            ['_sort'],
          );
        return { key, descending };
      });
    } else if (ownValue(FILTERS, base))
      query.filters.push([modifier ? `${FILTERS[base]}:${modifier}` : FILTERS[base], value]);
    else
      throw badRequest(
        'NAVET-SEARCH-UNKNOWN-PARAM',
        `ITI-67 has no search parameter '${name}'; use patient.identifier, ${Object.keys(FILTERS).join(', ')}, _count, _page, _sort`,
        [name],
      );
  }
  return query;
}

/** Under kjernejournalforskriften, documents older than their category's limit (by the sandbox clock) are left out. */
function withinAgeLimit(document: FhirResource, now: Date): boolean {
  const category = firstCode('category')(document);
  const years = ownValue(AGE_LIMIT_YEARS, category);
  if (years === undefined) return true;
  const cutoff = new Date(now);
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years);
  return Date.parse(String(document.date ?? '')) >= cutoff.getTime();
}

function compare(sort: Query['sort']): (a: FhirResource, b: FhirResource) => number {
  return (a, b) => {
    for (const { key, descending } of sort) {
      const order = key(a).localeCompare(key(b), 'nb');
      if (order !== 0) return descending ? -order : order;
    }
    return String(a.id).localeCompare(String(b.id));
  };
}

export async function findDocumentReferences(
  context: PjdContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const { store, pjdBase } = context;
  const sandbox = res.locals.sandbox;
  const listScope = await assertConsumerAccess(req, access, await context.settings.read(sandbox.name), 'list');
  const params = searchParamsOf(req);
  const nin = patientNinOf(params);
  if (!nin)
    throw badRequest(
      'NAVET-PJD-PATIENT',
      "patient.identifier is required: the patient's fødselsnummer (bare, or urn:oid:2.16.578.1.12.4.1.4.1|<fnr>)",
      ['patient.identifier'],
    );
  if (!/^\d{11}$/.test(nin))
    throw badRequest('NAVET-PJD-PATIENT', `patient.identifier '${nin}' is not an 11-digit fødselsnummer or D-number`, [
      'patient.identifier',
    ]);
  const query = readQuery(params);
  const patient = await findPatient(store, sandbox.name, nin);
  const now = sandbox.clock.now();
  const found = patient
    ? (
        await store.search(sandbox.name, {
          ...parseSearchRequest('DocumentReference', [['subject', `Patient/${patient.id}`], ...query.filters]),
          count: MAX_DOCUMENTS_PER_PATIENT,
          totalNone: true,
        })
      ).matches
    : [];
  const blockedByConsent = patient ? await documentsBlockedByConsent(store, sandbox.name, nin, now) : new Set<string>();
  const visible = found.filter((d) => !isBlocked(d, blockedByConsent));
  const listed = (
    listScope === DOCUMENT_SCOPES.kjernejournalforskriften ? visible.filter((d) => withinAgeLimit(d, now)) : visible
  ).sort(compare(query.sort));
  const pageOfDocuments = listed.slice((query.page - 1) * query.count, query.page * query.count);
  const blocked = found.length - visible.length;
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    timestamp: now.toISOString(),
    total: listed.length,
    link: pageLinks(`${pjdBase}/R4/fhir/DocumentReference`, params, query.count, query.page, listed.length),
    entry: pageOfDocuments.map((d) => ({
      fullUrl: `${pjdBase}/R4/fhir/DocumentReference/${d.id}`,
      resource: servedDocument(d, pjdBase),
      search: { mode: 'match' },
    })),
  };
  return {
    patients: [{ nin, id: patient?.id, resources: pageOfDocuments.map((d) => `DocumentReference/${d.id}`) }],
    query: new URLSearchParams(params).toString(),
    send: (response) => {
      response.setHeader('NHN-SecurityLabel-Nors-Count', String(blocked));
      response.setHeader('Hit-SecurityLabel-Nors-Count', String(blocked));
      sendFhir(req, response, 200, bundle);
    },
  };
}
