/**
 * What Navet keeps in `res.locals`, one typed interface (express's `Locals`). Each layer adds the fields it
 * sets, in its own `request-locals.ts`, so a lower layer names no higher one's types.
 */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by the request log, for the error handler's answer. */
      requestId?: string;
      /** The Navet error code of a failed request, for the request log. */
      errorCode?: string;
      /** The client a token was issued to, for the request log. */
      clientId?: string;
    }
  }
}
export {};
