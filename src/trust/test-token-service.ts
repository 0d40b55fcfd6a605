import type { NavetErrorCode } from '../codes/error-codes';
import { jsonBody } from '../http/json-body';
import { type Request, type Response, Router } from 'express';
import { calculateJwkThumbprint, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Sandboxes } from '../sandbox/sandboxes';
import type { ResourceStore } from '../store/resource-store';
import { accessTokenClaims, CLAIM } from './access-token';
import { parseAuthorizationDetails } from './attestation';
import { SIGNING_ALG } from './signing-keys';
import { resolveScopesAndAudience } from './token-request';
import { TrustError } from '../http/trust-error';
import type { TrustServices } from './trust-services';
import { testTokenServiceV2 } from './test-token-v2';
import { userIdentity } from './user-identity';

/**
 * The test-token service, like HelseID's: `POST <helseid>/create-test-token` with `X-Auth-Key: <sandbox
 * admin key>` issues a token without any login, and can make it wrong on purpose so that a vendor sees
 * how its API client copes. Body (JSON):
 *
 *   clientId        a registered client (required)
 *   scopes          array, default: the client's API scopes of `audience`
 *   audience        e.g. "nhn:phr" (default: decided by the scopes)
 *   user            {"pid": "<fødselsnummer>"}: a user token (name and HPR from the registry)
 *   attestation     the nhn:tillitsrammeverk:parameters object
 *   dpopJwk         public JWK the token is bound to (cnf.jkt); absent → Bearer token
 *   lifetimeSeconds default 600
 *   switches        {
 *     signWithInvalidKey: true        signed with a key the sandbox never published
 *     invalidIssuer: true             iss is not the sandbox's token service
 *     expired: true                   exp one hour ago
 *     header: {…}                     custom JOSE header values (e.g. {"typ": "JWT"}, {"kid": "nope"})
 *     withoutClientClaims: true       no client_id, client_amr or helseid://claims/client/* claims
 *     withoutUserClaims: true         no user claims even when `user` is given
 *     omitAttestationFields: [...]    leave out: hpr_nr, authorization, department, healthcare_service,
 *                                     purpose_of_use_details, patient.point_of_care, patient.department
 *   }
 */
export const OMITTABLE_ATTESTATION_FIELDS: Record<string, (a: Record<string, Record<string, unknown>>) => void> = {
  hpr_nr: (a) => delete a.practitioner?.hpr_nr,
  authorization: (a) => delete a.practitioner?.authorization,
  department: (a) => delete a.practitioner?.department,
  healthcare_service: (a) => delete a.care_relationship?.healthcare_service,
  purpose_of_use_details: (a) => delete a.care_relationship?.purpose_of_use_details,
  'patient.point_of_care': (a) =>
    ((a.patients as unknown as Record<string, unknown>[] | undefined) ?? []).forEach((p) => delete p.point_of_care),
  'patient.department': (a) =>
    ((a.patients as unknown as Record<string, unknown>[] | undefined) ?? []).forEach((p) => delete p.department),
};

interface Switches {
  signWithInvalidKey?: boolean;
  invalidIssuer?: boolean;
  expired?: boolean;
  header?: Record<string, unknown>;
  withoutClientClaims?: boolean;
  withoutUserClaims?: boolean;
  omitAttestationFields?: string[];
}

const bad = (code: NavetErrorCode, text: string) => new TrustError('invalid_request', code, text);

const BOOLEAN_SWITCHES = [
  'signWithInvalidKey',
  'invalidIssuer',
  'expired',
  'withoutClientClaims',
  'withoutUserClaims',
] as const;
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks the switches' types before any of them is used; names the first wrong one. */
function readSwitches(value: unknown): Switches {
  if (value === undefined) return {};
  const wrong = (name: string, expected: string) =>
    bad('NAVET-TEST-TOKEN-SWITCH', `switches.${name} must be ${expected}`);
  if (!isPlainObject(value)) throw bad('NAVET-TEST-TOKEN-SWITCH', 'switches must be an object like {"expired": true}');
  const known = new Set<string>([...BOOLEAN_SWITCHES, 'header', 'omitAttestationFields']);
  const unknown = Object.keys(value).find((name) => !known.has(name));
  if (unknown !== undefined)
    throw bad(
      'NAVET-TEST-TOKEN-SWITCH',
      `switches.${unknown} is not a switch; the switches are ${[...known].join(', ')}`,
    );
  for (const name of BOOLEAN_SWITCHES)
    if (value[name] !== undefined && typeof value[name] !== 'boolean') throw wrong(name, 'true or false');
  const header = value.header;
  if (header !== undefined) {
    if (
      !isPlainObject(header) ||
      Object.values(header).some((v) => typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
    ) {
      throw wrong('header', 'an object of JOSE header values (strings, numbers, booleans), e.g. {"typ": "JWT"}');
    }
    const fixed = ['alg', 'b64', 'crit'].find((name) => name in header);
    if (fixed)
      throw wrong(
        'header',
        `without "${fixed}": test tokens are always signed with ${SIGNING_ALG}; use signWithInvalidKey for a bad signature`,
      );
  }
  const omit = value.omitAttestationFields;
  if (omit !== undefined) {
    if (
      !Array.isArray(omit) ||
      omit.some((field) => typeof field !== 'string' || !Object.hasOwn(OMITTABLE_ATTESTATION_FIELDS, field))
    ) {
      throw wrong('omitAttestationFields', `an array of ${Object.keys(OMITTABLE_ATTESTATION_FIELDS).join(', ')}`);
    }
  }
  return value as Switches;
}

export function testTokenService(deps: {
  services: TrustServices;
  sandboxes: Sandboxes;
  store: ResourceStore;
  issuerOf: (sandbox: string) => string;
}): Router {
  const router = Router();
  // HelseID's own v2 contract, beside Navet's create-test-token
  router.use(testTokenServiceV2(deps));
  router.post('/create-test-token', jsonBody({ limit: '64kb' }), async (req: Request, res: Response) => {
    const sandbox = res.locals.sandbox;
    const key = req.headers['x-auth-key'];
    if (typeof key !== 'string' || !deps.sandboxes.keyMatches(sandbox, key)) {
      throw new TrustError(
        'invalid_client',
        'NAVET-TEST-TOKEN-AUTH',
        `Send the admin key of sandbox '${sandbox.name}' in the X-Auth-Key header`,
        401,
      );
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.clientId !== 'string')
      throw bad('NAVET-TEST-TOKEN-CLIENT', 'clientId is required: the registered client the token is for');
    const client = await deps.services.clients.find(sandbox.name, body.clientId);
    if (!client) throw bad('NAVET-TEST-TOKEN-CLIENT', `No client "${body.clientId}" is registered in this sandbox`);
    const switches = readSwitches(body.switches);
    const now = sandbox.clock.now();

    const scopeList = Array.isArray(body.scopes) ? (body.scopes as string[]).join(' ') : undefined;
    const audienceParam = typeof body.audience === 'string' ? body.audience : undefined;
    const { scopes, audience } = resolveScopesAndAudience(client, scopeList ?? client.scopes.join(' '), audienceParam);

    let attestation: Record<string, unknown> | undefined;
    if (body.attestation !== undefined) {
      attestation = structuredClone(parseAuthorizationDetails(body.attestation, 'test-token attestation').details[0]);
      for (const field of switches.omitAttestationFields ?? [])
        OMITTABLE_ATTESTATION_FIELDS[field](attestation as Record<string, Record<string, unknown>>);
    }
    const pid = (body.user as { pid?: unknown } | undefined)?.pid;
    if (body.user !== undefined && (typeof pid !== 'string' || !/^\d{11}$/.test(pid)))
      throw bad('NAVET-TEST-TOKEN-USER', 'user must be {"pid": "<11-digit fødselsnummer>"}');
    const user =
      typeof pid === 'string' ? await userIdentity(deps.store, sandbox.name, pid, client.clientId, now) : undefined;
    let jkt: string | undefined;
    if (body.dpopJwk !== undefined) {
      try {
        jkt = await calculateJwkThumbprint(body.dpopJwk as JWK);
      } catch {
        throw bad('NAVET-TEST-TOKEN-DPOP', 'dpopJwk must be a public JWK');
      }
    }
    const lifetimeSeconds = body.lifetimeSeconds ?? 600;
    if (
      typeof lifetimeSeconds !== 'number' ||
      !Number.isInteger(lifetimeSeconds) ||
      lifetimeSeconds < 1 ||
      lifetimeSeconds > 86400
    ) {
      throw bad('NAVET-TEST-TOKEN-LIFETIME', 'lifetimeSeconds must be a whole number of seconds from 1 to 86400');
    }
    const issuer = switches.invalidIssuer ? 'https://helseid-sts.invalid.example' : deps.issuerOf(sandbox.name);
    const nowS = Math.floor(now.getTime() / 1000) - (switches.expired ? 3600 + lifetimeSeconds : 0);
    const claims = accessTokenClaims(
      {
        client,
        scopes,
        audience,
        jkt,
        user: switches.withoutUserClaims ? undefined : user,
        attestation,
        lifetimeSeconds,
      },
      issuer,
      nowS,
    );
    if (switches.withoutClientClaims) {
      for (const name of [
        'client_id',
        'client_amr',
        CLAIM.orgnrParent,
        CLAIM.orgnrChild,
        CLAIM.orgnrSupplier,
        CLAIM.clientName,
        CLAIM.clientTenancy,
      ])
        delete claims[name];
    }
    const signing = switches.signWithInvalidKey
      ? { kid: 'not-published', privateKey: (await generateKeyPair(SIGNING_ALG)).privateKey }
      : await deps.services.keys.current(sandbox.name);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: SIGNING_ALG, kid: signing.kid, typ: 'at+jwt', ...switches.header } as { alg: string })
      .sign(signing.privateKey);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ access_token: token, token_type: jkt ? 'DPoP' : 'Bearer', expires_in: lifetimeSeconds, claims });
  });
  return router;
}
