import { readFileSync } from 'node:fs';
import path from 'node:path';
import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4';
import type { OutcomeIssue } from '../../fhir/operation-outcome';
import type { FhirResource } from '../../fhir/types';

/**
 * Validates a medication Bundle against the sfm profiles of profiles/sfm-profiles.json: every constraint
 * is a FHIRPath expression that must hold for each resource of the profile's type. Answers one issue per
 * broken constraint, naming the element and what to change.
 */
interface Constraint { key: string; navetCode: string; path: string; expression: string; human: string }
interface Profile { url: string; resourceType: string; constraints: Constraint[] }

const FILE = path.join(__dirname, '..', '..', '..', 'profiles', 'sfm-profiles.json');
const profiles = (JSON.parse(readFileSync(FILE, 'utf8')) as { profiles: Profile[] }).profiles.map((profile) => ({
  ...profile,
  constraints: profile.constraints.map((c) => ({ ...c, check: fhirpath.compile(c.expression, r4Model) })),
}));

function holds(check: (resource: unknown) => unknown, resource: FhirResource): boolean {
  try {
    const result = check(resource) as unknown[];
    return result.length === 1 && result[0] === true;
  } catch {
    return false;
  }
}

export function validateMedicationBundle(bundle: FhirResource): OutcomeIssue[] {
  const issues: OutcomeIssue[] = [];
  const entries = Array.isArray(bundle.entry) ? (bundle.entry as { resource?: FhirResource }[]) : [];
  const targets: { resource: FhirResource; at: string }[] = [
    { resource: bundle, at: 'Bundle' },
    ...entries.map((entry, i) => ({ resource: entry?.resource as FhirResource, at: `Bundle.entry[${i}].resource` })).filter((t) => t.resource && typeof t.resource === 'object'),
  ];
  for (const { resource, at } of targets) {
    const profile = profiles.find((p) => p.resourceType === resource.resourceType);
    if (!profile) continue;
    for (const constraint of profile.constraints) {
      if (holds(constraint.check, resource)) continue;
      issues.push({ severity: 'error', code: 'invariant', navetCode: constraint.navetCode, text: `${constraint.human} (${profile.url.split('/').pop()} ${constraint.key})`, expression: [`${at}.${constraint.path}`] });
    }
  }
  return issues;
}
