/**
 * Search for the highest offered rate the system sustains. A trial runs the system at one rate
 * for a short step and says whether it passed (the caller decides what passing means: the
 * benchmark asks for 0 loss and every event delivered within a latency bound).
 *
 * 1. Bracket: from `start` the rate grows by `growth` while trials pass and halves while they
 *    fail, until a passing rate `lo` and a failing rate `hi` bracket the answer.
 * 2. Bisect (in log space) until (hi - lo) / lo <= `precision`.
 * 3. Confirm: `lo` is tried again `confirmations` more times. A failed confirmation makes it the
 *    new `hi` (a pass that does not repeat is noise, not capacity) and the search goes on below.
 * A failure below an earlier pass does the same: passes above the lowest failure are dropped,
 * so noise can only make the answer lower, never higher.
 *
 * Bounded by `maxTrials` and `maxSeconds` (clock injectable for tests). The result says why it
 * stopped and whether the bracket reached the precision with the answer confirmed.
 */

export interface TrialOutcome {
  pass: boolean;
}

export interface SearchOptions {
  start: number;
  /** Lowest rate worth trying; below it the search stops with 0 or what passed. */
  floor: number;
  /** Highest rate worth trying (e.g. what the load generator itself can offer). */
  ceiling: number;
  /** Factor while bracketing (default 2). */
  growth?: number;
  /** Relative width of the final bracket: stop when (hi - lo) / lo <= precision (default 0.03). */
  precision?: number;
  /** Extra passing trials required at the answer (default 1). */
  confirmations?: number;
  maxTrials: number;
  /** Wall-clock budget for the whole search (default: none). */
  maxSeconds?: number;
  /** Milliseconds clock (default performance.now). */
  now?: () => number;
}

export interface SearchStep<T> {
  rate: number;
  outcome: T;
}

export type SearchStop = 'converged' | 'ceiling' | 'floor' | 'trials' | 'time';

export interface SearchResult<T> {
  /** Highest rate that passed and was not contradicted by a failure at or below it; 0 if none. */
  rate: number;
  /** The answer lies in [lo, hi): lo = rate; hi = lowest failing rate (null: none failed). */
  bracket: { lo: number; hi: number | null };
  /** Same as bracket.hi (kept for readers of older results). */
  failedAt: number | null;
  /** (hi - lo) / lo, null while unbounded. */
  relativeWidth: number | null;
  /** Passing trials at exactly `rate` (1 + confirmations when converged). */
  passesAtRate: number;
  converged: boolean;
  stop: SearchStop;
  seconds: number;
  steps: SearchStep<T>[];
}

export async function searchSustainedRate<T extends TrialOutcome>(
  trial: (rate: number) => Promise<T>,
  opts: SearchOptions,
): Promise<SearchResult<T>> {
  const growth = opts.growth ?? 2;
  const precision = opts.precision ?? 0.03;
  const confirmations = opts.confirmations ?? 1;
  const now = opts.now ?? (() => performance.now());
  if (!(opts.floor > 0 && opts.ceiling >= opts.floor)) throw new RangeError('search: need 0 < floor <= ceiling');
  if (!(growth > 1)) throw new RangeError('search: growth must be > 1');
  if (!(precision > 0)) throw new RangeError('search: precision must be > 0');
  if (!(Number.isInteger(confirmations) && confirmations >= 0)) throw new RangeError('search: confirmations must be a whole number >= 0');
  if (!(Number.isInteger(opts.maxTrials) && opts.maxTrials >= 1)) throw new RangeError('search: maxTrials must be a whole number >= 1');

  const t0 = now();
  const steps: SearchStep<T>[] = [];
  const passes: number[] = [];
  let hi: number | null = null;
  const lo = (): number => Math.max(0, ...passes.filter((p) => hi === null || p < hi));
  const passesAt = (rate: number): number => passes.filter((p) => p === rate).length;

  let stop: SearchStop;
  for (;;) {
    const l = lo();
    let next: number;
    if (steps.length === 0) next = clamp(Math.round(opts.start), opts.floor, opts.ceiling);
    else if (hi === null) {
      if (l >= opts.ceiling) {
        stop = 'ceiling';
        break;
      }
      next = Math.min(opts.ceiling, Math.round(l * growth));
    } else if (l === 0) {
      if (hi <= opts.floor) {
        stop = 'floor';
        break;
      }
      next = Math.max(opts.floor, Math.round(hi / 2));
    } else if ((hi - l) / l <= precision || Math.round(Math.sqrt(l * hi)) >= hi || Math.round(Math.sqrt(l * hi)) <= l) {
      if (passesAt(l) > confirmations) {
        stop = 'converged';
        break;
      }
      next = l;
    } else next = Math.round(Math.sqrt(l * hi));

    if (steps.length >= opts.maxTrials) {
      stop = 'trials';
      break;
    }
    if (opts.maxSeconds !== undefined && (now() - t0) / 1000 >= opts.maxSeconds) {
      stop = 'time';
      break;
    }
    const outcome = await trial(next);
    steps.push({ rate: next, outcome });
    if (outcome.pass) passes.push(next);
    else hi = hi === null ? next : Math.min(hi, next);
  }
  const rate = lo();
  return {
    rate,
    bracket: { lo: rate, hi },
    failedAt: hi,
    relativeWidth: hi === null || rate === 0 ? null : (hi - rate) / rate,
    passesAtRate: passesAt(rate),
    converged: stop === 'converged',
    stop,
    seconds: (now() - t0) / 1000,
    steps,
  };
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
