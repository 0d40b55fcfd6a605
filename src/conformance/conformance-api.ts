import express, { type Request, type Response, Router } from 'express';
import { randomUUID } from 'node:crypto';
import { badRequest, conflict, notFound } from '../fhir/operation-outcome';
import { assertAdminKey } from '../sandbox/admin-auth';
import type { Sandbox, Sandboxes } from '../sandbox/sandboxes';
import { CHALLENGES, challengeByName, challengesFor } from './challenges';
import { type ConformanceReport, gradeSession } from './grade';
import type { Recorder } from './recorder';
import { htmlReport, junitReport } from './report-formats';
import { isProfile, PROFILES, REQUIREMENTS } from './requirement';
import type { SessionRecord } from './session-store';

/** `/api/conformance/requirements`: the catalogue. */
export function requirementsApi(): Router {
  const router = Router();
  router.get('/requirements', (_req, res) => {
    res.json({
      profiles: PROFILES,
      challenges: CHALLENGES.map((c) => ({
        name: c.name,
        description: c.description,
        requirements: REQUIREMENTS.filter((r) => r.challenge?.name === c.name).map((r) => r.id),
      })),
      requirements: REQUIREMENTS,
    });
  });
  return router;
}

/** `/api/sandboxes/{name}/conformance/sessions…` (admin key): open, watch, arm challenges, finish, report. */
export function conformanceSessionApi(sandboxes: Sandboxes, recorder: Recorder, baseUrl: string): Router {
  const store = recorder.store;
  const router = Router({ mergeParams: true });
  router.use(express.json({ limit: '64kb', type: ['application/json', 'application/*+json'] }));

  async function adminOf(req: Request, res: Response): Promise<Sandbox> {
    const sandbox = await sandboxes.get(String(req.params.name));
    res.locals.sandboxName = sandbox.name;
    assertAdminKey(req, sandboxes, sandbox);
    return sandbox;
  }
  async function sessionOf(req: Request, res: Response): Promise<SessionRecord> {
    const sandbox = await adminOf(req, res);
    const session = await store.find(sandbox.name, String(req.params.id));
    if (!session)
      throw notFound(
        'NAVET-CONFORMANCE-SESSION',
        `Sandbox '${sandbox.name}' has no conformance session '${String(req.params.id).slice(0, 80)}'`,
      );
    return session;
  }
  function bodyOf(req: Request): Record<string, unknown> {
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body))
      throw badRequest('NAVET-BODY', 'The body must be a JSON object (Content-Type: application/json)');
    return req.body as Record<string, unknown>;
  }
  async function view(session: SessionRecord) {
    const challenges = await store.challenges(session.sandbox, session.id);
    const report = session.status === 'finished' ? await store.report(session.sandbox, session.id) : undefined;
    const graded = report ? (JSON.parse(report) as ConformanceReport) : undefined;
    return {
      id: session.id,
      status: session.status,
      sandbox: session.sandbox,
      clientId: session.clientId,
      ...(session.label ? { label: session.label } : {}),
      profiles: session.profiles,
      createdAt: session.createdAt,
      ...(session.finishedAt ? { finishedAt: session.finishedAt } : {}),
      counts: {
        requests: await store.countExchanges(session.sandbox, session.id),
        challengesArmed: challenges.length,
        challengesTriggered: challenges.filter((c) => c.status === 'triggered').length,
        ...(graded ? graded.counts : {}),
      },
      challenges: challenges.map((c) => ({
        challenge: c.name,
        status: c.status,
        ...(c.requestId ? { request: c.requestId } : {}),
      })),
      ...(graded ? { verdict: graded.verdict } : {}),
    };
  }
  async function grade(session: SessionRecord): Promise<ConformanceReport> {
    // only what arrived before the session finished: grading again gives the same report
    const until = session.finishedAt ? Date.parse(session.finishedAt) : Infinity;
    const exchanges = (await store.exchanges(session.sandbox, session.id)).filter((e) => e.atMs <= until);
    const report = gradeSession(session, exchanges, await store.challenges(session.sandbox, session.id));
    await store.update(session, JSON.stringify(report));
    return report;
  }

  router.post('/', async (req, res) => {
    const sandbox = await adminOf(req, res);
    const body = bodyOf(req);
    if (typeof body.clientId !== 'string' || !body.clientId.trim())
      throw badRequest(
        'NAVET-CONFORMANCE-CLIENT',
        'clientId is required: the HelseID client id of the system to grade',
        ['clientId'],
      );
    if (
      !Array.isArray(body.profiles) ||
      body.profiles.length === 0 ||
      body.profiles.some((p) => typeof p !== 'string' || !isProfile(p))
    ) {
      throw badRequest('NAVET-CONFORMANCE-PROFILES', `profiles must be a non-empty list of ${PROFILES.join(', ')}`, [
        'profiles',
      ]);
    }
    if (body.label !== undefined && (typeof body.label !== 'string' || body.label.length > 200))
      throw badRequest('NAVET-CONFORMANCE-LABEL', 'label must be a string of at most 200 characters', ['label']);
    const busy = (await store.recording(sandbox.name)).find((s) => s.clientId === body.clientId);
    if (busy)
      throw conflict(
        'NAVET-CONFORMANCE-BUSY',
        `Session ${busy.id} already records client '${body.clientId}'; finish it first`,
      );
    const session: SessionRecord = {
      id: `cs-${randomUUID()}`,
      sandbox: sandbox.name,
      clientId: body.clientId.trim(),
      ...(typeof body.label === 'string' ? { label: body.label } : {}),
      baseUrl,
      profiles: [...new Set(body.profiles as string[])].filter(isProfile),
      status: 'recording',
      createdAt: new Date().toISOString(),
      observations: [],
    };
    await store.create(session);
    recorder.invalidate(sandbox.name);
    res.status(201).json(await view(session));
  });

  router.get('/', async (req, res) => {
    const sandbox = await adminOf(req, res);
    res.json({ sessions: await Promise.all((await store.list(sandbox.name)).map(view)) });
  });

  router.get('/:id', async (req, res) => {
    res.json(await view(await sessionOf(req, res)));
  });

  router.get('/:id/requests', async (req, res) => {
    const session = await sessionOf(req, res);
    await recorder.settle();
    res.json({ requests: await store.exchanges(session.sandbox, session.id) });
  });

  router.post('/:id/challenges', async (req, res) => {
    const session = await sessionOf(req, res);
    const name = bodyOf(req).challenge;
    const definition = typeof name === 'string' ? challengeByName(name) : undefined;
    if (!definition)
      throw badRequest(
        'NAVET-CONFORMANCE-CHALLENGE',
        `challenge must be one of ${CHALLENGES.map((c) => c.name).join(', ')}`,
        ['challenge'],
      );
    if (session.status !== 'recording')
      throw conflict(
        'NAVET-CONFORMANCE-FINISHED',
        `Session ${session.id} is finished; open a new one to play challenges`,
      );
    if (!challengesFor(session.profiles).includes(definition))
      throw badRequest(
        'NAVET-CONFORMANCE-CHALLENGE-PROFILE',
        `The ${definition.name} challenge grades no requirement of this session's profiles (${session.profiles.join(', ')}); its results would only be omitted`,
        ['challenge'],
      );
    if (!(await store.arm(session.sandbox, session.id, definition.name, Date.now())))
      throw conflict(
        'NAVET-CONFORMANCE-CHALLENGE-ARMED',
        `The ${definition.name} challenge was already armed in this session (each plays once)`,
      );
    recorder.invalidate(session.sandbox);
    const requirements = REQUIREMENTS.filter((r) => r.challenge?.name === definition.name);
    res.status(201).json({
      challenge: definition.name,
      status: 'armed',
      description: definition.description,
      requirements: requirements.map((r) => r.id),
      timeLimitSeconds: Math.max(...requirements.map((r) => r.challenge?.timeLimitSeconds ?? 0)),
    });
  });

  router.post('/:id/observations', async (req, res) => {
    const session = await sessionOf(req, res);
    const { challenge, ...values } = bodyOf(req);
    if (challenge !== 'nors-hidden' || !Number.isInteger(values.norsCount))
      throw badRequest(
        'NAVET-CONFORMANCE-OBSERVATION',
        'Report what the client showed: {"challenge":"nors-hidden","norsCount":<the number it read from NHN-SecurityLabel-Nors-Count>}',
        ['norsCount'],
      );
    if (session.status !== 'recording')
      throw conflict('NAVET-CONFORMANCE-FINISHED', `Session ${session.id} is finished`);
    session.observations.push({ challenge, atMs: Date.now(), values });
    await store.update(session);
    res.json({ challenge, recorded: values });
  });

  router.post('/:id/finish', async (req, res) => {
    const session = await sessionOf(req, res);
    await recorder.settle();
    if (session.status === 'recording') {
      session.status = 'finished';
      session.finishedAt = new Date().toISOString();
      recorder.invalidate(session.sandbox);
    }
    res.json(await grade(session));
  });

  router.get('/:id/report', async (req, res) => {
    const session = await sessionOf(req, res);
    const stored = await store.report(session.sandbox, session.id);
    if (session.status !== 'finished' || !stored)
      throw conflict(
        'NAVET-CONFORMANCE-RECORDING',
        `Session ${session.id} is still recording: POST …/sessions/${session.id}/finish to grade it`,
      );
    const report = JSON.parse(stored) as ConformanceReport;
    const format = String(req.query.format ?? 'json');
    if (format === 'json') res.json(report);
    else if (format === 'junit') res.type('application/xml').send(junitReport(report));
    else if (format === 'html') res.type('text/html').send(htmlReport(report));
    else throw badRequest('NAVET-CONFORMANCE-FORMAT', 'format must be json, junit or html', ['format']);
  });
  return router;
}
