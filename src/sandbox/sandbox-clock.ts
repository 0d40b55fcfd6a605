/** Each sandbox has its own clock: real time plus an offset that tests can move. */
export interface SandboxClock {
  offsetMs: number;
  now(): Date;
}

export function clockWithOffset(offsetMs: number): SandboxClock {
  return { offsetMs, now: () => new Date(Date.now() + offsetMs) };
}
