import type { DiagnosticReport, Observation, Reference, ServiceRequest, Specimen } from 'fhir/r4';
import { identifierSystemOf, SYSTEMS } from '../../codes/code-systems';
import { DISCIPLINES, type Panel } from './lab-catalogue';
import { NILAR_EXTENSION, NILAR_PROFILE, PPS_IDENTIFIER, UCUM, volven } from './pps-codes';
import { labResultTags } from './result-tags';

/**
 * One lab or radiology report as NILAR stores it: DiagnosticReport, ServiceRequest, Specimen and the
 * Observations, with ids derived from `id` (so the seed is deterministic) and the source tagged.
 */
export interface LabReportInput {
  id: string;
  patient: { id?: string; nin: string };
  panel: Panel;
  /** When the specimen was taken; the report follows a day later. */
  collected: string;
  reported: string;
  /** The lab (organisation number and name). */
  lab: { orgnr: string; name: string };
  /** The requester's PractitionerRole id, and the lab's. */
  requesterRole: string;
  performerRole: string;
  /** One value per analysis (or the finding's index). */
  values: number[];
  /** Volume mode: no ServiceRequest and no Observations. */
  minimal?: boolean;
}

const interpretation = (value: number, low?: number, high?: number) => {
  const code = high !== undefined && value > high ? 'H' : low !== undefined && value < low ? 'L' : 'N';
  const display = { H: 'Høy', L: 'Lav', N: 'Normal' }[code];
  return [{ coding: [{ system: volven('8244'), code, display }] }];
};
const quantity = (value: number, unit: string) => ({ value, unit, system: UCUM, code: unit });

export function buildLabReport(input: LabReportInput): (DiagnosticReport | ServiceRequest | Specimen | Observation)[] {
  const { id, panel, patient } = input;
  const subject: Reference = {
    ...(patient.id ? { reference: `Patient/${patient.id}` } : {}),
    identifier: { system: identifierSystemOf(patient.nin), value: patient.nin },
  };
  const category = {
    coding: [{ system: volven('8202'), code: panel.discipline, display: DISCIPLINES[panel.discipline] }],
  };
  const reportRef = { reference: `DiagnosticReport/${id}` };
  const specimen: Specimen | undefined = panel.specimen
    ? {
        resourceType: 'Specimen',
        id: `${id}-sp`,
        meta: { profile: [NILAR_PROFILE.specimen] },
        accessionIdentifier: { system: PPS_IDENTIFIER.analysedSubjectId, value: `${input.lab.orgnr}-${id}` },
        status: 'available',
        type: { coding: [{ system: volven('8351'), code: panel.specimen.code, display: panel.specimen.display }] },
        subject,
        collection: { collectedDateTime: input.collected },
      }
    : undefined;
  const observations: Observation[] = input.minimal
    ? []
    : panel.findings
      ? [
          {
            resourceType: 'Observation',
            id: `${id}-o1`,
            meta: { profile: [NILAR_PROFILE.observation] },
            extension: [{ url: NILAR_EXTENSION.diagnosticReportRef, valueReference: reportRef }],
            identifier: [{ system: PPS_IDENTIFIER.resultItemId, value: `${id}-1` }],
            status: 'final',
            category: [category],
            code: { coding: [{ system: volven('7280'), code: panel.findings.code, display: panel.findings.display }] },
            subject,
            effectiveDateTime: input.collected,
            issued: input.reported,
            valueCodeableConcept: { text: panel.findings.results[input.values[0] % panel.findings.results.length] },
            ...(specimen ? { specimen: { reference: `Specimen/${specimen.id}` } } : {}),
          },
        ]
      : panel.analyses.map((analysis, i): Observation => ({
          resourceType: 'Observation',
          id: `${id}-o${i + 1}`,
          meta: { profile: [NILAR_PROFILE.observation] },
          extension: [{ url: NILAR_EXTENSION.diagnosticReportRef, valueReference: reportRef }],
          identifier: [{ system: PPS_IDENTIFIER.resultItemId, value: `${id}-${i + 1}` }],
          status: 'final',
          category: [category],
          code: { coding: [{ system: volven('7280'), code: analysis.code, display: analysis.display }] },
          subject,
          effectiveDateTime: input.collected,
          issued: input.reported,
          valueQuantity: quantity(input.values[i], analysis.unit),
          interpretation: interpretation(input.values[i], analysis.low, analysis.high),
          referenceRange: [
            {
              ...(analysis.low !== undefined ? { low: quantity(analysis.low, analysis.unit) } : {}),
              ...(analysis.high !== undefined ? { high: quantity(analysis.high, analysis.unit) } : {}),
            },
          ],
          ...(specimen ? { specimen: { reference: `Specimen/${specimen.id}` } } : {}),
        }));
  const serviceRequest: ServiceRequest | undefined = input.minimal
    ? undefined
    : {
        resourceType: 'ServiceRequest',
        id: `${id}-sr`,
        meta: { profile: [NILAR_PROFILE.serviceRequest] },
        identifier: [{ system: PPS_IDENTIFIER.servReqId, value: `${id}-req` }],
        status: 'completed',
        intent: 'order',
        subject,
        code: { text: panel.name },
        requester: { reference: `PractitionerRole/${input.requesterRole}` },
        authoredOn: input.collected,
      };
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id,
    meta: { profile: [NILAR_PROFILE.diagnosticReport] },
    extension: [{ url: NILAR_EXTENSION.reportDate, valueDateTime: input.reported }],
    identifier: [{ system: PPS_IDENTIFIER.servReportId, value: `${input.lab.orgnr}-${id}` }],
    ...(serviceRequest ? { basedOn: [{ reference: `ServiceRequest/${serviceRequest.id}` }] } : {}),
    status: 'final',
    category: [category],
    code: { coding: [{ system: volven('8202'), code: panel.discipline, display: panel.name }], text: panel.name },
    subject,
    effectiveDateTime: input.collected,
    issued: input.reported,
    performer: [{ reference: `PractitionerRole/${input.performerRole}`, display: input.lab.name }],
    ...(specimen ? { specimen: [{ reference: `Specimen/${specimen.id}` }] } : {}),
    ...(observations.length > 0 ? { result: observations.map((o) => ({ reference: `Observation/${o.id}` })) } : {}),
    ...(panel.findings && !input.minimal
      ? { conclusion: panel.findings.results[input.values[0] % panel.findings.results.length] }
      : {}),
  };
  const all = [report, ...(serviceRequest ? [serviceRequest] : []), ...(specimen ? [specimen] : []), ...observations];
  for (const resource of all) {
    resource.meta = {
      ...resource.meta,
      tag: labResultTags(resource, input.lab.orgnr, resource === report ? observations : []),
    };
  }
  return all;
}
