import { jsonBody } from '../http/json-body';
import { type Request, type Response, Router } from 'express';
import { badRequest, forbidden } from '../fhir/operation-outcome';
import { parseSearchRequest } from '../fhir/search-request';
import type { Sandbox } from '../sandbox/sandboxes';
import { SYSTEMS } from '../codes/code-systems';
import type { ResourceStore } from '../store/resource-store';
import { guard, type GuardDependencies } from '../trust/guard';
import { pageLinks } from '../fhir/bundles';
import { NORS_LABEL, SECURITY_LABEL_SYSTEM } from '../codes/pjd-codes';
import { hasSecurityLabel } from '../fhir/security-labels';
import { citizenAccessEntry } from './access-log-view';
import { PrivacyChoiceStore } from './privacy-choices';

/**
 * The citizen's side (`services.citizen`), a small Helsenorge-like API. The citizen logs in through the
 * sandbox's test identity provider (a user token for audience navet:citizen carrying
 * helseid://claims/identity/pid); every call answers for that person only.
 */
export const CITIZEN_AUDIENCE = 'navet:citizen';
export const CITIZEN_SCOPE = 'navet:citizen';

interface Citizen {
  nin: string;
  patientId?: string;
  sandbox: Sandbox;
}

async function citizenOf(store: ResourceStore, res: Response): Promise<Citizen> {
  const sandbox = res.locals.sandbox;
  // only a login makes a citizen: the pid claim HelseID sets, never an identity a system attests
  const person = res.locals.access.practitioner;
  const nin = person?.authenticated ? person.pid : undefined;
  if (!nin)
    throw forbidden(
      'NAVET-CITIZEN-LOGIN',
      'The citizen API needs a token from a login (authorization code flow through the test identity provider) carrying helseid://claims/identity/pid; a system token has no citizen',
    );
  const patient = (
    await store.search(sandbox.name, {
      ...parseSearchRequest('Patient', [['identifier', `${SYSTEMS.fnr}|${nin}`]]),
      count: 1,
      totalNone: true,
    })
  ).matches[0];
  return { nin, patientId: patient?.id, sandbox };
}

function pageParams(req: Request): { count: number; page: number } {
  const read = (name: string, fallback: number, max: number) => {
    const value = req.query[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !/^[1-9]\d*$/.test(value))
      throw badRequest('NAVET-CITIZEN-PAGE', `${name} must be a whole number from 1`, [name]);
    return Math.min(Number(value), max);
  };
  return { count: read('_count', 20, 100), page: read('_page', 1, Number.MAX_SAFE_INTEGER) };
}

function booleanField(body: unknown, name: string): boolean {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (typeof value !== 'boolean')
    throw badRequest('NAVET-CITIZEN-BODY', `Send {"${name}": true} or {"${name}": false}`, [name]);
  return value;
}

function requirePatient(citizen: Citizen): string {
  if (!citizen.patientId)
    throw forbidden(
      'NAVET-CITIZEN-NO-RECORD',
      'This sandbox has no patient record for you, so there are no documents to block',
    );
  return citizen.patientId;
}

export function citizenRouter(deps: GuardDependencies & { citizenUrl: (sandbox: string) => string }): Router {
  const router = Router();
  const choices = new PrivacyChoiceStore(deps.store);
  const json = jsonBody({ limit: '16kb' });
  router.use(guard(deps, { audience: CITIZEN_AUDIENCE, anyScope: [CITIZEN_SCOPE] }));
  const now = (citizen: Citizen) => citizen.sandbox.clock.now().toISOString();

  router.get('/access-log', async (req, res) => {
    const citizen = await citizenOf(deps.store, res);
    const { count, page } = pageParams(req);
    const request = {
      ...parseSearchRequest('AuditEvent', [
        ['patient-identifier', citizen.nin],
        ['outcome', '0'],
        ['_sort', '-date'],
      ]),
      count,
      offset: (page - 1) * count,
    };
    const found = await deps.store.search(citizen.sandbox.name, request);
    res.json({
      total: found.total ?? 0,
      entries: found.matches.map(citizenAccessEntry),
      link: pageLinks(`${deps.citizenUrl(citizen.sandbox.name)}/access-log`, [], count, page, found.total ?? 0),
    });
  });

  router.get('/documents', async (_req, res) => {
    const citizen = await citizenOf(deps.store, res);
    if (!citizen.patientId) return res.json({ total: 0, documents: [] });
    const found = await deps.store.search(citizen.sandbox.name, {
      ...parseSearchRequest('DocumentReference', [
        ['subject', `Patient/${citizen.patientId}`],
        ['_sort', '-date'],
      ]),
      count: 1000,
    });
    res.json({
      total: found.total ?? 0,
      documents: found.matches.map((d) => {
        const attachment = (d.content as { attachment?: { title?: string } }[] | undefined)?.[0]?.attachment;
        return {
          id: d.id,
          title: attachment?.title ?? (d.type as { coding?: { display?: string }[] } | undefined)?.coding?.[0]?.display,
          date: d.date,
          status: d.status,
          blocked: hasSecurityLabel(d, SECURITY_LABEL_SYSTEM, NORS_LABEL),
        };
      }),
    });
  });

  router.get('/privacy', async (_req, res) => {
    const citizen = await citizenOf(deps.store, res);
    res.json(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now()));
  });

  router.put('/privacy/kjernejournal-reservation', json, async (req, res) => {
    const citizen = await citizenOf(deps.store, res);
    await choices.setSwitch(
      citizen.sandbox.name,
      citizen.nin,
      citizen.patientId,
      'kjernejournal-reservation',
      booleanField(req.body, 'reserved'),
      now(citizen),
    );
    res.json(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now()));
  });

  router.put('/privacy/kjernejournal-restriction', json, async (req, res) => {
    const citizen = await citizenOf(deps.store, res);
    await choices.setSwitch(
      citizen.sandbox.name,
      citizen.nin,
      citizen.patientId,
      'kjernejournal-restriction',
      booleanField(req.body, 'restricted'),
      now(citizen),
    );
    res.json(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now()));
  });

  router.post('/privacy/blocked-practitioners', json, async (req, res) => {
    const citizen = await citizenOf(deps.store, res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.hprNumber !== 'string')
      throw badRequest(
        'NAVET-CITIZEN-HPR',
        'hprNumber must be the HPR number (a string of digits) of the health worker to block',
        ['hprNumber'],
      );
    if (body.name !== undefined && typeof body.name !== 'string')
      throw badRequest('NAVET-CITIZEN-HPR', 'name must be a string', ['name']);
    const id = await choices.blockPractitioner(
      citizen.sandbox.name,
      citizen.nin,
      citizen.patientId,
      { hprNumber: body.hprNumber, name: body.name as string | undefined },
      now(citizen),
    );
    res
      .status(201)
      .json({ id, ...(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now())) });
  });

  router.delete('/privacy/blocked-practitioners/:id', async (req: Request<{ id: string }>, res) => {
    const citizen = await citizenOf(deps.store, res);
    await choices.unblockPractitioner(citizen.sandbox.name, citizen.nin, req.params.id, now(citizen));
    res.json(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now()));
  });

  router.put('/privacy/lab-results', json, async (req, res) => {
    const citizen = await citizenOf(deps.store, res);
    await choices.setSwitch(
      citizen.sandbox.name,
      citizen.nin,
      citizen.patientId,
      'lab-results-block',
      booleanField(req.body, 'blocked'),
      now(citizen),
    );
    res.json(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now()));
  });

  router.put('/privacy/blocked-documents/:documentId', async (req: Request<{ documentId: string }>, res) => {
    const citizen = await citizenOf(deps.store, res);
    await choices.blockDocument(
      citizen.sandbox.name,
      citizen.nin,
      requirePatient(citizen),
      req.params.documentId,
      now(citizen),
    );
    res.json(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now()));
  });

  router.delete('/privacy/blocked-documents/:documentId', async (req: Request<{ documentId: string }>, res) => {
    const citizen = await citizenOf(deps.store, res);
    await choices.unblockDocument(
      citizen.sandbox.name,
      citizen.nin,
      requirePatient(citizen),
      req.params.documentId,
      now(citizen),
    );
    res.json(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now()));
  });

  router.post('/privacy/proxies', json, async (req, res) => {
    const citizen = await citizenOf(deps.store, res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.proxyNin !== 'string' || !/^\d{11}$/.test(body.proxyNin))
      throw badRequest(
        'NAVET-CITIZEN-PROXY',
        'proxyNin must be the 11-digit fødselsnummer of the person who acts for you',
        ['proxyNin'],
      );
    if (body.proxyNin === citizen.nin)
      throw badRequest('NAVET-CITIZEN-PROXY', 'You cannot be your own proxy', ['proxyNin']);
    if (body.proxyName !== undefined && typeof body.proxyName !== 'string')
      throw badRequest('NAVET-CITIZEN-PROXY', 'proxyName must be a string', ['proxyName']);
    if (
      body.validUntil !== undefined &&
      (typeof body.validUntil !== 'string' ||
        !/^\d{4}-\d{2}-\d{2}/.test(body.validUntil) ||
        Number.isNaN(Date.parse(body.validUntil)))
    ) {
      throw badRequest('NAVET-CITIZEN-PROXY', 'validUntil must be an ISO 8601 date, e.g. 2027-12-31', ['validUntil']);
    }
    const id = await choices.addProxy(
      citizen.sandbox.name,
      citizen.nin,
      citizen.patientId,
      {
        nin: body.proxyNin,
        name: body.proxyName as string | undefined,
        relationship: String(body.relationship ?? ''),
        validUntil: body.validUntil as string | undefined,
      },
      now(citizen),
    );
    res
      .status(201)
      .json({ id, ...(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now())) });
  });

  router.delete('/privacy/proxies/:id', async (req: Request<{ id: string }>, res) => {
    const citizen = await citizenOf(deps.store, res);
    await choices.removeProxy(citizen.sandbox.name, citizen.nin, req.params.id, now(citizen));
    res.json(await choices.read(citizen.sandbox.name, citizen.nin, citizen.sandbox.clock.now()));
  });
  return router;
}
