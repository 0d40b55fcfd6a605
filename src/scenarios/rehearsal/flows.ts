import fhirpath from 'fhirpath';
import { randomBytes } from 'node:crypto';
import { ActorClient, ActorSetupError, type Answer, ruleOf, type SandboxTarget } from '../actor-client';
import { OPERATIONS } from '../operations';
import type { MunicipalityPlan, RecordSystemClient, UserKind } from '../../sandbox/seed/municipality';
import type { FlowName } from './rates';

/**
 * The rehearsal's actors (the municipality's record systems, each acting for one of its staff) and its
 * flows: each flow is a few real service calls by one or two actors; a flow completes when all succeed.
 */
export type Role = 'gp' | 'home-care' | 'legevakt' | 'hospital';

export interface CallRecord {
  flow: FlowName;
  actor: string;
  role: Role;
  service: string;
  operation: string;
  httpStatus?: number;
  ok: boolean;
  ms: number;
  rule?: string;
  text?: string;
  /** The rehearsal's faults (indices) in force when the call ended. */
  faults?: number[];
}

export interface RehearsalActor {
  label: string;
  role: Role;
  client: ActorClient;
  system: RecordSystemClient;
}

const ROLE_OF: Partial<Record<UserKind, Role>> = {
  'gp-office': 'gp',
  'home-care': 'home-care',
  'out-of-hours': 'legevakt',
  hospital: 'hospital',
};
const ROLE_TITLES: Record<Role, string> = {
  gp: 'GP',
  'home-care': 'Home-care nurse',
  legevakt: 'Legevakt doctor',
  hospital: 'Hospital doctor',
};

/** One actor per record-system client whose organisation has staff of the right authorisation. */
export function rehearsalActors(plan: MunicipalityPlan, target: SandboxTarget): RehearsalActor[] {
  const actors: RehearsalActor[] = [];
  for (const system of plan.clients) {
    const role = ROLE_OF[system.user];
    if (!role || system.scopes.length === 0) continue;
    const authorisation = role === 'home-care' ? 'SP' : 'LE';
    const person = plan.staff.find((s) => s.unit === system.pointOfCare && s.authorisation === authorisation);
    if (!person) continue;
    const org = plan.organisations.find((o) => o.orgnr === system.pointOfCare);
    const client = new ActorClient(target, {
      clientId: system.clientId,
      title: `${ROLE_TITLES[role]} at ${org?.name ?? system.pointOfCare}`,
      system: system.name,
      organisation: { legalEntity: system.legalEntity, pointOfCare: system.pointOfCare },
      practitioner: {
        hpr: person.hpr,
        authorization: authorisation,
        ...(role === 'legevakt' ? { purposeOfUse: 'ETREAT', purposeOfUseDetails: 'BLAALYS' } : {}),
      },
      scopes: system.scopes,
      sendAttestation: system.attestation,
    });
    actors.push({ label: `${ROLE_TITLES[role]} (${system.name})`, role, client, system });
  }
  return actors;
}

export class FlowFailed extends Error {}

export interface FlowContext {
  actor(role: Role): RehearsalActor | undefined;
  /** A patient of the cohort; `withList`: one with a PLL. */
  patient(withList?: boolean): string;
  record(call: CallRecord): void;
}

/** The SFM answer's own error fields (KJFeilkode, RFM96Feilkode): one backend failed while the call answered 200. */
function backendError(body: unknown): { rule?: string; text?: string } {
  if ((body as { resourceType?: string } | undefined)?.resourceType !== 'Parameters') return {};
  const found = fhirpath.evaluate(
    body as object,
    "parameter.where(name = 'RFM96Feilkode' or name = 'KJFeilkode').valueCoding",
  ) as { code?: string; display?: string }[];
  const worst = found.find((c) => c.code?.startsWith('RF-')) ?? found[0];
  return worst?.code ? { rule: worst.code, text: worst.display ?? worst.code } : {};
}

const first = (body: unknown, expression: string): unknown =>
  (fhirpath.evaluate(body as object, expression) as unknown[])[0];

async function call(
  context: FlowContext,
  flow: FlowName,
  role: Role,
  name: string,
  params: Record<string, unknown>,
): Promise<Answer> {
  const actor = context.actor(role);
  const [service, operation] = name.split('.');
  if (!actor) {
    context.record({
      flow,
      actor: `${ROLE_TITLES[role]} (none)`,
      role,
      service,
      operation,
      ok: false,
      ms: 0,
      rule: 'NAVET-REHEARSAL-NO-ACTOR',
      text: `the municipality has no record system with staff for ${ROLE_TITLES[role]}`,
    });
    throw new FlowFailed();
  }
  const op = OPERATIONS.get(name);
  if (!op) throw new Error(`unknown operation ${name}`);
  const started = Date.now();
  try {
    const answer = await actor.client.call(await op.build(params, {}), op.audience, op.scope);
    const { rule, text } = answer.status >= 400 ? ruleOf(answer.body) : backendError(answer.body);
    const ok = answer.status < 400 && !rule;
    context.record({
      flow,
      actor: actor.label,
      role,
      service,
      operation,
      httpStatus: answer.status,
      ok,
      ms: answer.ms,
      ...(rule ? { rule } : {}),
      ...(text ? { text } : {}),
    });
    // a $getMedication whose Kjernejournal half failed still gives the list: only a missing list stops the flow
    if (answer.status >= 400 || (rule && !rule.startsWith('KJ-'))) throw new FlowFailed();
    return answer;
  } catch (error) {
    if (error instanceof FlowFailed) throw error;
    const setup = error instanceof ActorSetupError;
    context.record({
      flow,
      actor: actor.label,
      role,
      service,
      operation,
      ok: false,
      ms: Date.now() - started,
      rule: setup ? error.rule : 'NAVET-REHEARSAL-CALL',
      text: (error as Error).message,
      ...(setup && error.status ? { httpStatus: error.status } : {}),
    });
    throw new FlowFailed();
  }
}

/** Runs one flow; completed when every call succeeded, else the call that broke it. */
export async function runFlow(
  flow: FlowName,
  pool: FlowContext,
): Promise<{ completed: boolean; failedAt?: CallRecord }> {
  const tag = randomBytes(3).toString('hex');
  // one actor per role for the whole flow: the GP who looked the list up is the one who sends it
  const chosen = new Map<Role, RehearsalActor | undefined>();
  let failedAt: CallRecord | undefined;
  const context: FlowContext = {
    ...pool,
    actor: (role) => (chosen.has(role) ? chosen.get(role) : chosen.set(role, pool.actor(role)).get(role)),
    record: (call) => {
      if (!call.ok) failedAt ??= call;
      pool.record(call);
    },
  };
  try {
    switch (flow) {
      case 'medication-reconciliation': {
        const patient = context.patient(true);
        const got = await call(context, flow, 'gp', 'sfm.get-medication', { patient });
        const medication = first(got.body, "parameter.where(name = 'medication').resource");
        const hasStatement =
          first(medication, "entry.resource.where(resourceType = 'MedicationStatement').exists()") === true;
        await call(context, flow, 'gp', 'sfm.send-medication', {
          medication,
          ...(hasStatement ? { dosage: `1 tablett morgen (samstemt ${tag})` } : {}),
        });
        break;
      }
      case 'home-care-medication-list': {
        const patient = context.patient(true);
        const ticket = first(
          (await call(context, flow, 'home-care', 'sfm.patient-ticket', { patient })).body,
          'patientTicket',
        );
        await call(context, flow, 'home-care', 'sfm.medication-list', { ticket });
        break;
      }
      case 'critical-information-lookup': {
        const patient = context.patient();
        await call(context, flow, 'legevakt', 'critical-information.status', { patient, accessBasis: 'AKUTT' });
        await call(context, flow, 'legevakt', 'critical-information.read-allergies', { patient, accessBasis: 'AKUTT' });
        break;
      }
      case 'discharge-summary': {
        const patient = context.patient();
        const title = `Epikrise (${tag})`;
        await call(context, flow, 'hospital', 'pjd.provide-document', {
          patient,
          title,
          text: 'Utskrevet etter innleggelse.',
        });
        const found = await call(context, flow, 'gp', 'pjd.find-document-references', { patient, count: '5' });
        const url = first(
          found.body,
          `entry.resource.where(content.attachment.title = '${title}').content.attachment.url`,
        );
        await call(context, flow, 'gp', 'pjd.retrieve-document', { patient, url });
        break;
      }
      case 'lab-result': {
        const patient = context.patient();
        await call(context, flow, 'hospital', 'pps.submit-results', { patient, report: `RH-${tag}` });
        await call(context, flow, 'gp', 'pps.search-reports', { patient });
        break;
      }
    }
    return { completed: true };
  } catch (error) {
    if (error instanceof FlowFailed) return { completed: false, failedAt };
    throw error;
  }
}
