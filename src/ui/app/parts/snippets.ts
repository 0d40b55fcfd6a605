/** Copyable calls of one service for one client, filled in with the sandbox's URLs. */
export interface ClientInfo {
  clientId: string;
  name?: string;
  scopes: string[];
  organization?: { parent?: string; child?: string };
  tenancy?: string;
  dpop?: boolean;
  jwks?: { keys: { kid?: string; kty?: string; alg?: string }[] };
}

export interface ServiceCall {
  service: string;
  title: string;
  scope: string;
  audience: string;
  /** The curl arguments after the URL. */
  curl: (base: string) => string;
  path: string;
  method: 'GET' | 'POST';
  /** The request body and headers the library call sends. */
  body?: { contentType: string; text: string };
  headers?: Record<string, string>;
}

const EXAMPLE_PATIENT = '13116900216';

/** One typical call per service, by the scope that allows it (shapes as in the README's examples). */
export const SERVICE_CALLS: ServiceCall[] = [
  {
    service: 'pjd',
    title: 'PJD: find documents (ITI-67)',
    scope: 'nhn:phr/mhd/read-documentreferences',
    audience: 'nhn:phr',
    method: 'POST',
    path: '/R4/fhir/DocumentReference/_search',
    body: {
      contentType: 'application/x-www-form-urlencoded',
      text: `patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|${EXAMPLE_PATIENT}`,
    },
    curl: (base) =>
      `curl -s -X POST "${base}/R4/fhir/DocumentReference/_search" -H "Authorization: Bearer $TOKEN" \\\n  -H 'nhn-source-system: my-epr' --data-urlencode 'patient.identifier=urn:oid:2.16.578.1.12.4.1.4.1|${EXAMPLE_PATIENT}'`,
  },
  {
    service: 'criticalInformation',
    title: 'Kjernejournal: critical information status',
    scope: 'nhn:kjernejournal/api',
    audience: 'nhn:kjernejournal',
    method: 'POST',
    path: '/status',
    body: { contentType: 'application/json', text: `{"nin": "${EXAMPLE_PATIENT}"}` },
    headers: { 'nhn-access-basis': 'SAMTYKKE' },
    curl: (base) =>
      `curl -s -X POST "${base}/status" -H "Authorization: Bearer $TOKEN" -H 'nhn-source-system: my-epr' \\\n  -H 'nhn-access-basis: SAMTYKKE' -H 'Content-Type: application/json' -d '{"nin": "${EXAMPLE_PATIENT}"}'`,
  },
  {
    service: 'sfm',
    title: 'SFM: the medication list ($getMedication)',
    scope: 'e-helse:sfm.api/sfm.api2',
    audience: 'e-helse:sfm.api',
    method: 'POST',
    path: '/Patient/$getMedication',
    body: {
      contentType: 'application/fhir+json',
      text: `{"resourceType": "Parameters", "parameter": [{"name": "patient", "resource": {"resourceType": "Patient", "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "${EXAMPLE_PATIENT}"}]}}, {"name": "SamtykkeKjernejournal", "valueCoding": {"code": "HPMOTTATTSAMTYKKE"}}]}`,
    },
    curl: (base) =>
      `curl -s -X POST "${base}/Patient/\\$getMedication" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/fhir+json' \\\n  -d '{"resourceType": "Parameters", "parameter": [{"name": "patient", "resource": {"resourceType": "Patient",\n    "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "${EXAMPLE_PATIENT}"}]}},\n    {"name": "SamtykkeKjernejournal", "valueCoding": {"code": "HPMOTTATTSAMTYKKE"}}]}'`,
  },
  {
    service: 'pps',
    title: 'PPS: lab results',
    scope: 'nhn:pps/provesvar-read',
    audience: 'nhn:pps',
    method: 'POST',
    path: '/DiagnosticReport/_search',
    body: { contentType: 'application/x-www-form-urlencoded', text: 'date=ge2021-01-01' },
    headers: { 'person-id': EXAMPLE_PATIENT, 'access-basis': 'behandling' },
    curl: (base) =>
      `curl -s -X POST "${base}/DiagnosticReport/_search" -H "Authorization: Bearer $TOKEN" \\\n  -H 'person-id: ${EXAMPLE_PATIENT}' -H 'access-basis: behandling' --data-urlencode 'date=ge2021-01-01'`,
  },
  {
    service: 'citizen',
    title: 'Citizen: who looked at my record',
    scope: 'navet:citizen',
    audience: 'navet:citizen',
    method: 'GET',
    path: '/access-log',
    curl: (base) => `curl -s "${base}/access-log" -H "Authorization: Bearer $TOKEN"`,
  },
];

/** A health worker of the client's organisation, as the sandbox has them (for a runnable attestation). */
export interface Worker {
  name: string;
  pid: string;
  hpr: string;
  authorization: string;
}

function attestation(client: ClientInfo, worker?: Worker): string {
  const legal = client.organization?.parent ?? '<orgnr of the legal entity>';
  const care = client.organization?.child ?? legal;
  return `{"type": "nhn:tillitsrammeverk:parameters",
  "practitioner": {"identifier": {"id": "${worker?.pid ?? "<the health worker's fødselsnummer>"}", "system": "urn:oid:2.16.578.1.12.4.1.4.1"},
    "hpr_nr": {"id": "${worker?.hpr ?? '<HPR number>'}", "system": "urn:oid:2.16.578.1.12.4.1.4.4"}, "authorization": {"code": "${worker?.authorization ?? 'LE'}", "system": "urn:oid:2.16.578.1.12.4.1.1.9060"},
    "legal_entity": {"id": "${legal}", "system": "urn:oid:2.16.578.1.12.4.1.4.101"}, "point_of_care": {"id": "${care}", "system": "urn:oid:2.16.578.1.12.4.1.4.101"}},
  "care_relationship": {"healthcare_service": {"code": "S03", "system": "urn:oid:2.16.578.1.12.4.1.1.8655"},
    "purpose_of_use": {"code": "TREAT", "system": "urn:oid:2.16.840.1.113883.1.11.20448"},
    "decision_ref": {"id": "vedtak-1", "user_selected": false}}, "patients": [{}]}`;
}

/** A test token (no login, admin key) and the call: for trying a service by hand. */
export function curlSnippet(
  client: ClientInfo,
  call: ServiceCall,
  helseid: string,
  base: string,
  worker?: Worker,
): string {
  const citizen = call.service === 'citizen';
  const body = citizen
    ? `'{"clientId": "${client.clientId}", "scopes": ["${call.scope}"], "user": {"pid": "${EXAMPLE_PATIENT}"}}'`
    : `"{\\"clientId\\": \\"${client.clientId}\\", \\"scopes\\": [\\"${call.scope}\\"], \\"attestation\\": $ATT}"`;
  return [
    '# KEY = the sandbox admin key (the test-token service needs it; real clients log in with private_key_jwt)',
    ...(citizen
      ? []
      : [
          `${worker ? `# ${worker.name} at ${client.organization?.child ?? client.organization?.parent}\n` : ''}ATT='${attestation(client, worker)}'`,
        ]),
    `TOKEN=$(curl -s -X POST "${helseid}/create-test-token" -H "X-Auth-Key: $KEY" -H 'Content-Type: application/json' \\\n  -d ${body} | jq -r .access_token)`,
    call.curl(base),
  ].join('\n');
}

/** The same call from Node with the standard openid-client library: private_key_jwt, DPoP, the attestation. */
export function librarySnippet(
  client: ClientInfo,
  call: ServiceCall,
  helseid: string,
  base: string,
  worker?: Worker,
): string {
  if (call.service === 'citizen') {
    return `// The citizen's API takes a user token: log in with the authorization code flow (PAR, PKCE) at\n// ${helseid}/connect/authorize, where the test identity provider lets you pick the test person.`;
  }
  const headers = {
    'nhn-source-system': 'my-epr',
    ...call.headers,
    ...(call.body ? { 'Content-Type': call.body.contentType } : {}),
  };
  const alg = client.jwks?.keys[0]?.alg ?? 'RS256';
  const dpop = client.dpop !== false;
  return `// npm install openid-client@5   — your client's private key as a JWK in private-key.json
const { generateKeyPairSync } = require('node:crypto');
const { Issuer } = require('openid-client');
const privateJwk = require('./private-key.json');
const attestation = ${attestation(client, worker).replace(/\n/g, '\n  ')};

(async () => {
  const issuer = await Issuer.discover('${helseid}');
  const client = new issuer.Client(
    { client_id: '${client.clientId}', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: '${alg}' },
    { keys: [privateJwk] });
  ${dpop ? "const DPoP = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;" : 'const DPoP = undefined; // this client is registered without DPoP'}
  const tokens = await client.grant({ grant_type: 'client_credentials', scope: '${call.scope}', resource: '${call.audience}' },
    { clientAssertionPayload: { assertion_details: [attestation] }, DPoP });
  const response = await client.requestResource('${base}${call.path}', tokens, { method: '${call.method}', DPoP,
    headers: ${JSON.stringify(headers)},${call.body ? `\n    body: ${JSON.stringify(call.body.text)},` : ''} });
  console.log(response.statusCode, response.body.toString());
})();`;
}
