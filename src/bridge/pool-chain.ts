/**
 * The codec pools that may still deliver results, oldest first. On reload a new pool takes the
 * new input at once while the old one finishes what it holds; only the oldest pool's results are
 * delivered as they come, a newer one's wait, so no event or datagram overtakes one that came
 * before it. A replaced pool gets a deadline: past it, what it still queues is discarded, what it
 * returns later is counted lost (delivering it would reorder), and the next pool's results flow.
 */
export interface RetirablePool {
  drain(): Promise<void>;
  /** Drops what is queued (not what is in flight); returns the counts per direction. */
  discardQueued(): { egress: number; ingress: number };
  close(): Promise<void>;
}

export interface PoolChainHooks<P, R> {
  deliver(result: R): void;
  /** A result of a pool given up at its deadline. */
  lost(result: R): void;
  /** A replaced pool missed its deadline; `dropped` is what was still queued in it. */
  abandoned(pool: P, dropped: { egress: number; ingress: number }): void;
}

interface Live<P, R> {
  readonly pool: P;
  readonly held: R[];
}

export class PoolChain<P extends RetirablePool, R> {
  private live: Live<P, R>[];
  private retiring: Promise<void> = Promise.resolve();

  constructor(
    first: P,
    private readonly hooks: PoolChainHooks<P, R>,
    private readonly drainTimeoutMs: number,
  ) {
    this.live = [{ pool: first, held: [] }];
  }

  /** The pool that takes new input. */
  get current(): P {
    return this.live[this.live.length - 1]!.pool;
  }

  /** Results waiting behind an older pool. */
  get held(): number {
    return this.live.reduce((n, l) => n + l.held.length, 0);
  }

  /** A result from `from`, in that pool's order. */
  result(from: P, r: R): void {
    const at = this.live.findIndex((l) => l.pool === from);
    if (at === 0) this.hooks.deliver(r);
    else if (at > 0) this.live[at]!.held.push(r);
    else this.hooks.lost(r);
  }

  /** `next` takes the input from now on; the current pool is retired after the ones before it. */
  replace(next: P): void {
    const old = this.current;
    this.live.push({ pool: next, held: [] });
    this.retiring = this.retiring.then(() => this.retire(old));
  }

  /** Resolves when every replaced pool is retired. */
  settled(): Promise<void> {
    return this.retiring;
  }

  private async retire(old: P): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      old.drain().then(() => true),
      new Promise<false>((r) => (timer = setTimeout(() => r(false), this.drainTimeoutMs))),
    ]);
    clearTimeout(timer);
    this.live = this.live.filter((l) => l.pool !== old);
    if (!drained) this.hooks.abandoned(old, old.discardQueued());
    const head = this.live[0];
    if (head !== undefined) for (const r of head.held.splice(0)) this.hooks.deliver(r);
    await old.close();
  }
}
