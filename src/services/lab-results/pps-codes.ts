import type { Interaction } from '../../audit/audit-event';

/** Audience, scopes, code systems and identifier systems of Pasientens prøvesvar (PPS, formerly NILAR). */
export const PPS_AUDIENCE = 'nhn:pps';
export const PPS_SCOPES = {
  read: 'nhn:pps/provesvar-read',
  readV1: 'nhn:pps/provesvar',
  submit: 'navet:pps/submit-result',
} as const;
export const PPS_READ_SCOPES = [PPS_SCOPES.read, PPS_SCOPES.readV1];

export const NILAR_BASE = 'http://nhn.no/fhir/nilar';
export const NILAR_PROFILE = {
  diagnosticReport: `${NILAR_BASE}/StructureDefinition/nilar-diagnostic-report`,
  observation: `${NILAR_BASE}/StructureDefinition/nilar-observation`,
  specimen: `${NILAR_BASE}/StructureDefinition/nilar-specimen`,
  serviceRequest: `${NILAR_BASE}/StructureDefinition/nilar-service-request`,
  practitionerRole: `${NILAR_BASE}/StructureDefinition/nilar-practitioner-role`,
} as const;
export const NILAR_EXTENSION = {
  reportDate: `${NILAR_BASE}/StructureDefinition/nilar-report-date`,
  diagnosticReportRef: `${NILAR_BASE}/StructureDefinition/diagnosticreportref`,
} as const;

/** The three URL forms of a Volven code system: NILAR's, HL7 Norway's since 2024, and the OID. */
export function volvenSystems(number: string): string[] {
  return [
    `http://ehelse.no/fhir/CodeSystem/no-kodeverk-${number}`,
    `http://helsedir.no/fhir/CodeSystem/no-kodeverk-${number}`,
    `urn:oid:2.16.578.1.12.4.1.1.${number}`,
  ];
}
/** The form Navet writes: the NILAR profiles' own. */
export const volven = (number: string): string => volvenSystems(number)[0];

/** NILAR identifier systems (unverified URLs: the profiles name the kinds, we give them stable URNs). */
export const PPS_IDENTIFIER = {
  servReportId: `${NILAR_BASE}/NamingSystem/ServReportId`,
  servReqId: `${NILAR_BASE}/NamingSystem/ServReqId`,
  resultItemId: `${NILAR_BASE}/NamingSystem/ResultItemId`,
  analysedSubjectId: `${NILAR_BASE}/NamingSystem/AnalysedSubjectId`,
  msgId: `${NILAR_BASE}/NamingSystem/MsgId`,
} as const;

export const UCUM = 'http://unitsofmeasure.org';
/** Navet's tag naming the lab source (organisation number) of a result, for source stages. */
export const SOURCE_TAG_SYSTEM = 'https://navet.example/fhir/CodeSystem/pps-source';
/** Navet's extension on a corrected report: the version it supersedes. */
export const SUPERSEDES_EXTENSION = 'https://navet.example/fhir/StructureDefinition/pps-supersedes';

export const PPS_SEARCH: Interaction = {
  service: 'pps',
  code: 'PPS-SEARCH',
  display: 'Search lab results',
  action: 'R',
  seen: 'Prøvesvar',
};
export const PPS_SUBMIT: Interaction = {
  service: 'pps',
  code: 'PPS-SUBMIT',
  display: 'Submit lab results',
  action: 'C',
  seen: 'Nytt prøvesvar mottatt',
};
