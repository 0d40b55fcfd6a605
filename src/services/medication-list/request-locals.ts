import type { Ticket } from './data-sharing';

/** SFM's part of a request (see http/request-locals.ts). */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The patient ticket a data-sharing read names. */
      sfmTicket?: Ticket;
    }
  }
}
export {};
