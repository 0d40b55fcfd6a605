/** Scopes, audience and code systems of document sharing (PJD), from the document-sharing spec. */
export const PJD_AUDIENCE = 'nhn:phr';
export const DOCUMENT_SCOPES = {
  list: ['nhn:phr/mhd/read-documentreferences', 'nhn:phr/mhd/read-documentreferences/kjernejournalforskriften'],
  kjernejournalforskriften: 'nhn:phr/mhd/read-documentreferences/kjernejournalforskriften',
  readDocument: 'nhn:phr/mhd/read-document',
} as const;
export const PJD_SCOPES = [...DOCUMENT_SCOPES.list, DOCUMENT_SCOPES.readDocument];

/** Volven 9603 confidentiality; NORS = blocked ("sperret") by the patient. */
export const SECURITY_LABEL_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.1.9603';
export const NORS_LABEL = 'NORS';
