/**
 * A token bucket on a caller-given clock: up to `burst` at once, then `ratePerSecond` on
 * average. Pure (no timers), so it is tested with a fake clock.
 */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    nowMs: number,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError(`token bucket needs rate > 0 and burst >= 1, got ${ratePerSecond}, ${burst}`);
    this.tokens = burst;
    this.lastMs = nowMs;
  }

  /** Takes one token at `nowMs`; false when none is left (the caller counts the refusal). */
  take(nowMs: number): boolean {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000);
      this.lastMs = nowMs;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
