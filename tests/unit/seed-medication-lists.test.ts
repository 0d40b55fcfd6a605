import path from 'node:path';
import type { FhirResource } from '../../src/fhir/types';
import { buildSeedResources } from '../../src/sandbox/seed-resources';
import { buildSeedMedicationLists } from '../../src/services/medication-list/seed-medication-lists';
import { SFM_PROFILES } from '../../src/services/medication-list/sfm-profiles';

const fixtures = path.resolve(__dirname, '..', '..', 'fixtures', 'demo');
const settings = { seed: 11, referenceDate: '2026-01-01', syntheticPatients: 60 };
const patientsOf = (s: typeof settings) => buildSeedResources(fixtures, s).filter((r) => r.resourceType === 'Patient');
const lists = (seeds: ReturnType<typeof buildSeedMedicationLists>) =>
  seeds.filter((s) => s.resource.resourceType === 'List');
/** The List id of a patient's PLL, found by the patient's number (seeded ids are opaque). */
const listIdOf = (patients: FhirResource[], nin: string) =>
  `pll-${patients.find((p) => (p.identifier as { value: string }[])[0].value === nin)?.id}`;
const versionedRefs = (list: FhirResource) =>
  (list.entry as { item: { reference: string } }[]).map((e) => e.item.reference);

describe('the seed medication lists', () => {
  test('the same settings give byte-identical lists; another seed gives others', () => {
    const first = buildSeedMedicationLists(patientsOf(settings), settings);
    expect(JSON.stringify(buildSeedMedicationLists(patientsOf(settings), settings))).toBe(JSON.stringify(first));
    expect(
      JSON.stringify(buildSeedMedicationLists(patientsOf({ ...settings, seed: 12 }), { ...settings, seed: 12 })),
    ).not.toBe(JSON.stringify(first));
  });

  test('a realistic share of patients, multidose among them, both SFM test persons, version histories that hold together', () => {
    const seeds = buildSeedMedicationLists(patientsOf(settings), settings);
    const patients = patientsOf(settings);
    const found = lists(seeds);
    expect(found.length / patients.length).toBeGreaterThan(0.2);
    expect(found.length / patients.length).toBeLessThan(0.7);
    expect(found.map((l) => l.resource.id)).toEqual(
      expect.arrayContaining([listIdOf(patients, '10086148248'), listIdOf(patients, '25039296929')]),
    );
    expect(
      found.filter((l) => JSON.stringify(l.resource.extension).includes('"valueBoolean":true')).length,
    ).toBeGreaterThan(0);
    expect(found.find((l) => l.resource.id === listIdOf(patients, '25039296929'))?.history).toHaveLength(2);
    // every versioned entry of every list version names a statement version that the seed holds
    const statements = new Map(
      seeds.filter((s) => s.resource.resourceType === 'MedicationStatement').map((s) => [s.resource.id as string, s]),
    );
    for (const list of found) {
      for (const version of [...(list.history ?? []), list.resource]) {
        for (const reference of versionedRefs(version)) {
          const [, id, , v] = reference.split('/');
          const seed = statements.get(id);
          expect(seed).toBeDefined();
          expect(Number(v)).toBeLessThanOrEqual((seed?.history?.length ?? 0) + 1);
        }
      }
    }
  });

  test('the sfm profiles accept a well-formed bundle and name what is wrong in a broken one', () => {
    const patient = {
      resourceType: 'Patient',
      identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: '25039296929' }],
    };
    const good = {
      resourceType: 'Bundle',
      type: 'document',
      entry: [
        {
          resource: {
            resourceType: 'Composition',
            status: 'final',
            type: { coding: [{ system: 'http://loinc.org', code: '11503-0' }] },
            section: [
              {
                code: {
                  coding: [{ system: 'http://ehelse.no/fhir/CodeSystem/sfm-section-types', code: 'sectionMedication' }],
                },
              },
            ],
          },
        },
        { fullUrl: 'urn:uuid:p', resource: patient },
      ],
    };
    expect(SFM_PROFILES.validateBundle(good)).toEqual([]);
    const broken = { ...good, type: 'collection', entry: [good.entry[1]] };
    expect(SFM_PROFILES.validateBundle(broken).map((i) => [i.navetCode, i.expression?.[0]])).toEqual([
      ['NAVET-SFM-BUNDLE-TYPE', 'Bundle.type'],
      ['NAVET-SFM-COMPOSITION-MISSING', 'Bundle.entry'],
    ]);
  });
});
