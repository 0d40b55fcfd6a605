import { dnr, fnr } from '@navikt/fnrvalidator';
import path from 'node:path';
import { findResourceProblems } from '../../src/fhir/validate-resource';
import type { FhirResource } from '../../src/fhir/types';
import {
  fodselsnummerCheckDigits,
  hasValidCheckDigits,
  isValidOrgnr,
  makeSyntheticFodselsnummer,
  parseIdNumber,
} from '../../src/sandbox/fodselsnummer';
import { buildSeedResources, type GeneratorSettings, loadGeneratorSettings } from '../../src/sandbox/seed-resources';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'demo');
const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const DNR = 'urn:oid:2.16.578.1.12.4.1.4.2';
const HPR = 'urn:oid:2.16.578.1.12.4.1.4.4';
const ORGNR = 'urn:oid:2.16.578.1.12.4.1.4.101';
const VOLVEN_9060 = 'urn:oid:2.16.578.1.12.4.1.1.9060';

// The tables of shared/specs/identifiers-and-codes.md.
const SPEC_PATIENTS: { number: string; name?: string }[] = [
  { number: '13116900216', name: 'Line Danser' },
  { number: '12119000465', name: 'Malin Fos Bogen' },
  { number: '08077000292', name: 'Harry Handel' },
  { number: '12057900499', name: 'Gry Telokk' },
  { number: '10086148248' },
  { number: '25039296929', name: 'Troy Hammer' },
  { number: '48882807579' },
  { number: '45920040881' },
  { number: '05076600324' },
];
const SPEC_PRACTITIONERS = [
  { fnr: '05898597468', name: 'Grønn Vits', hpr: '565501872' },
  { fnr: '04056600324', name: 'Magnar Koman', hpr: '9144900' },
  { fnr: '20086600138', name: 'August September', hpr: '9144897' },
  { fnr: '05086900124', name: 'Ben Reddik', hpr: '222200068' },
];
/** Name (without the spec's parenthesised notes), main unit, sub-unit. */
const SPEC_ORGANISATIONS: [string, string, string | undefined][] = [
  ['Oslo universitetssykehus, Rikshospitalet somatikk', '993467049', '874716782'],
  ['Oslo universitetssykehus, Ullevål somatikk', '993467049', '974589095'],
  ['Haukeland universitetssjukehus', '983974724', '974557746'],
  ['Betanien Hospital', '981275721', '873255102'],
  ['Bjølsenhjemmet', '958935420', '883953142'],
  ['Midtbyen Legesenter Kongsvinger DA', '994919806', '994945688'],
  ['Fagersta Testlegekontor', '100100673', undefined],
  ['Andeby Legevakt', '100100223', undefined],
];

type Identifier = { system: string; value: string };
type Reference = { reference: string };
type CodeableConcept = { coding: { system: string; code: string; display?: string }[] };
type Person = FhirResource & { identifier: Identifier[]; name: { text: string }[]; gender: string; birthDate: string };

const settings = loadGeneratorSettings(FIXTURES);
const resources = buildSeedResources(FIXTURES, settings);
const byId = new Map(resources.map((resource) => [`${resource.resourceType}/${resource.id}`, resource]));
const get = <T extends FhirResource>(reference: string): T => {
  const resource = byId.get(reference);
  if (!resource) throw new Error(`${reference} is missing`);
  return resource as T;
};
const ofType = <T extends FhirResource>(type: string): T[] => resources.filter((r) => r.resourceType === type) as T[];
const identifierValue = (resource: FhirResource, system: string) =>
  (resource.identifier as Identifier[]).find((identifier) => identifier.system === system)?.value;
const specNumbers = new Set(SPEC_PATIENTS.map((patient) => patient.number));
/** A patient's fødselsnummer or D-number (seeded ids are opaque). */
const nationalIdOf = (resource: FhirResource) => String((resource.identifier as Identifier[] | undefined)?.[0]?.value);
const patientByNumber = <T extends FhirResource>(number: string, list: FhirResource[] = resources): T => {
  const patient = list.find((r) => r.resourceType === 'Patient' && nationalIdOf(r) === number);
  if (!patient) throw new Error(`no patient ${number}`);
  return patient as T;
};
const syntheticPatients = ofType<Person & { generalPractitioner: Reference[] }>('Patient').filter(
  (patient) => !specNumbers.has(nationalIdOf(patient)),
);

describe('fødselsnummer check digits', () => {
  it('computes the check digits of the spec numbers and agrees with @navikt/fnrvalidator', () => {
    expect(fodselsnummerCheckDigits('131169002')).toBe('16');
    const numbers = [
      ...SPEC_PATIENTS.map((patient) => patient.number),
      ...SPEC_PRACTITIONERS.map((practitioner) => practitioner.fnr),
    ];
    for (const number of numbers) {
      expect(`${number} ${hasValidCheckDigits(number)}`).toBe(`${number} ${fnr(number).status === 'valid'}`);
    }
  });

  it('rejects the spec’s known bad number 10086055555 and the trust-framework patient 05076600324', () => {
    expect(hasValidCheckDigits('10086055555')).toBe(false);
    expect(fodselsnummerCheckDigits('100860555')).not.toBe('55');
    expect(fnr('10086055555')).toEqual({ status: 'invalid', reasons: ["checksums don't match"] });
    expect(hasValidCheckDigits('05076600324')).toBe(false);
    expect(parseIdNumber('10086055555')).toMatchObject({ birthDate: '1860-08-10', checkDigitsValid: false }); // individual number 555 with year 60 → 1800s;
  });

  it('reads D-numbers and synthetic numbers', () => {
    expect(parseIdNumber('48882807579')).toMatchObject({
      kind: 'dnr',
      synthetic: true,
      birthDate: '1928-08-08',
      sex: 'male',
      checkDigitsValid: true,
    });
    expect(parseIdNumber('05898597468')).toMatchObject({
      kind: 'fnr',
      synthetic: true,
      birthDate: '1985-09-05',
      sex: 'female',
    });
    expect(parseIdNumber('25039296929')).toMatchObject({
      kind: 'fnr',
      synthetic: false,
      birthDate: '1992-03-25',
      sex: 'male',
    });
    expect(parseIdNumber('31029012345')).toBeUndefined();
  });

  it('makes synthetic numbers with month + 80 and skips individual numbers whose check digit would be 10', () => {
    expect(makeSyntheticFodselsnummer('2024-02-29', 500, 'female')).toMatch(/^298224500\d\d$/);
    // find an individual number without valid check digits: the next one of the same sex is used
    const impossible = [...Array(250).keys()]
      .map((i) => 2 * i)
      .find((n) => fodselsnummerCheckDigits(`018180${String(n).padStart(3, '0')}`) === undefined);
    expect(impossible).toBeDefined();
    const made = makeSyntheticFodselsnummer('1980-01-01', impossible as number, 'female');
    expect(Number(made.slice(6, 9))).toBeGreaterThan(impossible as number);
    expect(Number(made[8]) % 2).toBe(0);
    expect(fnr(made)).toEqual({ status: 'valid', type: 'tnr' });
    const male = makeSyntheticFodselsnummer('2010-06-15', 700, 'male');
    expect(Number(male[8]) % 2).toBe(1);
    expect(makeSyntheticFodselsnummer('2010-06-15', 700, 'male', (number) => number === male)).not.toBe(male);
  });

  it('checks organisation numbers', () => {
    for (const [, main, sub] of SPEC_ORGANISATIONS) {
      expect(isValidOrgnr(main)).toBe(true);
      if (sub) expect(isValidOrgnr(sub)).toBe(true);
    }
    expect(isValidOrgnr('993467040')).toBe(false);
  });
});

describe('seed resources', () => {
  it('reads the generator settings', () => {
    expect(settings).toEqual({ seed: 20261123, referenceDate: '2026-01-01', syntheticPatients: 300 });
  });

  it('holds every spec test patient with the exact number, name and identifier system', () => {
    for (const spec of SPEC_PATIENTS) {
      const patient = patientByNumber<Person>(spec.number);
      const system = Number(spec.number[0]) >= 4 ? DNR : FNR;
      expect(patient.identifier).toEqual([expect.objectContaining({ system, value: spec.number })]);
      if (spec.name) expect(patient.name[0].text).toBe(spec.name);
      else expect(patient.name[0].text).toMatch(/^\p{Lu}\p{Ll}+ \p{Lu}\p{Ll}+$/u);
      const parsed = parseIdNumber(spec.number);
      expect(patient.birthDate).toBe(parsed?.birthDate);
      expect(patient.gender).toBe(parsed?.sex);
    }
    expect(identifierValue(patientByNumber('48882807579'), DNR)).toBe('48882807579');
    expect(identifierValue(patientByNumber('45920040881'), DNR)).toBe('45920040881');
    expect(identifierValue(patientByNumber('10086148248'), FNR)).toBe('10086148248');
  });

  it('holds every spec organisation, sub-units part of their main unit, in the health network', () => {
    const pointsOfCare = new Set<string>();
    for (const [name, main, sub] of SPEC_ORGANISATIONS) {
      const mainUnit = get<FhirResource & { name: string }>(`Organization/org-${main}`);
      expect(identifierValue(mainUnit, ORGNR)).toBe(main);
      expect(mainUnit.partOf).toBeUndefined();
      const names = [mainUnit.name];
      if (sub) {
        const subUnit = get<FhirResource & { name: string }>(`Organization/org-${sub}`);
        expect(identifierValue(subUnit, ORGNR)).toBe(sub);
        expect(subUnit.partOf).toEqual({ reference: `Organization/org-${main}` });
        names.push(subUnit.name);
      }
      expect(names).toContain(name);
      pointsOfCare.add(sub ?? main);
    }
    for (const organization of ofType('Organization')) {
      expect(organization.active).toBe(true);
      expect(organization.extension).toContainEqual({
        url: 'https://navet.example/fhir/StructureDefinition/health-network-member',
        valueBoolean: true,
      });
      expect((organization.type as CodeableConcept[])[0].coding.length).toBeGreaterThan(0);
      expect((organization.address as { country: string }[])[0].country).toBe('NO');
    }
    // every role is at a point of care
    for (const role of ofType<FhirResource & { organization: Reference }>('PractitionerRole')) {
      expect(pointsOfCare).toContain(role.organization.reference.replace('Organization/org-', ''));
    }
  });

  it('holds every spec practitioner with FNR, HPR, a Volven 9060 qualification and at least one role', () => {
    for (const spec of SPEC_PRACTITIONERS) {
      const practitioner = get<Person & { qualification: { code: CodeableConcept }[] }>(
        `Practitioner/prac-${spec.hpr}`,
      );
      expect(identifierValue(practitioner, FNR)).toBe(spec.fnr);
      expect(identifierValue(practitioner, HPR)).toBe(spec.hpr);
      expect(practitioner.name[0].text).toBe(spec.name);
      expect(practitioner.qualification[0].code.coding[0]).toEqual({
        system: VOLVEN_9060,
        code: 'LE',
        display: 'Lege',
      });
      const roles = ofType<FhirResource & { practitioner: Reference; code: CodeableConcept[] }>(
        'PractitionerRole',
      ).filter((role) => role.practitioner.reference === `Practitioner/prac-${spec.hpr}`);
      expect(roles.length).toBeGreaterThanOrEqual(1);
      for (const role of roles) {
        expect(role.active).toBe(true);
        expect(role.code[0].coding[0].code).toBe('LE');
        expect(role.id).toMatch(new RegExp(`^role-${spec.hpr}-\\d{9}$`));
      }
    }
  });

  it('makes the configured number of synthetic patients with valid synthetic numbers and consistent data', () => {
    expect(syntheticPatients).toHaveLength(settings.syntheticPatients);
    const referenceYear = Number(settings.referenceDate.slice(0, 4));
    const ages: number[] = [];
    for (const patient of syntheticPatients) {
      const number = identifierValue(patient, FNR) as string;
      expect(patient.id).toMatch(/^pat-[a-p]{16}$/);
      expect(patient.id).not.toContain(number);
      expect(fnr(number)).toEqual({ status: 'valid', type: 'tnr' });
      expect(dnr(number).status).toBe('valid');
      expect(hasValidCheckDigits(number)).toBe(true);
      expect(Number(number.slice(2, 4))).toBeGreaterThan(80);
      expect(patient.gender).toBe(Number(number[8]) % 2 === 1 ? 'male' : 'female');
      expect(patient.birthDate).toBe(parseIdNumber(number)?.birthDate);
      expect(patient.birthDate <= settings.referenceDate).toBe(true);
      ages.push(referenceYear - Number(patient.birthDate.slice(0, 4)));
      expect(patient.name[0].text).toMatch(/^\p{Lu}/u);
      expect(get(patient.generalPractitioner[0].reference).resourceType).toBe('Practitioner');
    }
    expect(Math.min(...ages)).toBeLessThanOrEqual(1);
    expect(Math.max(...ages)).toBeGreaterThanOrEqual(95);
    expect(Math.max(...ages)).toBeLessThanOrEqual(101);
  });

  it('gives every resource a unique id, no meta, and valid FHIR R4', () => {
    expect(byId.size).toBe(resources.length);
    const nationalIds = new Set(ofType('Patient').map(nationalIdOf));
    for (const resource of resources) {
      // ids reach URLs and logs: never a fødselsnummer or D-number in them
      for (const digits of String(resource.id).match(/\d{11}/g) ?? []) expect(nationalIds.has(digits)).toBe(false);
      expect(resource.id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
      expect(resource.meta).toBeUndefined();
      expect(findResourceProblems(resource)).toEqual([]);
    }
  });

  it('is deterministic: same settings → identical JSON, another seed → other synthetic data', () => {
    expect(JSON.stringify(buildSeedResources(FIXTURES, settings))).toBe(JSON.stringify(resources));
    const otherSeed: GeneratorSettings = { ...settings, seed: settings.seed + 1 };
    const other = buildSeedResources(FIXTURES, otherSeed);
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(resources));
    // the spec's people and organisations do not depend on the seed
    const fromSpec = (list: FhirResource[]) =>
      list.filter(
        (r) => r.resourceType === 'Organization' || (r.resourceType === 'Patient' && specNumbers.has(nationalIdOf(r))),
      );
    expect(JSON.stringify(fromSpec(other))).toBe(JSON.stringify(fromSpec(resources)));
  });

  it('makes as many synthetic patients as asked', () => {
    const none = buildSeedResources(FIXTURES, { ...settings, syntheticPatients: 0 });
    expect(none.filter((r) => r.resourceType === 'Patient')).toHaveLength(SPEC_PATIENTS.length);
  });
});
