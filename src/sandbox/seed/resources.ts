import { createHash } from 'node:crypto';
import type { FhirResource } from '../../fhir/types';
import { parseIdNumber, type ParsedIdNumber } from '../fodselsnummer';
import {
  HEALTH_NETWORK_MEMBER_URL,
  HEALTH_PERSONNEL_CATEGORIES,
  HL7_ORGANIZATION_TYPE_DISPLAYS,
  ORGANISATION_KINDS,
  SYSTEMS,
} from '../../codes/code-systems';
import type { FixtureAddress, OrganisationFixture } from './fixtures';

/** Builders of the seed's FHIR R4 resources (ids set, no meta). */

export interface PersonName {
  given: string[];
  family: string;
}

export interface PractitionerInput extends PersonName {
  hpr: string;
  fnr: string;
  /** Volven 9060 code. */
  authorisation: string;
  /** Organisation numbers of the workplaces. */
  workplaces: string[];
}

export interface PatientInput extends PersonName {
  /** Fødselsnummer or D-number. */
  number: string;
  address: FixtureAddress;
  /** The GP's Practitioner id and name. */
  generalPractitioner?: { id: string; display: string };
}

export const organizationId = (orgnr: string): string => `org-${orgnr}`;
export const practitionerId = (hpr: string): string => `prac-${hpr}`;
export const practitionerRoleId = (hpr: string, orgnr: string): string => `role-${hpr}-${orgnr}`;
/**
 * Seeded ids never carry a fødselsnummer or D-number (ids reach URLs and logs): the number is replaced
 * by a token made from it, the same for the same number in every seed. Not a secret — the numbers are
 * synthetic or public test persons — only kept out of sight.
 */
export const seedToken = (nationalId: string): string =>
  // letters only (hex digits shifted to a–p), so that no run of digits in an id can look like a number
  createHash('sha256')
    .update(`navet-seed-id:${nationalId}`)
    .digest('hex')
    .slice(0, 16)
    .replace(/[0-9a-f]/g, (c) => String.fromCharCode(97 + parseInt(c, 16)));
export const patientId = (number: string): string => `pat-${seedToken(number)}`;

export function fullName(name: PersonName): string {
  return [...name.given, name.family].join(' ');
}

function humanName(name: PersonName): Record<string, unknown> {
  return { use: 'official', text: fullName(name), family: name.family, given: name.given };
}

function address(fixture: FixtureAddress, use: 'home' | 'work'): Record<string, unknown> {
  return {
    use,
    type: 'physical',
    ...(fixture.line ? { line: [fixture.line] } : {}),
    postalCode: fixture.postalCode,
    city: fixture.city,
    district: fixture.municipality,
    country: 'NO',
  };
}

function parseOrThrow(number: string, whose: string): ParsedIdNumber {
  const parsed = parseIdNumber(number);
  if (!parsed) throw new Error(`${whose}: ${number} is not a fødselsnummer or D-number with a real birth date`);
  return parsed;
}

function healthPersonnelCategory(code: string): Record<string, unknown> {
  const display = HEALTH_PERSONNEL_CATEGORIES[code];
  if (!display) throw new Error(`Unknown Volven 9060 code ${JSON.stringify(code)}`);
  return { coding: [{ system: SYSTEMS.healthPersonnelCategory, code, display }], text: display };
}

export function organizationResource(fixture: OrganisationFixture): FhirResource {
  const kind = ORGANISATION_KINDS[fixture.kind];
  return {
    resourceType: 'Organization',
    id: organizationId(fixture.orgnr),
    extension: [{ url: HEALTH_NETWORK_MEMBER_URL, valueBoolean: fixture.healthNetworkMember ?? true }],
    identifier: [{ use: 'official', system: SYSTEMS.orgnr, value: fixture.orgnr }],
    active: true,
    type: [
      {
        coding: [
          {
            system: SYSTEMS.hl7OrganizationType,
            code: kind.hl7Code,
            display: HL7_ORGANIZATION_TYPE_DISPLAYS[kind.hl7Code],
          },
          { system: SYSTEMS.navetOrganisationKind, code: fixture.kind, display: kind.display },
        ],
        text: kind.display,
      },
    ],
    name: fixture.name,
    address: [address(fixture.address, 'work')],
    ...(fixture.partOf ? { partOf: { reference: `Organization/${organizationId(fixture.partOf)}` } } : {}),
  };
}

/** The Practitioner and one PractitionerRole per workplace. */
export function practitionerResources(input: PractitionerInput): FhirResource[] {
  const person = parseOrThrow(input.fnr, `Practitioner with HPR ${input.hpr}`);
  const id = practitionerId(input.hpr);
  const practitioner: FhirResource = {
    resourceType: 'Practitioner',
    id,
    identifier: [
      { use: 'official', system: person.kind === 'dnr' ? SYSTEMS.dnr : SYSTEMS.fnr, value: input.fnr },
      { use: 'official', system: SYSTEMS.hpr, value: input.hpr },
    ],
    active: true,
    name: [humanName(input)],
    gender: person.sex,
    birthDate: person.birthDate,
    qualification: [{ code: healthPersonnelCategory(input.authorisation) }],
  };
  const roles = input.workplaces.map((orgnr): FhirResource => ({
    resourceType: 'PractitionerRole',
    id: practitionerRoleId(input.hpr, orgnr),
    active: true,
    practitioner: { reference: `Practitioner/${id}`, display: fullName(input) },
    organization: { reference: `Organization/${organizationId(orgnr)}` },
    code: [healthPersonnelCategory(input.authorisation)],
  }));
  return [practitioner, ...roles];
}

export function patientResource(input: PatientInput): FhirResource {
  const person = parseOrThrow(input.number, 'Patient');
  return {
    resourceType: 'Patient',
    id: patientId(input.number),
    identifier: [{ use: 'official', system: person.kind === 'dnr' ? SYSTEMS.dnr : SYSTEMS.fnr, value: input.number }],
    active: true,
    name: [humanName(input)],
    gender: person.sex,
    birthDate: person.birthDate,
    address: [address(input.address, 'home')],
    ...(input.generalPractitioner
      ? {
          generalPractitioner: [
            { reference: `Practitioner/${input.generalPractitioner.id}`, display: input.generalPractitioner.display },
          ],
        }
      : {}),
  };
}
