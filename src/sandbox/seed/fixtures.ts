import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isValidOrgnr } from '../fodselsnummer';
import { HEALTH_PERSONNEL_CATEGORIES, ORGANISATION_KINDS, type OrganisationKind } from '../../codes/code-systems';

/** The compact (non-FHIR) fixture files of a fixtures directory. */

export interface FixtureAddress {
  line?: string;
  postalCode: string;
  city: string;
  municipality: string;
}

export interface TestPersonFixture {
  /** Fødselsnummer or D-number exactly as in the spec. */
  number: string;
  given: string[];
  family: string;
  /** false when the spec gives no name and the fixture made one up. */
  nameInSpec?: boolean;
  /** false for numbers from official documentation that fail the checksum. */
  checkDigitsValid?: boolean;
  usedIn: string;
  address: FixtureAddress;
}

export interface PractitionerFixture {
  hpr: string;
  fnr: string;
  given: string[];
  family: string;
  /** Volven 9060 code. */
  authorisation: string;
  usedIn: string;
  /** Organisation numbers of the units (the point of care where there is one) the practitioner works at. */
  workplaces: string[];
}

export interface OrganisationFixture {
  orgnr: string;
  name: string;
  nameInSpec?: boolean;
  kind: OrganisationKind;
  /** The main unit's orgnr, for sub-units. */
  partOf?: string;
  /** Member of the health network; true when left out. */
  healthNetworkMember?: boolean;
  address: FixtureAddress;
}

export interface Fixtures {
  testPersons: TestPersonFixture[];
  practitioners: PractitionerFixture[];
  organisations: OrganisationFixture[];
}

function readJson(fixturesDir: string, file: string): unknown {
  const filePath = path.join(fixturesDir, file);
  try {
    return JSON.parse(readFileSync(filePath, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the fixture ${filePath}: ${(error as Error).message}`);
  }
}

function readArray<T>(fixturesDir: string, file: string): T[] {
  const value = readJson(fixturesDir, file);
  if (!Array.isArray(value)) throw new Error(`The fixture ${file} must be a JSON array`);
  return value as T[];
}

/** Reads the fixtures and checks that their cross-references hold. */
export function loadFixtures(fixturesDir: string): Fixtures {
  const fixtures: Fixtures = {
    testPersons: readArray<TestPersonFixture>(fixturesDir, 'test-persons.json'),
    practitioners: readArray<PractitionerFixture>(fixturesDir, 'practitioners.json'),
    organisations: readArray<OrganisationFixture>(fixturesDir, 'organisations.json'),
  };
  const orgnrs = new Set(fixtures.organisations.map((organisation) => organisation.orgnr));
  for (const organisation of fixtures.organisations) {
    if (!isValidOrgnr(organisation.orgnr))
      throw new Error(`organisations.json: ${organisation.orgnr} is not a valid organisation number`);
    if (!(organisation.kind in ORGANISATION_KINDS))
      throw new Error(`organisations.json: unknown kind ${JSON.stringify(organisation.kind)}`);
    if (organisation.partOf !== undefined && !orgnrs.has(organisation.partOf)) {
      throw new Error(
        `organisations.json: ${organisation.orgnr} is part of ${organisation.partOf}, which is not in the file`,
      );
    }
  }
  for (const practitioner of fixtures.practitioners) {
    if (!(practitioner.authorisation in HEALTH_PERSONNEL_CATEGORIES)) {
      throw new Error(
        `practitioners.json: unknown Volven 9060 code ${JSON.stringify(practitioner.authorisation)} for HPR ${practitioner.hpr}`,
      );
    }
    if (practitioner.workplaces.length === 0)
      throw new Error(`practitioners.json: HPR ${practitioner.hpr} has no workplace`);
    for (const orgnr of practitioner.workplaces) {
      if (!orgnrs.has(orgnr))
        throw new Error(
          `practitioners.json: HPR ${practitioner.hpr} works at ${orgnr}, which is not in organisations.json`,
        );
    }
  }
  return fixtures;
}
