import type { NavetErrorCode } from '../codes/error-codes';
import { NavetError } from '../codes/navet-error';
import type { FhirResource } from './types';

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

/** One OperationOutcome issue: `code` is the FHIR issue type, `navetCode` our stable error code. */
export interface OutcomeIssue {
  severity: IssueSeverity;
  code: string;
  text: string;
  expression?: string[];
  navetCode?: NavetErrorCode;
}

export interface OperationOutcome extends FhirResource {
  resourceType: 'OperationOutcome';
  issue: {
    severity: IssueSeverity;
    code: string;
    details?: { coding?: { system: string; code: string }[]; text: string };
    diagnostics?: string;
    expression?: string[];
  }[];
}

/** Code system of Navet's stable error codes (like jose's ERR_* codes). */
export const NAVET_ERROR_SYSTEM = 'https://navet.example/fhir/CodeSystem/error-code';

export function operationOutcome(issues: OutcomeIssue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((issue) => ({
      severity: issue.severity,
      code: issue.code,
      details: {
        ...(issue.navetCode ? { coding: [{ system: NAVET_ERROR_SYSTEM, code: issue.navetCode }] } : {}),
        text: issue.text,
      },
      ...(issue.expression?.length ? { expression: issue.expression } : {}),
    })),
  };
}

/**
 * A NavetError that becomes an HTTP status and an OperationOutcome. Thrown anywhere below a FHIR route;
 * the one error handler turns it into the answer.
 */
export class FhirError extends NavetError {
  readonly issues: OutcomeIssue[];

  constructor(status: number, issues: OutcomeIssue[], headers: Record<string, string> = {}) {
    super(issues.map((i) => i.text).join('; '), { code: issues[0]?.navetCode, status, headers });
    this.name = 'FhirError';
    this.issues = issues;
  }

  get outcome(): OperationOutcome {
    return operationOutcome(this.issues);
  }

  /** The first issue's code (the same as `code`). */
  get navetCode(): NavetErrorCode | undefined {
    return this.issues[0]?.navetCode;
  }
}

function fail(status: number, code: string, navetCode: NavetErrorCode, text: string, expression?: string[]): FhirError {
  return new FhirError(status, [{ severity: 'error', code, navetCode, text, expression }]);
}

export const badRequest = (navetCode: NavetErrorCode, text: string, expression?: string[]) =>
  fail(400, 'invalid', navetCode, text, expression);
export const notFound = (navetCode: NavetErrorCode, text: string) => fail(404, 'not-found', navetCode, text);
export const gone = (navetCode: NavetErrorCode, text: string) => fail(410, 'deleted', navetCode, text);
export const conflict = (navetCode: NavetErrorCode, text: string) => fail(409, 'conflict', navetCode, text);
export const preconditionFailed = (navetCode: NavetErrorCode, text: string) => fail(412, 'conflict', navetCode, text);
export const notSupported = (navetCode: NavetErrorCode, text: string, expression?: string[]) =>
  fail(400, 'not-supported', navetCode, text, expression);
export const unauthorized = (navetCode: NavetErrorCode, text: string, headers: Record<string, string> = {}) =>
  new FhirError(401, [{ severity: 'error', code: 'login', navetCode, text }], headers);
export const forbidden = (navetCode: NavetErrorCode, text: string) => fail(403, 'forbidden', navetCode, text);

export function informationOutcome(text: string): OperationOutcome {
  return operationOutcome([{ severity: 'information', code: 'informational', text }]);
}
