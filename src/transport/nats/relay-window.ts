/**
 * The hub relay's once-per-window rule, on the main thread: a datagram (by the digest of its
 * bytes) is relayed at most once per window, so a packet that comes back through another hub, or
 * arrives on both transports, is not relayed again. Bounded in count; the oldest go first.
 */
export interface RelayStats {
  /** UDP -> NATS and NATS -> UDP republished. */
  toNats: number;
  toUdp: number;
  /** Not relayed again: the same bytes were relayed within the window. */
  suppressedRepeat: number;
  /** Not relayed: the other transport is not running. */
  noTarget: number;
}

/** Main-thread side: the digests relayed in the last `windowMs`, bounded in count. */
export class RelayWindow {
  private readonly seen = new Map<string, number>();
  readonly stats: RelayStats = { toNats: 0, toUdp: 0, suppressedRepeat: 0, noTarget: 0 };

  constructor(
    private readonly windowMs = 30_000,
    private readonly maxEntries = 200_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time a digest is offered within the window (it is then remembered). */
  admit(digest: string): boolean {
    const t = this.now();
    const seenAt = this.seen.get(digest);
    if (seenAt !== undefined && t - seenAt < this.windowMs) {
      this.stats.suppressedRepeat++;
      return false;
    }
    if (seenAt !== undefined) this.seen.delete(digest);
    this.seen.set(digest, t);
    this.evict(t);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  /** Map order is insertion order: the oldest entries come first. */
  private evict(t: number): void {
    for (const [d, at] of this.seen) {
      if (this.seen.size <= this.maxEntries && t - at < this.windowMs) break;
      this.seen.delete(d);
    }
  }
}
