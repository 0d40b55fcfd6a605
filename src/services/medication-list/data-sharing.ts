import type { NextFunction, Request, Response } from 'express';
import type { Basic } from 'fhir/r4';
import { randomUUID } from 'node:crypto';
import type { PatientDataAnswer } from '../../audit/patient-data-route';
import { badRequest, FhirError, notFound } from '../../fhir/operation-outcome';
import type { FhirResource } from '../../fhir/types';
import { sendFhir } from '../../http/fhir-json';
import type { Sandbox } from '../../sandbox/sandboxes';
import { identifierSystemOf, SYSTEMS } from '../../codes/code-systems';
import { isValidId, type ResourceStore } from '../../store/resource-store';
import type { AccessContext } from '../../trust/access-context';
import { festIdOf, festMedicine, medicationResource } from './fest-catalogue';
import { isLocked, readPll } from './pll-store';
import { SFM } from './sfm-codes';
import { authorOf, orgnrOf, patientByNin, type SfmContext } from './sfm-context';

/**
 * The read-only data-sharing API of SFM for consumers such as home-care record systems:
 * `POST /api/Session/create` → a session id; `POST /api/PatientTicket {"patientPid"}` → a ticket for one
 * patient (valid 8 hours, for the organisation that asked); `GET /List?patientTicket=…&summary=false` → the
 * current PLL (with its statements and medicines unless summary=true); `GET /List?…&_query=administration`
 * → administrations (none are recorded in the sandbox: an empty searchset); `GET /Medication?_id=ID_…` →
 * catalogue medicines. Session and ticket shapes are *unverified*; Navet keeps tickets as Basic resources
 * so every Navet node sees them. Locked prescriptions are never shown here.
 */
export const TICKET_VALID_MS = 8 * 60 * 60 * 1000;

export interface Ticket {
  id: string;
  nin: string;
  patientId: string;
  orgnr: string;
  expires: string;
}

function ticketOf(resource: Basic): Ticket | undefined {
  if (resource.code?.coding?.[0]?.code !== 'patient-ticket') return undefined;
  return {
    id: resource.id as string,
    nin: resource.subject?.identifier?.value ?? '',
    patientId: (resource.subject?.reference ?? '').replace('Patient/', ''),
    orgnr: resource.author?.identifier?.value ?? '',
    expires: resource.extension?.find((e) => e.url === `${SFM.navetRecord}/expires`)?.valueDateTime ?? '',
  };
}

/** Resolves `patientTicket` before the guard, so the access log knows the patient (res.locals.sfmTicket). */
export function resolveTicket(store: ResourceStore) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const sandbox = res.locals.sandbox;
    const given = req.query.patientTicket;
    if (typeof given === 'string' && isValidId(given)) {
      const resource = await store.find<Basic>(sandbox.name, 'Basic', given);
      const ticket = resource ? ticketOf(resource) : undefined;
      if (ticket) res.locals.sfmTicket = ticket;
    }
    next();
  };
}

export const ticketNin = (req: Request) => (req.res?.locals.sfmTicket as Ticket | undefined)?.nin;

function requireTicket(req: Request, res: Response, access: AccessContext, sandbox: Sandbox): Ticket {
  const given = req.query.patientTicket;
  if (typeof given !== 'string' || given === '')
    throw badRequest(
      'NAVET-SFM-TICKET',
      'patientTicket is required: get one with POST <sfm>/api/PatientTicket {"patientPid": "<fødselsnummer>"}',
      ['patientTicket'],
    );
  const ticket = res.locals.sfmTicket;
  // another organisation's ticket is as unknown as a made-up one
  if (!ticket || ticket.orgnr !== orgnrOf(access))
    throw notFound(
      'NAVET-SFM-TICKET-UNKNOWN',
      'This patientTicket is unknown to your organisation; get a new one with POST <sfm>/api/PatientTicket',
    );
  if (Date.parse(ticket.expires) < sandbox.clock.now().getTime()) {
    throw new FhirError(403, [
      {
        severity: 'error',
        code: 'expired',
        navetCode: 'NAVET-SFM-TICKET-EXPIRED',
        text: `This patientTicket expired at ${ticket.expires}; get a new one`,
        expression: ['patientTicket'],
      },
    ]);
  }
  return ticket;
}

export function createSession(_req: Request, res: Response): void {
  const sandbox = res.locals.sandbox;
  res.status(201).json({ sessionId: randomUUID(), created: sandbox.clock.now().toISOString() });
}

export const ticketPatientNin = (req: Request) => {
  const pid = (req.body as { patientPid?: unknown } | undefined)?.patientPid;
  return typeof pid === 'string' ? pid : undefined;
};

export async function createPatientTicket(
  context: SfmContext,
  req: Request,
  res: Response,
  access: AccessContext,
  store: ResourceStore,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const nin = ticketPatientNin(req);
  if (!nin || !/^\d{11}$/.test(nin))
    throw badRequest('NAVET-SFM-TICKET', 'Send {"patientPid": "<the patient\'s 11-digit fødselsnummer or D-number>"}', [
      'patientPid',
    ]);
  const patient = await patientByNin(store, sandbox.name, nin);
  const now = sandbox.clock.now();
  const expires = new Date(now.getTime() + TICKET_VALID_MS).toISOString();
  const author = await authorOf(access, store, sandbox.name);
  const ticket = await store.create(
    sandbox.name,
    {
      resourceType: 'Basic',
      code: {
        coding: [{ system: SFM.navetRecord, code: 'patient-ticket', display: 'SFM patient ticket (data sharing)' }],
      },
      subject: { reference: `Patient/${patient.id}`, identifier: { system: identifierSystemOf(nin), value: nin } },
      created: now.toISOString().slice(0, 10),
      author: { identifier: { system: SYSTEMS.orgnr, value: author.orgnr }, display: author.orgName },
      extension: [{ url: `${SFM.navetRecord}/expires`, valueDateTime: expires }],
    },
    now.toISOString(),
  );
  return {
    patients: [{ nin, id: patient.id as string }],
    send: (r: Response) => {
      r.status(201).json({ patientTicket: ticket.id, expires });
    },
  };
}

const searchset = (base: string, resources: { resource: FhirResource; mode: string }[], total: number) => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total,
  entry: resources.map(({ resource, mode }) => ({
    fullUrl: `${base}/${resource.resourceType}/${resource.id}`,
    resource,
    search: { mode },
  })),
});

export async function readList(
  context: SfmContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const ticket = requireTicket(req, res, access, sandbox);
  if (req.query._query !== undefined && req.query._query !== 'administration') {
    throw badRequest(
      'NAVET-SFM-QUERY',
      `_query must be "administration" (or left out); got ${JSON.stringify(req.query._query)}`,
      ['_query'],
    );
  }
  if (req.query._query === 'administration') {
    for (const name of ['from', 'to']) {
      const value = req.query[name];
      if (value !== undefined && (typeof value !== 'string' || Number.isNaN(Date.parse(value))))
        throw badRequest('NAVET-SFM-QUERY', `${name} must be a date such as 2026-11-01`, [name]);
    }
    return {
      patients: [{ nin: ticket.nin, id: ticket.patientId }],
      query: String(req.originalUrl.split('?')[1] ?? ''),
      send: (r) => sendFhir(req, r, 200, searchset(context.sfmBase, [], 0)),
    };
  }
  const summary = req.query.summary;
  if (summary !== undefined && summary !== 'true' && summary !== 'false')
    throw badRequest('NAVET-SFM-QUERY', 'summary must be true or false', ['summary']);
  const pll = await readPll(context.store, sandbox.name, ticket.patientId);
  const statements = pll.statements.filter((s) => !isLocked(s));
  const list = pll.list
    ? { ...pll.list, entry: statements.map((s) => ({ item: { reference: `MedicationStatement/${s.id}` } })) }
    : undefined;
  const included: FhirResource[] = [];
  if (summary !== 'true') {
    const medicines = new Map<string, FhirResource>();
    for (const s of statements) {
      const festId = festIdOf(
        String((s.medicationReference as { reference?: string } | undefined)?.reference ?? '').replace(
          'Medication/',
          '',
        ),
      );
      const medicine = festId ? festMedicine(festId) : undefined;
      if (medicine) medicines.set(medicine.festId, medicationResource(medicine));
    }
    included.push(...statements, ...medicines.values());
  }
  const entries = [
    ...(list ? [{ resource: list, mode: 'match' }] : []),
    ...included.map((resource) => ({ resource, mode: 'include' })),
  ];
  return {
    patients: [
      {
        nin: ticket.nin,
        id: ticket.patientId,
        resources: [...(list ? [`List/${list.id}`] : []), ...statements.map((s) => `MedicationStatement/${s.id}`)],
      },
    ],
    query: String(req.originalUrl.split('?')[1] ?? ''),
    send: (r) => sendFhir(req, r, 200, searchset(context.sfmBase, entries, list ? 1 : 0)),
  };
}

/** Catalogue medicines by FEST id; with a patientTicket the read is logged for that patient. */
export async function readMedication(
  context: SfmContext,
  req: Request,
  res: Response,
  access: AccessContext,
): Promise<PatientDataAnswer> {
  const sandbox = res.locals.sandbox;
  const ticket = req.query.patientTicket !== undefined ? requireTicket(req, res, access, sandbox) : undefined;
  const raw = req.query._id;
  if (typeof raw !== 'string' || raw === '')
    throw badRequest('NAVET-SFM-QUERY', '_id is required: one or more FEST ids ID_<GUID>, comma-separated', ['_id']);
  const medicines = raw
    .split(',')
    .map((id) => festMedicine(id.trim()))
    .filter((m) => m !== undefined);
  const resources = medicines.map((m) => ({ resource: medicationResource(m), mode: 'match' }));
  return {
    patients: ticket
      ? [{ nin: ticket.nin, id: ticket.patientId, resources: resources.map((r) => `Medication/${r.resource.id}`) }]
      : [],
    query: String(req.originalUrl.split('?')[1] ?? ''),
    send: (r) => sendFhir(req, r, 200, searchset(context.sfmBase, resources, resources.length)),
  };
}
