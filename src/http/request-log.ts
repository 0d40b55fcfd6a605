import type { RequestHandler } from 'express';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger';

/** A caller's own request id is kept when it is a plain token; otherwise Navet makes one. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * One log line per request: request id, sandbox, client, method, path (no query: it may hold a national
 * id), status, duration. The request id is answered in `X-Request-Id`.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        {
          requestId,
          sandbox: res.locals.sandboxName,
          clientId: res.locals.clientId,
          method: req.method,
          path: req.path,
          status: res.statusCode,
          errorCode: res.locals.errorCode,
          durationMs: Math.round(durationMs * 10) / 10,
        },
        'request',
      );
    });
    next();
  };
}
