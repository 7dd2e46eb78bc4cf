/**
 * Worker thread of `npm run fuzz`: runs one range of cases and reports its tally. Progress goes
 * to a shared Int32Array after every case, so the main thread can tell a hang from slow work.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runCases } from './receive-fuzz.js';

export interface FuzzWorkerData {
  index: number;
  seed: number;
  from: number;
  to: number;
  slowCaseMs: number;
  /** Int32Array over it: [index] = cases done by this worker; [workers] = 1 when asked to stop. */
  shared: SharedArrayBuffer;
  workers: number;
}

const d = workerData as FuzzWorkerData;
const shared = new Int32Array(d.shared);
const STEP = 1000;
let tally;
for (let from = d.from; from < d.to; from += STEP) {
  if (Atomics.load(shared, d.workers) === 1) break; // out of time
  const base = from - d.from;
  tally = runCases(d.seed, from, Math.min(d.to, from + STEP), d.slowCaseMs, tally, { done: (k) => Atomics.store(shared, d.index, base + k) });
}
parentPort!.postMessage(tally ?? null);
