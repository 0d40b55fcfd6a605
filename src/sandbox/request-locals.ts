import type { Sandbox } from './sandboxes';

/** The sandbox a request is for (see http/request-locals.ts). */
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set for every request below `/sandboxes/<name>`. */
      sandbox: Sandbox;
      /** The sandbox's name, for the request log (also on admin API requests). */
      sandboxName?: string;
    }
  }
}
export {};
