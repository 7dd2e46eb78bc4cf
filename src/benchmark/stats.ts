/** Small statistics for benchmark figures: medians, percentiles, relative spread. */

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be 0..100, got ${p}`);
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

/**
 * Half the range relative to the median: 100, 110, 90 -> 0.1. A measure of run-to-run noise that
 * a few runs can estimate; 0 for a single run (no information, see the callers' floor).
 */
export function relativeHalfRange(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  if (m === 0) return 0;
  return (Math.max(...values) - Math.min(...values)) / 2 / Math.abs(m);
}

/**
 * Median absolute deviation relative to the median: 100, 110, 90 -> 0.1; one wild value among
 * several barely moves it (unlike the range). 0 for fewer than two values.
 */
export function relativeMad(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = median(values);
  if (m === 0) return 0;
  return median(values.map((v) => Math.abs(v - m))) / Math.abs(m);
}
