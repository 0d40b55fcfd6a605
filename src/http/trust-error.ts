import type { NavetErrorCode } from '../codes/error-codes';
import { NavetError } from '../codes/navet-error';

/**
 * Errors of the trust framework. At the token endpoint they are OAuth error JSON
 * (`error`, `error_description`); at a guarded endpoint a 401 with `WWW-Authenticate`
 * (RFC 6750 / RFC 9449) or a 403 OperationOutcome for attestation rules.
 * `code` is stable (like jose's ERR_* codes); attestation rules use the rule name (ATT-43).
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_authorization_details'
  | 'server_error';

export class TrustError extends NavetError {
  constructor(
    readonly error: OAuthErrorCode,
    /** Stable code, e.g. NAVET-ASSERTION-EXPIRED or ATT-43. */
    code: NavetErrorCode,
    readonly description: string,
    status = 400,
    headers: Record<string, string> = {},
  ) {
    super(`${code}: ${description}`, { code, status, headers });
    this.name = 'TrustError';
  }

  /** The OAuth error body: the description starts with the stable code. */
  toJSON(): { error: string; error_description: string; error_code: string } {
    return { error: this.error, error_description: `${this.code}: ${this.description}`, error_code: this.code };
  }
}
