import { createHash } from 'node:crypto';

/** Scopes, audience and code systems of document sharing (PJD), from the document-sharing spec. */
export const PJD_AUDIENCE = 'nhn:phr';
export const DOCUMENT_SCOPES = {
  list: ['nhn:phr/mhd/read-documentreferences', 'nhn:phr/mhd/read-documentreferences/kjernejournalforskriften'],
  kjernejournalforskriften: 'nhn:phr/mhd/read-documentreferences/kjernejournalforskriften',
  readDocument: 'nhn:phr/mhd/read-document',
  /** Navet's own: publishing (ITI-65) is not open to EPR vendors in the real service. */
  provide: 'navet:pjd/provide-document',
} as const;
export const PJD_SCOPES = [...DOCUMENT_SCOPES.list, DOCUMENT_SCOPES.readDocument];

export const ACCESS_BASES = ['UNNTAK', 'SAMTYKKE', 'FORHOYET_SAMTYKKE', 'AKUTT', 'FORHOYET_AKUTT'];

/** Volven 9602: document class (level 1, category) and type (level 2). */
export const DOCUMENT_CLASS_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.1.9602';
export const CATEGORIES: Readonly<Record<string, string>> = {
  'A00-1': 'Epikriser og sammenfatninger',
  'B00-1': 'Behandlingsplaner',
  'C00-1': 'Prøvesvar',
  'D00-1': 'Organfunksjon',
  'E00-1': 'Bildediagnostikk',
  'F00-1': 'Helseattester og erklæringer',
  'I00-1': 'Korrespondanse',
  'J00-1': 'Attester og meldinger',
  'S00-1': 'Sammenfatninger fra pasient',
};
/** Level-2 codes seen in the spec; others of the form X99-2 are accepted when X is the category's letter. */
export const KNOWN_TYPES: Readonly<Record<string, string>> = {
  'A03-2': 'Epikrise',
  'C01-2': 'Medisinsk biokjemi',
  'E01-2': 'Radiologi',
  'I01-2': 'Henvisninger',
  'J01-2': 'Sykmeldinger',
};

/**
 * Age limits under the kjernejournalforskriften scope, per category (years; undefined = unlimited).
 * Categories the spec does not name are not verified; Navet leaves them unfiltered.
 */
export const AGE_LIMIT_YEARS: Readonly<Record<string, number>> = { 'C00-1': 1, 'D00-1': 5, 'E00-1': 5, 'I00-1': 1 };

/** Volven 9603 confidentiality; NORS = blocked ("sperret") by the patient. */
export const SECURITY_LABEL_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.1.9603';
export const NORS_LABEL = 'NORS';
export const SECURITY_LABELS = ['N', 'NORS', 'NORU', 'NORN_FORSIKTIG', 'NORN_VERGE', 'NORN_PASIENT'];
export const HL7_CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/** Format codes of the spec (system: IHE's format code OID; the Norwegian codes are used in it as well). */
export const FORMAT_SYSTEM = 'urn:oid:1.3.6.1.4.1.19376.1.2.3';
export const FORMATS: Readonly<Record<string, string>> = {
  'urn:no:ehelse:document:pdf': 'PDF',
  'urn:no:ehelse:document:image': 'Bilde',
  'urn:no:ehelse:document:text': 'Tekst',
  'urn:no:kith:xmlstds:henvisning': 'Henvisning (KITH XML)',
  'urn:ihe:iti:xds:2017:mimeTypeSufficient': 'Mime type sufficient',
};
export const CONTENT_TYPES = ['application/pdf', 'application/xml', 'text/xml'];

export const FACILITY_TYPE_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.1.1303';
export const PRACTICE_SETTING_SYSTEMS = ['8651', '8653', '8654', '8655', '8663'].map(
  (list) => `urn:oid:2.16.578.1.12.4.1.1.${list}`,
);

export const ORGNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.101';
export const RESH_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.102';

/**
 * A stable OID for something of Navet's own (a source's repository or community): 2.25 and a UUID-sized
 * number derived from the name, so that no one else's OID arc is borrowed.
 */
const oids = new Map<string, string>();
export function navetOid(name: string): string {
  let oid = oids.get(name);
  if (!oid) {
    oid = `2.25.${BigInt(`0x${createHash('sha256').update(`navet:${name}`).digest('hex').slice(0, 32)}`).toString()}`;
    oids.set(name, oid);
  }
  return oid;
}
