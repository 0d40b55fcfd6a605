import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { badRequest } from '../../fhir/operation-outcome';
import type { FhirResource } from '../../fhir/types';
import { orgnrCheckDigit } from '../fodselsnummer';
import type { OrganisationKind } from '../../codes/code-systems';
import type { OrganisationFixture } from './fixtures';
import {
  organizationResource,
  patientResource,
  practitionerId,
  practitionerResources,
  fullName,
  type PractitionerInput,
} from './resources';
import { createFaker, SyntheticPeople } from './synthetic';

/**
 * A municipality's own sandbox: the kommune with its sub-units, GP offices with GPs, its hospital trust,
 * pharmacies, staff and a cohort of synthetic patients; organisation numbers and people are synthetic
 * (valid check digits) and tagged as test data. Described by `profiles/municipality.schema.json`.
 */
export type UnitKind = 'home-care' | 'nursing-home' | 'out-of-hours' | 'health-station';
export type ServiceChoice = 'pll' | 'pjd' | 'critical-information' | 'lab-results';
export type UserKind = UnitKind | 'gp-office' | 'hospital';

export interface MunicipalityDescription {
  kommunenummer: string;
  name: string;
  population: number;
  orgnr?: string;
  postalCode?: string;
  city?: string;
  seed?: number;
  referenceDate?: string;
  units?: { kind: UnitKind; name: string; orgnr?: string; staff?: number }[];
  gpOffices?: { name: string; orgnr?: string; gps: number }[];
  hospitalTrust?: { name: string; orgnr?: string; region?: string; hospitals: { name: string; orgnr?: string }[] };
  pharmacies?: { name: string; orgnr?: string; multidose?: boolean }[];
  recordSystems?: { id: string; name: string; usedBy: UserKind[]; services: ServiceChoice[]; attestation?: boolean }[];
  healthNetworkMember?: boolean;
  pjdTermsSigned?: boolean;
}

/** One organisation of the plan, with what the rehearsal needs to know of it. */
export interface PlannedOrganisation {
  orgnr: string;
  name: string;
  kind: OrganisationKind;
  /** Legal entity (main unit) for sub-units. */
  partOf?: string;
  user: UserKind | 'kommune' | 'health-trust' | 'pharmacy';
  healthNetworkMember: boolean;
}

export interface PlannedStaff extends PractitionerInput {
  /** The unit's orgnr (point of care). */
  unit: string;
}

export interface RecordSystemClient {
  clientId: string;
  system: string;
  name: string;
  /** The organisation that uses it: legal entity and point of care. */
  legalEntity: string;
  pointOfCare: string;
  user: UserKind;
  services: ServiceChoice[];
  scopes: string[];
  attestation: boolean;
}

export interface MunicipalityPlan {
  description: MunicipalityDescription;
  kommune: PlannedOrganisation;
  organisations: PlannedOrganisation[];
  staff: PlannedStaff[];
  clients: RecordSystemClient[];
  /** Fødselsnumre of the seeded patient cohort. */
  cohortSize: number;
}

export const PRESET_DIR = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'municipalities');
const SCHEMA_FILE = path.resolve(__dirname, '..', '..', '..', 'profiles', 'municipality.schema.json');
const TEST_DATA_TAG = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  code: 'HTEST',
  display: 'test health data',
};

/** Share of the population seeded as patients, and its bounds: about three working days of GP consultations' patients. */
export const COHORT_SHARE = 0.03;
const COHORT_MIN = 300;
const COHORT_MAX = 6000;
export const cohortSizeOf = (population: number) =>
  Math.min(COHORT_MAX, Math.max(COHORT_MIN, Math.ceil(population * COHORT_SHARE)));

const SCOPES: Record<ServiceChoice, { read: string[]; source: string[] }> = {
  pll: { read: ['e-helse:sfm.api/sfm.api2'], source: [] },
  pjd: {
    read: ['nhn:phr/mhd/read-documentreferences', 'nhn:phr/mhd/read-document'],
    source: ['navet:pjd/provide-document'],
  },
  'critical-information': { read: ['nhn:kjernejournal/api'], source: [] },
  'lab-results': { read: ['nhn:pps/provesvar-read'], source: ['navet:pps/submit-result'] },
};

export function presetNames(): string[] {
  return readdirSync(PRESET_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

let validator: ReturnType<Ajv['compile']> | undefined;

/** Checks a description against the schema; problems name the element. */
export function assertMunicipality(value: unknown, where = 'municipality'): MunicipalityDescription {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')));
  if (!validator(value)) {
    const errors = validator.errors ?? [];
    const first = errors[0];
    const at = `${where}${first.instancePath.replace(/\//g, '.')}`;
    const detail =
      first.keyword === 'additionalProperties'
        ? `unknown field '${String(first.params.additionalProperty)}'`
        : first.keyword === 'required'
          ? `'${String(first.params.missingProperty)}' is required`
          : first.message;
    throw badRequest(
      'NAVET-MUNICIPALITY',
      `${at}: ${detail} (${errors.length} problem${errors.length > 1 ? 's' : ''}; see profiles/municipality.schema.json)`,
      errors.map((e) => `${where}${e.instancePath.replace(/\//g, '.')}`),
    );
  }
  return value as MunicipalityDescription;
}

/** `{"preset": "bodo"}` or a full description. */
export function resolveMunicipality(input: unknown): MunicipalityDescription {
  if (input && typeof input === 'object' && 'preset' in input) {
    const preset = (input as { preset: unknown }).preset;
    if (typeof preset !== 'string' || !presetNames().includes(preset)) {
      throw badRequest(
        'NAVET-MUNICIPALITY-PRESET',
        `municipality.preset must be one of ${presetNames().join(', ')}; got ${JSON.stringify(preset)}`,
        ['municipality.preset'],
      );
    }
    return assertMunicipality(
      JSON.parse(readFileSync(path.join(PRESET_DIR, `${preset}.json`), 'utf8')),
      `preset ${preset}`,
    );
  }
  if (!input || typeof input !== 'object')
    throw badRequest(
      'NAVET-MUNICIPALITY',
      'municipality must be {"preset": "<name>"} or a full description (profiles/municipality.schema.json)',
      ['municipality'],
    );
  return assertMunicipality(input);
}

/** Synthetic organisation numbers: 3 + kommunenummer + a sequence number + the mod-11 check digit (real ones start with 8 or 9). */
function orgnrMaker(kommunenummer: string, taken: Set<string>): () => string {
  let next = 0;
  return () => {
    for (;;) {
      const firstEight = `3${kommunenummer}${String(next).padStart(3, '0')}`;
      next += 1;
      const check = orgnrCheckDigit(firstEight);
      if (check !== undefined && !taken.has(firstEight + check)) return firstEight + check;
    }
  };
}

const STAFF_DEFAULTS: Record<UnitKind, { authorisation: string; count: number }[]> = {
  'home-care': [{ authorisation: 'SP', count: 6 }],
  'nursing-home': [
    { authorisation: 'LE', count: 1 },
    { authorisation: 'SP', count: 4 },
  ],
  'out-of-hours': [
    { authorisation: 'LE', count: 4 },
    { authorisation: 'SP', count: 2 },
  ],
  'health-station': [{ authorisation: 'SP', count: 2 }],
};
const KIND_OF: Record<UnitKind, OrganisationKind> = {
  'home-care': 'home-care',
  'nursing-home': 'nursing-home',
  'out-of-hours': 'out-of-hours',
  'health-station': 'health-station',
};

/** The deterministic plan of a municipality: organisations, staff and record-system clients. */
export function planMunicipality(description: MunicipalityDescription): MunicipalityPlan {
  const d = description;
  const taken = new Set(
    [
      d.orgnr,
      ...(d.units ?? []).map((u) => u.orgnr),
      ...(d.gpOffices ?? []).map((o) => o.orgnr),
      d.hospitalTrust?.orgnr,
      ...(d.hospitalTrust?.hospitals ?? []).map((h) => h.orgnr),
      ...(d.pharmacies ?? []).map((p) => p.orgnr),
    ].filter((o): o is string => !!o),
  );
  const newOrgnr = orgnrMaker(d.kommunenummer, taken);
  const member = d.healthNetworkMember ?? true;
  const kommune: PlannedOrganisation = {
    orgnr: d.orgnr ?? newOrgnr(),
    name: d.name,
    kind: 'municipality',
    user: 'kommune',
    healthNetworkMember: member,
  };
  const organisations: PlannedOrganisation[] = [kommune];
  for (const unit of d.units ?? [])
    organisations.push({
      orgnr: unit.orgnr ?? newOrgnr(),
      name: unit.name,
      kind: KIND_OF[unit.kind],
      partOf: kommune.orgnr,
      user: unit.kind,
      healthNetworkMember: member,
    });
  for (const office of d.gpOffices ?? [])
    organisations.push({
      orgnr: office.orgnr ?? newOrgnr(),
      name: office.name,
      kind: 'gp-office',
      user: 'gp-office',
      healthNetworkMember: true,
    });
  if (d.hospitalTrust) {
    const trust: PlannedOrganisation = {
      orgnr: d.hospitalTrust.orgnr ?? newOrgnr(),
      name: d.hospitalTrust.name,
      kind: 'health-trust',
      user: 'health-trust',
      healthNetworkMember: true,
    };
    organisations.push(trust);
    for (const hospital of d.hospitalTrust.hospitals)
      organisations.push({
        orgnr: hospital.orgnr ?? newOrgnr(),
        name: hospital.name,
        kind: 'hospital',
        partOf: trust.orgnr,
        user: 'hospital',
        healthNetworkMember: true,
      });
  }
  for (const pharmacy of d.pharmacies ?? [])
    organisations.push({
      orgnr: pharmacy.orgnr ?? newOrgnr(),
      name: pharmacy.name,
      kind: 'pharmacy',
      user: 'pharmacy',
      healthNetworkMember: true,
    });

  const faker = createFaker(d.seed ?? Number(d.kommunenummer));
  const people = new SyntheticPeople(faker, d.referenceDate ?? '2026-01-01');
  let hpr = 0;
  const staff: PlannedStaff[] = [];
  const hire = (unit: string, authorisation: string) => {
    const { fnr, given, family } = people.person({ min: 28 * 365, max: 66 * 365 });
    hpr += 1;
    staff.push({
      hpr: `8${d.kommunenummer}${String(hpr).padStart(4, '0')}`,
      fnr,
      given,
      family,
      authorisation,
      workplaces: [unit],
      unit,
    });
  };
  (d.units ?? []).forEach((unit, i) => {
    const orgnr = organisations[1 + i].orgnr;
    for (const { authorisation, count } of STAFF_DEFAULTS[unit.kind])
      for (let n = 0; n < (unit.staff !== undefined && authorisation === 'SP' ? unit.staff : count); n++)
        hire(orgnr, authorisation);
  });
  for (const org of organisations) {
    if (org.user === 'gp-office')
      for (let n = 0; n < (d.gpOffices?.find((o) => o.name === org.name)?.gps ?? 1); n++) hire(org.orgnr, 'LE');
    if (org.user === 'hospital') for (let n = 0; n < 6; n++) hire(org.orgnr, 'LE');
    if (org.user === 'pharmacy') hire(org.orgnr, 'FA1');
  }

  const clients: RecordSystemClient[] = [];
  for (const system of d.recordSystems ?? []) {
    for (const org of organisations.filter((o) => (system.usedBy as string[]).includes(o.user))) {
      const source = org.user === 'hospital';
      clients.push({
        clientId: `${system.id}-${org.orgnr}`,
        system: system.id,
        name: `${system.name}, ${org.name}`,
        legalEntity: org.partOf ?? org.orgnr,
        pointOfCare: org.orgnr,
        user: org.user as UserKind,
        services: system.services,
        scopes: [...new Set(system.services.flatMap((s) => [...SCOPES[s].read, ...(source ? SCOPES[s].source : [])]))],
        attestation: system.attestation ?? true,
      });
    }
  }
  return { description: d, kommune, organisations, staff, clients, cohortSize: cohortSizeOf(d.population) };
}

function tagged(resource: FhirResource): FhirResource {
  return { ...resource, meta: { tag: [TEST_DATA_TAG] } };
}

/** The plan's organisations, staff and the synthetic patient cohort as FHIR resources (test-data tagged). */
export function municipalityResources(plan: MunicipalityPlan): FhirResource[] {
  const d = plan.description;
  const address = {
    postalCode: d.postalCode ?? '0000',
    city: d.city ?? d.name,
    municipality: d.name.replace(/ kommune$/, ''),
  };
  const organisations = plan.organisations.map((o) =>
    organizationResource({
      orgnr: o.orgnr,
      name: o.name,
      kind: o.kind,
      partOf: o.partOf,
      healthNetworkMember: o.healthNetworkMember,
      address,
    } satisfies OrganisationFixture),
  );
  const staff = plan.staff.flatMap(practitionerResources);
  const gps = plan.staff
    .filter((s) => s.authorisation === 'LE' && plan.organisations.find((o) => o.orgnr === s.unit)?.user === 'gp-office')
    .map((s) => ({ id: practitionerId(s.hpr), display: fullName(s) }));
  const faker = createFaker((d.seed ?? Number(d.kommunenummer)) + 1);
  const people = new SyntheticPeople(faker, d.referenceDate ?? '2026-01-01');
  const patients = Array.from({ length: plan.cohortSize }, (_, i) => {
    const { fnr, given, family } = people.person({ min: 0, max: 36_889 });
    return patientResource({
      number: fnr,
      given,
      family,
      address: { ...address, line: `${faker.location.street()} ${faker.location.buildingNumber()}` },
      generalPractitioner: gps.length ? gps[i % gps.length] : undefined,
    });
  });
  return [...organisations, ...staff, ...patients].map(tagged);
}

/** Seed settings the clinical-data builders take, from the description. */
export function municipalityGeneratorSettings(d: MunicipalityDescription): {
  seed: number;
  referenceDate: string;
  syntheticPatients: number;
} {
  return {
    seed: d.seed ?? Number(d.kommunenummer),
    referenceDate: d.referenceDate ?? '2026-01-01',
    syntheticPatients: cohortSizeOf(d.population),
  };
}
