import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ProfileSet, type StructureDefinition, type ValueSet } from '../../src/fhir/profile-validation';
import type { FhirResource } from '../../src/fhir/types';

const PROFILES = path.resolve(__dirname, '..', '..', 'profiles');
const resourcesOf = (file: string) =>
  (
    JSON.parse(readFileSync(path.join(PROFILES, file), 'utf8')) as {
      entry: { resource: StructureDefinition | ValueSet }[];
    }
  ).entry.map((e) => e.resource);
const sd = (elements: object[], extra: object = {}): StructureDefinition =>
  ({
    resourceType: 'StructureDefinition',
    url: 'https://example.org/StructureDefinition/test-patient',
    name: 'TestPatient',
    type: 'Patient',
    differential: { element: [{ id: 'Patient', path: 'Patient' }, ...elements] },
    ...extra,
  }) as StructureDefinition;
const patient = (extra: object = {}): FhirResource => ({ resourceType: 'Patient', ...extra });
const URL = 'https://example.org/StructureDefinition/test-patient';

describe('ProfileSet', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'navet-package-'));
    // an unpacked FHIR npm package: package/package.json and one file per resource, other files beside them
    mkdirSync(path.join(folder, 'package'));
    writeFileSync(
      path.join(folder, 'package', 'package.json'),
      JSON.stringify({ name: 'test.nilar', version: '1.0.0', fhirVersions: ['4.0.1'] }),
    );
    writeFileSync(path.join(folder, 'package', '.index.json'), JSON.stringify({ 'index-version': 1, files: [] }));
    writeFileSync(
      path.join(folder, 'package', 'ImplementationGuide-test.json'),
      JSON.stringify({ resourceType: 'ImplementationGuide', id: 'test' }),
    );
    for (const resource of resourcesOf('nilar-profiles.json')) {
      writeFileSync(
        path.join(folder, 'package', `${resource.resourceType}-${resource.url.split('/').pop()}.json`),
        JSON.stringify(resource),
      );
    }
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  test('a package folder of StructureDefinitions and ValueSets validates as the same profiles in a Bundle file', () => {
    const fromFolder = ProfileSet.fromFolder(folder);
    const fromFile = ProfileSet.fromFile(path.join(PROFILES, 'nilar-profiles.json'));
    expect(fromFolder.skipped).toEqual([]);
    const observation: FhirResource = {
      resourceType: 'Observation',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '718-7' }] },
      valueRange: {
        low: { value: 1, system: 'http://unitsofmeasure.org', code: 'mmol/L' },
        high: { value: 2, code: 'mmol/L' },
      },
      effectivePeriod: {},
    };
    const issues = fromFolder.validateByType(observation, 'O');
    expect(issues.map((i) => i.expression?.[0])).toEqual([
      'O.extension:diagnosticreportref',
      'O.code',
      'O.valueRange',
      'O.effective[x]',
    ]);
    expect(issues.find((i) => i.expression?.[0] === 'O.valueRange')?.text).toBe(
      'nilar-observation: O.valueRange[1].system: units must be UCUM (system http://unitsofmeasure.org); got null',
    );
    expect(fromFile.validateByType(observation, 'O')).toEqual(issues);
  });

  test("a published package may slice in ways Navet does not read, bind to ValueSets it lacks and use FHIRPath Navet cannot compile: a lenient set skips them and says so; Navet's own are strict", () => {
    const profile = () =>
      sd([
        {
          id: 'Patient.gender',
          path: 'Patient.gender',
          binding: { strength: 'required', valueSet: 'https://example.org/ValueSet/missing' },
        },
        {
          id: 'Patient.name',
          path: 'Patient.name',
          constraint: [{ key: 'x-1', severity: 'error', human: 'h', expression: 'name.where(' }],
        },
        { id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 },
        { id: 'Patient.identifier:fnr', path: 'Patient.identifier', sliceName: 'fnr', min: 1 },
        { id: 'Patient.identifier:fnr.value', path: 'Patient.identifier.value', min: 1 },
      ]);
    expect(() => new ProfileSet([profile()])).toThrow(/slicing Navet does not read at Patient.identifier:fnr/);
    expect(() => new ProfileSet([sd(profile().differential.element.slice(0, 2))])).toThrow(
      /no ValueSet https:\/\/example.org\/ValueSet\/missing/,
    );
    const lenient = new ProfileSet([profile()], { lenient: true });
    expect(lenient.skipped).toEqual([
      'Patient.identifier:fnr: slicing',
      'Patient.identifier:fnr.value: slicing',
      'Patient.gender: binding to https://example.org/ValueSet/missing',
      'Patient.name: constraint x-1',
    ]);
    expect(lenient.validate(patient({ gender: 'x' }), URL).map((i) => [i.code, i.expression?.[0]])).toEqual([
      ['required', 'Patient.birthDate'],
    ]);
  });

  test('a ValueSet including a whole CodeSystem the set holds allows its concepts (nested ones too); of a system it lacks, any code; a unit code bound to UCUM must be UCUM', () => {
    const codeSystem = {
      resourceType: 'CodeSystem',
      url: 'https://example.org/CodeSystem/source',
      concept: [{ code: 'A', concept: [{ code: 'A1' }] }, { code: 'B' }],
    };
    const valueSet = (url: string, system: string): ValueSet => ({
      resourceType: 'ValueSet',
      url,
      compose: { include: [{ system }] },
    });
    const set = new ProfileSet([
      sd([
        {
          id: 'Patient.identifier.system',
          path: 'Patient.identifier.system',
          binding: { strength: 'required', valueSet: 'https://example.org/ValueSet/source' },
        },
        {
          id: 'Patient.gender',
          path: 'Patient.gender',
          binding: { strength: 'required', valueSet: 'https://example.org/ValueSet/elsewhere' },
        },
        {
          id: 'Patient.extension:weight',
          path: 'Patient.extension',
          sliceName: 'weight',
          type: [{ code: 'Extension', profile: ['https://example.org/StructureDefinition/weight'] }],
        },
        {
          id: 'Patient.extension:weight.value[x]:valueQuantity.code',
          path: 'Patient.extension.value[x].code',
          binding: { strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/ucum-units' },
        },
      ]),
      codeSystem as never,
      valueSet('https://example.org/ValueSet/source', codeSystem.url),
      valueSet('https://example.org/ValueSet/elsewhere', 'https://example.org/CodeSystem/unknown'),
      valueSet('http://hl7.org/fhir/ValueSet/ucum-units', 'http://unitsofmeasure.org'),
    ]);
    const texts = (p: object) => set.validate(patient(p), URL).map((i) => i.text);
    expect(texts({ identifier: [{ system: 'A1' }, { system: 'B' }], gender: 'other' })).toEqual([]);
    expect(texts({ identifier: [{ system: 'C' }] })).toEqual([
      "test-patient: Patient.identifier.system: 'C' is not allowed; use one of A, A1, B",
    ]);
    const weight = (code: string) => ({
      extension: [
        { url: 'https://example.org/StructureDefinition/weight', valueQuantity: { value: 70, code } },
        { url: 'https://example.org/other', valueQuantity: { code: 'kilo' } },
      ],
    });
    expect(texts(weight('kg'))).toEqual([]);
    expect(texts(weight('kilo'))).toEqual([
      "test-patient: Patient.extension:weight.valueQuantity.code: 'kilo' is not a UCUM unit; use e.g. mmol/L, g/dL, 10*9/L, mm[Hg]",
    ]);
  });

  test("a child's min counts within each value of its nearest ancestor in the differential; with none named, within the resource", () => {
    const named = new ProfileSet([
      sd([
        { id: 'Patient.contact', path: 'Patient.contact', max: '2' },
        { id: 'Patient.contact.name', path: 'Patient.contact.name', min: 1 },
        { id: 'Patient.communication.language', path: 'Patient.communication.language', min: 1 },
      ]),
    ]);
    const expressions = (p: FhirResource) => named.validate(p, URL).map((i) => `${i.code} ${i.expression?.[0]}`);
    const language = { communication: [{ language: { text: 'norsk' } }] };
    expect(expressions(patient(language))).toEqual([]);
    expect(expressions(patient({ ...language, contact: [{ name: { text: 'a' } }, { gender: 'male' }] }))).toEqual([
      'required Patient.contact.name',
    ]);
    expect(
      expressions(
        patient({ ...language, contact: [{ name: { text: 'a' } }, { name: { text: 'b' } }, { name: { text: 'c' } }] }),
      ),
    ).toEqual(['invalid Patient.contact']);
    expect(expressions(patient())).toEqual(['required Patient.communication.language']);
  });

  test("constraints carry their own error code, or the profile's; a resource of another type is refused whole", () => {
    const set = new ProfileSet([
      sd(
        [
          {
            id: 'Patient.name',
            path: 'Patient.name',
            constraint: [
              {
                key: 't-1',
                severity: 'error',
                human: 'A name needs a family',
                expression: 'name.all(family.exists())',
                extension: [
                  { url: 'https://navet.example/fhir/StructureDefinition/error-code', valueCode: 'NAVET-TEST-NAME' },
                ],
              },
              { key: 't-2', severity: 'error', human: 'At most one name', expression: 'name.count() <= 1' },
              { key: 't-3', severity: 'warning', human: 'A warning is not refused', expression: 'false' },
            ],
          },
        ],
        { extension: [{ url: 'https://navet.example/fhir/StructureDefinition/error-code', valueCode: 'NAVET-TEST' }] },
      ),
    ]);
    expect(
      set.validate(patient({ name: [{ given: ['a'] }, { family: 'b' }] }), URL, 'Bundle.entry[1].resource'),
    ).toEqual([
      {
        severity: 'error',
        code: 'invariant',
        navetCode: 'NAVET-TEST-NAME',
        text: 'A name needs a family (test-patient t-1)',
        expression: ['Bundle.entry[1].resource.name'],
      },
      {
        severity: 'error',
        code: 'invariant',
        navetCode: 'NAVET-TEST',
        text: 'At most one name (test-patient t-2)',
        expression: ['Bundle.entry[1].resource.name'],
      },
    ]);
    expect(set.validate({ resourceType: 'Practitioner' }, URL).map((i) => [i.code, i.expression?.[0], i.text])).toEqual(
      [['structure', 'resourceType', 'test-patient profiles Patient, not Practitioner']],
    );
    expect(
      set
        .validateBundle({
          resourceType: 'Bundle',
          entry: [{ resource: patient({ name: [{}, {}] }) }, { resource: { resourceType: 'Practitioner' } }, {}],
        })
        .map((i) => i.expression?.[0]),
    ).toEqual(['Bundle.entry[0].resource.name', 'Bundle.entry[0].resource.name']);
  });
});
