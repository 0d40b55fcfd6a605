import type { Request, Response } from 'express';
import type { Interaction } from '../../audit/audit-event';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { pageLinks, searchsetBundle } from '../../fhir/bundles';
import { badRequest, forbidden } from '../../fhir/operation-outcome';
import { parseSearchRequest, type QueryParams, toQueryParams } from '../../fhir/search-request';
import { sendFhir } from '../../http/fhir-json';
import type { Sandbox } from '../../sandbox/sandboxes';
import type { ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { nhnHeader } from '../../trust/guard';
import { DOCUMENT_SCOPES, NORS_LABEL, SECURITY_LABEL_SYSTEM } from './pjd-codes';

/**
 * ITI-67 Find Document References: `POST /R4/fhir/DocumentReference/_search` (form-encoded, as the real
 * demo client sends it) and `GET /R4/fhir/DocumentReference`. Blocked documents (NORS) are never listed;
 * their number is in the NHN-SecurityLabel-Nors-Count header.
 */
export const ITI_67: Interaction = { service: 'pjd', code: 'ITI-67', display: 'Find Document References', action: 'R', seen: 'Dokumentliste' };

const PATIENT_PARAMS = ['patient.identifier', 'patient'];
/** MHD parameters passed to the store as they are (the R4 DocumentReference SearchParameters). */
const PASSED_PARAMS = new Set(['status', 'category', 'type', 'date', 'period', 'facility', 'setting', 'security-label', 'format', 'event', '_count']);
const SORTS: Record<string, string> = { date: 'date', type: 'type', category: 'category', securityLabel: 'security-label', 'security-label': 'security-label' };
const ACCESS_BASES = ['UNNTAK', 'SAMTYKKE', 'FORHOYET_SAMTYKKE', 'AKUTT', 'FORHOYET_AKUTT'];

export function searchParamsOf(req: Request): QueryParams {
  const source = req.method === 'POST' ? { ...(req.query as Record<string, unknown>), ...((req.body ?? {}) as Record<string, unknown>) } : (req.query as Record<string, unknown>);
  return toQueryParams(source);
}

/** The patient's fødselsnummer from `patient.identifier` (bare or system|value). */
export function patientNinOf(params: QueryParams): string | undefined {
  const raw = params.find(([name]) => PATIENT_PARAMS.includes(name))?.[1];
  if (!raw) return undefined;
  const value = raw.includes('|') ? raw.slice(raw.lastIndexOf('|') + 1) : raw;
  return value.trim() || undefined;
}

function assertHeadersAndScopes(req: Request, access: AccessContext): void {
  const listScopes = DOCUMENT_SCOPES.list.filter((s) => access.scopes.includes(s));
  if (listScopes.length === 2) throw forbidden('NAVET-PJD-SCOPES-EXCLUSIVE', `The token holds both ${listScopes.join(' and ')}; they exclude each other: ask for one`);
  if (listScopes.length === 0) throw forbidden('NAVET-PJD-SCOPE', `Finding documents needs one of ${DOCUMENT_SCOPES.list.join(', ')}`);
  if (!access.sourceSystem) throw badRequest('NAVET-PJD-SOURCE-SYSTEM', 'The nhn-source-system header is required: the name of the calling system', ['nhn-source-system']);
  if (listScopes[0] === DOCUMENT_SCOPES.kjernejournalforskriften) {
    const basis = nhnHeader(req, 'access-basis');
    if (!basis) throw badRequest('NAVET-PJD-ACCESS-BASIS', `Under ${DOCUMENT_SCOPES.kjernejournalforskriften} the nhn-access-basis header is required: one of ${ACCESS_BASES.join(', ')}`, ['nhn-access-basis']);
    if (!ACCESS_BASES.includes(basis.toUpperCase())) throw badRequest('NAVET-PJD-ACCESS-BASIS', `nhn-access-basis '${basis}' is not one of ${ACCESS_BASES.join(', ')}`, ['nhn-access-basis']);
  }
}

function storeParams(params: QueryParams, patientId: string): QueryParams {
  const mapped: QueryParams = [['subject', `Patient/${patientId}`], ['security-label:not', `${SECURITY_LABEL_SYSTEM}|${NORS_LABEL}`]];
  let count = 20;
  let page = 1;
  for (const [name, value] of params) {
    if (PATIENT_PARAMS.includes(name)) continue;
    if (name === '_page') {
      if (!/^[1-9]\d*$/.test(value)) throw badRequest('NAVET-SEARCH-PARAM-VALUE', `_page must be a page number from 1; got '${value}'`, ['_page']);
      page = Number(value);
    } else if (name === '_count') {
      if (!/^\d+$/.test(value)) throw badRequest('NAVET-SEARCH-PARAM-VALUE', `_count must be a whole number; got '${value}'`, ['_count']);
      count = Math.min(Number(value), 100);
    } else if (name === '_sort') {
      const sorts = value.split(',').map((s) => {
        const descending = s.startsWith('-');
        const param = SORTS[descending ? s.slice(1) : s];
        if (!param) throw badRequest('NAVET-SEARCH-SORT', `_sort=${s} is not supported; use ${Object.keys(SORTS).join(', ')} (with - for descending)`, ['_sort']);
        return `${descending ? '-' : ''}${param}`;
      });
      mapped.push(['_sort', sorts.join(',')]);
    } else if (PASSED_PARAMS.has(name.split(':')[0]) || name.startsWith('author.')) {
      mapped.push([name, value]);
    } else {
      throw badRequest('NAVET-SEARCH-UNKNOWN-PARAM', `ITI-67 has no search parameter '${name}'; use patient.identifier, status, category, type, date, period, facility, setting, security-label, format, _count, _page, _sort`, [name]);
    }
  }
  if (!mapped.some(([name]) => name === '_sort')) mapped.push(['_sort', '-date']);
  mapped.push(['_count', String(count)], ['_offset', String((page - 1) * count)]);
  return mapped;
}

export async function findDocumentReferences(store: ResourceStore, pjdBase: string, req: Request, res: Response, access: AccessContext): Promise<PatientDataAnswer> {
  assertHeadersAndScopes(req, access);
  const params = searchParamsOf(req);
  const nin = patientNinOf(params);
  if (!nin) throw badRequest('NAVET-PJD-PATIENT', 'patient.identifier is required: the patient\'s fødselsnummer (bare, or urn:oid:2.16.578.1.12.4.1.4.1|<fnr>)', ['patient.identifier']);
  if (!/^\d{11}$/.test(nin)) throw badRequest('NAVET-PJD-PATIENT', `patient.identifier '${nin}' is not an 11-digit fødselsnummer or D-number`, ['patient.identifier']);
  const sandbox = res.locals.sandbox as Sandbox;
  const patient = (await store.search(sandbox.name, { ...parseSearchRequest('Patient', [['identifier', nin]]), count: 1, totalNone: true })).matches[0];
  const request = parseSearchRequest('DocumentReference', storeParams(params, String(patient?.id ?? 'none')));
  const found = patient ? await store.search(sandbox.name, request) : { total: 0, matches: [], included: [] };
  const blocked = patient
    ? (await store.search(sandbox.name, { ...parseSearchRequest('DocumentReference', [['subject', `Patient/${patient.id}`], ['security-label', `${SECURITY_LABEL_SYSTEM}|${NORS_LABEL}`]]), summaryCount: true })).total ?? 0
    : 0;
  const bundle = searchsetBundle({ baseUrl: `${pjdBase}/R4/fhir`, request, total: found.total, matches: found.matches, included: [], now: sandbox.clock.now().toISOString() });
  bundle.link = pageLinks(`${pjdBase}/R4/fhir/DocumentReference`, params, request.count, request.count > 0 ? Math.floor(request.offset / request.count) + 1 : 1, found.total ?? 0);
  return {
    patients: [{ nin, id: patient?.id, resources: found.matches.map((d) => `DocumentReference/${d.id}`) }],
    query: new URLSearchParams(params).toString(),
    send: (response) => {
      response.setHeader('NHN-SecurityLabel-Nors-Count', String(blocked));
      response.setHeader('Hit-SecurityLabel-Nors-Count', String(blocked));
      sendFhir(req, response, 200, bundle);
    },
  };
}
