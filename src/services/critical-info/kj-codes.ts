import path from 'node:path';
import { ProfileSet } from '../../fhir/profile-validation';
import type { FhirResource } from '../../fhir/types';

/** Audience, scope, code systems and profiles of Kjernejournal's critical-information API (specs/critical-information.md). */
export const KJ_AUDIENCE = 'nhn:kjernejournal';
export const KJ_API_SCOPE = 'nhn:kjernejournal/api';

const KJ = 'http://nhn.no/kj/fhir/';
export const KJ_SYSTEMS = {
  categoriesOfHealthProfessionals: `${KJ}CodeSystem/CategoriesOfHealthProfessionals`,
  sourceOfInformation: `${KJ}CodeSystem/SourceOfInformation`,
  drugTradeName: `${KJ}CodeSystem/DrugTradeName`,
  activeSubstance: `${KJ}CodeSystem/ActiveSubstance`,
  /** Not named by the spec: the category codes 3, 4, 5, 9, 10 are; this system URL and code 6 are Navet's. */
  category: `${KJ}CodeSystem/CriticalInformationCategory`,
  otherAllergy: 'urn:oid:2.16.578.1.12.4.1.1.7514',
  reactionType: 'urn:oid:2.16.578.1.12.4.1.1.7497',
  icd10: 'urn:oid:2.16.578.1.12.4.1.1.7110',
  atc: 'http://www.whocc.no/atc',
  allergyCategory: 'http://hl7.org/fhir/allergy-intolerance-category',
} as const;
export const KJ_EXTENSIONS = {
  sourceOfInformation: `${KJ}StructureDefinition/KjSourceOfInformation`,
  updatedDateTime: `${KJ}StructureDefinition/KjUpdatedDateTime`,
  presumed: `${KJ}StructureDefinition/KjPresumed`,
  inactiveIngredient: `${KJ}StructureDefinition/KjInactiveIngredient`,
} as const;
export const kjProfileUrl = (name: string): string => `${KJ}StructureDefinition/${name}`;

export const KJ_PROFILES = ProfileSet.fromFile(
  path.join(__dirname, '..', '..', '..', 'profiles', 'kjernejournal-critical-information.json'),
);

export type KjResourceType = 'AllergyIntolerance' | 'Condition' | 'Flag';
export const KJ_RESOURCE_TYPES: readonly KjResourceType[] = ['AllergyIntolerance', 'Condition', 'Flag'];

export interface CriticalInfoType {
  resourceType: KjResourceType;
  profile: string;
  /** AllergyIntolerance.category codes, or the category code of a Condition or Flag. */
  categories: string[];
  /** The key of the status object's `dateChanged`. */
  dateKey: string;
  display: string;
}

/** The critical-information types of the API's `criticalInfoType` parameter (and Navet's name for flags). */
export const CRITICAL_INFO_TYPES: Readonly<Record<string, CriticalInfoType>> = {
  DrugReaction: {
    resourceType: 'AllergyIntolerance',
    profile: 'KjAllergyIntolerance',
    categories: ['medication'],
    dateKey: 'allergyIntoleranceDate',
    display: 'Legemiddelreaksjon',
  },
  OtherAllergen: {
    resourceType: 'AllergyIntolerance',
    profile: 'KjAllergyIntolerance',
    categories: ['environment', 'food', 'biologic'],
    dateKey: 'allergyIntoleranceDate',
    display: 'Annen allergi',
  },
  CriticalMedicalCondition: {
    resourceType: 'Condition',
    profile: 'KjConditionCriticalMedicalCondition',
    categories: ['5'],
    dateKey: 'conditionCriticalMedicalConditionDate',
    display: 'Kritisk medisinsk tilstand',
  },
  Infection: {
    resourceType: 'Condition',
    profile: 'KjConditionInfection',
    categories: ['10'],
    dateKey: 'conditionInfectionDate',
    display: 'Smitte',
  },
  IntubationProblem: {
    resourceType: 'Condition',
    profile: 'KjConditionComplicationsOfAnesthesia',
    categories: ['3'],
    dateKey: 'conditionComplicationsOfAnesthesiaDate',
    display: 'Intubasjonsproblem',
  },
  OtherProblemWithAnesthesia: {
    resourceType: 'Condition',
    profile: 'KjConditionComplicationsOfAnesthesia',
    categories: ['4'],
    dateKey: 'conditionComplicationsOfAnesthesiaDate',
    display: 'Andre problemer ved anestesi',
  },
  TransplantsAndOtherForeignBodies: {
    resourceType: 'Condition',
    profile: 'KjConditionTransplantsAndOtherForeignBodies',
    categories: ['6'],
    dateKey: 'conditionTransplantsAndOtherForeignBodiesDate',
    display: 'Implantater og transplantater',
  },
  OtherProcedureChange: {
    resourceType: 'Flag',
    profile: 'KjFlag',
    categories: ['9'],
    dateKey: 'flagDate',
    display: 'Annen endring i behandlingsrutine',
  },
};

export const ALLERGY_TYPES = ['DrugReaction', 'OtherAllergen'];
export const CONDITION_TYPES = [
  'CriticalMedicalCondition',
  'Infection',
  'IntubationProblem',
  'OtherProblemWithAnesthesia',
  'TransplantsAndOtherForeignBodies',
];

const codingsOf = (value: unknown): { system?: unknown; code?: unknown }[] =>
  (Array.isArray(value) ? value : [])
    .flatMap((c) =>
      typeof c === 'object' && c !== null && Array.isArray((c as { coding?: unknown }).coding)
        ? (c as { coding: unknown[] }).coding
        : [],
    )
    .filter((c): c is { system?: unknown; code?: unknown } => typeof c === 'object' && c !== null);

/** The critical-information type of an entry, read off its category; undefined when it has none of ours. */
export function criticalInfoTypeOf(resource: FhirResource): string | undefined {
  if (resource.resourceType === 'AllergyIntolerance') {
    const category = Array.isArray(resource.category) ? resource.category[0] : undefined;
    return Object.entries(CRITICAL_INFO_TYPES).find(
      ([, t]) => t.resourceType === 'AllergyIntolerance' && t.categories.includes(String(category)),
    )?.[0];
  }
  const codes = codingsOf(resource.category)
    .filter((c) => c.system === KJ_SYSTEMS.category)
    .map((c) => String(c.code));
  return Object.entries(CRITICAL_INFO_TYPES).find(
    ([, t]) => t.resourceType === resource.resourceType && t.categories.some((c) => codes.includes(c)),
  )?.[0];
}
