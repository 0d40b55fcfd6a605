/**
 * The rehearsal's flows and how often they happen: national volumes per working day (specs: volumes.md,
 * municipality-rollout.md) scaled to the municipality's population, flat over an 8-hour working day.
 */
export const NATIONAL_POPULATION = 5_300_000;
export const WORKING_DAY_HOURS = 8;

export type FlowName =
  | 'medication-reconciliation'
  | 'home-care-medication-list'
  | 'critical-information-lookup'
  | 'discharge-summary'
  | 'lab-result';

export interface FlowRate {
  flow: FlowName;
  title: string;
  /** National count per working day. */
  perDay: number;
  /** Where the figure comes from, and what is assumed. */
  basis: string;
}

export const FLOW_RATES: FlowRate[] = [
  {
    flow: 'medication-reconciliation',
    title: 'GP reconciles the PLL ($getMedication, $sendMedication)',
    perDay: 78_000,
    basis: 'e-prescriptions ≈ 78,000/day (volumes.md); one reconciliation per prescription is assumed, not verified',
  },
  {
    flow: 'home-care-medication-list',
    title: 'Home care fetches the PLL (ticket, List)',
    perDay: 133_731,
    basis:
      'welfare-technology recipients 2024 (municipality-rollout.md) as a stand-in for home-care patients, one fetch a day each — assumed',
  },
  {
    flow: 'critical-information-lookup',
    title: 'Legevakt reads critical information under AKUTT (status, AllergyIntolerance)',
    perDay: 3_700,
    basis: 'Kjernejournal look-ups ≈ 3,700/day (volumes.md)',
  },
  {
    flow: 'discharge-summary',
    title: 'Hospital publishes a discharge summary, the GP finds and reads it (ITI-65/67/68)',
    perDay: 5_520,
    basis: 'referrals 1.38 million a year over 250 working days (volumes.md) as a stand-in for discharges — assumed',
  },
  {
    flow: 'lab-result',
    title: 'A lab submits a result, the GP finds it (PPS)',
    perDay: 580,
    basis: 'lab-result look-ups by personnel 200–580/day (volumes.md), the upper figure',
  },
];

/** How many of each flow a rehearsal of `hours` runs for a population; each flow at least once. */
export function flowCounts(population: number, hours: number): Record<FlowName, number> {
  const scale = (population / NATIONAL_POPULATION) * (hours / WORKING_DAY_HOURS);
  return Object.fromEntries(FLOW_RATES.map((r) => [r.flow, Math.max(1, Math.round(r.perDay * scale))])) as Record<
    FlowName,
    number
  >;
}
