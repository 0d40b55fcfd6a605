import express, { type Request, type Response, Router } from 'express';
import { calculateJwkThumbprint, generateKeyPair, type JWK, SignJWT } from 'jose';
import type { Sandbox, Sandboxes } from '../sandbox/sandboxes';
import type { ResourceStore } from '../store/resource-store';
import { accessTokenClaims, CLAIM } from './access-token';
import { parseAuthorizationDetails } from './attestation';
import { SIGNING_ALG } from './signing-keys';
import { resolveScopesAndAudience } from './token-request';
import { TrustError } from './trust-error';
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
  'patient.point_of_care': (a) => ((a.patients as unknown as Record<string, unknown>[] | undefined) ?? []).forEach((p) => delete p.point_of_care),
  'patient.department': (a) => ((a.patients as unknown as Record<string, unknown>[] | undefined) ?? []).forEach((p) => delete p.department),
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

const bad = (code: string, text: string) => new TrustError('invalid_request', code, text);

export function testTokenService(deps: { services: TrustServices; sandboxes: Sandboxes; store: ResourceStore; issuerOf: (sandbox: string) => string }): Router {
  const router = Router();
  // HelseID's own v2 contract, beside Navet's create-test-token
  router.use(testTokenServiceV2(deps));
  router.post('/create-test-token', express.json({ limit: '64kb' }), async (req: Request, res: Response) => {
    const sandbox = res.locals.sandbox as Sandbox;
    const key = req.headers['x-auth-key'];
    if (typeof key !== 'string' || !deps.sandboxes.keyMatches(sandbox, key)) {
      throw new TrustError('invalid_client', 'NAVET-TEST-TOKEN-AUTH', `Send the admin key of sandbox '${sandbox.name}' in the X-Auth-Key header`, 401);
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.clientId !== 'string') throw bad('NAVET-TEST-TOKEN-CLIENT', 'clientId is required: the registered client the token is for');
    const client = await deps.services.clients.find(sandbox.name, body.clientId);
    if (!client) throw bad('NAVET-TEST-TOKEN-CLIENT', `No client "${body.clientId}" is registered in this sandbox`);
    const switches = (body.switches ?? {}) as Switches;
    const now = sandbox.clock.now();

    const scopeList = Array.isArray(body.scopes) ? (body.scopes as string[]).join(' ') : undefined;
    const audienceParam = typeof body.audience === 'string' ? body.audience : undefined;
    const { scopes, audience } = resolveScopesAndAudience(client, scopeList ?? client.scopes.join(' '), audienceParam);

    let attestation: Record<string, unknown> | undefined;
    if (body.attestation !== undefined) {
      attestation = structuredClone(parseAuthorizationDetails(body.attestation, 'test-token attestation').details[0]);
      for (const field of switches.omitAttestationFields ?? []) {
        const omit = OMITTABLE_ATTESTATION_FIELDS[field];
        if (!omit) throw bad('NAVET-TEST-TOKEN-SWITCH', `omitAttestationFields: "${field}" is not one of ${Object.keys(OMITTABLE_ATTESTATION_FIELDS).join(', ')}`);
        omit(attestation as Record<string, Record<string, unknown>>);
      }
    }
    const pid = (body.user as { pid?: unknown } | undefined)?.pid;
    if (body.user !== undefined && (typeof pid !== 'string' || !/^\d{11}$/.test(pid))) throw bad('NAVET-TEST-TOKEN-USER', 'user must be {"pid": "<11-digit fødselsnummer>"}');
    const user = typeof pid === 'string' ? await userIdentity(deps.store, sandbox.name, pid, client.clientId, now) : undefined;
    let jkt: string | undefined;
    if (body.dpopJwk !== undefined) {
      try {
        jkt = await calculateJwkThumbprint(body.dpopJwk as JWK);
      } catch {
        throw bad('NAVET-TEST-TOKEN-DPOP', 'dpopJwk must be a public JWK');
      }
    }
    const lifetimeSeconds = typeof body.lifetimeSeconds === 'number' ? body.lifetimeSeconds : 600;
    const issuer = switches.invalidIssuer ? 'https://helseid-sts.invalid.example' : deps.issuerOf(sandbox.name);
    const nowS = Math.floor(now.getTime() / 1000) - (switches.expired ? 3600 + lifetimeSeconds : 0);
    const claims = accessTokenClaims({ client, scopes, audience, jkt, user: switches.withoutUserClaims ? undefined : user, attestation, lifetimeSeconds }, issuer, nowS);
    if (switches.withoutClientClaims) {
      for (const name of ['client_id', 'client_amr', CLAIM.orgnrParent, CLAIM.orgnrChild, CLAIM.orgnrSupplier, CLAIM.clientName, CLAIM.clientTenancy]) delete claims[name];
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
