import type { NextFunction, Request, Response } from 'express';
import { forbidden, unauthorized } from '../fhir/operation-outcome';
import type { Sandbox, Sandboxes } from './sandboxes';

/** Admin requests carry `Authorization: Bearer <sandbox admin key>`. */
export function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="navet-admin"' };

export function assertAdminKey(req: Request, sandboxes: Sandboxes, sandbox: Sandbox): void {
  const key = bearerToken(req);
  if (!key)
    throw unauthorized(
      'NAVET-ADMIN-KEY-MISSING',
      `Send the admin key of sandbox '${sandbox.name}' as 'Authorization: Bearer <key>'`,
      CHALLENGE,
    );
  if (!sandboxes.keyMatches(sandbox, key))
    throw unauthorized('NAVET-ADMIN-KEY-WRONG', `That is not the admin key of sandbox '${sandbox.name}'`, {
      'WWW-Authenticate': 'Bearer realm="navet-admin", error="invalid_token"',
    });
}

/** Guards operator-level calls (create and list sandboxes) when NAVET_OPERATOR_KEY is set. */
export function requireOperatorKey(operatorKey: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!operatorKey) return next();
    const key = bearerToken(req);
    if (!key)
      throw unauthorized(
        'NAVET-OPERATOR-KEY-MISSING',
        "This Navet requires the operator key (NAVET_OPERATOR_KEY) as 'Authorization: Bearer <key>' to create or list sandboxes",
        CHALLENGE,
      );
    if (key !== operatorKey) throw forbidden('NAVET-OPERATOR-KEY-WRONG', 'That is not the operator key of this Navet');
    next();
  };
}
