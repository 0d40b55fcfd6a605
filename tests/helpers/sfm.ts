import { randomUUID } from 'node:crypto';
import { makeDpopProof } from '../../src/trust/dpop-client';
import { getToken, koman, type TokenResult, vits } from './helseid-client';
import { TEST_BASE_URL, type TestNavet } from './test-navet';

/** A vendor's side of SFM for tests: tokens, the operations, and editing the medication Bundle. */
export const SFM_SCOPE = 'e-helse:sfm.api/sfm.api2';
export const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
export const TROY_HAMMER = '25039296929';
export const INGRID_SOLHEIM = '10086148248';
export const SECTION_SYSTEM = 'http://ehelse.no/fhir/CodeSystem/sfm-section-types';
export const FEST = 'http://ehelse.no/fhir/CodeSystem/FEST';

type Json = Record<string, any>;

export { vits };

export const sfmTokens = async (server: TestNavet, sandbox: string) => {
  const [hospital, gp, homeCare] = await Promise.all([
    getToken(server.http, sandbox, { scope: SFM_SCOPE, details: [koman()] }),
    getToken(server.http, sandbox, { clientId: 'demo-gp-system', scope: SFM_SCOPE, details: [vits()] }),
    getToken(server.http, sandbox, {
      clientId: 'demo-home-care-system',
      scope: SFM_SCOPE,
      details: [vits('958935420', '883953142')],
    }),
  ]);
  return { hospital, gp, homeCare };
};

export async function sfmCall(server: TestNavet, t: TokenResult, method: 'GET' | 'POST', path: string, body?: unknown) {
  const proof = await makeDpopProof(t.dpopKey, {
    method,
    url: `${TEST_BASE_URL}${path.split('?')[0]}`,
    accessToken: t.body.access_token,
  });
  const request = method === 'GET' ? server.http.get(path) : server.http.post(path);
  request.set('Authorization', `DPoP ${t.body.access_token}`).set('DPoP', proof);
  if (body === undefined) return request;
  return typeof body === 'string'
    ? request.type('application/fhir+json').send(body)
    : request.type('application/fhir+json').send(body as object);
}

export const getParameters = (
  nin: string,
  extra: Json[] = [{ name: 'SamtykkeKjernejournal', valueCoding: { code: 'HPMOTTATTSAMTYKKE' } }],
) => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'patient', resource: { resourceType: 'Patient', identifier: [{ system: FNR, value: nin }] } },
    ...extra,
  ],
});

export const param = (parameters: Json, name: string): Json =>
  (parameters.parameter as Json[]).find((p) => p.name === name) as Json;
export const bundleOf = (parameters: Json): Json => param(parameters, 'medication')?.resource;
export const resourcesOf = (bundle: Json, type: string): Json[] =>
  bundle.entry.filter((e: Json) => e.resource.resourceType === type).map((e: Json) => e.resource);
export const pllIdOf = (statement: Json) => statement.identifier.find((i: Json) => i.type.text === 'PLL').value;
export const sectionOf = (bundle: Json, code: string): Json =>
  bundle.entry[0].resource.section.find((s: Json) => s.code.coding[0].code === code);
export const pllVersionOf = (bundle: Json) =>
  resourcesOf(bundle, 'Basic')[0].extension.find((e: Json) => e.url.endsWith('/pll-version')).valueString;

export const sendParameters = (bundle: Json) => ({
  resourceType: 'Parameters',
  parameter: [{ name: 'medication', resource: bundle }],
});

/** A new list entry: a catalogue medicine with a fresh PLL id, listed in sectionMedication. */
export function addStatement(bundle: Json, festId: string, display: string, dosage: string): string {
  const patientUrl = bundle.entry.find((e: Json) => e.resource.resourceType === 'Patient').fullUrl;
  const medicationUrl = `urn:uuid:${randomUUID()}`;
  const statementUrl = `urn:uuid:${randomUUID()}`;
  const pllId = randomUUID();
  bundle.entry.push(
    {
      fullUrl: medicationUrl,
      resource: { resourceType: 'Medication', code: { coding: [{ system: FEST, code: festId, display }] } },
    },
    {
      fullUrl: statementUrl,
      resource: {
        resourceType: 'MedicationStatement',
        identifier: [
          { type: { text: 'ReseptId' }, value: randomUUID() },
          { type: { text: 'PLL' }, value: pllId },
        ],
        status: 'active',
        medicationReference: { reference: medicationUrl },
        subject: { reference: patientUrl },
        dosage: [{ text: dosage }],
      },
    },
  );
  sectionOf(bundle, 'sectionMedication').entry = [
    ...(sectionOf(bundle, 'sectionMedication').entry ?? []),
    { reference: statementUrl },
  ];
  delete sectionOf(bundle, 'sectionMedication').emptyReason;
  return pllId;
}

export const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
