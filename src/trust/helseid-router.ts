import express, { type Request, type Response, Router } from 'express';
import type { Sandbox } from '../sandbox/sandboxes';
import { parseAuthorizationDetails } from './attestation';
import { ASSERTION_ALGORITHMS, authenticateClient } from './client-assertion';
import { DPOP_ALGORITHMS, verifyDpopProof } from './dpop';
import { clientCredentialsGrant } from './grant-client-credentials';
import { ALL_SCOPES } from './scopes';
import type { GrantHandler, TokenRequest } from './token-request';
import { TrustError } from '../http/trust-error';
import type { TrustServices } from './trust-services';

/**
 * The HelseID token service of a sandbox (`services.helseid`): discovery, JWKS and /connect/token.
 * Paths below the base are HelseID's own, so a vendor's client changes only its authority URL.
 */
export const GRANT_TYPES = [
  'client_credentials',
  'authorization_code',
  'refresh_token',
  'urn:ietf:params:oauth:grant-type:token-exchange',
];
export const AUTHORIZATION_DETAILS_TYPES = [
  'nhn:tillitsrammeverk:parameters',
  'helseid_authorization',
  'nhn:sfm:journal-id',
];

export interface HelseIdOptions {
  services: TrustServices;
  /** The helseid base URL (issuer) of a sandbox. */
  issuerOf: (sandbox: string) => string;
  /** Grant handlers by grant_type; client_credentials is built in. */
  grants?: Record<string, GrantHandler>;
  /** Further routes (PAR, authorize, test IdP, test tokens) mounted on the same base. */
  extend?: (router: Router) => void;
}

export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/openid-configuration/jwks`,
    authorization_endpoint: `${issuer}/connect/authorize`,
    token_endpoint: `${issuer}/connect/token`,
    pushed_authorization_request_endpoint: `${issuer}/connect/par`,
    end_session_endpoint: `${issuer}/connect/endsession`,
    require_pushed_authorization_requests: true,
    grant_types_supported: GRANT_TYPES,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    request_object_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS,
    scopes_supported: ALL_SCOPES,
    authorization_details_types_supported: AUTHORIZATION_DETAILS_TYPES,
    acr_values_supported: ['idp:testidp-oidc'],
    claims_supported: [
      'sub',
      'name',
      'given_name',
      'middle_name',
      'family_name',
      'helseid://claims/identity/pid',
      'helseid://claims/identity/pid_pseudonym',
      'helseid://claims/identity/security_level',
      'helseid://claims/identity/assurance_level',
      'helseid://claims/identity/network',
      'helseid://claims/hpr/hpr_number',
    ],
  };
}

function sandboxOf(res: Response): Sandbox {
  return res.locals.sandbox;
}

function formOf(req: Request): Record<string, string | undefined> {
  if (!req.is('application/x-www-form-urlencoded')) {
    throw new TrustError(
      'invalid_request',
      'NAVET-TOKEN-CONTENT-TYPE',
      'The token endpoint takes application/x-www-form-urlencoded parameters',
    );
  }
  const form: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) {
    if (Array.isArray(value))
      throw new TrustError(
        'invalid_request',
        'NAVET-TOKEN-DUPLICATE-PARAM',
        `Parameter "${name}" was sent more than once`,
      );
    form[name] = typeof value === 'string' ? value : undefined;
  }
  return form;
}

function attestationFrom(claims: Record<string, unknown>): TokenRequest['details'] {
  const hasAssertionDetails = claims.assertion_details !== undefined;
  const hasAuthorizationDetails = claims.authorization_details !== undefined;
  if (hasAssertionDetails && hasAuthorizationDetails) {
    throw new TrustError(
      'access_denied',
      'HID-DOUBLE-STRUCTURE',
      'The client assertion carries both assertion_details and authorization_details; send the attestation in one of them (assertion_details)',
    );
  }
  if (hasAssertionDetails)
    return parseAuthorizationDetails(claims.assertion_details, 'client assertion assertion_details');
  if (hasAuthorizationDetails)
    return parseAuthorizationDetails(claims.authorization_details, 'client assertion authorization_details');
  return undefined;
}

export function helseIdRouter(options: HelseIdOptions): Router {
  const { services } = options;
  const grants: Record<string, GrantHandler> = { client_credentials: clientCredentialsGrant, ...options.grants };
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });

  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.json(discoveryDocument(options.issuerOf(sandboxOf(res).name)));
  });

  router.get('/.well-known/openid-configuration/jwks', async (_req, res) => {
    res.json({ keys: await services.keys.published(sandboxOf(res).name) });
  });

  router.post('/connect/token', form, async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const sandbox = sandboxOf(res);
    const issuer = options.issuerOf(sandbox.name);
    const tokenEndpoint = `${issuer}/connect/token`;
    const now = sandbox.clock.now();
    const params = formOf(req);
    const grantType = params.grant_type;
    if (!grantType)
      throw new TrustError(
        'invalid_request',
        'NAVET-GRANT-TYPE-MISSING',
        `grant_type is required: one of ${GRANT_TYPES.join(', ')}`,
      );
    const grant = grants[grantType];
    if (!grant)
      throw new TrustError(
        'unsupported_grant_type',
        'NAVET-GRANT-TYPE',
        `grant_type "${grantType}" is not supported; use one of ${Object.keys(grants).join(', ')}`,
      );

    // The DPoP proof is checked first, so that a use_dpop_nonce round-trip does not use up the client assertion.
    const proofHeader = req.headers.dpop;
    const proof = typeof proofHeader === 'string' ? proofHeader : undefined;
    const dpop =
      proof === undefined
        ? undefined
        : await verifyDpopProof({
            sandbox: sandbox.name,
            proof,
            method: 'POST',
            url: tokenEndpoint,
            now,
            replay: services.state,
            nonce: { required: true, nonces: services.nonces },
          });
    const authenticated = await authenticateClient({
      sandbox: sandbox.name,
      form: params,
      issuer,
      tokenEndpoint,
      now,
      clients: services.clients,
      replay: services.state,
    });
    res.locals.clientId = authenticated.client.clientId;
    if (authenticated.client.dpop && !dpop) {
      const nonce = await services.nonces.issue(sandbox.name, now);
      throw new TrustError(
        'invalid_dpop_proof',
        'NAVET-DPOP-REQUIRED',
        'This client is registered for DPoP: send a DPoP proof header (typ dpop+jwt, htm POST, htu the token endpoint) with the nonce from the DPoP-Nonce header',
        400,
        { 'DPoP-Nonce': nonce },
      );
    }
    const response = await grant({
      sandbox: sandbox.name,
      form: params,
      issuer,
      now,
      authenticated,
      jkt: dpop?.jkt,
      details: attestationFrom(authenticated.claims),
      services,
    });
    res.json(response);
  });

  options.extend?.(router);
  return router;
}
