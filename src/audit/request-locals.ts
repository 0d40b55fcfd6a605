/** The access log's part of a request (see http/request-locals.ts). */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** The AuditEvents a request wrote, for a conformance recording. */
      auditEventIds?: string[];
    }
  }
}
export {};
