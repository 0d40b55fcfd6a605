import type { NavetErrorCode } from './error-codes';

/**
 * The one base of Navet's errors (as jose's `JOSEError`): every error carries a stable `code` of the catalogue (error-codes.ts), the HTTP
 * status it answers with and the headers of that answer. Subclasses say how a client reads it — FhirError
 * as an OperationOutcome, TrustError as OAuth error JSON — and the one error handler (http/error-handler.ts)
 * sends either. A class whose errors all share one code declares it as `static code`, as jose's do.
 */
export class NavetError extends Error {
  static readonly code: NavetErrorCode = 'NAVET-INTERNAL';
  readonly code: NavetErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(
    message: string,
    options: { code?: NavetErrorCode; status?: number; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.code = options.code ?? (new.target as typeof NavetError).code;
    this.status = options.status ?? 500;
    this.headers = options.headers ?? {};
  }
}
