import type { Request, RequestHandler, Response } from 'express';
import { badRequest, FhirError } from '../fhir/operation-outcome';
import type { ResourceStore } from '../store/resource-store';
import type { AccessContext } from '../trust/access-context';
import { type AccessVerifier, knownAccessOf } from '../trust/guard';
import { TrustError } from '../http/trust-error';
import { AUDIT_UNAVAILABLE, type AccessLog } from './access-log';
import type { AuditOutcome, Interaction } from './audit-event';

/**
 * A service endpoint that returns or changes patient data. The route verifies access (the guard), runs
 * the facade, writes one AuditEvent per patient, and only then sends the answer. A rejected request
 * that named a patient is logged too, with the reason.
 */
export interface PatientDataEndpoint {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Below the service's base, as the real API has it. */
  path: string;
  interaction: Interaction;
  /** Where a request names its patient (header, query or body), for logging rejected requests. */
  patientNin(req: Request): string | undefined;
}

export interface PatientDataAnswer {
  /** Each patient whose data the answer holds or changes, with the resources concerned. */
  patients: { nin: string; id?: string; resources?: string[] }[];
  /** The search as the client sent it. */
  query?: string;
  /** What a read records about itself (e.g. SFM's look-up), done in one transaction once its log entries are written. */
  afterLog?(store: ResourceStore): Promise<void>;
  send(res: Response): void;
}

/** A facade: `store` is the one to read and write through (a transaction for endpoints that write). */
export type PatientDataHandler = (
  req: Request,
  res: Response,
  access: AccessContext,
  store: ResourceStore,
) => Promise<PatientDataAnswer>;

/** The AuditEvents a request wrote, for a conformance recording (res.locals.auditEventIds). */
function noteAuditEvents(res: Response, written: { id?: unknown }[]): void {
  res.locals.auditEventIds = [...(res.locals.auditEventIds ?? []), ...written.map((e) => String(e.id))];
}

function outcomeOf(error: unknown): AuditOutcome {
  if (error instanceof FhirError)
    return {
      ok: false,
      code: error.issues.map((i) => i.navetCode ?? String(error.status)).join(', '),
      text: error.message,
    };
  if (error instanceof TrustError) return { ok: false, code: error.code, text: error.description };
  return { ok: false, code: 'NAVET-INTERNAL', text: 'Navet failed to handle the request', serverError: true };
}

export function patientDataRoute(
  deps: { accessLog: AccessLog; verify: AccessVerifier; store: ResourceStore },
  endpoint: PatientDataEndpoint,
  handler: PatientDataHandler,
): RequestHandler {
  const writes = endpoint.interaction.action !== 'R';
  return async (req: Request, res: Response) => {
    const sandbox = res.locals.sandbox;
    let access: AccessContext | undefined;
    try {
      const verified = await deps.verify(req, res);
      access = verified;
      // what is written and its log entries commit together, or neither does
      const serve = async (store: ResourceStore) => {
        const answer = await handler(req, res, verified, store);
        // every patient in an answer is named by a fødselsnummer or D-number, or the log could not find them
        const unnamed = answer.patients.find(
          (patient) => typeof patient.nin !== 'string' || !/^\d{11}$/.test(patient.nin),
        );
        if (unnamed)
          throw badRequest(
            'NAVET-PATIENT-IDENTIFIER',
            `The patient must be named by an 11-digit fødselsnummer or D-number (a string); got ${JSON.stringify(unnamed.nin)}`,
          );
        const written = await deps.accessLog.record(
          sandbox.name,
          answer.patients.map((patient) => ({
            access: verified,
            interaction: endpoint.interaction,
            patient: { nin: patient.nin, id: patient.id },
            resources: patient.resources,
            query: answer.query,
            outcome: { ok: true },
          })),
          sandbox.clock.now().toISOString(),
          store,
        );
        noteAuditEvents(res, written);
        // one commit for all it writes (within a write's own transaction, that one)
        if (answer.afterLog) await store.inTransaction(answer.afterLog);
        return answer;
      };
      const answer = writes ? await deps.store.inTransaction(serve) : await serve(deps.store);
      answer.send(res);
    } catch (error) {
      const nin = endpoint.patientNin(req);
      const alreadyFailedToLog = error instanceof FhirError && error.navetCode === AUDIT_UNAVAILABLE;
      if (nin && /^\d{11}$/.test(nin) && !alreadyFailedToLog) {
        noteAuditEvents(
          res,
          await deps.accessLog.record(
            sandbox.name,
            [
              {
                access: access ?? knownAccessOf(res),
                interaction: endpoint.interaction,
                patient: { nin },
                outcome: outcomeOf(error),
              },
            ],
            sandbox.clock.now().toISOString(),
          ),
        );
      }
      throw error;
    }
  };
}
