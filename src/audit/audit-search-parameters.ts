import { limitSearchParameters } from '../fhir/search-parameters';

/**
 * The AuditEvent search parameters Navet indexes: those the operators' audit search and the citizen's
 * view filter by. The access log is written on every request and searched rarely, so AuditEvent's other
 * standard parameters are neither indexed nor searchable (measured: the index rows were most of the
 * cost of a logged read).
 */
export const AUDIT_SEARCH_PARAMETERS = [
  'patient-identifier',
  'practitioner-identifier',
  'organization-identifier',
  'client-id',
  'service',
  'outcome',
  'date',
  'event-id',
];

limitSearchParameters('AuditEvent', AUDIT_SEARCH_PARAMETERS);
