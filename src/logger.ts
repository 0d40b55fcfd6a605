import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs. Authorization headers, keys and tokens are never logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'navet' },
    redact: ['req.headers.authorization', 'req.headers.dpop', '*.adminKey', '*.client_assertion'],
  });
}
