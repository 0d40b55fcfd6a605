import { asJson, type StorableResource } from '../../fhir/types';
import { SOURCE_TAG_SYSTEM } from './pps-codes';

/**
 * meta.tag of a stored result: the lab source (for source stages) and, as NILAR does for Observations,
 * every searchable code. A report carries its own codes and its observations' (unverified for reports:
 * it lets `_tag` find the reports that hold an analysis).
 */
interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

function codingsOf(value: unknown): Coding[] {
  const concepts = Array.isArray(value) ? value : [value];
  return concepts
    .flatMap((c) =>
      c && typeof c === 'object' && Array.isArray((c as { coding?: unknown }).coding)
        ? (c as { coding: Coding[] }).coding
        : [],
    )
    .filter((c) => typeof c?.system === 'string' && typeof c.code === 'string');
}

export function labResultTags(
  typed: StorableResource,
  source: string,
  observations: StorableResource[] = [],
): Coding[] {
  const resource = asJson(typed);
  const codes = ['DiagnosticReport', 'Observation'].includes(resource.resourceType)
    ? [
        ...codingsOf(resource.category),
        ...codingsOf(resource.code),
        ...observations.flatMap((o) => codingsOf(asJson(o).code)),
      ]
    : [];
  const given = Array.isArray(resource.meta?.tag)
    ? (resource.meta.tag as unknown[]).filter(
        (t): t is Coding =>
          typeof t === 'object' && t !== null && !Array.isArray(t) && (t as Coding).system !== SOURCE_TAG_SYSTEM,
      )
    : [];
  const seen = new Set<string>();
  return [
    { system: SOURCE_TAG_SYSTEM, code: source },
    ...given,
    ...codes.map((c) => ({ system: c.system, code: c.code, ...(c.display ? { display: c.display } : {}) })),
  ].filter((t) => {
    const key = JSON.stringify([t.system ?? null, t.code ?? null]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
