import type { TokenContent } from './access-token';
import type { AttestationDetails } from './attestation';
import type { AuthenticatedClient } from './client-assertion';
import type { Client } from './clients';
import { API_RESOURCES, audienceOfScope, IDENTITY_SCOPES, isKnownAudience } from './scopes';
import { TrustError } from '../http/trust-error';
import type { TrustServices } from './trust-services';

/** What every grant handler gets: the authenticated client, its DPoP key and attestation. */
export interface TokenRequest {
  sandbox: string;
  form: Record<string, string | undefined>;
  issuer: string;
  now: Date;
  authenticated: AuthenticatedClient;
  /** Thumbprint of the DPoP proof's key, when the request carried a proof. */
  jkt?: string;
  /** Attestation from the client assertion (assertion_details or authorization_details). */
  details?: AttestationDetails;
  services: TrustServices;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'DPoP' | 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
  /** HelseID's own: seconds the refresh token lives (HelseID.Samples ApiAccess reads it). */
  rt_expires_in?: number;
  id_token?: string;
  issued_token_type?: string;
}

export type GrantHandler = (request: TokenRequest) => Promise<TokenResponse>;

/** The requested scopes, each one the client may have. */
function allowedScopes(client: Client, scopeParam: string | undefined): string[] {
  if (!scopeParam?.trim())
    throw new TrustError(
      'invalid_scope',
      'NAVET-SCOPE-MISSING',
      `scope is required; this client may ask for: ${client.scopes.join(' ')}`,
    );
  const scopes = [...new Set(scopeParam.trim().split(/\s+/))];
  const notAllowed = scopes.filter((s) => !client.scopes.includes(s));
  if (notAllowed.length)
    throw new TrustError(
      'invalid_scope',
      'NAVET-SCOPE-NOT-ALLOWED',
      `The client is not allowed the scope(s) ${notAllowed.join(', ')}; it may ask for: ${client.scopes.join(' ')}`,
    );
  return scopes;
}

/** Checks the requested scopes against the client's and decides the audience (RFC 8707 resource). */
export function resolveScopesAndAudience(
  client: Client,
  scopeParam: string | undefined,
  resource: string | undefined,
): { scopes: string[]; audience: string } {
  const scopes = allowedScopes(client, scopeParam);
  const audiences = [
    ...new Set(scopes.filter((s) => !IDENTITY_SCOPES.includes(s)).map((s) => audienceOfScope(s) as string)),
  ];
  if (resource !== undefined) {
    if (!isKnownAudience(resource))
      throw new TrustError(
        'invalid_target',
        'NAVET-RESOURCE-UNKNOWN',
        `resource "${resource}" is not an API of this token service; use one of ${API_RESOURCES.map((r) => r.audience).join(', ')}`,
      );
    const foreign = scopes.filter((s) => !IDENTITY_SCOPES.includes(s) && audienceOfScope(s) !== resource);
    if (foreign.length)
      throw new TrustError(
        'invalid_target',
        'NAVET-RESOURCE-SCOPE-MISMATCH',
        `The scope(s) ${foreign.join(', ')} do not belong to resource "${resource}"; ask for one API per token`,
      );
    return { scopes, audience: resource };
  }
  if (audiences.length === 1) return { scopes, audience: audiences[0] };
  if (audiences.length === 0)
    throw new TrustError(
      'invalid_scope',
      'NAVET-SCOPE-NO-API',
      'Ask for at least one API scope (e.g. nhn:phr/mhd/read-documentreferences)',
    );
  throw new TrustError(
    'invalid_target',
    'NAVET-RESOURCE-AMBIGUOUS',
    `The scopes belong to several APIs (${audiences.join(', ')}); send resource=<one of them> and only its scopes`,
  );
}

/**
 * What the authorization details of a request put into its token besides the attestation: the organisation
 * (helseid_authorization) and the SFM journal id. Only a multi-tenant client names its parent; a
 * single-tenant client's parent is the registered one.
 */
export function detailsContent(
  client: Client,
  details: AttestationDetails | undefined,
): Pick<TokenContent, 'parentOrganization' | 'childOrganization' | 'attestation' | 'journalId'> {
  const parent = details?.parentOrganization;
  if (parent && client.tenancy !== 'multi-tenant' && parent !== client.organization.parent) {
    throw new TrustError(
      'invalid_request',
      'NAVET-ORGANIZATION-PARENT',
      `helseid_authorization names parent ${parent}, but this single-tenant client belongs to ${client.organization.parent}; only a multi-tenant client acts for other organisations`,
    );
  }
  return {
    ...(parent ? { parentOrganization: parent } : {}),
    ...(details?.childOrganization ? { childOrganization: details.childOrganization } : {}),
    ...(details?.attestation ? { attestation: details.attestation as Record<string, unknown> } : {}),
    ...(details?.journalId ? { journalId: details.journalId } : {}),
  };
}

/**
 * The scopes and APIs of a login (PAR): several `resource` values name several APIs, each to get its own
 * token later (RFC 8707; PJD's SimpleResourceIndicatorsDemo); one or none work as resolveScopesAndAudience.
 */
export function resolveLoginScopes(
  client: Client,
  scopeParam: string | undefined,
  resources: string[],
): { scopes: string[]; audience: string; audiences?: string[] } {
  if (resources.length <= 1) return resolveScopesAndAudience(client, scopeParam, resources[0]);
  const unknown = resources.filter((r) => !isKnownAudience(r));
  if (unknown.length)
    throw new TrustError(
      'invalid_target',
      'NAVET-RESOURCE-UNKNOWN',
      `resource ${unknown.map((r) => `"${r}"`).join(', ')} is not an API of this token service; use some of ${API_RESOURCES.map((r) => r.audience).join(', ')}`,
    );
  const scopes = allowedScopes(client, scopeParam);
  const foreign = scopes.filter(
    (s) => !IDENTITY_SCOPES.includes(s) && !resources.includes(audienceOfScope(s) as string),
  );
  if (foreign.length)
    throw new TrustError(
      'invalid_target',
      'NAVET-RESOURCE-SCOPE-MISMATCH',
      `The scope(s) ${foreign.join(', ')} belong to none of the resources ${resources.join(', ')}`,
    );
  const audiences = [...new Set(resources)];
  return { scopes, audience: audiences[0], audiences };
}

/** The API of one token of a login: the `resource` of the token request, one of the login's; its scopes only. */
export function tokenOfLogin(
  login: { scopes: string[]; audience: string; audiences?: string[] },
  resource: string | undefined,
): { scopes: string[]; audience: string } {
  const audiences = login.audiences ?? [login.audience];
  if (resource !== undefined && !audiences.includes(resource)) {
    throw new TrustError(
      'invalid_target',
      'NAVET-RESOURCE-NOT-GRANTED',
      `resource "${resource}" was not asked for at login; this login has ${audiences.join(', ')}`,
    );
  }
  const audience = resource ?? login.audience;
  return {
    audience,
    scopes: login.scopes.filter((s) => IDENTITY_SCOPES.includes(s) || audienceOfScope(s) === audience),
  };
}
