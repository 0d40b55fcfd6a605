import { isEnteredInError } from '../critical-info/critical-information-entry';
import { entriesOf } from '../critical-info/read-critical-information';
import { createHash } from 'node:crypto';
import { FhirError } from '../../fhir/operation-outcome';
import { parseSearchRequest } from '../../fhir/search-request';
import type { FhirResource } from '../../fhir/types';
import { identifierSystemOf, SYSTEMS } from '../../codes/code-systems';
import type { ResourceStore } from '../../store/resource-store';
import { PROFILE, SFM } from './sfm-codes';

/**
 * The PLL in the generic FHIR store. One List per patient (`pll-<patient id>`) whose store versions are the
 * PLL versions; its entries are versioned references to MedicationStatements (`MedicationStatement/<id>/_history/<v>`),
 * so every old version of the list can be read back as it was. An RF look-up by an organisation is a
 * Basic (`sfm-lookup-<orgnr>-<patient id>`) holding when it happened and which PLL version it saw.
 */
export interface Pll {
  /** The List as stored (absent: the patient has no PLL yet). */
  list?: FhirResource;
  version: number;
  statements: FhirResource[];
}

export interface PllAuthor {
  orgnr: string;
  orgName: string;
  practitioner?: string;
  hpr?: string;
}

export const pllListId = (patientId: string) => `pll-${patientId}`;
export const lookupId = (orgnr: string, patientId: string) => `sfm-lookup-${orgnr}-${patientId}`;
export const versionOf = (resource: FhirResource | undefined) => Number(resource?.meta?.versionId ?? 0);

export function identifierValue(resource: FhirResource, typeText: string): string | undefined {
  const found = (
    Array.isArray(resource.identifier) ? (resource.identifier as { type?: { text?: string }; value?: string }[]) : []
  ).find((i) => i?.type?.text === typeText);
  return typeof found?.value === 'string' ? found.value : undefined;
}

export function isLocked(resource: FhirResource): boolean {
  const tags = resource.meta?.tag ?? [];
  return tags.some((t) => t.system === SFM.locked);
}

/** Versioned references "Type/id/_history/v" of a List's entries. */
function entryReferences(list: FhirResource): { type: string; id: string; version: number }[] {
  const entries = Array.isArray(list.entry) ? (list.entry as { item?: { reference?: string } }[]) : [];
  return entries.flatMap((e) => {
    const match = /^(\w+)\/([A-Za-z0-9\-.]+)\/_history\/(\d+)$/.exec(e.item?.reference ?? '');
    return match ? [{ type: match[1], id: match[2], version: Number(match[3]) }] : [];
  });
}

async function withStatements(store: ResourceStore, sandbox: string, list: FhirResource): Promise<Pll> {
  const statements = await Promise.all(
    entryReferences(list).map((ref) => store.vread(sandbox, ref.type, ref.id, ref.version)),
  );
  return { list, version: versionOf(list), statements };
}

/** The patient's PLL now, or as it was at `at` (historyTimestamp): the last version reconciled by then. */
export async function readPll(store: ResourceStore, sandbox: string, patientId: string, at?: string): Promise<Pll> {
  const id = pllListId(patientId);
  if (!at) {
    const list = await store.find(sandbox, 'List', id);
    return list ? withStatements(store, sandbox, list) : { version: 0, statements: [] };
  }
  const history = await store.history(sandbox, { resourceType: 'List', id, count: 1000, offset: 0 });
  const atTime = Date.parse(at);
  const version = history.versions.find(
    (v) => v.resource && Date.parse(String(v.resource.date ?? v.lastUpdated)) <= atTime,
  );
  return version?.resource ? withStatements(store, sandbox, version.resource) : { version: 0, statements: [] };
}

/** Who made a PLL version and when (from the List), for a conflict outcome. */
export function authorOf(list: FhirResource | undefined): { who: string; when: string } {
  const source = (list?.source as { display?: string } | undefined)?.display;
  return { who: source ?? 'unknown', when: String(list?.date ?? list?.meta?.lastUpdated ?? '') };
}

export function authorDisplay(author: PllAuthor): string {
  const person = author.practitioner ? `${author.practitioner}${author.hpr ? ` (HPR ${author.hpr})` : ''}, ` : '';
  return `${person}${author.orgName} (${author.orgnr})`;
}

/** The List of one PLL version. */
export function pllList(input: {
  patient: FhirResource;
  nin: string;
  statements: FhirResource[];
  date: string;
  author: PllAuthor;
  messageId: string;
  multidose: boolean;
}): FhirResource {
  return {
    resourceType: 'List',
    id: pllListId(input.patient.id as string),
    identifier: [{ type: { text: 'PllmessageID' }, value: input.messageId }],
    status: 'current',
    mode: 'working',
    title: 'Pasientens legemiddelliste',
    code: { coding: [{ system: SFM.loinc, code: '10160-0', display: 'History of Medication use Narrative' }] },
    subject: {
      reference: `Patient/${input.patient.id}`,
      identifier: { system: identifierSystemOf(input.nin), value: input.nin },
    },
    date: input.date,
    source: { display: authorDisplay(input.author) },
    extension: [
      {
        url: SFM.reconciledBy,
        valueReference: {
          identifier: { system: SYSTEMS.orgnr, value: input.author.orgnr },
          display: input.author.orgName,
        },
      },
      { url: SFM.multidose, valueBoolean: input.multidose },
    ],
    entry: input.statements.map((s) => ({
      item: { reference: `MedicationStatement/${s.id}/_history/${versionOf(s)}` },
    })),
  };
}

export function isMultidose(list: FhirResource | undefined): boolean {
  return (Array.isArray(list?.extension) ? (list.extension as { url?: string; valueBoolean?: boolean }[]) : []).some(
    (e) => e.url === SFM.multidose && e.valueBoolean === true,
  );
}

/** Basic.created is a date; the look-up's instant is kept in this extension. */
const LOOKED_UP_AT = `${SFM.navetRecord}/looked-up-at`;

export interface Lookup {
  at: string;
  seenVersion: number;
  resource: FhirResource;
}

export async function readLookup(
  store: ResourceStore,
  sandbox: string,
  orgnr: string,
  patientId: string,
): Promise<Lookup | undefined> {
  const found = await store.find(sandbox, 'Basic', lookupId(orgnr, patientId));
  if (!found) return undefined;
  const extensions =
    (found.extension as { url: string; valueInteger?: number; valueDateTime?: string }[] | undefined) ?? [];
  const seen = extensions.find((e) => e.url === SFM.pllVersion)?.valueInteger ?? 0;
  return {
    at: String(extensions.find((e) => e.url === LOOKED_UP_AT)?.valueDateTime ?? found.created),
    seenVersion: seen,
    resource: found,
  };
}

/** Records an RF look-up (or, after a send, the version the organisation made). Last write wins. */
export async function recordLookup(
  store: ResourceStore,
  sandbox: string,
  input: { orgnr: string; orgName: string; patientId: string; at: string; seenVersion: number },
  now: string,
): Promise<void> {
  const resource: FhirResource = {
    resourceType: 'Basic',
    id: lookupId(input.orgnr, input.patientId),
    code: {
      coding: [
        { system: SFM.navetRecord, code: 'rf-lookup', display: 'Oppslag i Reseptformidleren (SFM getMedication)' },
      ],
    },
    subject: { reference: `Patient/${input.patientId}` },
    created: input.at.slice(0, 10),
    author: { identifier: { system: SYSTEMS.orgnr, value: input.orgnr }, display: input.orgName },
    extension: [
      { url: LOOKED_UP_AT, valueDateTime: input.at },
      { url: SFM.pllVersion, valueInteger: input.seenVersion },
    ],
  };
  try {
    await store.update(sandbox, resource, now);
  } catch (error) {
    // a concurrent look-up by the same organisation wrote it at the same moment: one of them is enough
    if (!(error instanceof FhirError)) throw error;
  }
}

/** The patient's allergies as Kjernejournal's critical information holds them (one source for both services). */
export async function allergiesOf(store: ResourceStore, sandbox: string, nin: string): Promise<FhirResource[]> {
  return (await entriesOf(store, sandbox, 'AllergyIntolerance', nin)).filter((a) => !isEnteredInError(a));
}

export async function dispensesOf(store: ResourceStore, sandbox: string, patientId: string): Promise<FhirResource[]> {
  const found = await store.search(sandbox, {
    ...parseSearchRequest('MedicationDispense', [['subject', `Patient/${patientId}`]]),
    count: 500,
    totalNone: true,
  });
  return found.matches;
}

/** A stable urn:uuid for a stored resource inside a document Bundle. */
export function urnOf(type: string, id: string): string {
  const h = createHash('sha1').update(`${type}/${id}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export { PROFILE };
