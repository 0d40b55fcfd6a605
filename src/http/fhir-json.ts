import type { Request, Response } from 'express';
import { FhirError } from '../fhir/operation-outcome';

/** FHIR JSON in and out: content negotiation, `_format`, `_pretty` and the Prefer header. */
export const FHIR_JSON = 'application/fhir+json';
const JSON_FORMATS = new Set([
  'json',
  'application/json',
  'application/fhir+json',
  'application/json+fhir',
  'fhir+json',
]);

/** Refuses a request that asks for a format Navet does not produce (XML, Turtle). */
export function assertJsonAcceptable(req: Request): void {
  const format =
    typeof req.query._format === 'string' ? req.query._format.toLowerCase().split(';')[0].trim() : undefined;
  if (format !== undefined && !JSON_FORMATS.has(format)) {
    throw new FhirError(406, [
      {
        severity: 'error',
        code: 'not-supported',
        navetCode: 'NAVET-FORMAT',
        text: `_format=${format} is not supported; Navet speaks FHIR JSON only (_format=json)`,
        expression: ['_format'],
      },
    ]);
  }
  const accept = req.headers.accept;
  if (format === undefined && accept && !/json|\*\/\*|application\/\*/i.test(accept)) {
    throw new FhirError(406, [
      {
        severity: 'error',
        code: 'not-supported',
        navetCode: 'NAVET-FORMAT',
        text: `Accept: ${accept} cannot be served; Navet speaks FHIR JSON only (application/fhir+json)`,
      },
    ]);
  }
}

export function sendFhir(req: Request, res: Response, status: number, body: unknown): void {
  res.status(status).type(`${FHIR_JSON}; charset=utf-8`);
  const pretty = req.query._pretty === 'true';
  res.send(pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body));
}

export interface Preferences {
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  lenient: boolean;
}

export function preferences(req: Request): Preferences {
  const header = String(req.headers.prefer ?? '');
  const ret = /return=(minimal|representation|OperationOutcome)/i.exec(header)?.[1];
  const normalized =
    ret?.toLowerCase() === 'operationoutcome' ? 'OperationOutcome' : (ret?.toLowerCase() as Preferences['return']);
  return { return: normalized, lenient: /handling=lenient/i.test(header) };
}
