/**
 * CodecPool: the main thread's door to the codec work. Items (event texts, datagrams) are
 * queued, cut into batches and run in a Piscina pool (or inline with `workers: 0`); results
 * come back strictly in submission order, so events leave in the order FreeSWITCH emitted
 * them and each sender's events are fired in the order they arrived.
 *
 * Batching is adaptive: a batch leaves at the end of the current I/O turn (setImmediate) when
 * a worker is free, so a lone event waits microseconds; under load the in-flight limit makes
 * items pile up and batches grow up to `maxBatch`, amortising the ~50 µs thread hand-off.
 */
import { Piscina } from 'piscina';
import { fileURLToPath } from 'node:url';
import { packBatch } from './batch.js';
import { Fifo } from '../util/fifo.js';
import {
  createCodecState,
  runEgress,
  runIngress,
  type CodecSettings,
  type CodecState,
  type EgressResult,
  type EgressTask,
  type IngressResult,
  type IngressTask,
} from './tasks.js';

export interface CodecPoolOptions {
  /** Worker threads; 0 runs everything on the main thread. */
  workers: number;
  /** Most items in one task (default 64). */
  maxBatch?: number;
  /** Most tasks in flight per direction (default 2 × workers, at least 1). */
  maxInFlight?: number;
  /** Most items waiting per direction; beyond it the oldest are dropped and counted (default 20 000). */
  maxQueued?: number;
  /** Worker idle timeout before Piscina stops it (ms; default 60 000). */
  idleTimeoutMs?: number;
  /**
   * Longest a partial batch waits to fill while a worker is free, in µs (default 0: it leaves at
   * the end of the current I/O turn). Timers round up to whole milliseconds.
   */
  batchDelayUs?: number;
  /**
   * With workers: a batch of at most this many items is run on the main thread when no task is
   * in flight (default 4; 0 = never). At low rates this saves the two cross-thread hops (~50 µs
   * each) that would cost more than the work; under load batches grow and go to the workers.
   */
  inlineMaxBatch?: number;
}

export interface LaneStats {
  queued: number;
  inFlight: number;
  batches: number;
  /** Batches run on the main thread because they were tiny and nothing was in flight. */
  inlineBatches: number;
  items: number;
  droppedQueueFull: number;
  taskErrors: number;
}

type Runner<T, R> = (task: T) => Promise<R> | R;

/**
 * Sampled items of a delivered batch, for latency histograms: flat pairs of the item's offset in
 * the batch and when it was queued (performance.now() ms). One item in SAMPLE_EVERY is sampled,
 * so the per-item cost is one increment and a mask.
 */
export type QueuedSamples = readonly number[] | null;
const SAMPLE_MASK = 63;

/** One direction: a queue, a batcher, an ordered completion stage. */
class DirectionLane<Task extends { kind: string }, Result> {
  private readonly queue = new Fifo<Uint8Array>();
  /** Per queued item, what the caller tagged it with (ingress: the sender's address), in step with `queue`; handed back with the result, never sent to a worker. */
  private readonly tags = new Fifo<string | undefined>();
  private scheduled = false;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private nextSeq = 0;
  private deliverSeq = 0;
  private readonly done = new Map<number, { result: Result | null; error: unknown; first: number; count: number; tags: (string | undefined)[] }>();
  /** Items ever pushed, and the push index of the oldest queued item (both count dropped items too). */
  private pushed = 0;
  private headIndex = 0;
  /** Sampled items still queued or in flight: flat pairs [push index, queued at ms], oldest first. */
  private samples: number[] = [];
  private idleWaiters: (() => void)[] = [];
  readonly stats: LaneStats = { queued: 0, inFlight: 0, batches: 0, inlineBatches: 0, items: 0, droppedQueueFull: 0, taskErrors: 0 };

  constructor(
    private readonly makeTask: (items: Uint8Array[]) => { task: Task; transfer: ArrayBuffer[] },
    private readonly run: (task: Task, transfer: ArrayBuffer[]) => Promise<Result> | Result,
    private readonly deliver: (result: Result, samples: QueuedSamples, tags: readonly (string | undefined)[]) => void,
    private readonly onError: (error: unknown, items: number) => void,
    private readonly maxBatch: number,
    private readonly maxInFlight: number,
    private readonly maxQueued: number,
    private readonly delayMs: number,
    /** Runs a small batch on this thread (see CodecPoolOptions.inlineMaxBatch); null = never. */
    private readonly runHere: ((task: Task) => Result) | null,
    private readonly inlineMaxBatch: number,
  ) {}

  push(item: Uint8Array, tag?: string): void {
    if (this.queue.length >= this.maxQueued) {
      this.queue.shift(); // drop the oldest: fresh events matter more than stale ones
      this.tags.shift();
      this.headIndex++;
      this.stats.droppedQueueFull++;
      if (this.samples.length > 0 && this.samples[0]! < this.headIndex) this.samples.splice(0, 2);
    }
    if ((this.pushed++ & SAMPLE_MASK) === 0) this.samples.push(this.pushed - 1, performance.now());
    this.queue.push(item);
    this.tags.push(tag);
    if (this.timer !== null && this.queue.length >= this.maxBatch) {
      // The batch filled while waiting: no reason to wait longer.
      clearTimeout(this.timer);
      this.timer = null;
      this.scheduled = false;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const fire = () => {
      this.timer = null;
      this.scheduled = false;
      this.pump();
    };
    if (this.delayMs > 0 && this.queue.length < this.maxBatch) this.timer = setTimeout(fire, this.delayMs);
    else setImmediate(fire);
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const items = this.queue.take(this.maxBatch);
      const tags = this.tags.take(this.maxBatch);
      const first = this.headIndex;
      this.headIndex += items.length;
      this.dispatch(items, tags, first);
    }
    this.stats.queued = this.queue.length;
    this.stats.inFlight = this.inFlight;
    this.checkIdle();
  }

  private dispatch(items: Uint8Array[], tags: (string | undefined)[], first: number): void {
    // Nothing in flight and a tiny batch: cheaper here than a round trip to a worker; order is
    // kept since every earlier batch has completed.
    const here = this.runHere !== null && this.inFlight === 0 && items.length <= this.inlineMaxBatch;
    const seq = this.nextSeq++;
    this.inFlight++;
    this.stats.batches++;
    this.stats.items += items.length;
    if (here) this.stats.inlineBatches++;
    const { task, transfer } = this.makeTask(items);
    let pending: Promise<Result> | Result;
    try {
      pending = here ? this.runHere!(task) : this.run(task, transfer);
    } catch (e) {
      this.complete(seq, null, e, first, items.length, tags);
      return;
    }
    if (pending instanceof Promise) {
      pending.then(
        (r) => this.complete(seq, r, null, first, items.length, tags),
        (e: unknown) => this.complete(seq, null, e, first, items.length, tags),
      );
    } else this.complete(seq, pending, null, first, items.length, tags);
  }

  private complete(seq: number, result: Result | null, error: unknown, first: number, count: number, tags: (string | undefined)[]): void {
    this.inFlight--;
    this.done.set(seq, { result, error: error === null ? null : { error, count }, first, count, tags });
    while (this.done.has(this.deliverSeq)) {
      const d = this.done.get(this.deliverSeq)!;
      this.done.delete(this.deliverSeq);
      this.deliverSeq++;
      if (d.error !== null) {
        this.stats.taskErrors++;
        const e = d.error as { error: unknown; count: number };
        this.onError(e.error, e.count);
        this.takeSamples(d.first, d.count);
      } else this.deliver(d.result!, this.takeSamples(d.first, d.count), d.tags);
    }
    this.schedule();
  }

  /** The samples of the batch [first, first + count); older ones (dropped items) are discarded. */
  private takeSamples(first: number, count: number): QueuedSamples {
    const s = this.samples;
    if (s.length === 0 || s[0]! >= first + count) return null;
    let out: number[] | null = null;
    let k = 0;
    while (k < s.length && s[k]! < first + count) {
      if (s[k]! >= first) (out ??= []).push(s[k]! - first, s[k + 1]!);
      k += 2;
    }
    this.samples = s.slice(k);
    return out;
  }

  private checkIdle(): void {
    if (this.inFlight === 0 && this.queue.length === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Items waiting for a batch. */
  get queued(): number {
    return this.queue.length;
  }

  /** Drops every queued item (not the ones in flight); returns how many. */
  discardQueued(): number {
    const n = this.queue.clear();
    this.tags.clear();
    this.headIndex += n;
    return n;
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

export interface CodecPoolHandlers {
  /** `samples`: some of the batch's items and when they were queued (for latency). */
  onEgress: (result: EgressResult, samples: QueuedSamples) => void;
  /** `sources`: per input datagram, the address it came from (when the caller gave one). */
  onIngress: (result: IngressResult, samples: QueuedSamples, sources: readonly (string | undefined)[]) => void;
  /** A batch failed in a worker (it was counted as lost). */
  onTaskError: (direction: 'egress' | 'ingress', error: unknown, items: number) => void;
  /** A worker failed outside any task; Piscina replaces it. */
  onPoolError?: (error: unknown) => void;
}

/** Young-generation size of each worker (V8's default is up to 48 MB per isolate). */
const YOUNG_GENERATION_MB = 8;

export class CodecPool {
  readonly workers: number;
  private readonly piscina: Piscina | null;
  private readonly inline: CodecState | null;
  /** Settles once every worker has loaded its module (see the constructor). */
  private warmedUp: Promise<void> = Promise.resolve();
  /** With workers: the main thread's own codec state, for tiny batches (inlineMaxBatch). */
  private readonly mainState: CodecState | null = null;
  private readonly egressLane: DirectionLane<EgressTask, EgressResult>;
  private readonly ingressLane: DirectionLane<IngressTask, IngressResult>;
  /** Switch name stamped on egress (null = each event's own) and our own name for ingress. */
  switchname: string | null = null;
  ownName: string | null = null;

  constructor(settings: CodecSettings, options: CodecPoolOptions, handlers: CodecPoolHandlers) {
    validatePoolOptions(options);
    this.workers = options.workers;
    const maxBatch = options.maxBatch ?? 64;
    const maxInFlight = options.maxInFlight ?? Math.max(1, options.workers * 2);
    const maxQueued = options.maxQueued ?? 20_000;
    const delayMs = Math.ceil((options.batchDelayUs ?? 0) / 1000);
    if (options.workers === 0) {
      this.piscina = null;
      this.inline = createCodecState(settings);
    } else {
      this.inline = null;
      this.mainState = (options.inlineMaxBatch ?? 4) > 0 ? createCodecState(settings) : null;
      this.piscina = new Piscina({
        filename: fileURLToPath(new URL('./worker.js', import.meta.url)),
        minThreads: options.workers,
        maxThreads: options.workers,
        idleTimeout: options.idleTimeoutMs ?? 60_000,
        concurrentTasksPerWorker: 1,
        workerData: { settings },
        // Batches are short-lived garbage: a small young generation keeps each worker's resident
        // memory low at the price of more (cheap) scavenges.
        resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
      });
      // A worker that dies outside a task (e.g. fails to load) must not take the process down:
      // Piscina replaces it; the failure is reported.
      this.piscina.on('error', (e: unknown) => handlers.onPoolError?.(e));
      // One empty task per worker: every worker loads its module now rather than on the first
      // real batch, and close() can wait for that, since terminating a worker that is still
      // loading an ES module crashes Node 20 (v8 ToLocalChecked in loadESMFromCJS).
      const piscina = this.piscina;
      const empty = (): EgressTask => ({ kind: 'egress', buf: new ArrayBuffer(0), ends: new Uint32Array(0), switchname: null });
      this.warmedUp = Promise.all(Array.from({ length: options.workers }, () => piscina.run(empty()))).then(
        () => undefined,
        () => undefined,
      );
    }
    const run = <T, R>(inlineRun: (s: CodecState, t: T) => R): Runner<T, R> =>
      this.inline !== null
        ? (t: T) => inlineRun(this.inline!, t)
        : (t: T) => this.piscina!.run(t, { transferList: transferOf(t) }) as Promise<R>;
    this.egressLane = new DirectionLane<EgressTask, EgressResult>(
      (items) => {
        const b = packBatch(items);
        return { task: { kind: 'egress', ...b, switchname: this.switchname }, transfer: [b.buf] };
      },
      run(runEgress),
      handlers.onEgress,
      (e, n) => handlers.onTaskError('egress', e, n),
      maxBatch,
      maxInFlight,
      maxQueued,
      delayMs,
      this.mainState === null ? null : (t) => runEgress(this.mainState!, t),
      options.inlineMaxBatch ?? 4,
    );
    this.ingressLane = new DirectionLane<IngressTask, IngressResult>(
      (items) => {
        const b = packBatch(items);
        return { task: { kind: 'ingress', ...b, ownName: this.ownName, origins: this.originsOf(items) }, transfer: [b.buf] };
      },
      run(runIngress),
      handlers.onIngress,
      (e, n) => handlers.onTaskError('ingress', e, n),
      maxBatch,
      maxInFlight,
      maxQueued,
      delayMs,
      this.mainState === null ? null : (t) => runIngress(this.mainState!, t),
      options.inlineMaxBatch ?? 4,
    );
  }

  /** Queue one event text from the event socket (copied into the batch; the caller's buffer is free after). */
  egress(text: Uint8Array): void {
    this.egressLane.push(text);
  }

  /** Hub relay: the transport each tagged datagram came from (see src/pool/relay-collector.ts). */
  private readonly origins = new WeakMap<Uint8Array, number>();
  private tagged = 0;

  private originsOf(items: readonly Uint8Array[]): Uint8Array | null {
    if (this.tagged === 0) return null;
    const o = new Uint8Array(items.length);
    for (let i = 0; i < items.length; i++) o[i] = this.origins.get(items[i]!) ?? 0;
    return o;
  }

  /**
   * Queue one received datagram; `origin` (relay mode) says which transport it came from, for
   * relaying it to the other; `source` (the sender's address) comes back with the result.
   */
  ingress(datagram: Uint8Array, origin?: number, source?: string): void {
    if (origin !== undefined && origin !== 0) {
      this.origins.set(datagram, origin);
      this.tagged = 1;
    }
    this.ingressLane.push(datagram, source);
  }

  /** Event texts waiting for a worker (the bridge pauses the event socket when this is high). */
  get egressQueued(): number {
    return this.egressLane.queued;
  }

  stats(): { workers: number; egress: LaneStats; ingress: LaneStats } {
    return { workers: this.workers, egress: { ...this.egressLane.stats }, ingress: { ...this.ingressLane.stats } };
  }

  /** Resolves when both directions have nothing queued or in flight. */
  async drain(): Promise<void> {
    await Promise.all([this.egressLane.idle(), this.ingressLane.idle()]);
  }

  /** Gives up on what is still queued (a replaced pool past its drain deadline); returns the counts dropped. */
  discardQueued(): { egress: number; ingress: number } {
    return { egress: this.egressLane.discardQueued(), ingress: this.ingressLane.discardQueued() };
  }

  async close(): Promise<void> {
    if (this.piscina === null) return;
    // Bounded: a worker that cannot load at all must not keep close() waiting.
    await Promise.race([this.warmedUp, new Promise((r) => setTimeout(r, 5000).unref())]);
    await this.piscina.destroy();
  }
}

function transferOf(t: unknown): ArrayBuffer[] {
  const b = (t as { buf?: unknown }).buf;
  return b instanceof ArrayBuffer ? [b] : [];
}

export class PoolOptionsError extends Error {}

function validatePoolOptions(o: CodecPoolOptions): void {
  const int = (name: string, v: number | undefined, min: number, max: number) => {
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new PoolOptionsError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
  };
  int('workers', o.workers, 0, 256);
  int('maxBatch', o.maxBatch, 1, 65536);
  int('maxInFlight', o.maxInFlight, 1, 1024);
  int('maxQueued', o.maxQueued, 1, 10_000_000);
  int('idleTimeoutMs', o.idleTimeoutMs, 1, 86_400_000);
  int('batchDelayUs', o.batchDelayUs, 0, 1_000_000);
  int('inlineMaxBatch', o.inlineMaxBatch, 0, 65536);
}
