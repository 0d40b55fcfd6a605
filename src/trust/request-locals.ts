import type { AccessContext, KnownAccess } from './access-context';

/** What the guard learns of a request (see http/request-locals.ts). */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The verified access, once the guard let the request in. */
      access: AccessContext;
      /** What is known of the caller so far, for logging a rejected request. */
      knownAccess?: KnownAccess;
      /** The NHN event id of the request (or one Navet made up). */
      eventId?: string;
    }
  }
}
export {};
