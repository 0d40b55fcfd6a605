import path from 'node:path';
import { buildSeedResources } from '../../src/sandbox/seed-resources';
import { buildSeedLabResults } from '../../src/services/lab-results/seed-lab-results';
import { NILAR_PROFILES } from '../../src/services/lab-results/nilar-profiles';

const fixtures = path.resolve(__dirname, '..', '..', 'fixtures', 'demo');
const settings = { seed: 11, referenceDate: '2026-01-01', syntheticPatients: 40 };
const patientsOf = (s: typeof settings) => buildSeedResources(fixtures, s).filter((r) => r.resourceType === 'Patient');

describe('the seed lab results', () => {
  test('the same settings give byte-identical results; another seed gives others', () => {
    const first = buildSeedLabResults(patientsOf(settings), settings);
    expect(JSON.stringify(buildSeedLabResults(patientsOf(settings), settings))).toBe(JSON.stringify(first));
    expect(
      JSON.stringify(buildSeedLabResults(patientsOf({ ...settings, seed: 12 }), { ...settings, seed: 12 })),
    ).not.toBe(JSON.stringify(first));
  });

  test('most patients have results of several disciplines, all before the reference date, all valid against the NILAR profiles', () => {
    const patients = patientsOf(settings);
    const results = buildSeedLabResults(patients, settings);
    const reports = results.filter((r) => r.resourceType === 'DiagnosticReport');
    const withResults = new Set(reports.map((r) => (r.subject as { reference: string }).reference));
    expect(withResults.size / patients.length).toBeGreaterThanOrEqual(0.75);
    const disciplines = new Set(reports.map((r) => (r.category as { coding: { code: string }[] }[])[0].coding[0].code));
    expect([...disciplines].sort()).toEqual(['LAB', 'MBI', 'PAT', 'RAD']);
    expect(reports.every((r) => String(r.effectiveDateTime) < '2026-01-01')).toBe(true);
    const observations = results.filter((r) => r.resourceType === 'Observation');
    expect(observations.some((o) => Array.isArray(o.referenceRange) && Array.isArray(o.interpretation))).toBe(true);
    expect(results.flatMap((r) => NILAR_PROFILES.validateByType(r, r.resourceType))).toEqual([]);
  });

  test('volume mode: that many reports per patient, each a report with its specimen', () => {
    const volume = { ...settings, labReportsPerPatient: 3 };
    const results = buildSeedLabResults(patientsOf(volume), volume);
    const patients = patientsOf(volume).length;
    expect(results.filter((r) => r.resourceType === 'DiagnosticReport')).toHaveLength(3 * patients);
    expect(results.filter((r) => r.resourceType === 'Specimen')).toHaveLength(3 * patients);
    expect(results.filter((r) => r.resourceType === 'Observation')).toHaveLength(0);
  });
});

describe('the NILAR profiles', () => {
  const report = (extra: Record<string, unknown>) => ({
    resourceType: 'DiagnosticReport',
    status: 'final',
    identifier: [{ value: 'x' }],
    extension: [{ url: 'http://nhn.no/fhir/nilar/StructureDefinition/nilar-report-date', valueDateTime: '2026-01-01' }],
    category: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.8202', code: 'LAB' }] }],
    code: { coding: [{ system: 'http://helsedir.no/fhir/CodeSystem/no-kodeverk-8202', code: 'LAB' }] },
    ...extra,
  });
  test('a valid report passes; each broken element is named', () => {
    expect(NILAR_PROFILES.validateByType(report({}), 'R')).toEqual([]);
    const validateTexts = (extra: Record<string, unknown>) =>
      NILAR_PROFILES.validateByType(report(extra), 'R').map((i) => i.text);
    const expressions = (extra: Record<string, unknown>) =>
      NILAR_PROFILES.validateByType(report(extra), 'R').map((i) => i.expression?.[0]);
    expect(expressions({ category: undefined })).toEqual(['R.category']);
    expect(expressions({ category: [{ coding: [{ system: 'http://loinc.org', code: 'x' }] }] })).toEqual([
      'R.category',
    ]);
    expect(expressions({ category: [{ text: 'LAB' }] })).toEqual(['R.category.coding']);
    expect(expressions({ extension: [] })).toEqual(['R.extension:nilar-report-date']);
    expect(
      validateTexts({ extension: [{ url: 'http://nhn.no/fhir/nilar/StructureDefinition/nilar-report-date' }] }),
    ).toEqual(['nilar-diagnostic-report: R.extension:nilar-report-date needs a value: valueDateTime']);
    expect(expressions({ effectiveDateTime: 'yesterday' })).toEqual(['R.effective[x]']);
    expect(expressions({ status: 'done' })).toEqual(['R.status']);
  });
  test('UCUM units and value types of an Observation', () => {
    const observation = (value: Record<string, unknown>) =>
      NILAR_PROFILES.validateByType(
        {
          resourceType: 'Observation',
          status: 'final',
          extension: [
            {
              url: 'http://nhn.no/fhir/nilar/StructureDefinition/diagnosticreportref',
              valueReference: { reference: 'DiagnosticReport/1' },
            },
          ],
          code: { coding: [{ system: 'http://ehelse.no/fhir/CodeSystem/no-kodeverk-7280', code: 'NPU02319' }] },
          ...value,
        },
        'O',
      ).map((i) => i.expression?.[0]);
    expect(
      observation({
        valueQuantity: { value: 5.1, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
      }),
    ).toEqual([]);
    expect(observation({ valueQuantity: { value: 120, system: 'http://unitsofmeasure.org', code: 'mmHg' } })).toEqual([
      'O.valueQuantity',
    ]);
    expect(observation({ valueQuantity: { value: 120, system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } })).toEqual(
      [],
    );
    expect(observation({ valueQuantity: { value: 1, unit: 'mmol/L' } })).toEqual(['O.valueQuantity']);
    expect(observation({ valueString: 'high' })).toEqual(['O.value[x]']);
  });
});
