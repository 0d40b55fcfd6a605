/** Identifier systems, code systems and extension URLs used by the seed resources. */
export const SYSTEMS = {
  fnr: 'urn:oid:2.16.578.1.12.4.1.4.1',
  dnr: 'urn:oid:2.16.578.1.12.4.1.4.2',
  hpr: 'urn:oid:2.16.578.1.12.4.1.4.4',
  orgnr: 'urn:oid:2.16.578.1.12.4.1.4.101',
  /** Volven 9060: categories of health personnel / authorisation. */
  healthPersonnelCategory: 'urn:oid:2.16.578.1.12.4.1.1.9060',
  hl7OrganizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  navetOrganisationKind: 'https://navet.example/fhir/CodeSystem/organisation-kind',
} as const;

/** The identifier system of a national identity number: D-number (first digit 4–7) or fødselsnummer. */
export function identifierSystemOf(nin: string): string {
  return /^[4-7]/.test(nin) ? SYSTEMS.dnr : SYSTEMS.fnr;
}

export const HEALTH_NETWORK_MEMBER_URL = 'https://navet.example/fhir/StructureDefinition/health-network-member';

/** Volven 9060 displays for the codes the spec names. */
export const HEALTH_PERSONNEL_CATEGORIES: Readonly<Record<string, string>> = {
  LE: 'Lege',
  SP: 'Sykepleier',
  PS: 'Psykolog',
  FA1: 'Provisorfarmasøyt',
  TL: 'Tannlege',
  AA: 'Ambulansearbeider',
};

export type OrganisationKind =
  | 'health-trust'
  | 'hospital'
  | 'nursing-home'
  | 'gp-office'
  | 'out-of-hours'
  | 'municipality'
  | 'home-care'
  | 'health-station'
  | 'pharmacy';

export const ORGANISATION_KINDS: Readonly<Record<OrganisationKind, { display: string; hl7Code: 'prov' | 'govt' }>> = {
  'health-trust': { display: 'Helseforetak', hl7Code: 'prov' },
  hospital: { display: 'Sykehus', hl7Code: 'prov' },
  'nursing-home': { display: 'Sykehjem', hl7Code: 'prov' },
  'gp-office': { display: 'Fastlegekontor', hl7Code: 'prov' },
  'out-of-hours': { display: 'Legevakt', hl7Code: 'prov' },
  municipality: { display: 'Kommune', hl7Code: 'govt' },
  'home-care': { display: 'Hjemmetjeneste', hl7Code: 'prov' },
  'health-station': { display: 'Helsestasjon', hl7Code: 'prov' },
  pharmacy: { display: 'Apotek', hl7Code: 'prov' },
};

export const HL7_ORGANIZATION_TYPE_DISPLAYS = { prov: 'Healthcare Provider', govt: 'Government' } as const;
