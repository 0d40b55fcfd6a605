import { Router } from 'express';
import { assertAdminKey } from '../sandbox/admin-auth';
import type { Sandboxes } from '../sandbox/sandboxes';
import { RETIRED_KEY_GRACE_MS, type SigningKeys } from './signing-keys';

/**
 * `POST /api/sandboxes/{name}/signing-keys/rotate`: the token service signs with a new key from now on;
 * the old one stays in the JWKS until the tokens it signed have expired, as HelseID rotates.
 */
export function signingKeyApi(sandboxes: Sandboxes, keys: SigningKeys): Router {
  const router = Router({ mergeParams: true });
  router.post('/rotate', async (req, res) => {
    const sandbox = await sandboxes.get(String((req.params as { name?: string }).name));
    res.locals.sandboxName = sandbox.name;
    assertAdminKey(req, sandboxes, sandbox);
    const key = await keys.rotate(sandbox.name);
    res.json({
      kid: key.kid,
      published: (await keys.published(sandbox.name)).map((k) => k.kid),
      retiredKeysPublishedForHours: RETIRED_KEY_GRACE_MS / 3600_000,
    });
  });
  return router;
}
