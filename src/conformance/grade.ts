import type { RecordedExchange } from './exchange';
import { type Evidence, type Grader, type ResultStatus } from './grading';
import { ATTESTATION_GRADERS } from './graders/attestation-graders';
import { HELSEID_GRADERS } from './graders/helseid-graders';
import { PJD_GRADERS } from './graders/pjd-graders';
import { CROSS_SERVICE_GRADERS, KJ_GRADERS, PPS_GRADERS, SFM_GRADERS } from './graders/service-graders';
import { type Level, type Profile, REQUIREMENTS } from './requirement';
import type { ChallengeRecord, SessionRecord } from './session-store';

/** Graders by requirement id; every traffic and challenge requirement has one (checked at load). */
export const GRADERS: Readonly<Record<string, Grader>> = {
  ...HELSEID_GRADERS,
  ...ATTESTATION_GRADERS,
  ...PJD_GRADERS,
  ...KJ_GRADERS,
  ...SFM_GRADERS,
  ...PPS_GRADERS,
  ...CROSS_SERVICE_GRADERS,
};

for (const r of REQUIREMENTS) {
  if (r.verification !== 'declaration' && !GRADERS[r.id]) throw new Error(`requirement ${r.id} has no grader`);
}
for (const id of Object.keys(GRADERS)) {
  if (!REQUIREMENTS.some((r) => r.id === id)) throw new Error(`grader ${id} grades no requirement in the catalogue`);
}

export interface RequirementResult {
  requirement: string;
  title: string;
  level: Level;
  verification: string;
  profiles: Profile[];
  sourceUrl: string;
  upstreamId?: string;
  status: ResultStatus;
  message: string;
  evidence: Evidence;
}

export interface ConformanceReport {
  session: {
    id: string;
    sandbox: string;
    clientId: string;
    label?: string;
    profiles: Profile[];
    createdAt: string;
    finishedAt?: string;
    requests: number;
  };
  verdict: 'passed' | 'failed';
  counts: Record<ResultStatus, number>;
  results: RequirementResult[];
  notice: string;
}

export const NOT_AN_APPROVAL =
  "Navet is a sandbox. This report is not an approval by Norsk helsenett: it is a self-test to run before the acceptance test in NHN's test environment.";

/** Grades a recording: a pure function of the session, its requests and its challenges. */
export function gradeSession(
  session: SessionRecord,
  exchanges: readonly RecordedExchange[],
  challenges: readonly ChallengeRecord[],
): ConformanceReport {
  const results = REQUIREMENTS.map((requirement): RequirementResult => {
    const base = {
      requirement: requirement.id,
      title: requirement.title,
      level: requirement.level,
      verification: requirement.verification,
      profiles: requirement.profiles,
      sourceUrl: requirement.source.url,
      ...(requirement.source.upstreamId ? { upstreamId: requirement.source.upstreamId } : {}),
    };
    if (!requirement.profiles.some((p) => session.profiles.includes(p)))
      return {
        ...base,
        status: 'omit',
        message: `Not in this session's profiles (${requirement.profiles.join(', ')})`,
        evidence: { requests: [] },
      };
    if (requirement.verification === 'declaration')
      return {
        ...base,
        status: 'skip',
        message: `Declaration: the vendor states this to NHN. ${requirement.notTestedReason}`,
        evidence: { requests: [] },
      };
    try {
      const outcome = GRADERS[requirement.id]({ session, exchanges, challenges, requirement });
      const status: ResultStatus =
        outcome.status === 'fail' && requirement.level !== 'required' ? 'warning' : outcome.status;
      return { ...base, status, message: outcome.message, evidence: outcome.evidence };
    } catch (error) {
      return {
        ...base,
        status: 'error',
        message: `Navet could not grade this: ${(error as Error).message}`,
        evidence: { requests: [] },
      };
    }
  });
  const counts: Record<ResultStatus, number> = { pass: 0, fail: 0, warning: 0, skip: 0, omit: 0, error: 0 };
  for (const r of results) counts[r.status] += 1;
  // a declaration cannot be graded: it does not hold the verdict back
  const blocking = results.filter(
    (r) => r.level === 'required' && r.verification !== 'declaration' && ['fail', 'skip', 'error'].includes(r.status),
  );
  return {
    session: {
      id: session.id,
      sandbox: session.sandbox,
      clientId: session.clientId,
      ...(session.label ? { label: session.label } : {}),
      profiles: session.profiles,
      createdAt: session.createdAt,
      ...(session.finishedAt ? { finishedAt: session.finishedAt } : {}),
      requests: exchanges.length,
    },
    verdict: blocking.length === 0 ? 'passed' : 'failed',
    counts,
    results,
    notice: NOT_AN_APPROVAL,
  };
}
