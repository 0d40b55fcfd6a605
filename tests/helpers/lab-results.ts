import { FNR_SYSTEM } from './documents';
import { vits } from './helseid-client';

/** A lab's submission: a transaction Bundle of one report as NILAR shapes it, with the parts a test varies. */
export const NILAR = 'http://nhn.no/fhir/nilar/StructureDefinition';
export const EHELSE = (n: string) => `http://ehelse.no/fhir/CodeSystem/no-kodeverk-${n}`;

export interface LabBundleOptions {
  nin?: string;
  subject?: Record<string, unknown>;
  reportId?: string;
  status?: string;
  collected?: string;
  /** Observations as [NLK code, value, UCUM unit]. */
  results?: [string, number, string][];
  categorySystem?: string;
  codeSystem?: string;
  omitCategory?: boolean;
  omitAccession?: boolean;
}

export function labBundle(options: LabBundleOptions = {}) {
  const collected = options.collected ?? '2026-10-05T08:15:00+02:00';
  const subject = options.subject ?? { identifier: { system: FNR_SYSTEM, value: options.nin } };
  const report = 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000001';
  const results = options.results ?? [
    ['NPU02319', 13.1, 'g/dL'],
    ['NPU19748', 12, 'mg/L'],
  ];
  const observations = results.map(([code, value, unit], i) => ({
    fullUrl: `urn:uuid:0a1b2c3d-0000-4000-8000-00000000010${i}`,
    resource: {
      resourceType: 'Observation',
      status: options.status ?? 'final',
      extension: [{ url: `${NILAR}/diagnosticreportref`, valueReference: { reference: report } }],
      identifier: [
        {
          system: 'http://nhn.no/fhir/nilar/NamingSystem/ResultItemId',
          value: `${options.reportId ?? 'R-1'}-${i + 1}`,
        },
      ],
      code: { coding: [{ system: options.codeSystem ?? EHELSE('7280'), code, display: code }] },
      subject,
      effectiveDateTime: collected,
      valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
      interpretation: [{ coding: [{ system: EHELSE('8244'), code: 'N' }] }],
      specimen: { reference: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000002' },
    },
    request: { method: 'POST', url: 'Observation' },
  }));
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: report,
        resource: {
          resourceType: 'DiagnosticReport',
          status: options.status ?? 'final',
          extension: [{ url: `${NILAR}/nilar-report-date`, valueDateTime: '2026-10-06T10:00:00+02:00' }],
          identifier: [
            { system: 'http://nhn.no/fhir/nilar/NamingSystem/ServReportId', value: options.reportId ?? 'R-1' },
          ],
          basedOn: [{ reference: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000003' }],
          ...(options.omitCategory
            ? {}
            : {
                category: [
                  {
                    coding: [
                      { system: options.categorySystem ?? EHELSE('8202'), code: 'LAB', display: 'Medisinsk biokjemi' },
                    ],
                  },
                ],
              }),
          code: { coding: [{ system: options.categorySystem ?? EHELSE('8202'), code: 'LAB', display: 'Blodprøver' }] },
          subject,
          effectiveDateTime: collected,
          issued: '2026-10-06T10:00:00+02:00',
          performer: [{ reference: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000004' }],
          specimen: [{ reference: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000002' }],
        },
        request: { method: 'POST', url: 'DiagnosticReport' },
      },
      {
        fullUrl: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000002',
        resource: {
          resourceType: 'Specimen',
          subject,
          ...(options.omitAccession
            ? {}
            : {
                accessionIdentifier: {
                  system: 'http://nhn.no/fhir/nilar/NamingSystem/AnalysedSubjectId',
                  value: `A-${options.reportId ?? 'R-1'}`,
                },
              }),
          type: { coding: [{ system: EHELSE('8351'), code: 'B', display: 'Blod' }] },
          collection: { collectedDateTime: collected },
        },
        request: { method: 'POST', url: 'Specimen' },
      },
      {
        fullUrl: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000003',
        resource: {
          resourceType: 'ServiceRequest',
          status: 'completed',
          intent: 'order',
          subject,
          identifier: [
            { system: 'http://nhn.no/fhir/nilar/NamingSystem/ServReqId', value: `REQ-${options.reportId ?? 'R-1'}` },
          ],
          requester: { reference: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000005' },
        },
        request: { method: 'POST', url: 'ServiceRequest' },
      },
      {
        fullUrl: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000004',
        resource: {
          resourceType: 'PractitionerRole',
          practitioner: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '9144897' } },
          organization: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: '974557746' } },
        },
        request: { method: 'POST', url: 'PractitionerRole' },
      },
      {
        fullUrl: 'urn:uuid:0a1b2c3d-0000-4000-8000-000000000005',
        resource: {
          resourceType: 'PractitionerRole',
          practitioner: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.4', value: '565501872' } },
          organization: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.101', value: '100100673' } },
        },
        request: { method: 'POST', url: 'PractitionerRole' },
      },
      ...observations,
    ],
  };
}

/** The attestation of the GP Grønn Vits (LE, HPR 565501872) at Fagersta Testlegekontor. */
export const gpAttestation = (): Record<string, unknown> => vits();
