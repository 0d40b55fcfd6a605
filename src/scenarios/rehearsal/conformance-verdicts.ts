import type { SandboxTarget } from '../actor-client';

/**
 * INTEGRATION POINT (issue 16): the verdicts of conformance sessions run in the same sandbox, for the
 * readiness report. Conformance sessions are built on another branch; this reads them only through
 * their HTTP API — `GET /api/sandboxes/{name}/conformance/sessions/{id}` (`{"id", "status", …}`) and its
 * report (`…/sessions/{id}/report`, with `verdict`) — so wiring needs no code here when both are merged,
 * only sessions to name. Where this Navet has no conformance API yet, each session says so.
 */
export interface ConformanceVerdict {
  session: string;
  available: boolean;
  status?: string;
  verdict?: string;
  /** The graded client (record system), when the session names it. */
  client?: string;
  note?: string;
}

async function getJson(url: string, adminKey: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${adminKey}`, Accept: 'application/json' } });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  return { status: response.status, body };
}

export async function conformanceVerdicts(target: SandboxTarget, sessionIds: string[]): Promise<ConformanceVerdict[]> {
  const verdicts: ConformanceVerdict[] = [];
  for (const session of sessionIds) {
    const base = `${target.url}/api/sandboxes/${target.sandbox}/conformance/sessions/${encodeURIComponent(session)}`;
    const found = await getJson(base, target.adminKey);
    const code = (found.body.issue as { details?: { coding?: { code?: string }[] } }[] | undefined)?.[0]?.details
      ?.coding?.[0]?.code;
    if (found.status === 404 && code === 'NAVET-NO-SUCH-PATH') {
      verdicts.push({ session, available: false, note: 'this Navet has no conformance sessions API' });
      continue;
    }
    if (found.status !== 200) {
      verdicts.push({ session, available: true, note: `session not found (${found.status}${code ? ` ${code}` : ''})` });
      continue;
    }
    const report = await getJson(`${base}/report`, target.adminKey);
    const verdict = report.status === 200 ? report.body.verdict : found.body.verdict;
    const client = found.body.clientId ?? found.body.client;
    verdicts.push({
      session,
      available: true,
      status: String(found.body.status ?? ''),
      ...(typeof verdict === 'string' ? { verdict } : { note: 'no verdict yet' }),
      ...(typeof client === 'string' ? { client } : {}),
    });
  }
  return verdicts;
}
