import type { Faker } from '@faker-js/faker';
import { individualNumberRanges, makeSyntheticFodselsnummer, type Sex } from '../fodselsnummer';
import type { FixtureAddress } from './fixtures';
import type { PatientInput, PractitionerInput } from './resources';

/**
 * Synthetic GPs and patients from a seeded faker. Every value comes from the faker's seed and the
 * reference date (never the clock or Math.random), so the same settings give the same people.
 */

/** Post towns of the municipalities piloting PLL, SFM and document sharing, and Kongsvinger. */
const TOWNS: readonly Omit<FixtureAddress, 'line'>[] = [
  { postalCode: '0150', city: 'Oslo', municipality: 'Oslo' },
  { postalCode: '0460', city: 'Oslo', municipality: 'Oslo' },
  { postalCode: '5003', city: 'Bergen', municipality: 'Bergen' },
  { postalCode: '9008', city: 'Tromsø', municipality: 'Tromsø' },
  { postalCode: '9600', city: 'Hammerfest', municipality: 'Hammerfest' },
  { postalCode: '8006', city: 'Bodø', municipality: 'Bodø' },
  { postalCode: '8622', city: 'Mo i Rana', municipality: 'Rana' },
  { postalCode: '1706', city: 'Sarpsborg', municipality: 'Sarpsborg' },
  { postalCode: '5353', city: 'Straume', municipality: 'Øygarden' },
  { postalCode: '4006', city: 'Stavanger', municipality: 'Stavanger' },
  { postalCode: '8370', city: 'Leknes', municipality: 'Vestvågøy' },
  { postalCode: '5700', city: 'Voss', municipality: 'Voss' },
  { postalCode: '5750', city: 'Odda', municipality: 'Ullensvang' },
  { postalCode: '3530', city: 'Røyse', municipality: 'Hole' },
  { postalCode: '2212', city: 'Kongsvinger', municipality: 'Kongsvinger' },
];

/** Synthetic GPs made besides the spec's practitioners. */
export const SYNTHETIC_GP_COUNT = 6;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Oldest synthetic patient: one day short of 101 years, i.e. aged 100. */
const MAX_PATIENT_AGE_DAYS = 36_889;
const GP_AGE_DAYS = { min: 30 * 365, max: 66 * 365 };
/** Synthetic GPs get HPR numbers from 999000001 up, a range kept apart from the spec's numbers. */
const FIRST_SYNTHETIC_HPR = 999_000_001;

export function createFaker(seed: number): Faker {
  // loaded when a seed is built, not when Navet starts (it takes a while to load)
  const { en, Faker: FakerClass, nb_NO } = require('@faker-js/faker') as typeof import('@faker-js/faker');
  const faker = new FakerClass({ locale: [nb_NO, en] });
  faker.seed(seed);
  return faker;
}

/** Makes people with unique synthetic fødselsnumre, born between the given ages at the reference date. */
export class SyntheticPeople {
  private readonly referenceMs: number;
  private readonly taken = new Set<string>();

  constructor(
    private readonly faker: Faker,
    referenceDate: string,
  ) {
    this.referenceMs = Date.parse(`${referenceDate}T00:00:00Z`);
  }

  person(ageDays: { min: number; max: number }): { fnr: string; given: string[]; family: string; sex: Sex } {
    const sex: Sex = this.faker.helpers.arrayElement(['female', 'male'] as const);
    const birthDate = new Date(this.referenceMs - this.faker.number.int(ageDays) * DAY_MS).toISOString().slice(0, 10);
    const [low, high] = this.faker.helpers.arrayElement(individualNumberRanges(Number(birthDate.slice(0, 4))));
    const start = this.faker.number.int({ min: low, max: high });
    const fnr = makeSyntheticFodselsnummer(birthDate, start, sex, (number) => this.taken.has(number));
    this.taken.add(fnr);
    return { fnr, given: [this.faker.person.firstName(sex)], family: this.faker.person.lastName(), sex };
  }

  address(): FixtureAddress {
    const town = this.faker.helpers.arrayElement(TOWNS);
    return { line: `${this.faker.location.street()} ${this.faker.location.buildingNumber()}`, ...town };
  }
}

/** `count` GPs (Volven 9060 LE), spread round-robin over the GP offices. */
export function syntheticGps(people: SyntheticPeople, gpOffices: string[], count: number): PractitionerInput[] {
  if (gpOffices.length === 0) return [];
  return Array.from({ length: count }, (_, i) => {
    const { fnr, given, family } = people.person(GP_AGE_DAYS);
    return {
      hpr: String(FIRST_SYNTHETIC_HPR + i),
      fnr,
      given,
      family,
      authorisation: 'LE',
      workplaces: [gpOffices[i % gpOffices.length]],
    };
  });
}

/** `count` patients aged 0 to 100, each with a GP from `gps`. */
export function syntheticPatients(
  faker: Faker,
  people: SyntheticPeople,
  gps: { id: string; display: string }[],
  count: number,
): PatientInput[] {
  return Array.from({ length: count }, () => {
    const { fnr, given, family } = people.person({ min: 0, max: MAX_PATIENT_AGE_DAYS });
    const address = people.address();
    const generalPractitioner = gps.length > 0 ? faker.helpers.arrayElement(gps) : undefined;
    return { number: fnr, given, family, address, generalPractitioner };
  });
}
