import { searchParametersOf } from './search-parameters';
import type { FhirResource } from './types';
import { RESOURCE_TYPES } from './validate-resource';

/** The CapabilityStatement of a sandbox's FHIR API: exactly the interactions and parameters Navet serves. */
const cache = new Map<string, FhirResource>();

export function capabilityStatement(baseUrl: string, readOnlyTypes: ReadonlySet<string>): FhirResource {
  const cached = cache.get(baseUrl);
  if (cached) return cached;
  const resource = [...RESOURCE_TYPES].sort().map((type) => {
    const params = [...searchParametersOf(type).values()].filter((p) => p.code !== '_id' && p.code !== '_lastUpdated');
    const writable = !readOnlyTypes.has(type);
    const referenceParams = params.filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`);
    return {
      type,
      versioning: 'versioned-update',
      readHistory: true,
      updateCreate: true,
      conditionalCreate: writable,
      conditionalUpdate: false,
      conditionalDelete: 'not-supported',
      interaction: (writable
        ? ['read', 'vread', 'update', 'delete', 'history-instance', 'history-type', 'create', 'search-type']
        : ['read', 'vread', 'history-instance', 'history-type', 'search-type']
      ).map((code) => ({ code })),
      searchInclude: referenceParams,
      searchRevInclude: [],
      searchParam: [
        { name: '_id', type: 'token' },
        { name: '_lastUpdated', type: 'date' },
        ...params.map((p) => ({ name: p.code, type: p.type, documentation: `FHIRPath: ${p.expression}` })),
      ],
    };
  });
  const statement: FhirResource = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-23',
    kind: 'instance',
    software: { name: 'Navet', version: '0.1.0' },
    implementation: {
      description: 'Navet sandbox FHIR API (admin surface for seeding and inspecting sandbox data)',
      url: baseUrl,
    },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        security: { description: 'Authorization: Bearer <the sandbox admin key>' },
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        searchParam: [
          { name: '_count', type: 'number', documentation: 'page size, at most 1000 (default 20)' },
          { name: '_offset', type: 'number', documentation: 'paging offset, as used in next/previous links' },
          { name: '_sort', type: 'string' },
          { name: '_include', type: 'string' },
          { name: '_revinclude', type: 'string' },
          { name: '_summary', type: 'token', documentation: 'count only' },
          { name: '_total', type: 'token', documentation: 'none or accurate' },
          { name: '_elements', type: 'string' },
        ],
      },
    ],
  };
  cache.set(baseUrl, statement);
  return statement;
}
