import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FhirResource } from '../fhir/types';
import { loadFixtures } from './seed/fixtures';
import {
  fullName,
  organizationResource,
  patientResource,
  practitionerId,
  practitionerResources,
  type PractitionerInput,
} from './seed/resources';
import { createFaker, SYNTHETIC_GP_COUNT, SyntheticPeople, syntheticGps, syntheticPatients } from './seed/synthetic';

/**
 * The seed of a sandbox: the spec's test organisations, practitioners and persons from the fixtures,
 * plus synthetic GPs and patients made deterministically from the generator settings.
 */

export interface GeneratorSettings {
  seed: number;
  /** YYYY-MM-DD; ages and birth dates are computed from it, never from the clock. */
  referenceDate: string;
  syntheticPatients: number;
  /**
   * Volume mode: every patient gets this many documents made from a few shared templates (one stored
   * copy of each content). Unset: the demo set (the PJD test patients get a full set, every fifth other
   * patient a few, each its own PDF).
   */
  documentsPerPatient?: number;
  /** Volume mode of lab results: every patient gets this many reports (DiagnosticReport + Specimen). */
  labReportsPerPatient?: number;
}

/** Reads <fixturesDir>/sandbox.json. */
export function loadGeneratorSettings(fixturesDir: string): GeneratorSettings {
  const file = path.join(fixturesDir, 'sandbox.json');
  const settings = JSON.parse(readFileSync(file, 'utf8')) as Partial<GeneratorSettings>;
  assertGeneratorSettings(settings, file);
  return { seed: settings.seed, referenceDate: settings.referenceDate, syntheticPatients: settings.syntheticPatients };
}

function assertGeneratorSettings(
  settings: Partial<GeneratorSettings>,
  where: string,
): asserts settings is GeneratorSettings {
  if (!Number.isInteger(settings.seed)) throw new Error(`${where}: seed must be an integer`);
  if (!Number.isInteger(settings.syntheticPatients) || (settings.syntheticPatients as number) < 0) {
    throw new Error(`${where}: syntheticPatients must be a whole number`);
  }
  const date = typeof settings.referenceDate === 'string' ? settings.referenceDate : '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    throw new Error(`${where}: referenceDate must be a date YYYY-MM-DD`);
  }
}

/** The seed's FHIR R4 resources, with deterministic ids and without meta; same settings → same JSON. */
export function buildSeedResources(fixturesDir: string, settings: GeneratorSettings): FhirResource[] {
  assertGeneratorSettings(settings, 'Generator settings');
  const fixtures = loadFixtures(fixturesDir);

  // GP offices: points of care (units no other unit is part of) of kind gp-office.
  const mainUnits = new Set(fixtures.organisations.flatMap((organisation) => organisation.partOf ?? []));
  const gpOffices = fixtures.organisations
    .filter((organisation) => organisation.kind === 'gp-office' && !mainUnits.has(organisation.orgnr))
    .map((organisation) => organisation.orgnr);
  const worksAtGpOffice = (practitioner: PractitionerInput) =>
    practitioner.workplaces.some((orgnr) => gpOffices.includes(orgnr));
  const asGp = (practitioner: PractitionerInput) => ({
    id: practitionerId(practitioner.hpr),
    display: fullName(practitioner),
  });

  const faker = createFaker(settings.seed);
  const people = new SyntheticPeople(faker, settings.referenceDate);
  const gps = syntheticGps(people, gpOffices, SYNTHETIC_GP_COUNT);
  // The spec's patients get the spec's GPs, so that they do not change with the seed.
  const specGps = fixtures.practitioners.filter(worksAtGpOffice).map(asGp);
  const patients = syntheticPatients(faker, people, [...specGps, ...gps.map(asGp)], settings.syntheticPatients);

  return [
    ...fixtures.organisations.map(organizationResource),
    ...fixtures.practitioners.flatMap(practitionerResources),
    ...fixtures.testPersons.map((person, i) =>
      patientResource({
        ...person,
        generalPractitioner: specGps.length > 0 ? specGps[i % specGps.length] : undefined,
      }),
    ),
    ...gps.flatMap(practitionerResources),
    ...patients.map(patientResource),
  ];
}
