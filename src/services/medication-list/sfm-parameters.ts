import { badRequest } from '../../fhir/operation-outcome';
import type { FhirResource } from '../../fhir/types';

/** Reading a FHIR Parameters resource strictly: every problem names the parameter and what to send. */
export interface Parameter {
  name: string;
  index: number;
  resource?: FhirResource;
  [key: string]: unknown;
}

export function parametersOf(body: unknown, allowed: readonly string[], operation: string): Parameter[] {
  const resource = body as { resourceType?: unknown; parameter?: unknown } | undefined;
  if (!resource || typeof resource !== 'object' || resource.resourceType !== 'Parameters') {
    throw badRequest(
      'NAVET-SFM-PARAMETERS',
      `${operation} takes a FHIR Parameters resource (resourceType "Parameters"); got ${JSON.stringify((resource as { resourceType?: unknown } | undefined)?.resourceType ?? null)}`,
      ['Parameters'],
    );
  }
  if (!Array.isArray(resource.parameter))
    throw badRequest('NAVET-SFM-PARAMETERS', 'Parameters.parameter must be a list of {name, value[x] | resource}', [
      'Parameters.parameter',
    ]);
  return resource.parameter.map((p: unknown, index: number) => {
    const param = p as { name?: unknown } | null;
    if (!param || typeof param !== 'object' || typeof param.name !== 'string') {
      throw badRequest('NAVET-SFM-PARAMETERS', `Parameters.parameter[${index}] needs a name`, [
        `Parameters.parameter[${index}].name`,
      ]);
    }
    if (!allowed.includes(param.name)) {
      throw badRequest(
        'NAVET-SFM-PARAMETERS',
        `${operation} has no parameter "${param.name}"; its parameters are ${allowed.join(', ')}`,
        [`Parameters.parameter[${index}].name`],
      );
    }
    return { ...(param as object), name: param.name, index } as Parameter;
  });
}

export const at = (p: Parameter, element?: string) => `Parameters.parameter[${p.index}]${element ? `.${element}` : ''}`;

export function codeOf(p: Parameter | undefined): string | undefined {
  if (!p) return undefined;
  const coding = (p.valueCoding ?? (p.valueCodeableConcept as { coding?: unknown[] } | undefined)?.coding?.[0]) as
    { code?: unknown } | undefined;
  const code = p.valueCode ?? p.valueString ?? coding?.code;
  if (typeof code !== 'string')
    throw badRequest('NAVET-SFM-PARAMETERS', `${p.name} must be a code (valueCode, valueCoding or valueString)`, [
      at(p),
    ]);
  return code;
}

/**
 * A parameter the SFM Basis OperationDefinitions type as `code` that older clients send as valueBoolean:
 * true when it carries one of `codes` (or true), false for valueBoolean false.
 */
export function codeOrBooleanOf(p: Parameter | undefined, codes: readonly string[]): boolean | undefined {
  if (!p) return undefined;
  if (typeof p.valueBoolean === 'boolean') return p.valueBoolean;
  const code = p.valueCode ?? p.valueString ?? (p.valueCoding as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !codes.includes(code)) {
    throw badRequest(
      'NAVET-SFM-PARAMETERS',
      `${p.name} must be valueCode ${codes.join(' or ')} (SFM Basis types it as code; older clients' valueBoolean is accepted too)`,
      [at(p, 'valueCode')],
    );
  }
  return true;
}
