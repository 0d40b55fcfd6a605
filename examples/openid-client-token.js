#!/usr/bin/env node
/*
 * Gets a HelseID token from a Navet sandbox with a standard OAuth library (openid-client), with
 * private_key_jwt, DPoP and the tillitsrammeverk attestation, and calls a guarded API with it.
 * Nothing here is specific to Navet: against HelseID's test environment only the authority changes.
 *
 *   node examples/openid-client-token.js            # NAVET_URL=http://localhost:8080 SANDBOX=demo
 *
 * It uses the DEMO-ONLY key of the demo hospital system from fixtures/demo.
 */
const { generateKeyPairSync, randomUUID } = require('node:crypto');
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { Issuer } = require('openid-client');

const navetUrl = process.env.NAVET_URL ?? 'http://localhost:8080';
const sandbox = process.env.SANDBOX ?? 'demo';
const authority = `${navetUrl}/sandboxes/${sandbox}/helseid`;
const clientKey = JSON.parse(
  readFileSync(
    path.join(__dirname, '..', 'fixtures', 'demo', 'client-keys', 'demo-hospital-system.demo-private-key.json'),
    'utf8',
  ),
);

// What the record system attests about the health worker: Magnar Koman (doctor) at Rikshospitalet.
const attestation = {
  type: 'nhn:tillitsrammeverk:parameters',
  practitioner: {
    identifier: { id: '04056600324', system: 'urn:oid:2.16.578.1.12.4.1.4.1' },
    hpr_nr: { id: '9144900', system: 'urn:oid:2.16.578.1.12.4.1.4.4' },
    authorization: { code: 'LE', system: 'urn:oid:2.16.578.1.12.4.1.1.9060' },
    legal_entity: { id: '993467049', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
    point_of_care: { id: '874716782', system: 'urn:oid:2.16.578.1.12.4.1.4.101' },
  },
  care_relationship: {
    healthcare_service: { code: 'S03', system: 'urn:oid:2.16.578.1.12.4.1.1.8655' },
    purpose_of_use: { code: 'TREAT', system: 'urn:oid:2.16.840.1.113883.1.11.20448' },
    decision_ref: { id: randomUUID(), user_selected: false },
  },
  patients: [{}],
  toa: Math.floor(Date.now() / 1000),
};

async function main() {
  const issuer = await Issuer.discover(authority);
  const client = new issuer.Client(
    {
      client_id: 'demo-hospital-system',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
    },
    { keys: [clientKey] },
  );
  const dpopKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const tokenSet = await client.grant(
    { grant_type: 'client_credentials', scope: 'nhn:phr/mhd/read-documentreferences', resource: 'nhn:phr' },
    { clientAssertionPayload: { assertion_details: [attestation] }, DPoP: dpopKey },
  );
  console.log(`token_type ${tokenSet.token_type}, expires in ${tokenSet.expires_in} s`);
  const response = await client.requestResource(`${navetUrl}/sandboxes/${sandbox}/pjd/pingauth`, tokenSet, {
    DPoP: dpopKey,
  });
  console.log(`GET pjd/pingauth → ${response.statusCode} ${response.body.toString()}`);
  if (response.statusCode !== 200) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error.error_description ?? error.message);
  process.exitCode = 1;
});
