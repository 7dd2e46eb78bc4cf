/**
 * "Say it at most once per interval, per kind": for warnings that a flood would otherwise repeat
 * thousands of times a second. Kinds are the caller's fixed strings, so the map stays small.
 */
export class RateLimit {
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True (and the kind's clock restarts) when `kind` may be said now. */
  allow(kind: string): boolean {
    const now = this.now();
    const last = this.lastAt.get(kind);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.lastAt.set(kind, now);
    return true;
  }
}
