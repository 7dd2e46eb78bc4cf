/**
 * Timing loop for throughput benchmarks: warm-up, then timed rounds, reporting the median round
 * and the spread (slowest..fastest round). Cells measured together run their rounds in turn
 * (A B C A B C ...), so a noisy moment on the machine hits all of them, not just one.
 */

/** One unit of work; returns a number derived from its output so the JIT cannot drop the work. */
export type BenchOp = () => number;

export interface RoundPlan {
  /** Warm-up time per cell before any timed round. */
  warmupMs: number;
  /** Timed rounds per cell. */
  rounds: number;
  /** Length of one timed round. */
  roundMs: number;
}

export interface RoundStats {
  /** Median of the rounds' operations per second. */
  opsPerSec: number;
  min: number;
  max: number;
  rounds: number;
  /** Operations per second of each round, in the order run. */
  perRound: number[];
}

/** Clock reads cost time too: ops run in batches of about this long between reads. */
const BATCH_TARGET_MS = 0.5;

let sink = 0;

/** The sum of every op's result so far: read by nobody in particular, it keeps the results observable. */
export function opResultChecksum(): number {
  return sink;
}

/** Runs `op` for about `ms`; returns [operations, elapsed ms]. */
function runFor(op: BenchOp, batch: number, ms: number): [number, number] {
  let count = 0;
  const start = performance.now();
  let now = start;
  do {
    for (let i = 0; i < batch; i++) sink += op();
    count += batch;
    now = performance.now();
  } while (now - start < ms);
  return [count, now - start];
}

/** Warms `op` up and picks a batch size so one batch takes about BATCH_TARGET_MS. */
function warmUp(op: BenchOp, ms: number): number {
  let batch = 1;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const [count, elapsed] = runFor(op, batch, Math.min(20, ms));
    const perOpMs = elapsed / count;
    batch = Math.max(1, Math.min(10_000, Math.round(BATCH_TARGET_MS / perOpMs)));
  }
  return batch;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Measures several ops with interleaved rounds; results in the order of `ops`. */
export function measureInterleaved(ops: readonly BenchOp[], plan: RoundPlan): RoundStats[] {
  if (!Number.isInteger(plan.rounds) || plan.rounds < 1) throw new RangeError(`rounds must be an integer >= 1, got ${plan.rounds}`);
  if (!(plan.roundMs > 0)) throw new RangeError(`roundMs must be > 0, got ${plan.roundMs}`);
  const batches = ops.map((op) => warmUp(op, plan.warmupMs));
  const perRound: number[][] = ops.map(() => []);
  for (let r = 0; r < plan.rounds; r++) {
    for (let i = 0; i < ops.length; i++) {
      const [count, elapsed] = runFor(ops[i]!, batches[i]!, plan.roundMs);
      perRound[i]!.push((count * 1000) / elapsed);
    }
  }
  return perRound.map((rates) => ({
    opsPerSec: median(rates),
    min: Math.min(...rates),
    max: Math.max(...rates),
    rounds: rates.length,
    perRound: rates,
  }));
}
