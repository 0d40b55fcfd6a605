#!/usr/bin/env node
/*
 * A discharge summary travels from a hospital to a GP while the citizen watches the access log:
 *   1. the hospital system publishes an epikrise for Line Danser (ITI-65, sandbox only);
 *   2. the GP's system finds it (ITI-67) and fetches the PDF (ITI-68), with HelseID tokens from a standard
 *      OAuth library (openid-client: private_key_jwt, DPoP, the tillitsrammeverk attestation);
 *   3. Line Danser reads who has looked at her record.
 *
 *   node examples/discharge-summary.js      # NAVET_URL=http://localhost:8080 SANDBOX=demo ADMIN_KEY=demo-key
 *
 * It uses the DEMO-ONLY keys of the demo clients from fixtures/demo; ADMIN_KEY is the sandbox's admin
 * key (start Navet with NAVET_DEMO_ADMIN_KEY=demo-key), used only for the citizen's quick test token.
 */
const { generateKeyPairSync, randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { Issuer } = require('openid-client');
const { PDFDocument, StandardFonts } = require('pdf-lib');

const navetUrl = process.env.NAVET_URL ?? 'http://localhost:8080';
const sandbox = process.env.SANDBOX ?? 'demo';
const adminKey = process.env.ADMIN_KEY ?? 'demo-key';
const authority = `${navetUrl}/sandboxes/${sandbox}/helseid`;
const pjd = `${navetUrl}/sandboxes/${sandbox}/pjd`;
const LINE_DANSER = '13116900216';
const keyOf = (client) =>
  JSON.parse(
    readFileSync(
      path.join(__dirname, '..', 'fixtures', 'demo', 'client-keys', `${client}.demo-private-key.json`),
      'utf8',
    ),
  );

function attestation(practitioner) {
  return {
    type: 'nhn:tillitsrammeverk:parameters',
    practitioner,
    care_relationship: {
      healthcare_service: { code: 'S03', system: 'urn:oid:2.16.578.1.12.4.1.1.8655' },
      purpose_of_use: { code: 'TREAT', system: 'urn:oid:2.16.840.1.113883.1.11.20448' },
      purpose_of_use_details: { code: 'BEHANDLER', system: 'urn:AuditEventHL7Norway/CodeSystem/carerelation' },
      decision_ref: { id: randomUUID(), user_selected: false },
    },
    patients: [{ identifier: { id: LINE_DANSER, system: 'urn:oid:2.16.578.1.12.4.1.4.1' } }],
    toa: Math.floor(Date.now() / 1000),
  };
}
const KOMAN_AT_RIKSHOSPITALET = {
  identifier: { id: '04056600324', system: 'urn:oid:2.16.578.1.12.4.1.4.1' },
  hpr_nr: { id: '9144900', system: 'urn:oid:2.16.578.1.12.4.1.4.4' },
  authorization: { code: 'LE', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
  legal_entity: { id: '993467049', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
  point_of_care: { id: '874716782', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
};
const VITS_AT_FAGERSTA = {
  identifier: { id: '05898597468', system: 'urn:oid:2.16.578.1.12.4.1.4.1' },
  hpr_nr: { id: '565501872', system: 'urn:oid:2.16.578.1.12.4.1.4.4' },
  authorization: { code: 'LE', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
  legal_entity: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
  point_of_care: { id: '100100673', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
};

/** A client_credentials token with DPoP and the attestation, the standard way. */
async function systemSession(issuer, clientId, scope, practitioner) {
  const client = new issuer.Client(
    { client_id: clientId, token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256' },
    { keys: [keyOf(clientId)] },
  );
  const DPoP = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const tokenSet = await client.grant(
    { grant_type: 'client_credentials', scope, resource: 'nhn:phr' },
    { clientAssertionPayload: { assertion_details: [attestation(practitioner)] }, DPoP },
  );
  return {
    call: (url, options = {}) =>
      client.requestResource(url, tokenSet, {
        ...options,
        headers: { 'nhn-source-system': `${clientId} (example)`, ...options.headers },
        DPoP,
      }),
  };
}

async function dischargeSummaryPdf() {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  const page = pdf.addPage([595, 842]);
  [
    'Epikrise, kardiologisk avdeling',
    'Pasient: Line Danser',
    'Innlagt med brystsmerter; PCI av RCA. Kontroll hos fastlege om fire uker.',
  ].forEach((line, i) => page.drawText(line, { x: 56, y: 780 - i * 20, size: 12, font }));
  return Buffer.from(await pdf.save());
}

async function main() {
  const issuer = await Issuer.discover(authority);

  // 1. The hospital publishes the discharge summary.
  const hospital = await systemSession(
    issuer,
    'demo-hospital-system',
    'navet:pjd/provide-document',
    KOMAN_AT_RIKSHOSPITALET,
  );
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      {
        fullUrl: 'urn:uuid:1b0c3f52-0000-4000-8000-000000000001',
        resource: { resourceType: 'List', status: 'current', mode: 'working' },
        request: { method: 'POST', url: 'List' },
      },
      {
        fullUrl: 'urn:uuid:1b0c3f52-0000-4000-8000-000000000002',
        request: { method: 'POST', url: 'DocumentReference' },
        resource: {
          resourceType: 'DocumentReference',
          status: 'current',
          date: new Date().toISOString(),
          subject: { identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.1', value: LINE_DANSER } },
          category: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A00-1' }] }],
          type: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9602', code: 'A03-2', display: 'Epikrise' }] },
          content: [
            {
              attachment: { url: 'urn:uuid:1b0c3f52-0000-4000-8000-000000000003', title: 'Epikrise etter PCI' },
              format: { system: 'urn:oid:1.3.6.1.4.1.19376.1.2.3', code: 'urn:no:ehelse:document:pdf' },
            },
          ],
        },
      },
      {
        fullUrl: 'urn:uuid:1b0c3f52-0000-4000-8000-000000000003',
        resource: {
          resourceType: 'Binary',
          contentType: 'application/pdf',
          data: (await dischargeSummaryPdf()).toString('base64'),
        },
        request: { method: 'POST', url: 'Binary' },
      },
    ],
  };
  const published = await hospital.call(`${pjd}/R4/fhir`, {
    method: 'POST',
    body: JSON.stringify(bundle),
    headers: { 'Content-Type': 'application/fhir+json' },
  });
  console.log(`1. hospital publishes (ITI-65) → ${published.statusCode}`);
  if (published.statusCode !== 200) throw new Error(published.body.toString());

  // 2. The GP finds and fetches it.
  const gp = await systemSession(
    issuer,
    'demo-gp-system',
    'nhn:phr/mhd/read-documentreferences nhn:phr/mhd/read-document',
    VITS_AT_FAGERSTA,
  );
  const found = await gp.call(`${pjd}/R4/fhir/DocumentReference/_search`, {
    method: 'POST',
    body: `patient.identifier=${LINE_DANSER}&status=current&_sort=-date&_count=5`,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  const searchset = JSON.parse(found.body.toString());
  const newest = searchset.entry?.find(
    (e) => e.resource.content[0].attachment.title === 'Epikrise etter PCI',
  )?.resource;
  console.log(
    `2. GP finds (ITI-67) → ${found.statusCode}, ${searchset.total} documents; newest: ${newest?.content[0].attachment.title}`,
  );
  if (!newest) throw new Error('the published discharge summary was not found');
  const fetched = await gp.call(newest.content[0].attachment.url, { headers: { 'nhn-patient-nin': LINE_DANSER } });
  console.log(
    `   GP fetches (ITI-68) → ${fetched.statusCode} ${fetched.headers['content-type']}, ${fetched.body.length} bytes (DocumentReference says ${newest.content[0].attachment.size})`,
  );

  // 3. Line Danser reads who has looked.
  const citizenToken = await fetch(`${authority}/create-test-token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Auth-Key': adminKey },
    body: JSON.stringify({ clientId: 'demo-citizen-app', scopes: ['navet:citizen'], user: { pid: LINE_DANSER } }),
  }).then((r) => r.json());
  if (!citizenToken.access_token)
    throw new Error(`no citizen token (is ADMIN_KEY the sandbox's admin key?): ${JSON.stringify(citizenToken)}`);
  const log = await fetch(`${navetUrl}/sandboxes/${sandbox}/citizen/access-log?_count=3`, {
    headers: { Authorization: `Bearer ${citizenToken.access_token}` },
  }).then((r) => r.json());
  console.log('3. Line Danser sees who has looked:');
  for (const entry of log.entries)
    console.log(
      `   ${entry.time}  ${entry.practitioner?.name} (${entry.practitioner?.role}), ${entry.organisation}: ${entry.seen} (${entry.purpose})`,
    );
  if (fetched.statusCode !== 200) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error.error_description ?? error.message);
  process.exitCode = 1;
});
