/**
 * UCUM unit validation with @lhncbc/ucum-lhc (the NLM's UCUM library; a direct dependency, pinned to the
 * version fhirpath uses, see package.json's overrides).
 */
interface UcumUtils {
  validateUnitString(unit: string): { status: 'valid' | 'invalid' | 'error' };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ucum = (require('@lhncbc/ucum-lhc') as { UcumLhcUtils: { getInstance(): UcumUtils } }).UcumLhcUtils.getInstance();
const known = new Map<string, boolean>();

/** Whether a unit code is valid UCUM (case-sensitive, e.g. mmol/L, 10*9/L, mm[Hg]). */
export function isUcumUnit(code: string): boolean {
  let valid = known.get(code);
  if (valid === undefined) {
    // the library takes JavaScript's own names (constructor, toString, …) for units: they are none
    const builtIn = code in Object.prototype || code === '__proto__';
    valid =
      code.length > 0 &&
      code.length <= 64 &&
      !/\s/.test(code) &&
      !builtIn &&
      ucum.validateUnitString(code).status === 'valid';
    if (known.size < 10_000) known.set(code, valid);
  }
  return valid;
}
