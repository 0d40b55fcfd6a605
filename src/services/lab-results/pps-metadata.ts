import type { FhirResource } from '../../fhir/types';
import { NILAR_PROFILE } from './pps-codes';
import { INCLUDES, REVINCLUDES } from './search-results';

/** The CapabilityStatement of PPS (`GET|POST <pps>/metadata`): the two searches and their parameters. */
export function ppsCapabilityStatement(ppsBase: string): FhirResource {
  const params = [
    { name: '_id', type: 'token' },
    { name: 'date', type: 'date', documentation: 'effective time; prefixes eq, lt, gt (also ge, le)' },
    { name: '_tag', type: 'token', documentation: 'the codes NILAR puts in meta.tag (analysis, category)' },
    { name: '_count', type: 'number', documentation: 'page size (default 50, at most 1000)' },
    { name: '_skip', type: 'number', documentation: 'paging offset' },
  ];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-23',
    kind: 'instance',
    software: { name: 'Navet: Pasientens prøvesvar (sandbox)', version: '0.1.0' },
    implementation: { description: 'Navet sandbox of Pasientens prøvesvar (PPS, formerly NILAR)', url: ppsBase },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: {
          description:
            'HelseID access token (DPoP) with audience nhn:pps and scope nhn:pps/provesvar-read (or nhn:pps/provesvar); headers person-id, access-basis, requester-hpr-role, correlation-id',
        },
        resource: [
          {
            type: 'DiagnosticReport',
            supportedProfile: [NILAR_PROFILE.diagnosticReport],
            interaction: [{ code: 'search-type' }],
            searchParam: params,
            searchInclude: INCLUDES.DiagnosticReport,
            searchRevInclude: REVINCLUDES.DiagnosticReport,
          },
          {
            type: 'Observation',
            supportedProfile: [NILAR_PROFILE.observation],
            interaction: [{ code: 'search-type' }],
            searchParam: params,
            searchInclude: INCLUDES.Observation,
            searchRevInclude: REVINCLUDES.Observation,
          },
          { type: 'Specimen', supportedProfile: [NILAR_PROFILE.specimen] },
          { type: 'ServiceRequest', supportedProfile: [NILAR_PROFILE.serviceRequest] },
          { type: 'PractitionerRole', supportedProfile: [NILAR_PROFILE.practitionerRole] },
        ],
        interaction: [
          { code: 'transaction', documentation: 'Navet only: a lab submits results (scope navet:pps/submit-result)' },
        ],
      },
    ],
  };
}
