import type { AuditEvent, ContainedPerson } from '../fhir-types';

/** One access-log line: who, where, what, for whom, and whether it was allowed. */
export interface AuditLine {
  id: string;
  time: string;
  service: string;
  interaction: string;
  ok: boolean;
  /** For a rejection: the rule (e.g. ATT-43) and its text. */
  rule?: string;
  text?: string;
  practitioner?: string;
  organisation?: string;
  client?: string;
  patient?: string;
  purpose?: string;
}

export function auditLine(event: AuditEvent): AuditLine {
  const contained = new Map((event.contained ?? []).map((r) => [r.id, r as ContainedPerson]));
  const practitioner = contained.get('practitioner');
  const name = Array.isArray(practitioner?.name)
    ? (practitioner.name[0]?.text ??
      [practitioner.name[0]?.given?.join(' '), practitioner.name[0]?.family].filter(Boolean).join(' '))
    : undefined;
  const organisation = (contained.get('legal-entity') as { name?: string } | undefined)?.name;
  const pointOfCare = (contained.get('point-of-care') as { name?: string } | undefined)?.name;
  const system = event.agent?.find((a) => a.requestor === false)?.who;
  const [rule, ...text] = (event.outcomeDesc ?? '').split(': ');
  return {
    id: String(event.id),
    time: event.recorded ?? '',
    service: event.source?.observer?.identifier?.value ?? '',
    interaction: event.subtype?.[0]?.display ?? event.subtype?.[0]?.code ?? '',
    ok: event.outcome === '0',
    ...(event.outcome !== '0' ? { rule, text: text.join(': ') } : {}),
    practitioner: name,
    organisation: [organisation, pointOfCare && pointOfCare !== organisation ? pointOfCare : undefined]
      .filter(Boolean)
      .join(' · '),
    client: system?.identifier?.value ?? system?.display,
    patient: event.entity?.find((e) => e.role?.code === '1')?.what?.identifier?.value,
    purpose: event.purposeOfEvent?.[0]?.coding?.[0]?.display ?? event.purposeOfEvent?.[0]?.coding?.[0]?.code,
  };
}
