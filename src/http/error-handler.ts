import type { ErrorRequestHandler, Request, Response } from 'express';
import { FhirError, operationOutcome } from '../fhir/operation-outcome';
import type { Logger } from '../logger';
import { TrustError } from '../trust/trust-error';
import { sendFhir } from './fhir-json';

/**
 * The one error handler: a thrown FhirError becomes its status and OperationOutcome; body-parser
 * failures become 400/413/415; anything else is logged and answered with a plain 500 outcome
 * (never a stack trace).
 */
interface HttpError extends Error {
  type?: string;
  status?: number;
  limit?: number;
}

function fromBodyParser(error: HttpError): FhirError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new FhirError(400, [{ severity: 'error', code: 'structure', navetCode: 'NAVET-MALFORMED-JSON', text: `The body is not valid JSON: ${error.message.replace(/^Unexpected/, 'unexpected')}` }]);
    case 'entity.too.large':
      return new FhirError(413, [{ severity: 'error', code: 'too-costly', navetCode: 'NAVET-BODY-TOO-LARGE', text: `The body is larger than the limit of ${error.limit} bytes (NAVET_MAX_BODY)` }]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new FhirError(415, [{ severity: 'error', code: 'not-supported', navetCode: 'NAVET-CHARSET', text: 'Send the body in UTF-8' }]);
    case 'parameters.too.many':
      return new FhirError(413, [{ severity: 'error', code: 'too-costly', navetCode: 'NAVET-TOO-MANY-PARAMETERS', text: 'The form has too many parameters (at most 1,000)' }]);
    case 'querystring.parse.rangeError':
      return new FhirError(400, [{ severity: 'error', code: 'too-costly', navetCode: 'NAVET-TOO-MANY-PARAMETERS', text: 'The form nests too deeply or has too many parameters' }]);
    case 'request.aborted':
      return new FhirError(400, [{ severity: 'error', code: 'incomplete', navetCode: 'NAVET-ABORTED', text: 'The request body was cut off' }]);
    default:
      return undefined;
  }
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req: Request, res: Response, _next) => {
    const known = error instanceof FhirError ? error : fromBodyParser(error as HttpError);
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
    logger.error({ err: error, method: req.method, path: req.path, sandbox: res.locals.sandboxName }, 'unexpected error');
    sendFhir(req, res, 500, operationOutcome([{ severity: 'fatal', code: 'exception', navetCode: 'NAVET-INTERNAL', text: 'Navet failed to handle this request; the error is logged on the server' }]));
  };
}
