/**
 * The reference the gate divides the bridge's CPU cost by, run in the bridge's own process
 * between the measured bursts (interleaved, so a busy machine weighs on both alike): a counted
 * integer loop (handicap.ts's spin), CPU µs per thousand iterations. It does not depend on this
 * project's code, allocates nothing and touches no memory, so it tracks the core's speed.
 */
import { spin } from './handicap.js';

export interface ReferenceReading {
  units: number;
  cpuUs: number;
  wallMs: number;
}

/** `units` thousand iterations of the loop; its CPU time (all threads: the bridge is idle meanwhile). */
export function referenceWork(units: number): ReferenceReading {
  if (!(Number.isInteger(units) && units > 0 && units <= 10_000_000)) throw new RangeError(`reference: units must be 1..10000000, got ${units}`);
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  spin(units * 1000);
  const u = process.cpuUsage(u0);
  return { units, cpuUs: u.user + u.system, wallMs: performance.now() - t0 };
}
