import type { PractitionerRole } from 'fhir/r4';
import type { FhirResource, R4Resource } from '../../fhir/types';
import { PANELS } from './lab-catalogue';
import { buildLabReport } from './lab-report';
import { NILAR_PROFILE } from './pps-codes';
import type { GeneratorSettings } from '../../sandbox/seed-resources';
import { SYSTEMS } from '../../codes/code-systems';
import { createFaker } from '../../sandbox/seed/synthetic';
import { seedToken } from '../../sandbox/seed/resources';

/**
 * The seed's lab results (PPS): four of five patients get 1–3 reports over the last five years —
 * biochemistry panels with reference ranges and interpretations, microbiology, a few pathology and
 * radiology reports — from the fixtures' hospital labs, requested by the patient's GP. Volume mode
 * (`labReportsPerPatient`): that many reports per patient, each a DiagnosticReport with its Specimen; a
 * volume sandbox of documents (`documentsPerPatient`) alone gets none.
 */
const DAY_MS = 24 * 60 * 60 * 1000;
export const SEED_LABS = [
  { orgnr: '974557746', name: 'Haukeland universitetssjukehus, Laboratorium for klinisk biokjemi', hpr: '9144897' },
  { orgnr: '874716782', name: 'Oslo universitetssykehus, Rikshospitalet', hpr: '9144900' },
];
/** The GP office and doctor who request most tests (Grønn Vits, Fagersta Testlegekontor). */
const GP = { orgnr: '100100673', hpr: '565501872' };

function practitionerRole(id: string, hpr: string, orgnr: string, name?: string): PractitionerRole {
  return {
    resourceType: 'PractitionerRole',
    id,
    meta: { profile: [NILAR_PROFILE.practitionerRole] },
    practitioner: { identifier: { system: SYSTEMS.hpr, value: hpr } },
    organization: { identifier: { system: SYSTEMS.orgnr, value: orgnr }, ...(name ? { display: name } : {}) },
  };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export function buildSeedLabResults(patients: FhirResource[], settings: GeneratorSettings): R4Resource[] {
  return [...seedLabResults(patients, settings)];
}

/** The lab results one by one, in the order `buildSeedLabResults` lists them (a volume seed is never held whole). */
export function* seedLabResults(patients: FhirResource[], settings: GeneratorSettings): Generator<R4Resource> {
  const faker = createFaker(settings.seed + 8202);
  const reference = Date.parse(`${settings.referenceDate}T12:00:00Z`);
  const roles = [
    practitionerRole('pps-requester-gp', GP.hpr, GP.orgnr),
    ...SEED_LABS.map((lab) => practitionerRole(`pps-lab-${lab.orgnr}`, lab.hpr, lab.orgnr, lab.name)),
  ];
  const volume = settings.labReportsPerPatient;
  // a volume sandbox for documents gets no lab results unless it asks for them too
  if (volume === undefined && settings.documentsPerPatient !== undefined) return;
  yield* roles;
  const biochemistry = PANELS.filter((p) => p.discipline === 'LAB');
  for (const [index, patient] of patients.entries()) {
    if (volume === undefined && index % 5 === 4) continue;
    const nin = (patient.identifier as { value: string }[])[0].value;
    const count = volume ?? faker.number.int({ min: 1, max: 3 });
    for (let n = 0; n < count; n++) {
      // mostly biochemistry; now and then microbiology, pathology or radiology
      const panel =
        volume !== undefined || faker.number.int({ min: 0, max: 9 }) < 7
          ? faker.helpers.arrayElement(biochemistry)
          : faker.helpers.arrayElement(PANELS.filter((p) => p.discipline !== 'LAB'));
      const lab = faker.helpers.arrayElement(SEED_LABS);
      const collected =
        reference -
        faker.number.int({ min: 1, max: 5 * 365 }) * DAY_MS -
        faker.number.int({ min: 0, max: 8 * 3600 }) * 1000;
      const values =
        panel.analyses.length > 0
          ? panel.analyses.map((x) =>
              Number(
                Math.max(0, x.mean + faker.number.float({ min: -1, max: 1 }) * x.spread * 1.5).toFixed(x.decimals),
              ),
            )
          : [faker.number.int({ min: 0, max: 99 })];
      yield* buildLabReport({
        id: `lab-${seedToken(nin)}-${n + 1}`,
        patient: { id: patient.id as string, nin },
        panel,
        values,
        collected: iso(collected),
        reported: iso(collected + DAY_MS),
        lab: { orgnr: lab.orgnr, name: lab.name },
        requesterRole: 'pps-requester-gp',
        performerRole: `pps-lab-${lab.orgnr}`,
        minimal: volume !== undefined,
      });
    }
  }
}
