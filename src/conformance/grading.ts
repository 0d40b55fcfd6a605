import { describe, type RecordedExchange } from './exchange';
import type { Requirement } from './requirement';
import type { ChallengeRecord, SessionRecord } from './session-store';

/** What a grader sees: the session and its recording, nothing else (graders are pure functions). */
export interface GradeContext {
  session: SessionRecord;
  exchanges: readonly RecordedExchange[];
  challenges: readonly ChallengeRecord[];
  requirement: Requirement;
}

export type ResultStatus = 'pass' | 'fail' | 'warning' | 'skip' | 'omit' | 'error';

export interface Evidence {
  /** The request ids the result is based on. */
  requests: string[];
  expected?: string;
  seen?: string;
}

export interface GraderOutcome {
  status: 'pass' | 'fail' | 'skip';
  message: string;
  evidence: Evidence;
}

export type Grader = (context: GradeContext) => GraderOutcome;

export const pass = (message: string, requests: RecordedExchange[] = []): GraderOutcome => ({
  status: 'pass',
  message,
  evidence: { requests: requests.map((e) => e.id) },
});
export const skip = (message: string): GraderOutcome => ({ status: 'skip', message, evidence: { requests: [] } });
export const fail = (message: string, requests: RecordedExchange[], expected: string, seen: string): GraderOutcome => ({
  status: 'fail',
  message,
  evidence: { requests: requests.map((e) => e.id), expected, seen },
});

/**
 * The usual shape of a traffic rule: every request of a flow must satisfy a check. No request in the flow
 * is `skip`; the first violations are named with what was expected and what came.
 */
export function everyRequest(
  requests: RecordedExchange[],
  options: { flow: string; expected: string; check: (e: RecordedExchange) => string | undefined },
): GraderOutcome {
  if (requests.length === 0) return skip(`No ${options.flow} was recorded, so this was not tested`);
  const violations = requests
    .map((e) => ({ e, seen: options.check(e) }))
    .filter((v): v is { e: RecordedExchange; seen: string } => v.seen !== undefined);
  if (violations.length === 0)
    return pass(
      `All ${requests.length} ${options.flow}${requests.length === 1 ? '' : 's'}: ${options.expected}`,
      requests,
    );
  const first = violations.slice(0, 5);
  return fail(
    `${violations.length} of ${requests.length} ${options.flow}${requests.length === 1 ? '' : 's'} broke the rule; first: ${describe(first[0].e)}`,
    first.map((v) => v.e),
    options.expected,
    first.map((v) => `${v.e.id}: ${v.seen}`).join('; '),
  );
}
