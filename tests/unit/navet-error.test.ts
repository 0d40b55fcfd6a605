import { NavetError } from '../../src/codes/navet-error';
import { badRequest, FhirError } from '../../src/fhir/operation-outcome';
import { TrustError } from '../../src/http/trust-error';
import { ScenarioFileError } from '../../src/scenarios/scenario-file';

/** One base class: every error Navet answers with is a NavetError with a stable code, status and headers. */
describe('NavetError', () => {
  test('a FhirError carries its first issue code, status and headers', () => {
    const error = badRequest('NAVET-INVALID-ID', "'x y' is not a valid FHIR id", ['id']);
    expect(error).toBeInstanceOf(NavetError);
    expect(error).toBeInstanceOf(FhirError);
    expect([error.code, error.navetCode, error.status, error.name]).toEqual([
      'NAVET-INVALID-ID',
      'NAVET-INVALID-ID',
      400,
      'FhirError',
    ]);
  });

  test('a TrustError carries its code, status and headers, and its OAuth body', () => {
    const error = new TrustError('invalid_token', 'NAVET-TOKEN-EXPIRED', 'expired', 401, {
      'WWW-Authenticate': 'DPoP',
    });
    expect(error).toBeInstanceOf(NavetError);
    expect([error.code, error.status, error.headers]).toEqual([
      'NAVET-TOKEN-EXPIRED',
      401,
      { 'WWW-Authenticate': 'DPoP' },
    ]);
    expect(error.toJSON()).toEqual({
      error: 'invalid_token',
      error_description: 'NAVET-TOKEN-EXPIRED: expired',
      error_code: 'NAVET-TOKEN-EXPIRED',
    });
  });

  test('a class whose errors share one code declares it as static code (as jose)', () => {
    const error = new ScenarioFileError('x.yaml', [{ line: 1, column: 1, path: '', message: 'bad' }]);
    expect(ScenarioFileError.code).toBe('NAVET-SCENARIO-INVALID');
    expect(error.code).toBe(ScenarioFileError.code);
    expect(error).toBeInstanceOf(NavetError);
  });
});
