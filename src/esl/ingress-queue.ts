/**
 * The queue of sendevent commands waiting for one injector connection, built for overload: when
 * FreeSWITCH cannot keep up, what it is sent converges to the latest state instead of replaying
 * history, and what it is not sent is counted by why.
 *
 * - Supersede: a command with the key of a queued one (src/wire/supersede-key.ts, prefixed by
 *   the injector with the order key) replaces it IN PLACE: it takes the older one's position, so
 *   the order of a user's events among themselves holds, and the older one is counted
 *   `superseded`.
 * - Urgent first: urgent commands (HEARTBEAT, peerup/peerdown) have their own FIFO, always
 *   taken before the others, so peer tracking never waits behind a backlog of registrations.
 * - Expiry: a command queued past its own expiry (a register whose `expires` has run out since
 *   it was received) is discarded when it reaches the head, counted `expired`.
 * - Bounds: count and bytes (the oldest non-urgent command is dropped first, counted
 *   `droppedOldest`) and age (one queued longer than maxAgeMs is discarded at the head,
 *   counted `droppedTooOld`).
 *
 * A pure data structure: the caller's clock, no timers, no I/O.
 */
import { Fifo } from '../util/fifo.js';

export interface QueuedCommand {
  /** The complete command text; replaced when a newer command with the same key arrives. */
  command: Buffer;
  /** Commands with the same key replace each other while queued; null: never replaced. */
  readonly key: string | null;
  /** Taken before every non-urgent command. */
  readonly urgent: boolean;
  /** Clock time it was queued (of the newest command, after a replacement): the age bound. */
  queuedAtMs: number;
  /** Clock time after which it is not worth sending (Infinity: never). */
  expiresAtMs: number;
}

export interface IngressQueueLimits {
  /** Most commands queued. */
  maxCount: number;
  /** Most command bytes queued. */
  maxBytes: number;
  /** Longest a command may wait, ms (0 = no age bound). */
  maxAgeMs: number;
}

export interface IngressQueueCounters {
  /** Replaced by a newer command with the same key before being written. */
  superseded: number;
  /** Reached the head after their own expiry. */
  expired: number;
  /** Waited longer than maxAgeMs. */
  droppedTooOld: number;
  /** Dropped to stay within maxCount / maxBytes. */
  droppedOldest: number;
}

export class IngressQueue {
  readonly counters: IngressQueueCounters = { superseded: 0, expired: 0, droppedTooOld: 0, droppedOldest: 0 };
  private readonly urgent = new Fifo<QueuedCommand>();
  private readonly normal = new Fifo<QueuedCommand>();
  /** Key -> the queued command holding it (at most one per key; bounded by the queue). */
  private readonly byKey = new Map<string, QueuedCommand>();
  private byteCount = 0;

  constructor(
    private readonly limits: IngressQueueLimits,
    private readonly clock: () => number,
  ) {}

  get length(): number {
    return this.urgent.length + this.normal.length;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** Queues a command, or lets it replace the queued one with its key. Returns what happened. */
  push(entry: QueuedCommand): 'queued' | 'superseded' {
    const older = entry.key === null ? undefined : this.byKey.get(entry.key);
    if (older !== undefined) {
      this.byteCount += entry.command.length - older.command.length;
      older.command = entry.command;
      older.queuedAtMs = entry.queuedAtMs;
      older.expiresAtMs = entry.expiresAtMs;
      this.counters.superseded++;
      this.trim();
      return 'superseded';
    }
    (entry.urgent ? this.urgent : this.normal).push(entry);
    this.byteCount += entry.command.length;
    if (entry.key !== null) this.byKey.set(entry.key, entry);
    this.trim();
    return 'queued';
  }

  /** The next command to write (stale heads are discarded first), or undefined. */
  peek(): QueuedCommand | undefined {
    return this.headOf(this.urgent) ?? this.headOf(this.normal);
  }

  shift(): QueuedCommand | undefined {
    const next = this.peek();
    if (next === undefined) return undefined;
    this.remove(next.urgent ? this.urgent : this.normal);
    return next;
  }

  /** Up to `n` commands in the order shift() would give them. */
  takeUpTo(n: number): QueuedCommand[] {
    const out: QueuedCommand[] = [];
    while (out.length < n) {
      const next = this.shift();
      if (next === undefined) break;
      out.push(next);
    }
    return out;
  }

  /**
   * Puts commands taken earlier back at the front, in their order (written but unanswered when a
   * connection dropped). One whose key a newer queued command holds is not put back: the newer
   * one says more and comes later (counted superseded). The bounds apply again.
   */
  prependFront(entries: readonly QueuedCommand[]): void {
    const kept: QueuedCommand[] = [];
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.key !== null) {
        if (this.byKey.has(e.key)) {
          this.counters.superseded++;
          continue;
        }
        this.byKey.set(e.key, e);
      }
      kept.push(e);
      this.byteCount += e.command.length;
    }
    kept.reverse();
    this.urgent.unshiftAll(kept.filter((e) => e.urgent));
    this.normal.unshiftAll(kept.filter((e) => !e.urgent));
    this.trim();
  }

  /** Drops the oldest commands (non-urgent first) until within count and bytes; returns how many. */
  private trim(): number {
    let dropped = 0;
    while (this.length > this.limits.maxCount || this.byteCount > this.limits.maxBytes) {
      this.remove(this.normal.length > 0 ? this.normal : this.urgent);
      dropped++;
    }
    this.counters.droppedOldest += dropped;
    return dropped;
  }

  /** The head of one FIFO after discarding expired and too old commands. */
  private headOf(fifo: Fifo<QueuedCommand>): QueuedCommand | undefined {
    let now: number | undefined;
    for (let head = fifo.peek(); head !== undefined; head = fifo.peek()) {
      now ??= this.clock();
      if (now >= head.expiresAtMs) this.counters.expired++;
      else if (this.limits.maxAgeMs > 0 && now - head.queuedAtMs > this.limits.maxAgeMs) this.counters.droppedTooOld++;
      else return head;
      this.remove(fifo);
    }
    return undefined;
  }

  private remove(fifo: Fifo<QueuedCommand>): void {
    const e = fifo.shift()!;
    this.byteCount -= e.command.length;
    if (e.key !== null && this.byKey.get(e.key) === e) this.byKey.delete(e.key);
  }
}
