import { FhirError } from '../../fhir/operation-outcome';
import { findResourceProblems } from '../../fhir/validate-resource';

/**
 * The first check of a lab submission: the JSON is not nested deeper than any FHIR resource needs
 * (a hostile body nested 100,000 deep would overflow every recursive step after this one), holds no
 * null, and the Bundle and each resource in it are valid R4 (types, arrays, primitives), so the later
 * checks see well-formed values only.
 */
export const MAX_DEPTH = 48;

/**
 * The first structural problem of a JSON value, found without recursion: nesting deeper than `limit`,
 * or a null (FHIR JSON has none, except in the arrays of a primitive's `_element`).
 */
export function structuralProblem(value: unknown, limit: number): { kind: 'depth' | 'null'; path: string } | undefined {
  const stack: [unknown, number, string, boolean][] = [[value, 1, 'Bundle', false]];
  while (stack.length > 0) {
    const [v, depth, path, nullable] = stack.pop() as [unknown, number, string, boolean];
    if (v === null && !nullable) return { kind: 'null', path };
    if (typeof v !== 'object' || v === null) continue;
    if (depth > limit) return { kind: 'depth', path };
    if (Array.isArray(v)) v.forEach((child, i) => stack.push([child, depth + 1, `${path}[${i}]`, nullable]));
    else
      for (const [key, child] of Object.entries(v))
        stack.push([child, depth + 1, `${path}.${key}`, key.startsWith('_')]);
  }
  return undefined;
}

/** Throws a 400 naming the problems when the submitted Bundle is too deep or not valid R4. */
export function checkSubmissionShape(bundle: unknown): void {
  const problem = structuralProblem(bundle, MAX_DEPTH);
  if (problem?.kind === 'depth') {
    throw new FhirError(400, [
      {
        severity: 'error',
        code: 'structure',
        navetCode: 'NAVET-PPS-TOO-DEEP',
        text: `The Bundle nests JSON deeper than ${MAX_DEPTH} levels, which no lab result needs; send the resources as the NILAR profiles shape them`,
        expression: ['Bundle'],
      },
    ]);
  }
  if (problem?.kind === 'null') {
    throw new FhirError(400, [
      {
        severity: 'error',
        code: 'structure',
        navetCode: 'NAVET-INVALID-RESOURCE',
        text: `${problem.path} is null; FHIR JSON has no nulls: leave the element out`,
        expression: [problem.path],
      },
    ]);
  }
  const problems = findResourceProblems(bundle, 'Bundle');
  if (problems.length > 0) throw new FhirError(400, problems);
}
