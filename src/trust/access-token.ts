import { type JWTPayload, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import type { Client } from './clients';
import { SIGNING_ALG, type SigningKeys } from './signing-keys';

/** HelseID-shaped access tokens: at+jwt, RS256, client claims always, user claims in user flows. */
export const CLAIM = {
  orgnrParent: 'helseid://claims/client/claims/orgnr_parent',
  orgnrChild: 'helseid://claims/client/claims/orgnr_child',
  orgnrSupplier: 'helseid://claims/client/claims/orgnr_supplier',
  clientName: 'helseid://claims/client/client_name',
  clientTenancy: 'helseid://claims/client/client_tenancy',
  pid: 'helseid://claims/identity/pid',
  pidPseudonym: 'helseid://claims/identity/pid_pseudonym',
  securityLevel: 'helseid://claims/identity/security_level',
  assuranceLevel: 'helseid://claims/identity/assurance_level',
  hprNumber: 'helseid://claims/hpr/hpr_number',
  network: 'helseid://claims/identity/network',
  attestation: 'nhn:tillitsrammeverk:parameters',
  journalId: 'nhn:sfm:journal-id',
} as const;

/** The person logged in through the test identity provider. */
export interface UserIdentity {
  pid: string;
  hprNumber?: string;
  name: string;
  givenName: string;
  middleName?: string;
  familyName: string;
  /** Pseudonymous subject: stable per person and client. */
  sub: string;
  authTime: number;
  sid: string;
}

export interface TokenContent {
  client: Client;
  scopes: string[];
  audience: string;
  /** DPoP key thumbprint, for sender-constrained tokens. */
  jkt?: string;
  user?: UserIdentity;
  /** The child organisation the client acts for (helseid_authorization), when not the registered one. */
  childOrganization?: string;
  /** The parent a multi-tenant client acts for (helseid_authorization NO:ORGNR:<parent>:…), when not the registered one. */
  parentOrganization?: string;
  attestation?: Record<string, unknown>;
  journalId?: string;
  /** Token exchange: the actor. */
  act?: { client_id: string; sub?: string };
  lifetimeSeconds: number;
}

export function accessTokenClaims(
  content: TokenContent,
  issuer: string,
  nowS: number,
): JWTPayload & Record<string, unknown> {
  const { client, user } = content;
  // a multi-tenant client that names another parent names its child too (or none)
  const child = content.childOrganization ?? (content.parentOrganization ? undefined : client.organization.child);
  return {
    iss: issuer,
    nbf: nowS,
    iat: nowS,
    exp: nowS + content.lifetimeSeconds,
    aud: content.audience,
    ...(content.jkt ? { cnf: { jkt: content.jkt } } : {}),
    scope: content.scopes,
    client_id: client.clientId,
    client_amr: 'private_key_jwt',
    jti: randomUUID(),
    [CLAIM.orgnrParent]: content.parentOrganization ?? client.organization.parent,
    ...(child ? { [CLAIM.orgnrChild]: child } : {}),
    ...(client.supplier ? { [CLAIM.orgnrSupplier]: client.supplier } : {}),
    [CLAIM.clientName]: client.name,
    [CLAIM.clientTenancy]: client.tenancy,
    ...(user
      ? {
          sub: user.sub,
          auth_time: user.authTime,
          idp: 'testidp-oidc',
          [CLAIM.pid]: user.pid,
          [CLAIM.pidPseudonym]: user.sub,
          [CLAIM.securityLevel]: '4',
          [CLAIM.assuranceLevel]: 'high',
          ...(user.hprNumber ? { [CLAIM.hprNumber]: user.hprNumber } : {}),
          name: user.name,
          given_name: user.givenName,
          ...(user.middleName ? { middle_name: user.middleName } : {}),
          family_name: user.familyName,
          [CLAIM.network]: 'internett',
          sid: user.sid,
        }
      : {}),
    ...(content.attestation ? { [CLAIM.attestation]: content.attestation } : {}),
    ...(content.journalId ? { [CLAIM.journalId]: content.journalId } : {}),
    ...(content.act ? { act: content.act } : {}),
  };
}

export async function signAccessToken(
  keys: SigningKeys,
  sandbox: string,
  claims: JWTPayload,
  header: Record<string, unknown> = {},
): Promise<string> {
  const key = await keys.current(sandbox);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'at+jwt', ...header })
    .sign(key.privateKey);
}

export async function issueAccessToken(
  keys: SigningKeys,
  sandbox: string,
  issuer: string,
  now: Date,
  content: TokenContent,
): Promise<{ token: string; claims: JWTPayload & Record<string, unknown> }> {
  const claims = accessTokenClaims(content, issuer, Math.floor(now.getTime() / 1000));
  return { token: await signAccessToken(keys, sandbox, claims), claims };
}
