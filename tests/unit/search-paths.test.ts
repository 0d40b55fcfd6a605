import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import path from 'node:path';
import { searchParametersOf } from '../../src/fhir/search-parameters';
import { compileSearchPath, type PathModel } from '../../src/fhir/search-paths';
import type { FhirResource } from '../../src/fhir/types';
import { buildSeedResources, type GeneratorSettings, loadGeneratorSettings } from '../../src/sandbox/seed-resources';
import { buildSeedCriticalInformation } from '../../src/services/critical-info/seed-critical-information';
import { buildSeedDocuments } from '../../src/services/documents/seed-documents';
import { buildSeedLabResults } from '../../src/services/lab-results/seed-lab-results';
import { buildSeedMedicationLists } from '../../src/services/medication-list/seed-medication-lists';

/** The direct code for plain search paths gives exactly what the FHIRPath engine gives, on every seeded resource. */
const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'demo');
const model = r4Model as unknown as PathModel;

async function seedOf(settings: GeneratorSettings): Promise<FhirResource[]> {
  const people = buildSeedResources(FIXTURES, settings);
  const patients = people.filter((r) => r.resourceType === 'Patient');
  const lists = buildSeedMedicationLists(patients, settings);
  const critical = buildSeedCriticalInformation(patients, settings);
  return [
    ...people,
    ...(await buildSeedDocuments(patients, settings)),
    ...lists.flatMap((l) => [l.resource, ...(l.history ?? [])]),
    ...critical.flatMap((c) => [c.resource, ...(c.history ?? []).map((h) => h.resource)]),
    ...buildSeedLabResults(patients, settings),
  ].map((r) => ({
    ...r,
    meta: { ...(r.meta as object | undefined), versionId: '1', lastUpdated: '2026-01-01T00:00:00.000Z' },
  }));
}

const VENDOR_SHAPES: FhirResource[] = [
  // primitive extensions, choice values of several types, unions with duplicates: the engine's cases
  {
    resourceType: 'Patient',
    id: 'x',
    birthDate: '1970-01-01',
    _birthDate: { extension: [{ url: 'http://example.org/x', valueString: 'y' }] },
    name: [{ family: 'A', given: ['B', 'C'], _given: [null, { id: 'g' }] }],
    telecom: [
      { system: 'phone', value: '1' },
      { system: 'email', value: 'a@b' },
    ],
    deceasedBoolean: false,
  },
  {
    resourceType: 'Observation',
    id: 'o',
    status: 'final',
    code: { coding: [{ system: 's', code: 'c' }] },
    component: [{ code: { coding: [{ system: 's', code: 'c' }] }, valueQuantity: { value: 1000, unit: 'mg' } }],
    valueQuantity: { value: 1, unit: 'g', system: 'http://unitsofmeasure.org', code: 'g' },
    effectivePeriod: { start: '2020-01-01' },
    subject: { reference: 'Patient/x' },
  },
  { resourceType: 'Organization', id: 'g', name: 'N', alias: ['N', 'M'] },
  { resourceType: 'Condition', id: 'c', subject: { reference: 'Group/1' }, onsetAge: { value: 3, unit: 'a' } },
];

describe('search paths as direct code', () => {
  let resources: FhirResource[] = [];
  beforeAll(async () => {
    const settings = loadGeneratorSettings(FIXTURES);
    resources = [
      ...(await seedOf(settings)),
      ...(await seedOf({
        ...settings,
        seed: 5,
        syntheticPatients: 60,
        documentsPerPatient: 2,
        labReportsPerPatient: 3,
      })),
      ...VENDOR_SHAPES,
    ];
  });

  test('agree with fhirpath on every parameter of every seeded resource, and run direct for nearly all', () => {
    let direct = 0;
    let total = 0;
    const differences: string[] = [];
    const compiledPaths = new Map<string, ReturnType<typeof compileSearchPath>>();
    const engines = new Map<string, (r: FhirResource) => unknown>();
    for (const resource of resources) {
      for (const definition of searchParametersOf(resource.resourceType).values()) {
        const key = definition.expression;
        if (!engines.has(key)) engines.set(key, fhirpath.compile(key, r4Model) as (r: FhirResource) => unknown);
        const expected = engines.get(key)?.(resource);
        if (!compiledPaths.has(key)) compiledPaths.set(key, compileSearchPath(key, model));
        const compiled = compiledPaths.get(key);
        const got = compiled?.(resource);
        total++;
        if (got === undefined) continue;
        direct++;
        if (JSON.stringify(got) !== JSON.stringify(expected))
          differences.push(
            `${resource.resourceType}/${resource.id} ${key}: ${JSON.stringify(got)} ≠ ${JSON.stringify(expected)}`,
          );
      }
    }
    expect(differences.slice(0, 10)).toEqual([]);
    expect(resources.length).toBeGreaterThan(5000);
    expect(direct / total).toBeGreaterThan(0.95);
  });

  test('leave to the engine what they do not cover', () => {
    expect(compileSearchPath('Patient.deceased.exists() and Patient.deceased != false', model)).toBeUndefined();
    expect(compileSearchPath('Bundle.entry[0].resource', model)).toBeUndefined();
    const patient = VENDOR_SHAPES[0];
    expect(compileSearchPath('Patient.birthDate', model)?.(patient)).toBeUndefined();
    expect(compileSearchPath('Patient.name.given', model)?.(patient)).toBeUndefined();
    expect(compileSearchPath("Patient.telecom.where(system='email')", model)?.(patient)).toEqual([
      { system: 'email', value: 'a@b' },
    ]);
    expect(compileSearchPath('Organization.name | Organization.alias', model)?.(VENDOR_SHAPES[2])).toBeUndefined();
  });
});
