import type { AttestationDetails } from './attestation';

/** What a pushed authorization request (PAR) holds until login, and the code issued after it. */
export interface PushedRequest {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  /** The API of a token request that names no resource. */
  audience: string;
  /** Every API of the login (RFC 8707 resource indicators, one token per API); absent: [audience]. */
  audiences?: string[];
  codeChallenge: string;
  state?: string;
  nonce?: string;
  /** The attestation of this login: rides in every access token of it. */
  details?: AttestationDetails;
  /** test_pid from the request (HelseID's test IdP shortcut). */
  testPid?: string;
}

export interface AuthorizationCode extends PushedRequest {
  pid: string;
  authTime: number;
}

/** A refresh token's grant: rotated at every use. */
export interface RefreshGrant {
  clientId: string;
  scopes: string[];
  audience: string;
  audiences?: string[];
  pid: string;
  authTime: number;
  /** The attestation pushed with the login (PAR): it rides in every token of the login. */
  loginDetails?: AttestationDetails;
  jkt?: string;
}

export const PAR_LIFETIME_S = 90;
export const CODE_LIFETIME_S = 60;
export const REFRESH_LIFETIME_S = 8 * 3600;
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
