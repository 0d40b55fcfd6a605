import type { FhirResource } from './types';

function codingsOf(element: unknown): { system?: unknown; code?: unknown }[] {
  const coding = (element as { coding?: unknown } | null)?.coding;
  return Array.isArray(coding) ? coding.filter((c) => typeof c === 'object' && c !== null) : [];
}

/** Whether a resource carries a security label (any shape a tester may have stored is read safely). */
export function hasSecurityLabel(resource: FhirResource, system: string, code: string): boolean {
  const labels = Array.isArray(resource.securityLabel) ? resource.securityLabel : [];
  return labels.some((label) => codingsOf(label).some((c) => c.system === system && c.code === code));
}
