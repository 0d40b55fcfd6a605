/** The parts of FHIR resources the dashboard shows (loosely: seeded and vendor data vary). */
export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}
export interface CodeableConcept {
  coding?: Coding[];
  text?: string;
}
export interface Identifier {
  system?: string;
  value?: string;
}
export interface Reference {
  reference?: string;
  display?: string;
  identifier?: Identifier;
}
export interface HumanName {
  family?: string;
  given?: string[];
  text?: string;
}
export interface Extension {
  url: string;
  valueString?: string;
  valueBoolean?: boolean;
  valueDateTime?: string;
  valueReference?: Reference;
  extension?: Extension[];
}
export interface Quantity {
  value?: number;
  unit?: string;
  code?: string;
}

export interface Resource {
  resourceType: string;
  id?: string;
  meta?: { versionId?: string; lastUpdated?: string };
  extension?: Extension[];
  contained?: Resource[];
}

export interface Patient extends Resource {
  identifier?: Identifier[];
  name?: HumanName[];
  birthDate?: string;
  gender?: string;
}

export interface ContainedPerson extends Resource {
  name?: HumanName[] | string;
  practitioner?: Reference;
  organization?: Reference;
  code?: CodeableConcept[];
}

export interface DocumentReference extends Resource {
  status?: string;
  type?: CodeableConcept;
  category?: CodeableConcept[];
  date?: string;
  description?: string;
  author?: Reference[];
  securityLabel?: CodeableConcept[];
  content?: { attachment: { contentType?: string; url?: string; hash?: string; size?: number; title?: string } }[];
}

export interface CriticalEntry extends Resource {
  code?: CodeableConcept;
  category?: (CodeableConcept | string)[];
  criticality?: string;
  clinicalStatus?: CodeableConcept;
  verificationStatus?: CodeableConcept;
  status?: string;
  recordedDate?: string;
}

export interface MedicationList extends Resource {
  date?: string;
  source?: Reference;
  entry?: { item: Reference }[];
}

export interface MedicationStatement extends Resource {
  status?: string;
  medicationReference?: Reference;
  medicationCodeableConcept?: CodeableConcept;
  dosage?: { text?: string }[];
}

export interface Observation extends Resource {
  code?: CodeableConcept;
  effectiveDateTime?: string;
  issued?: string;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  valueString?: string;
  interpretation?: CodeableConcept[];
  referenceRange?: { low?: Quantity; high?: Quantity; text?: string }[];
}

export interface DiagnosticReport extends Resource {
  code?: CodeableConcept;
  status?: string;
  effectiveDateTime?: string;
  issued?: string;
  conclusion?: string;
  result?: Reference[];
}

export interface AuditEvent extends Resource {
  recorded?: string;
  outcome?: string;
  outcomeDesc?: string;
  subtype?: Coding[];
  purposeOfEvent?: CodeableConcept[];
  source?: { observer?: Reference & { identifier?: Identifier } };
  agent?: { type?: CodeableConcept; who?: Reference; requestor?: boolean }[];
  entity?: { what?: Reference; role?: Coding; type?: Coding; query?: string; description?: string }[];
}

export function codeText(concept: CodeableConcept | undefined): string {
  if (!concept) return '';
  return concept.text ?? concept.coding?.find((c) => c.display)?.display ?? concept.coding?.[0]?.code ?? '';
}

export function nameText(names: HumanName[] | undefined): string {
  const name = names?.[0];
  if (!name) return '';
  return name.text ?? [...(name.given ?? []), name.family ?? ''].join(' ').trim();
}

export const FNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.1';

export function ninOf(patient: Patient): string {
  return patient.identifier?.find((i) => i.system === FNR_SYSTEM)?.value ?? patient.identifier?.[0]?.value ?? '';
}

export function extension(resource: Resource, url: string): Extension | undefined {
  return resource.extension?.find((e) => e.url === url);
}
