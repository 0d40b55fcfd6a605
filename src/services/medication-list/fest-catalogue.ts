import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FhirResource } from '../../fhir/types';
import { PROFILE, SFM } from './sfm-codes';

/**
 * Navet's small built-in FEST-like catalogue (profiles/sfm-fest-catalogue.json): the medicines a send may
 * name. The real FEST has ~10,000 packages; a sandbox needs only enough for realistic lists.
 */
export interface FestMedicine {
  festId: string;
  name: string;
  atc: string;
  substance: string;
  dosageForm: string;
  defaultDosage: string;
}

interface CatalogueFile {
  dosageForms: Record<string, string>;
  medicines: FestMedicine[];
}

const FILE = path.join(__dirname, '..', '..', '..', 'profiles', 'sfm-fest-catalogue.json');
const catalogue = JSON.parse(readFileSync(FILE, 'utf8')) as CatalogueFile;
const byId = new Map(catalogue.medicines.map((m) => [m.festId.toUpperCase(), m]));

export const FEST_MEDICINES: readonly FestMedicine[] = catalogue.medicines;

export function festMedicine(festId: string): FestMedicine | undefined {
  return byId.get(festId.toUpperCase());
}

/** The store id of a catalogue Medication: `ID_<GUID>` has an underscore, which FHIR ids do not allow. */
export function medicationId(festId: string): string {
  return `fest-${festId.slice(3).toLowerCase()}`;
}

/** The FEST id of a store id made by medicationId, or of an `ID_<GUID>` given as it is. */
export function festIdOf(id: string): string | undefined {
  if (/^ID_/i.test(id)) return festMedicine(id)?.festId;
  const guid = /^fest-([0-9a-f-]{36})$/.exec(id)?.[1];
  return guid ? festMedicine(`ID_${guid}`)?.festId : undefined;
}

/** The sfm-Medication of a catalogue entry: FEST code with display, ATC, Volven 7448 dosage form. */
export function medicationResource(medicine: FestMedicine): FhirResource {
  return {
    resourceType: 'Medication',
    id: medicationId(medicine.festId),
    meta: { profile: [PROFILE.medication] },
    code: {
      coding: [
        { system: SFM.fest, code: medicine.festId, display: medicine.name },
        { system: SFM.atc, code: medicine.atc, display: medicine.substance },
      ],
      text: medicine.name,
    },
    form: {
      coding: [
        {
          system: SFM.dosageForm,
          code: medicine.dosageForm,
          display: catalogue.dosageForms[medicine.dosageForm] ?? medicine.dosageForm,
        },
      ],
    },
    extension: [
      {
        url: 'http://ehelse.no/fhir/StructureDefinition/sfm-productgroup',
        valueCoding: { system: SFM.productGroup, code: 'L', display: 'Legemiddel' },
      },
    ],
  };
}
