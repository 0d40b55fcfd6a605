import type { Interaction } from '../../audit/audit-event';

/** Code systems, profiles, scopes and interactions of SFM / PLL (facts from specs/medication-list.md). */
export const SFM_AUDIENCE = 'e-helse:sfm.api';
export const SFM_SCOPES = ['e-helse:sfm.api/sfm.api2'];

export const SFM = {
  sectionTypes: 'http://ehelse.no/fhir/CodeSystem/sfm-section-types',
  messageType: 'http://ehelse.no/fhir/CodeSystem/sfm-message-type',
  errorCode: 'http://ehelse.no/fhir/CodeSystem/sfm-kj-rf-error-code',
  fest: 'http://ehelse.no/fhir/CodeSystem/FEST',
  atc: 'http://www.whocc.no/atc',
  loinc: 'http://loinc.org',
  dosageForm: 'urn:oid:2.16.578.1.12.4.1.1.7448',
  prescriptionGroup: 'urn:oid:2.16.578.1.12.4.1.1.7421',
  prescriptionStatus: 'urn:oid:2.16.578.1.12.4.1.1.7408',
  prescriptionType: 'urn:oid:2.16.578.1.12.4.1.1.7491',
  productGroup: 'urn:oid:2.16.578.1.12.4.1.1.7402',
  use: 'urn:oid:2.16.578.1.12.4.1.1.9101',
  timeOfDay: 'urn:oid:2.16.578.1.12.4.1.1.8325',
  /** Navet's own: the PLL version a bundle is based on, who reconciled, multidose, locked entries. */
  pllVersion: 'https://navet.example/fhir/StructureDefinition/pll-version',
  reconciledBy: 'https://navet.example/fhir/StructureDefinition/pll-reconciled-by',
  multidose: 'https://navet.example/fhir/StructureDefinition/pll-multidose',
  locked: 'https://navet.example/fhir/CodeSystem/sfm-locked',
  navetRecord: 'https://navet.example/fhir/CodeSystem/sfm-record',
} as const;

const PROFILE_BASE = 'http://ehelse.no/fhir/StructureDefinition/';
export const PROFILE = {
  bundle: `${PROFILE_BASE}sfm-MedicationBundle`,
  composition: `${PROFILE_BASE}sfm-MedicationComposition`,
  statement: `${PROFILE_BASE}sfm-MedicationStatement`,
  medication: `${PROFILE_BASE}sfm-Medication`,
  patient: `${PROFILE_BASE}sfm-Patient`,
  dispense: `${PROFILE_BASE}sfm-MedicationDispense`,
  pllInfo: `${PROFILE_BASE}sfm-PLL-info`,
  allergy: 'http://nhn.no/kj/fhir/StructureDefinition/KjAllergyIntolerance',
} as const;

export type SectionCode =
  'sectionMedication' | 'sectionOtherPrescriptions' | 'sectionAllergies' | 'sectionDispense' | 'sectionPLLinfo';
export const SECTION_TITLES: Readonly<Record<SectionCode, string>> = {
  sectionMedication: 'Legemiddelliste (PLL)',
  sectionOtherPrescriptions: 'Andre resepter',
  sectionAllergies: 'Legemiddelreaksjoner og allergier',
  sectionDispense: 'Utleveringer',
  sectionPLLinfo: 'PLL-informasjon',
};

/**
 * Error codes of the KJ and RF halves. The code system is the spec's; its codes are not published
 * (*unverified*): Navet's own, named for what went wrong.
 */
export const ERROR_CODES = {
  kjUnavailable: { code: 'KJ-UNAVAILABLE', display: 'Kjernejournal svarer ikke' },
  kjTimeout: { code: 'KJ-TIMEOUT', display: 'Kjernejournal svarte ikke i tide' },
  kjReserved: { code: 'KJ-RESERVED', display: 'Pasienten har reservert seg mot Kjernejournal' },
  kjNoConsent: {
    code: 'KJ-NO-CONSENT',
    display: 'Mangler grunnlag for oppslag i Kjernejournal (SamtykkeKjernejournal)',
  },
  kjHprBlocked: {
    code: 'KJ-HPR-BLOCKED',
    display: 'Pasienten har sperret helsepersonellet for oppslag i Kjernejournal',
  },
  kjRestricted: {
    code: 'KJ-RESTRICTED',
    display: 'Pasienten har begrenset tilgangen til Kjernejournal: kun ved akutt behov (HPAKUTT)',
  },
  rfUnavailable: { code: 'RF-UNAVAILABLE', display: 'Reseptformidleren svarer ikke' },
  rfTimeout: { code: 'RF-TIMEOUT', display: 'Reseptformidleren svarte ikke i tide' },
} as const;
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export const CONSENT_CODES = ['HPAKUTT', 'HPMOTTATTSAMTYKKE', 'HPUNNTAK'] as const;

/** How long an RF look-up lets the organisation send for the patient. */
export const LOOKUP_VALID_MS = 4 * 60 * 60 * 1000;

export const GET_MEDICATION: Interaction = {
  service: 'sfm',
  code: 'getMedication',
  display: 'Get medication',
  action: 'R',
  seen: 'Legemiddelliste (PLL), resepter og allergier',
};
export const SEND_MEDICATION: Interaction = {
  service: 'sfm',
  code: 'sendMedication',
  display: 'Send medication',
  action: 'U',
  seen: 'Ny versjon av legemiddellisten (PLL)',
};
export const PATIENT_TICKET: Interaction = {
  service: 'sfm',
  code: 'PatientTicket',
  display: 'Patient ticket (data sharing)',
  action: 'E',
  seen: 'Tilgang til legemiddellisten for hjemmetjenesten',
};
export const READ_LIST: Interaction = {
  service: 'sfm',
  code: 'List',
  display: 'Read medication list (data sharing)',
  action: 'R',
  seen: 'Legemiddelliste (PLL) i hjemmetjenesten',
};
export const READ_MEDICATION: Interaction = {
  service: 'sfm',
  code: 'Medication',
  display: 'Read medication (data sharing)',
  action: 'R',
  seen: 'Legemiddel i legemiddellisten',
};
