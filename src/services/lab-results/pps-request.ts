import type { Request, Response } from 'express';
import { idnr } from '@navikt/fnrvalidator';
import { randomUUID } from 'node:crypto';
import { badRequest, forbidden } from '../../fhir/operation-outcome';
import { SYSTEMS } from '../../codes/code-systems';
import type { AccessContext } from '../../trust/access-context';
import type { AccessVerifier } from '../../trust/guard';
import { PPS_AUDIENCE, PPS_SCOPES } from './pps-codes';
import type { PpsSettingsStore } from './pps-settings';

/**
 * The patient and requester context of a PPS search, from the real API's headers: `person-id`,
 * `access-basis` (legacy `grunnlag` 0/1/2), `requester-hpr-role`, `correlation-id` behind the guard, and
 * the `x-nilar-*` headers of the unauthenticated test backdoor.
 */
export interface PpsRequestContext {
  nin: string;
  accessBasis?: string;
  requesterRole?: string;
  correlationId?: string;
}

export const BACKDOOR_CLIENT_ID = 'pps-test-backdoor';
const header = (req: Request, name: string): string | undefined => {
  const value = req.headers[name];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
};

/** The patient a PPS request names (for logging rejected requests too): `person-id`, on the backdoor `x-nilar-patient`. */
export const personIdOf = (req: Request): string | undefined => header(req, 'person-id');
export const backdoorPersonIdOf = (req: Request): string | undefined => header(req, 'x-nilar-patient');

/** Whether an 11-digit number is a valid fødselsnummer, D-number, H-number or synthetic (Tenor) number. */
export function isValidPersonId(value: string): boolean {
  return /^\d{11}$/.test(value) && idnr(value).status === 'valid';
}

export function readPpsRequest(req: Request, backdoor: boolean): PpsRequestContext {
  const name = backdoor ? 'x-nilar-patient' : 'person-id';
  const nin = header(req, name);
  if (!nin)
    throw badRequest(
      'NAVET-PPS-PERSON-ID',
      `The ${name} header is required: the patient's fødselsnummer or D-number (11 digits)`,
      [name],
    );
  if (!isValidPersonId(nin))
    throw badRequest(
      'NAVET-PPS-PERSON-ID',
      `${name} '${nin.slice(0, 20)}' is not a valid fødselsnummer or D-number: 11 digits with correct check digits and a real date`,
      [name],
    );
  const grunnlag = header(req, 'grunnlag');
  if (grunnlag !== undefined && !['0', '1', '2'].includes(grunnlag))
    throw badRequest(
      'NAVET-PPS-ACCESS-BASIS',
      `grunnlag (legacy access basis) must be 0, 1 or 2; got '${grunnlag.slice(0, 20)}'`,
      ['grunnlag'],
    );
  const accessBasis = header(req, backdoor ? 'x-nilar-access-basis' : 'access-basis') ?? grunnlag;
  if (accessBasis !== undefined && accessBasis.length > 64)
    throw badRequest('NAVET-PPS-ACCESS-BASIS', 'access-basis is longer than 64 characters', ['access-basis']);
  return {
    nin,
    accessBasis,
    requesterRole: header(req, backdoor ? 'x-nilar-requester-hpr-role' : 'requester-hpr-role'),
    correlationId: header(req, backdoor ? 'x-nilar-correlation-id' : 'correlation-id')?.slice(0, 128),
  };
}

/**
 * The backdoor's "verification": no token, only the sandbox's switch. The requester is whoever the
 * x-nilar-* headers say, and that is what the access log records.
 */
export function backdoorVerifier(settings: PpsSettingsStore): AccessVerifier {
  return async (req: Request, res: Response): Promise<AccessContext> => {
    const sandbox = res.locals.sandbox;
    if (!(await settings.read(sandbox.name)).backdoorEnabled) {
      throw forbidden(
        'NAVET-PPS-BACKDOOR-OFF',
        `The unauthenticated test backdoor is switched off in sandbox ${sandbox.name}; an operator turns it on with PUT /api/sandboxes/${sandbox.name}/settings/pps {"backdoorEnabled": true}`,
      );
    }
    const hpr = header(req, 'x-nilar-requester-hpr');
    const organisation = header(req, 'x-nilar-organisation');
    const orgRef =
      organisation && /^\d{9}$/.test(organisation) ? { id: organisation, system: SYSTEMS.orgnr } : undefined;
    const access: AccessContext = {
      sandbox: sandbox.name,
      client: { clientId: BACKDOOR_CLIENT_ID, name: 'PPS test backdoor (unauthenticated)', tenancy: 'single-tenant' },
      scopes: [PPS_SCOPES.read],
      audience: PPS_AUDIENCE,
      tokenType: 'Bearer',
      practitioner: {
        ...(hpr ? { hprNumber: hpr.slice(0, 20) } : {}),
        ...(header(req, 'x-nilar-requester-name')
          ? { name: header(req, 'x-nilar-requester-name')?.slice(0, 100) }
          : {}),
        authenticated: false,
      },
      ...(orgRef ? { organisation: { legalEntity: orgRef, pointOfCare: orgRef } } : {}),
      patient: { nin: backdoorPersonIdOf(req) },
      accessBasis: header(req, 'x-nilar-access-basis'),
      eventId: header(req, 'x-nilar-correlation-id') ?? randomUUID(),
      tokenId: 'none',
    };
    res.locals.access = access;
    res.locals.knownAccess = access;
    return access;
  };
}
