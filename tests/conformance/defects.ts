import { REQUIREMENTS } from '../../src/conformance/requirement';
import { CarelessVendor } from './careless-client';
import { gradeVendor, statusesOf, vendorSandbox, type VendorSandbox } from './harness';

/**
 * For each requirement: the careless client with exactly that defect fails exactly that requirement
 * (a recommended one gives a warning) and passes every other one.
 */
export function eachDefect(title: string, include: (id: string) => boolean): void {
  const graded = REQUIREMENTS.filter((r) => r.verification !== 'declaration' && include(r.id));
  describe(title, () => {
    let v: VendorSandbox;
    beforeAll(async () => {
      v = await vendorSandbox();
    });
    afterAll(() => v.close());

    it.each(graded.map((r) => [r.id, r.level]))(
      'a client with the defect %s fails it (%s) and passes everything else',
      async (id, level) => {
        const report = await gradeVendor(v, (options) => new CarelessVendor(options, id));
        const statuses = statusesOf(report);
        const expected = level === 'required' ? 'fail' : 'warning';
        const others = report.results
          .filter((r) => r.requirement !== id && r.verification !== 'declaration' && r.status !== 'pass')
          .map((r) => `${r.requirement}: ${r.status}: ${r.message}`);
        const mine = report.results.find((r) => r.requirement === id);
        expect({ [id]: statuses[id], others }).toEqual({ [id]: expected, others: [] });
        // a fail names the request(s) it is based on, what was expected and what came
        expect(mine?.evidence.requests.length).toBeGreaterThan(0);
        expect(mine?.evidence.expected).toBeTruthy();
        expect(mine?.evidence.seen).toBeTruthy();
        expect(report.verdict).toBe(level === 'required' ? 'failed' : 'passed');
      },
      90_000,
    );
  });
}
