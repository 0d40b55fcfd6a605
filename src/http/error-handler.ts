import type { ErrorRequestHandler, Request, Response } from 'express';
import { FhirError, operationOutcome } from '../fhir/operation-outcome';
import type { Logger } from '../logger';
import { TrustError } from './trust-error';
import { sendFhir } from './fhir-json';

/**
 * The one error handler: a thrown NavetError becomes its status and answer with its stable code — a TrustError
 * OAuth error JSON, a FhirError an OperationOutcome; body-parser failures become 400/413/415; anything else is
 * logged and answered with a plain 500 outcome (never a stack trace).
 */
interface HttpError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

function fromBodyParser(error: HttpError): FhirError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new FhirError(400, [
        {
          severity: 'error',
          code: 'structure',
          navetCode: 'NAVET-MALFORMED-JSON',
          text: `The body is not valid JSON: ${error.message.replace(/^Unexpected/, 'unexpected')}`,
        },
      ]);
    case 'entity.too.large':
      return new FhirError(413, [
        {
          severity: 'error',
          code: 'too-costly',
          navetCode: 'NAVET-BODY-TOO-LARGE',
          text: `The body is larger than the limit of ${error.limit} bytes (NAVET_MAX_BODY)`,
        },
      ]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new FhirError(415, [
        { severity: 'error', code: 'not-supported', navetCode: 'NAVET-CHARSET', text: 'Send the body in UTF-8' },
      ]);
    case 'parameters.too.many':
      return new FhirError(413, [
        {
          severity: 'error',
          code: 'too-costly',
          navetCode: 'NAVET-TOO-MANY-PARAMETERS',
          text: 'The form has too many parameters (at most 1,000)',
        },
      ]);
    case 'querystring.parse.rangeError':
      return new FhirError(400, [
        {
          severity: 'error',
          code: 'too-costly',
          navetCode: 'NAVET-TOO-MANY-PARAMETERS',
          text: 'The form nests too deeply or has too many parameters',
        },
      ]);
    case 'request.aborted':
      return new FhirError(400, [
        { severity: 'error', code: 'incomplete', navetCode: 'NAVET-ABORTED', text: 'The request body was cut off' },
      ]);
    default:
      return undefined;
  }
}

/** Express's own 4xx errors: a path segment that is not valid percent-encoding, and the like. */
function fromRouting(error: HttpError): FhirError | undefined {
  if (error instanceof URIError) {
    return new FhirError(400, [
      {
        severity: 'error',
        code: 'invalid',
        navetCode: 'NAVET-BAD-PERCENT-ENCODING',
        text: 'A path segment is not valid percent-encoding (RFC 3986: % followed by two hex digits, forming UTF-8); encode it with encodeURIComponent',
      },
    ]);
  }
  if (typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
    return new FhirError(error.status, [
      { severity: 'error', code: 'invalid', navetCode: 'NAVET-BAD-REQUEST', text: 'The request could not be read' },
    ]);
  }
  return undefined;
}

/** How long a client is asked to wait when SQLite's write lock stayed taken past the statement's wait. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * SQLite answers SQLITE_BUSY when another connection (a large seed in the worker, another process) held the
 * write lock longer than a statement goes on trying: nothing was written, and a later try succeeds.
 */
function fromLockedDatabase(error: unknown): FhirError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY')) return undefined;
  return new FhirError(
    503,
    [
      {
        severity: 'error',
        code: 'transient',
        navetCode: 'NAVET-DATABASE-BUSY',
        text: `The database was locked by long work (such as storing a large seed) for longer than a request waits; nothing was written. Try again in ${BUSY_RETRY_AFTER_SECONDS} s`,
      },
    ],
    { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) },
  );
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next) => {
    const known =
      error instanceof FhirError
        ? error
        : (fromBodyParser(error as HttpError) ?? fromRouting(error as HttpError) ?? fromLockedDatabase(error));
    if (res.headersSent) {
      res.end();
      return;
    }
    if (error instanceof TrustError) {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      res.locals.errorCode = error.code;
      res.setHeader('Cache-Control', 'no-store');
      res.status(error.status).json(error.toJSON());
      return;
    }
    if (known) {
      for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
      res.locals.errorCode = known.navetCode;
      sendFhir(req, res, known.status, known.outcome);
      return;
    }
    // The stable code and the request id at error level; the stack (with the server's paths) only at debug.
    const requestId = res.locals.requestId;
    res.locals.errorCode = 'NAVET-INTERNAL';
    const name = error instanceof Error ? error.name : typeof error;
    const code = (error as { code?: unknown } | null)?.code;
    logger.error(
      {
        errorCode: 'NAVET-INTERNAL',
        requestId,
        errorName: name,
        ...(typeof code === 'string' ? { cause: code } : {}),
        method: req.method,
        sandbox: res.locals.sandboxName,
      },
      'unexpected error',
    );
    logger.debug({ requestId, err: error }, 'unexpected error (stack)');
    sendFhir(
      req,
      res,
      500,
      operationOutcome([
        {
          severity: 'fatal',
          code: 'exception',
          navetCode: 'NAVET-INTERNAL',
          text: `Navet failed to handle this request; the error is logged on the server with request id ${requestId ?? 'unknown'}`,
        },
      ]),
    );
  };
}
