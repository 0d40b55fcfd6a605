import { FhirError } from '../../fhir/operation-outcome';
import { findResourceProblems } from '../../fhir/validate-resource';

/**
 * The first check of a lab submission: the JSON is not nested deeper than any FHIR resource needs
 * (a hostile body nested 100,000 deep would overflow every recursive step after this one), and the
 * Bundle and each resource in it are valid R4 (types, arrays, primitives), so the later checks see
 * well-formed values only.
 */
export const MAX_DEPTH = 48;

/** Whether a JSON value nests deeper than `limit`; counted without recursion. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Throws a 400 naming the problems when the submitted Bundle is too deep or not valid R4. */
export function checkSubmissionShape(bundle: unknown): void {
  if (nestsDeeperThan(bundle, MAX_DEPTH)) {
    throw new FhirError(400, [{ severity: 'error', code: 'structure', navetCode: 'NAVET-PPS-TOO-DEEP', text: `The Bundle nests JSON deeper than ${MAX_DEPTH} levels, which no lab result needs; send the resources as the NILAR profiles shape them`, expression: ['Bundle'] }]);
  }
  const problems = findResourceProblems(bundle, 'Bundle');
  if (problems.length > 0) throw new FhirError(400, problems);
}
