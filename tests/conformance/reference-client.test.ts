import { ReferenceVendor } from '../../src/clients/reference-vendor';
import { gradeVendor, notPassed, vendorSandbox, type VendorSandbox } from './harness';

/** The reference client (a careful vendor) passes every requirement of every profile, every challenge included. */
let v: VendorSandbox;
beforeAll(async () => {
  v = await vendorSandbox();
});
afterAll(() => v.close());

it('the reference client passes every traffic and challenge requirement of all seven profiles', async () => {
  const report = await gradeVendor(v, (options) => new ReferenceVendor(options));
  expect(notPassed(report)).toEqual([]);
  expect(report.verdict).toBe('passed');
  expect(report.counts.fail).toBe(0);
}, 120_000);
