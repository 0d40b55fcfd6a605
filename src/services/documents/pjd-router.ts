import { Router } from 'express';
import { guard, type GuardDependencies } from '../../trust/guard';

/**
 * Document sharing (PJD) of a sandbox (`services.pjd`). So far `/ping` (no auth) and `/pingauth`
 * (token + DPoP), as the real API has them; the MHD endpoints come with the document-sharing service.
 */
export const PJD_AUDIENCE = 'nhn:phr';
export const PJD_SCOPES = ['nhn:phr/mhd/read-documentreferences', 'nhn:phr/mhd/read-documentreferences/kjernejournalforskriften', 'nhn:phr/mhd/read-document'];

export function pjdRouter(deps: GuardDependencies): Router {
  const router = Router();
  router.get('/ping', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/pingauth', guard(deps, { audience: PJD_AUDIENCE, anyScope: PJD_SCOPES }), (_req, res) => {
    res.json({ status: 'ok', clientId: res.locals.access.client.clientId });
  });
  return router;
}
