import type { FhirResource } from '../fhir/types';
import { SERVICE_DISPLAYS, type ServiceName } from '../audit/audit-event';
import { ownValue } from '../own-value';

/**
 * The citizen's view of one AuditEvent: when, which organisation, the practitioner's name and role, why,
 * and what was seen. Built field by field from named elements, so that no identifier of the practitioner
 * (fødselsnummer, ATT-8) can slip through.
 */
export interface CitizenAccessEntry {
  time: string;
  service: string;
  seen: string;
  documentsOrEntries: number;
  organisation?: string;
  pointOfCare?: string;
  department?: string;
  practitioner?: { name?: string; role?: string };
  purpose?: string;
  careRelation?: string;
  system?: string;
}

interface Named {
  id?: string;
  name?: string | { text?: string }[];
  code?: { coding?: { display?: string; code?: string }[] }[];
}
interface AuditShape {
  recorded: string;
  contained?: (FhirResource & Named)[];
  source?: { observer?: { identifier?: { value?: string } } };
  subtype?: { display?: string }[];
  purposeOfEvent?: { coding?: { code?: string; display?: string }[] }[];
  agent?: { requestor?: boolean; who?: { display?: string; identifier?: { value?: string } } }[];
  entity?: { role?: { code?: string }; description?: string; what?: { reference?: string } }[];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}

export function citizenAccessEntry(resource: FhirResource): CitizenAccessEntry {
  const event = resource as unknown as AuditShape;
  const contained = new Map((event.contained ?? []).map((r) => [r.id, r]));
  const practitioner = contained.get('practitioner');
  const role = contained.get('agent')?.code?.[0]?.coding?.[0];
  const service = event.source?.observer?.identifier?.value as ServiceName | undefined;
  const [purpose, careRelation] = event.purposeOfEvent?.[0]?.coding ?? [];
  const patientEntity = event.entity?.find((e) => e.role?.code === '1');
  const practitionerName = Array.isArray(practitioner?.name) ? text(practitioner.name[0]?.text) : undefined;
  const entry: CitizenAccessEntry = {
    time: event.recorded,
    service: service ? (ownValue(SERVICE_DISPLAYS, service) ?? service) : 'ukjent',
    seen: text(patientEntity?.description) ?? text(event.subtype?.[0]?.display) ?? 'journalopplysninger',
    // the records seen, not their stored content (a document and its Binary are one thing to the citizen)
    documentsOrEntries: (event.entity ?? []).filter(
      (e) => e.role?.code === '4' && !e.what?.reference?.startsWith('Binary/'),
    ).length,
  };
  const organisation = text(contained.get('legal-entity')?.name);
  const pointOfCare = text(contained.get('point-of-care')?.name);
  const department = text(contained.get('department')?.name);
  if (organisation) entry.organisation = organisation;
  if (pointOfCare && pointOfCare !== organisation) entry.pointOfCare = pointOfCare;
  if (department) entry.department = department;
  if (practitionerName || role)
    entry.practitioner = {
      ...(practitionerName ? { name: practitionerName } : {}),
      ...(role ? { role: role.display ?? role.code } : {}),
    };
  if (purpose) entry.purpose = purpose.display ?? purpose.code;
  if (careRelation) entry.careRelation = careRelation.display ?? careRelation.code;
  const system = event.agent?.find((a) => a.requestor === false)?.who?.display;
  if (system) entry.system = system;
  return entry;
}
