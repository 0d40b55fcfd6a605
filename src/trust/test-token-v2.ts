import { jsonBody } from '../http/json-body';
import { type Request, type Response, Router } from 'express';
import { generateKeyPair, type JWK, SignJWT } from 'jose';
import { createHash, randomUUID } from 'node:crypto';
import type { Sandbox, Sandboxes } from '../sandbox/sandboxes';
import type { ResourceStore } from '../store/resource-store';
import { CLAIM } from './access-token';
import { SIGNING_ALG } from './signing-keys';
import { invalidDpopProofOf, proofKeyOf, testDpopProof } from './test-dpop-proof';
import type { TrustServices } from './trust-services';
import { userIdentity } from './user-identity';
import { NavetError } from '../codes/navet-error';

/**
 * HelseID's test-token service contract (v2), so that HelseID's own TestTokenDemo (HelseID.Samples,
 * HelseId.Samples.TestTokenDemo) runs against Navet with only its URL changed:
 * `POST <helseid>/v2/create-test-token-with-key`, `X-Auth-Key: <sandbox admin key>`, a camelCase JSON body
 * (TttModels/Request/TestTokenRequest.cs) and the answer
 * `{"isError": false, "successResponse": {"accessTokenJwt", "dPoPProof"}}` (TttModels/Response). Like HelseID's,
 * it takes the claims from the body and needs no registered client.
 */
type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (object: Json | undefined, name: string): string | undefined => {
  const value = object?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};
const GENERATION = [
  'GenerateNone',
  'GenerateOnlyDefault',
  'GenerateOnlyFromNonEmptyParameterValues',
  'GenerateDefaultWithClaimsFromNonEmptyParameterValues',
] as const;
type Generation = (typeof GENERATION)[number];

/** A refused TestTokenRequest: answered in the TTT's own error shape (errorResponse.errorMessage), with `status`. */
class TttError extends NavetError {
  static override readonly code = 'NAVET-TEST-TOKEN-REQUEST';
  constructor(status: number, message: string) {
    super(message, { status });
  }
}

function generationOf(body: Json, name: string, parameters: Json | undefined): Generation {
  const value = body[`${name}ParametersGeneration`];
  const named =
    typeof value === 'number'
      ? GENERATION[value]
      : GENERATION.find((g) => typeof value === 'string' && g.toLowerCase() === value.toLowerCase());
  if (value !== undefined && !named)
    throw new TttError(400, `${name}ParametersGeneration must be one of ${GENERATION.join(', ')}`);
  // .NET leaves the default (0, GenerateNone) out; a 0 sent anyway counts as not sent
  if (named && value !== 0) return named;
  // the .NET model's WithoutDefault…Claims: true whenever …ClaimsParameters is sent
  if (parameters) return 'GenerateOnlyFromNonEmptyParameterValues';
  return 'GenerateOnlyDefault';
}

const DEFAULT_CLIENT = { clientId: 'navet-test-token', clientName: 'Navet test token', orgnrParent: '999999999' };

function clientClaims(body: Json, audience: string): Json {
  const parameters = isObject(body.clientClaimsParameters) ? body.clientClaimsParameters : undefined;
  const generation = generationOf(body, 'clientClaims', parameters);
  if (generation === 'GenerateNone') return {};
  const given = generation === 'GenerateOnlyDefault' ? undefined : parameters;
  const useDefaults = generation !== 'GenerateOnlyFromNonEmptyParameterValues';
  const pick = (name: keyof typeof DEFAULT_CLIENT) =>
    text(given, name) ?? (useDefaults ? DEFAULT_CLIENT[name] : undefined);
  const scope = Array.isArray(given?.scope) ? given.scope.filter((s): s is string => typeof s === 'string') : [];
  const claims: Json = {
    client_id: pick('clientId'),
    [CLAIM.clientName]: pick('clientName'),
    [CLAIM.orgnrParent]: pick('orgnrParent'),
    [CLAIM.orgnrChild]: text(given, 'orgnrChild'),
    [CLAIM.orgnrSupplier]: text(given, 'orgnrSupplier'),
    [CLAIM.journalId]: text(given, 'sfmJournalId'),
    jti: text(given, 'jti'),
    scope: scope.length ? scope : useDefaults ? [`${audience}/test`] : undefined,
    client_amr: useDefaults ? 'private_key_jwt' : undefined,
    'helseid://claims/client/amr': text(given, 'clientAuthenticationMethodsReferences'),
    amr:
      Array.isArray(given?.authenticationMethodsReferences) && given.authenticationMethodsReferences.length
        ? given.authenticationMethodsReferences
        : undefined,
    ...(given?.clientTenancy === true
      ? { [CLAIM.clientTenancy]: 'multi-tenant' }
      : useDefaults || given?.clientTenancy === false
        ? { [CLAIM.clientTenancy]: 'single-tenant' }
        : {}),
    ...(text(given, 'cnfJkt') ? { cnf: { jkt: text(given, 'cnfJkt') } } : {}),
  };
  return claims;
}

async function userClaims(body: Json, deps: { store: ResourceStore; sandbox: string; now: Date }): Promise<Json> {
  const parameters = isObject(body.userClaimsParameters) ? body.userClaimsParameters : undefined;
  const generation = generationOf(body, 'userClaims', parameters);
  const given = generation === 'GenerateNone' || generation === 'GenerateOnlyDefault' ? undefined : parameters;
  const pid = text(given, 'pid');
  if (pid !== undefined && !/^\d{11}$/.test(pid))
    throw new TttError(400, 'userClaimsParameters.pid must be an 11-digit fødselsnummer or D-number');
  // from the sandbox's registry, as HelseID's asks Persontjenesten and HPR
  const registry =
    pid && (body.getHprNumberFromHprregisteret === true || body.getPersonFromPersontjenesten === true)
      ? await userIdentity(deps.store, deps.sandbox, pid, 'test-token', deps.now)
      : undefined;
  const pseudonym = pid ? createHash('sha256').update(`${deps.sandbox}:${pid}`).digest('base64url') : undefined;
  const fromRegistry = body.getPersonFromPersontjenesten === true && registry;
  return {
    [CLAIM.pid]: pid,
    [CLAIM.pidPseudonym]: text(given, 'pidPseudonym') ?? (body.setPidPseudonym === true ? pseudonym : undefined),
    [CLAIM.hprNumber]:
      text(given, 'hprNumber') ?? (body.getHprNumberFromHprregisteret === true ? registry?.hprNumber : undefined),
    name: text(given, 'name') ?? (fromRegistry ? registry.name : undefined),
    given_name:
      text(given, 'givenName') ?? (fromRegistry && body.onlySetNameForPerson !== true ? registry.givenName : undefined),
    middle_name: text(given, 'middleName'),
    family_name:
      text(given, 'familyName') ??
      (fromRegistry && body.onlySetNameForPerson !== true ? registry.familyName : undefined),
    idp: text(given, 'identityProvider'),
    [CLAIM.securityLevel]: text(given, 'securityLevel'),
    [CLAIM.assuranceLevel]: text(given, 'assuranceLevel'),
    [CLAIM.network]: text(given, 'network'),
    amr: text(given, 'amr') ? [text(given, 'amr')] : undefined,
    sub: text(given, 'subject') ?? (body.setSubject === true ? pseudonym : undefined),
    sid: text(given, 'sid'),
  };
}

const ENH = 'urn:oid:2.16.578.1.12.4.1.4.101';
const RESH = 'urn:oid:2.16.578.1.12.4.1.4.102';

/** The nhn:tillitsrammeverk:parameters claim from TillitsrammeverkClaimsParameters (empty values left out). */
function tillitsrammeverk(body: Json, user: Json): Json {
  const p = isObject(body.tillitsrammeverkClaimsParameters) ? body.tillitsrammeverkClaimsParameters : {};
  const unit = (prefix: string, system = ENH) =>
    text(p, `${prefix}Id`)
      ? { id: text(p, `${prefix}Id`), system, ...(text(p, `${prefix}Name`) ? { name: text(p, `${prefix}Name`) } : {}) }
      : undefined;
  const code = (prefix: string, system: string) =>
    text(p, `${prefix}Code`)
      ? {
          code: text(p, `${prefix}Code`),
          system,
          ...(text(p, `${prefix}Text`) ? { text: text(p, `${prefix}Text`) } : {}),
        }
      : undefined;
  const pid = user[CLAIM.pid] as string | undefined;
  const hpr = user[CLAIM.hprNumber] as string | undefined;
  const details = code('careRelationshipPurposeOfUseDetails', 'urn:AuditEventHL7Norway/CodeSystem/carerelation');
  const service = code('careRelationshipHealthcareService', 'urn:oid:2.16.578.1.12.4.1.1.8655');
  const clean = (o: Json) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    type: 'nhn:tillitsrammeverk:parameters',
    practitioner: clean({
      identifier: pid ? { id: pid, system: 'urn:oid:2.16.578.1.12.4.1.4.1', authority: 'Skatteetaten' } : undefined,
      hpr_nr: hpr ? { id: hpr, system: 'urn:oid:2.16.578.1.12.4.1.4.4', authority: 'Helsedirektoratet' } : undefined,
      authorization: code('practitionerAuthorization', 'urn:oid:2.16.578.1.12.4.1.1.9060'),
      legal_entity: unit('practitionerLegalEntity'),
      point_of_care: unit('practitionerPointOfCare'),
      department: unit('practitionerDepartment', RESH),
    }),
    care_relationship: clean({
      healthcare_service: service,
      purpose_of_use: code('careRelationshipPurposeOfUse', 'urn:oid:2.16.840.1.113883.1.11.20448') ?? {
        code: 'TREAT',
        system: 'urn:oid:2.16.840.1.113883.1.11.20448',
      },
      // one of healthcare_service / purpose_of_use_details is required (ATT-43)
      purpose_of_use_details:
        details ??
        (service ? undefined : { code: 'BEHANDLER', system: 'urn:AuditEventHL7Norway/CodeSystem/carerelation' }),
      decision_ref: { id: text(p, 'careRelationshipTracingRefId') ?? randomUUID(), user_selected: false },
    }),
    patients: [clean({ point_of_care: unit('patientsPointOfCare'), department: unit('patientsDepartment', RESH) })],
  };
}

function expirySeconds(body: Json): number {
  const parameters = isObject(body.expirationParameters) ? body.expirationParameters : {};
  const { expirationTimeInSeconds: seconds, expirationTimeInDays: days } = parameters;
  if (typeof seconds === 'number' && seconds > 0) return seconds;
  if (typeof days === 'number' && days > 0) return days * 86400;
  return 600;
}

export function testTokenServiceV2(deps: {
  services: TrustServices;
  sandboxes: Sandboxes;
  store: ResourceStore;
  issuerOf: (sandbox: string) => string;
}): Router {
  const router = Router();
  router.post('/v2/create-test-token-with-key', jsonBody({ limit: '64kb' }), async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    try {
      res.json({
        isError: false,
        successResponse: await createTestToken(req, res.locals.sandbox, deps),
        errorResponse: { errorMessage: '' },
      });
    } catch (error) {
      if (!(error instanceof TttError)) throw error;
      res
        .status(error.status)
        .json({ isError: true, successResponse: null, errorResponse: { errorMessage: error.message } });
    }
  });
  return router;
}

/** dPoPProof is null for a Bearer token: the TestTokenDemo takes any non-null value for a proof. */
async function createTestToken(
  req: Request,
  sandbox: Sandbox,
  deps: Parameters<typeof testTokenServiceV2>[0],
): Promise<{ accessTokenJwt: string; dPoPProof: string | null }> {
  const key = req.headers['x-auth-key'];
  if (typeof key !== 'string' || !deps.sandboxes.keyMatches(sandbox, key))
    throw new TttError(401, `Send the admin key of sandbox '${sandbox.name}' in the X-Auth-Key header`);
  if (!isObject(req.body))
    throw new TttError(400, "The body must be a JSON object (HelseID's TestTokenRequest, camelCase)");
  const body = req.body;
  const audience = text(body, 'audience');
  if (!audience) throw new TttError(400, 'audience is required: the API the token is for, e.g. "nhn:kjernejournal"');
  const now = sandbox.clock.now();
  const user = await userClaims(body, { store: deps.store, sandbox: sandbox.name, now });
  const claims: Json = { ...clientClaims(body, audience), ...user };
  if (body.createTillitsrammeverkClaims === true) claims[CLAIM.attestation] = tillitsrammeverk(body, user);
  for (const extra of Array.isArray(body.apiSpecificClaims) ? body.apiSpecificClaims : []) {
    if (isObject(extra) && text(extra, 'type')) claims[text(extra, 'type') as string] = extra.value;
  }

  const dpop = isObject(body.dPoPProofParameters) ? body.dPoPProofParameters : {};
  const invalid = invalidDpopProofOf(dpop.invalidDPoPProofParameters);
  if (!invalid)
    throw new TttError(
      400,
      "dPoPProofParameters.invalidDPoPProofParameters is not one of HelseID's InvalidDPoPProofParameters",
    );
  let proofKey;
  if (body.createDPoPTokenWithDPoPProof === true) {
    const privateJwk = text(dpop, 'privateKeyForProofCreation');
    try {
      proofKey = await proofKeyOf(privateJwk ? (JSON.parse(privateJwk) as JWK) : undefined);
    } catch {
      throw new TttError(400, 'dPoPProofParameters.privateKeyForProofCreation must be a private JWK as a JSON string');
    }
    claims.cnf = { jkt: proofKey.jkt };
  }

  const nowS = Math.floor(now.getTime() / 1000);
  const lifetime = expirySeconds(body);
  const expired = isObject(body.expirationParameters) && body.expirationParameters.setExpirationTimeAsExpired === true;
  const issuedAt = expired ? nowS - lifetime - 3600 : nowS;
  const signed = {
    iss: body.setInvalidIssuer === true ? 'https://helseid-sts.invalid.example' : deps.issuerOf(sandbox.name),
    aud: body.setInvalidAudience === true ? `${audience}-invalid` : audience,
    nbf: issuedAt,
    iat: issuedAt,
    exp: issuedAt + lifetime,
    jti: randomUUID(),
    ...Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined)),
  };
  const signing =
    body.signJwtWithInvalidSigningKey === true
      ? { kid: 'not-published', privateKey: (await generateKeyPair(SIGNING_ALG)).privateKey }
      : await deps.services.keys.current(sandbox.name);
  const headerParameters = isObject(body.headerParameters) ? body.headerParameters : {};
  const accessTokenJwt = await new SignJWT(signed)
    .setProtectedHeader({ alg: SIGNING_ALG, kid: signing.kid, typ: text(headerParameters, 'typ') ?? 'at+jwt' })
    .sign(signing.privateKey);
  const dPoPProof = proofKey
    ? await testDpopProof(proofKey, {
        method: text(dpop, 'htmClaimValue') ?? 'GET',
        url: text(dpop, 'htuClaimValue') ?? '',
        accessToken: accessTokenJwt,
        invalid,
      })
    : null;
  return { accessTokenJwt, dPoPProof };
}
