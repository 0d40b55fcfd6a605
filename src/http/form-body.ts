import express, { type NextFunction, type Request, type Response } from 'express';
import { FhirError } from '../fhir/operation-outcome';

/**
 * The body of a `POST …/_search`: form parameters only. A body of another type (JSON, say) is refused
 * instead of being ignored, which would silently drop the client's filters.
 */
export function formBody(
  limit: string,
): [(req: Request, res: Response, next: NextFunction) => void, ReturnType<typeof express.urlencoded>] {
  const onlyForms = (req: Request, _res: Response, next: NextFunction) => {
    const hasBody =
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
      req.headers['transfer-encoding'] !== undefined;
    if (req.method === 'POST' && hasBody && !req.is('application/x-www-form-urlencoded')) {
      throw new FhirError(415, [
        {
          severity: 'error',
          code: 'not-supported',
          navetCode: 'NAVET-CONTENT-TYPE',
          text: `POST _search takes its parameters as a form (Content-Type: application/x-www-form-urlencoded, e.g. date=ge2021-01-01&_count=10); got ${req.headers['content-type'] ?? 'no Content-Type'}`,
        },
      ]);
    }
    next();
  };
  return [onlyForms, express.urlencoded({ extended: false, limit })];
}
