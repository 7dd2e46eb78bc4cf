/**
 * Search for the highest offered rate that loses nothing. A trial runs the system at one rate
 * for a short step and says whether everything arrived. Starting from a guess (e.g. 90% of what
 * a flood got through), the rate grows by `growth` while trials pass and shrinks by halves while
 * they fail, until a passing and a failing rate bracket the answer; then bisection narrows the
 * bracket to `precision` (relative) or until `maxTrials` is spent. The answer is the highest
 * passing rate seen (0 when none passed).
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
  growth?: number;
  /** Stop when (failing - passing) / passing <= precision. */
  precision?: number;
  maxTrials: number;
}

export interface SearchStep<T> {
  rate: number;
  outcome: T;
}

export interface SearchResult<T> {
  /** Highest passing rate, 0 if none. */
  rate: number;
  /** Lowest failing rate above it, or null when every rate tried passed. */
  failedAt: number | null;
  steps: SearchStep<T>[];
}

export async function searchSustainedRate<T extends TrialOutcome>(
  trial: (rate: number) => Promise<T>,
  opts: SearchOptions,
): Promise<SearchResult<T>> {
  const growth = opts.growth ?? 1.5;
  const precision = opts.precision ?? 0.05;
  if (!(opts.floor > 0 && opts.ceiling >= opts.floor)) throw new RangeError('search: need 0 < floor <= ceiling');
  if (!(growth > 1)) throw new RangeError('search: growth must be > 1');
  const steps: SearchStep<T>[] = [];
  let pass = 0;
  let fail: number | null = null;
  let rate = clamp(Math.round(opts.start), opts.floor, opts.ceiling);
  while (steps.length < opts.maxTrials) {
    const outcome = await trial(rate);
    steps.push({ rate, outcome });
    if (outcome.pass) pass = Math.max(pass, rate);
    else fail = fail === null ? rate : Math.min(fail, rate);

    let next: number;
    if (fail === null) {
      if (rate >= opts.ceiling) break; // everything up to the ceiling passes
      next = Math.min(opts.ceiling, rate * growth);
    } else if (pass === 0) {
      if (rate <= opts.floor) break; // nothing passes, even the floor
      next = Math.max(opts.floor, rate / 2);
    } else {
      if ((fail - pass) / pass <= precision) break;
      next = (pass + fail) / 2;
    }
    rate = Math.round(next);
  }
  return { rate: pass, failedAt: fail, steps };
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
