import { randomUUID } from 'node:crypto';

/**
 * A valid attestation for the seeded registries: Magnar Koman (doctor, HPR 9144900) at Rikshospitalet
 * (Oslo universitetssykehus), treating a patient. For the benchmark, scenarios and tests.
 */
export function demoAttestation(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'nhn:tillitsrammeverk:parameters',
    practitioner: {
      identifier: { id: '04056600324', system: 'urn:oid:2.16.578.1.12.4.1.4.1', authority: 'Skatteetaten' },
      hpr_nr: { id: '9144900', system: 'urn:oid:2.16.578.1.12.4.1.4.4' },
      authorization: { code: 'LE', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
      legal_entity: { id: '993467049', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
      point_of_care: { id: '874716782', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
    },
    care_relationship: {
      healthcare_service: { code: 'S03', system: 'urn:oid:2.16.578.1.12.4.1.1.8655' },
      purpose_of_use: { code: 'TREAT', system: 'urn:oid:2.16.840.1.113883.1.11.20448' },
      purpose_of_use_details: { code: 'BEHANDLER', system: 'urn:AuditEventHL7Norway/CodeSystem/carerelation' },
      decision_ref: { id: randomUUID(), user_selected: false },
    },
    patients: [{}],
    toa: Math.floor(Date.now() / 1000),
    ...overrides,
  };
}
