import { randomUUID } from 'node:crypto';
import type { Bundle, DiagnosticReport, FhirResource, MedicationStatement, Parameters, Patient } from 'fhir/r4';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { NavetError } from '../codes/navet-error';

/**
 * The service operations a scenario step can call (`service.operation`): for each, the audience and scope
 * of its token and how the real request is built. Nothing here reaches around a service's own API.
 */
export type ServiceKey = 'pjd' | 'critical-information' | 'sfm' | 'pps' | 'citizen';

export interface ServiceRequest {
  service: ServiceKey;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Below the service's base (may hold a query), or an absolute URL (ITI-68 links). */
  path: string;
  /** A FHIR resource body: sent through the FHIR client. */
  resource?: object;
  json?: unknown;
  form?: [string, string][];
  headers?: Record<string, string>;
  /** The answer is bytes (a document), not JSON. */
  binary?: boolean;
}

export type Params = Record<string, unknown>;

export interface OperationContext {
  /** The citizen's own fødselsnummer, for citizen actors. */
  citizenNin?: string;
}

export interface Operation {
  service: ServiceKey;
  name: string;
  audience: string;
  scope: string;
  description: string;
  build(params: Params, context: OperationContext): Promise<ServiceRequest> | ServiceRequest;
}

const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const VOLVEN_9602 = 'urn:oid:2.16.578.1.12.4.1.1.9602';
const KJ = 'http://nhn.no/kj/fhir/';
const EHELSE = (n: string) => `http://ehelse.no/fhir/CodeSystem/no-kodeverk-${n}`;
const NILAR = 'http://nhn.no/fhir/nilar/StructureDefinition';

/** A step's `with:` that the operation cannot use. */
export class OperationInputError extends NavetError {
  static override readonly code = 'NAVET-SCENARIO-STEP-INPUT';
}

function text(params: Params, name: string, fallback?: string): string {
  const value = params[name] ?? fallback;
  if (typeof value !== 'string' && typeof value !== 'number')
    throw new OperationInputError(`'with.${name}' is required (a string)`);
  return String(value);
}

function patientOf(params: Params, context: OperationContext): string {
  const nin = params.patient ?? context.citizenNin;
  if (typeof nin !== 'string' || !/^\d{11}$/.test(nin))
    throw new OperationInputError("'with.patient' must be an 11-digit fødselsnummer or D-number");
  return nin;
}

function objectParam<T>(params: Params, name: string): T {
  const value = params[name];
  if (!value || typeof value !== 'object')
    throw new OperationInputError(`'with.${name}' must be an object (often a value captured by an earlier step)`);
  return structuredClone(value) as T;
}

async function documentPdf(lines: string[]): Promise<string> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const page = pdf.addPage([595, 842]);
  lines.forEach((line, i) =>
    page.drawText(line.replace(/[^\x20-\x7E\u00C0-\u00FF]/g, '?'), { x: 56, y: 780 - i * 20, size: 12, font }),
  );
  return Buffer.from(await pdf.save({ useObjectStreams: false })).toString('base64');
}

const accessBasis = (params: Params): Record<string, string> =>
  params.accessBasis ? { 'nhn-access-basis': String(params.accessBasis) } : {};

const pjd: Operation[] = [
  {
    service: 'pjd',
    name: 'provide-document',
    audience: 'nhn:phr',
    scope: 'navet:pjd/provide-document',
    description: 'ITI-65: publish a document (a PDF made from with.text) as the document source',
    build: async (params, context) => {
      const nin = patientOf(params, context);
      const title = text(params, 'title');
      const [list, document, binary] = [randomUUID(), randomUUID(), randomUUID()].map((id) => `urn:uuid:${id}`);
      const bundle: Bundle<FhirResource> = {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          {
            fullUrl: list,
            resource: { resourceType: 'List', status: 'current', mode: 'working' },
            request: { method: 'POST', url: 'List' },
          },
          {
            fullUrl: document,
            request: { method: 'POST', url: 'DocumentReference' },
            resource: {
              resourceType: 'DocumentReference',
              status: 'current',
              date: new Date().toISOString(),
              subject: { identifier: { system: FNR, value: nin } },
              category: [{ coding: [{ system: VOLVEN_9602, code: text(params, 'category', 'A00-1') }] }],
              type: {
                coding: [
                  {
                    system: VOLVEN_9602,
                    code: text(params, 'type', 'A03-2'),
                    display: text(params, 'typeDisplay', 'Epikrise'),
                  },
                ],
              },
              content: [
                {
                  attachment: { url: binary, title },
                  format: { system: 'urn:oid:1.3.6.1.4.1.19376.1.2.3', code: 'urn:no:ehelse:document:pdf' },
                },
              ],
            },
          },
          {
            fullUrl: binary,
            resource: {
              resourceType: 'Binary',
              contentType: 'application/pdf',
              data: await documentPdf([title, ...String(params.text ?? '').split('\n')]),
            },
            request: { method: 'POST', url: 'Binary' },
          },
        ],
      };
      return { service: 'pjd', method: 'POST', path: '/R4/fhir', resource: bundle };
    },
  },
  {
    service: 'pjd',
    name: 'find-document-references',
    audience: 'nhn:phr',
    scope: 'nhn:phr/mhd/read-documentreferences',
    description: "ITI-67: the patient's document references (POST _search, form-encoded)",
    build: (params, context) => ({
      service: 'pjd',
      method: 'POST',
      path: '/R4/fhir/DocumentReference/_search',
      form: [
        ['patient.identifier', patientOf(params, context)],
        ['status', 'current'],
        ['_sort', '-date'],
        ['_count', text(params, 'count', '20')],
      ],
      headers: accessBasis(params),
    }),
  },
  {
    service: 'pjd',
    name: 'retrieve-document',
    audience: 'nhn:phr',
    scope: 'nhn:phr/mhd/read-document',
    description: "ITI-68: a document's bytes from its DocumentReference's attachment URL",
    build: (params, context) => ({
      service: 'pjd',
      method: 'GET',
      path: text(params, 'url'),
      headers: { 'nhn-patient-nin': patientOf(params, context) },
      binary: true,
    }),
  },
];

const SFM_SCOPE = 'e-helse:sfm.api/sfm.api2';
const sfm: Operation[] = [
  {
    service: 'sfm',
    name: 'get-medication',
    audience: 'e-helse:sfm.api',
    scope: SFM_SCOPE,
    description: '$getMedication: the PLL from Reseptformidleren and allergies/dispenses from Kjernejournal',
    build: (params, context) => {
      const input: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          {
            name: 'patient',
            resource: {
              resourceType: 'Patient',
              identifier: [{ system: FNR, value: patientOf(params, context) }],
            } as Patient,
          },
          ...(params.consent === 'none'
            ? []
            : [{ name: 'SamtykkeKjernejournal', valueCoding: { code: text(params, 'consent', 'HPMOTTATTSAMTYKKE') } }]),
        ],
      };
      return { service: 'sfm', method: 'POST', path: '/Patient/$getMedication', resource: input };
    },
  },
  {
    service: 'sfm',
    name: 'send-medication',
    audience: 'e-helse:sfm.api',
    scope: SFM_SCOPE,
    description:
      '$sendMedication: send the reconciled list back (with.medication: the Bundle from $getMedication; with.dosage: new dosage text of the first statement)',
    build: (params) => {
      const bundle = objectParam<Bundle<FhirResource>>(params, 'medication');
      if (params.dosage !== undefined) {
        const statement = bundle.entry?.find((e) => e.resource?.resourceType === 'MedicationStatement')?.resource as
          MedicationStatement | undefined;
        if (!statement)
          throw new OperationInputError("'with.medication' has no MedicationStatement whose dosage could change");
        statement.dosage = [{ text: text(params, 'dosage') }];
      }
      const input: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'medication', resource: bundle }] };
      return { service: 'sfm', method: 'POST', path: '/Patient/$sendMedication', resource: input };
    },
  },
  {
    service: 'sfm',
    name: 'patient-ticket',
    audience: 'e-helse:sfm.api',
    scope: SFM_SCOPE,
    description: 'data sharing: a patient ticket for home care',
    build: (params, context) => ({
      service: 'sfm',
      method: 'POST',
      path: '/api/PatientTicket',
      json: { patientPid: patientOf(params, context) },
    }),
  },
  {
    service: 'sfm',
    name: 'medication-list',
    audience: 'e-helse:sfm.api',
    scope: SFM_SCOPE,
    description: 'data sharing: the current PLL by patient ticket (GET /List)',
    build: (params) => ({
      service: 'sfm',
      method: 'GET',
      path: `/List?patientTicket=${encodeURIComponent(text(params, 'ticket'))}&summary=false`,
    }),
  },
];

const KJ_SCOPE = 'nhn:kjernejournal/api';
const criticalInformation: Operation[] = [
  {
    service: 'critical-information',
    name: 'status',
    audience: 'nhn:kjernejournal',
    scope: KJ_SCOPE,
    description: "POST /status: whether the patient has critical information, and the patient's privacy settings",
    build: (params, context) => ({
      service: 'critical-information',
      method: 'POST',
      path: '/status',
      json: { nin: patientOf(params, context) },
      headers: accessBasis(params),
    }),
  },
  {
    service: 'critical-information',
    name: 'register-allergy',
    audience: 'nhn:kjernejournal',
    scope: KJ_SCOPE,
    description:
      'POST /AllergyIntolerance: register a drug reaction (with.substance, with.code: an ActiveSubstance id)',
    build: (params, context) => {
      const nin = patientOf(params, context);
      return {
        service: 'critical-information',
        method: 'POST',
        path: '/AllergyIntolerance',
        headers: { 'nhn-patient-nin': nin, ...accessBasis(params) },
        resource: {
          resourceType: 'AllergyIntolerance',
          meta: { profile: [`${KJ}StructureDefinition/KjAllergyIntolerance`] },
          clinicalStatus: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }],
          },
          verificationStatus: {
            coding: [
              { system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', code: 'confirmed' },
            ],
          },
          category: ['medication'],
          criticality: text(params, 'criticality', 'high'),
          code: {
            coding: [
              {
                system: `${KJ}CodeSystem/ActiveSubstance`,
                code: text(params, 'code'),
                display: text(params, 'substance'),
                userSelected: true,
              },
            ],
          },
          patient: { identifier: { system: FNR, value: nin } },
        },
      };
    },
  },
  {
    service: 'critical-information',
    name: 'read-allergies',
    audience: 'nhn:kjernejournal',
    scope: KJ_SCOPE,
    description: "GET /AllergyIntolerance: the patient's allergies (with.accessBasis, e.g. AKUTT)",
    build: (params, context) => ({
      service: 'critical-information',
      method: 'GET',
      path: '/AllergyIntolerance',
      headers: { 'nhn-patient-nin': patientOf(params, context), ...accessBasis(params) },
    }),
  },
];

const pps: Operation[] = [
  {
    service: 'pps',
    name: 'submit-results',
    audience: 'nhn:pps',
    scope: 'navet:pps/submit-result',
    description: 'the lab submits a report (with.report: its id; with.results: [[NLK code, value, UCUM unit], …])',
    build: (params, context) => ({
      service: 'pps',
      method: 'POST',
      path: '/',
      resource: labBundle(
        patientOf(params, context),
        text(params, 'report'),
        params.results as [string, number, string][] | undefined,
      ),
    }),
  },
  {
    service: 'pps',
    name: 'search-reports',
    audience: 'nhn:pps',
    scope: 'nhn:pps/provesvar-read',
    description: "POST /DiagnosticReport/_search: the patient's lab results",
    build: (params, context) => ({
      service: 'pps',
      method: 'POST',
      path: '/DiagnosticReport/_search',
      form: [['_count', text(params, 'count', '50')]],
      headers: {
        'person-id': patientOf(params, context),
        'access-basis': text(params, 'accessBasis', 'behandling'),
        'correlation-id': randomUUID(),
      },
    }),
  },
];

const CITIZEN = 'navet:citizen';
const citizen: Operation[] = [
  {
    service: 'citizen',
    name: 'access-log',
    audience: CITIZEN,
    scope: CITIZEN,
    description: 'who has looked at my record',
    build: () => ({ service: 'citizen', method: 'GET', path: '/access-log?_count=50' }),
  },
  {
    service: 'citizen',
    name: 'privacy',
    audience: CITIZEN,
    scope: CITIZEN,
    description: 'my privacy choices',
    build: () => ({ service: 'citizen', method: 'GET', path: '/privacy' }),
  },
  {
    service: 'citizen',
    name: 'block-lab-results',
    audience: CITIZEN,
    scope: CITIZEN,
    description: 'block (with.blocked: true) or unblock my lab results',
    build: (params) => ({
      service: 'citizen',
      method: 'PUT',
      path: '/privacy/lab-results',
      json: { blocked: params.blocked !== false },
    }),
  },
  {
    service: 'citizen',
    name: 'reserve-kjernejournal',
    audience: CITIZEN,
    scope: CITIZEN,
    description: 'reserve myself against Kjernejournal (with.reserved: true) or withdraw it',
    build: (params) => ({
      service: 'citizen',
      method: 'PUT',
      path: '/privacy/kjernejournal-reservation',
      json: { reserved: params.reserved !== false },
    }),
  },
];

export const OPERATIONS: ReadonlyMap<string, Operation> = new Map(
  [...pjd, ...sfm, ...criticalInformation, ...pps, ...citizen].map((op) => [`${op.service}.${op.name}`, op]),
);

/** A NILAR-shaped submission of one report with its specimen, request and performer. */
function labBundle(
  nin: string,
  reportId: string,
  results: [string, number, string][] = [
    ['NPU02319', 13.1, 'g/dL'],
    ['NPU19748', 12, 'mg/L'],
  ],
): Bundle<FhirResource> {
  const subject = { identifier: { system: FNR, value: nin } };
  const now = new Date().toISOString();
  const [report, specimen, request, performer] = [1, 2, 3, 4].map(() => `urn:uuid:${randomUUID()}`);
  const observations = results.map(([code, value, unit], i) => ({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'Observation' as const,
      status: 'final' as const,
      extension: [{ url: `${NILAR}/diagnosticreportref`, valueReference: { reference: report } }],
      identifier: [{ system: 'http://nhn.no/fhir/nilar/NamingSystem/ResultItemId', value: `${reportId}-${i + 1}` }],
      code: { coding: [{ system: EHELSE('7280'), code, display: code }] },
      subject,
      effectiveDateTime: now,
      valueQuantity: { value, unit, system: 'http://unitsofmeasure.org', code: unit },
      interpretation: [{ coding: [{ system: EHELSE('8244'), code: 'N' }] }],
      specimen: { reference: specimen },
    },
    request: { method: 'POST' as const, url: 'Observation' },
  }));
  const diagnosticReport: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    status: 'final',
    extension: [{ url: `${NILAR}/nilar-report-date`, valueDateTime: now }],
    identifier: [{ system: 'http://nhn.no/fhir/nilar/NamingSystem/ServReportId', value: reportId }],
    basedOn: [{ reference: request }],
    category: [{ coding: [{ system: EHELSE('8202'), code: 'LAB', display: 'Medisinsk biokjemi' }] }],
    code: { coding: [{ system: EHELSE('8202'), code: 'LAB', display: 'Blodprøver' }] },
    subject,
    effectiveDateTime: now,
    issued: now,
    performer: [{ reference: performer }],
    specimen: [{ reference: specimen }],
  };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: report, resource: diagnosticReport, request: { method: 'POST', url: 'DiagnosticReport' } },
      {
        fullUrl: specimen,
        request: { method: 'POST', url: 'Specimen' },
        resource: {
          resourceType: 'Specimen',
          subject,
          accessionIdentifier: {
            system: 'http://nhn.no/fhir/nilar/NamingSystem/AnalysedSubjectId',
            value: `A-${reportId}`,
          },
          type: { coding: [{ system: EHELSE('8351'), code: 'B', display: 'Blod' }] },
          collection: { collectedDateTime: now },
        },
      },
      {
        fullUrl: request,
        request: { method: 'POST', url: 'ServiceRequest' },
        resource: {
          resourceType: 'ServiceRequest',
          status: 'completed',
          intent: 'order',
          subject,
          identifier: [{ system: 'http://nhn.no/fhir/nilar/NamingSystem/ServReqId', value: `REQ-${reportId}` }],
        },
      },
      {
        fullUrl: performer,
        request: { method: 'POST', url: 'PractitionerRole' },
        resource: { resourceType: 'PractitionerRole' },
      },
      ...observations,
    ],
  };
}
