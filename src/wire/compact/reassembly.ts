/**
 * Reassembly of multi-datagram compact messages, on the main thread (fragments of one message
 * may be decrypted by different workers). Only authenticated, non-replayed fragments get here.
 * Bounded: at most `maxMessages` partial messages and `maxBytes` of chunks; a message not
 * complete within `timeoutMs` of its first fragment is dropped and counted.
 */

export interface ReassemblyOptions {
  maxMessages?: number;
  maxBytes?: number;
  timeoutMs?: number;
}

export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 2_000;

export interface ReassemblyStats {
  /** Messages waiting for fragments now. */
  pending: number;
  pendingBytes: number;
  /** Messages put back together. */
  completed: number;
  /** Messages given up: a fragment did not arrive in time. */
  timedOut: number;
  /** Messages given up to stay within the memory bounds. */
  evicted: number;
  /** Fragments that contradict their message's other fragments (count or flags differ). */
  inconsistent: number;
}

interface Partial {
  readonly count: number;
  readonly flags: number;
  readonly chunks: (Uint8Array | undefined)[];
  have: number;
  bytes: number;
  readonly startedMs: number;
}

export interface Fragment {
  sender: string;
  seq: number;
  index: number;
  count: number;
  flags: number;
  chunk: Uint8Array;
}

export type AddResult = { done: true; payload: Buffer; flags: number } | { done: false; problem: string | null };

export class Reassembler {
  private readonly partial = new Map<string, Partial>();
  private readonly maxMessages: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private bytes = 0;
  private readonly counts = { completed: 0, timedOut: 0, evicted: 0, inconsistent: 0 };

  constructor(o: ReassemblyOptions = {}) {
    this.maxMessages = o.maxMessages ?? 256;
    this.maxBytes = o.maxBytes ?? 16 << 20;
    this.timeoutMs = o.timeoutMs ?? DEFAULT_REASSEMBLY_TIMEOUT_MS;
  }

  /** Adds one fragment; returns the whole payload when it was the last one missing. */
  add(f: Fragment, nowMs: number): AddResult {
    this.expire(nowMs);
    // Fragments of a message carry consecutive sequence numbers: fragment 0's names the message.
    const key = `${f.sender}:${f.seq - f.index}`;
    let p = this.partial.get(key);
    if (p === undefined) {
      while (this.partial.size >= this.maxMessages || (this.partial.size > 0 && this.bytes + f.chunk.length > this.maxBytes)) this.evictOldest();
      p = { count: f.count, flags: f.flags, chunks: new Array<Uint8Array | undefined>(f.count), have: 0, bytes: 0, startedMs: nowMs };
      this.partial.set(key, p);
    } else if (p.count !== f.count || p.flags !== f.flags) {
      this.counts.inconsistent++;
      return { done: false, problem: `fragment ${f.index} says ${f.count} fragments / flags ${f.flags}, its message ${p.count} / ${p.flags}` };
    }
    if (p.chunks[f.index] !== undefined) return { done: false, problem: null }; // the replay window makes this unreachable
    p.chunks[f.index] = f.chunk;
    p.have++;
    p.bytes += f.chunk.length;
    this.bytes += f.chunk.length;
    if (p.have < p.count) return { done: false, problem: null };
    this.partial.delete(key);
    this.bytes -= p.bytes;
    this.counts.completed++;
    return { done: true, payload: Buffer.concat(p.chunks as Uint8Array[], p.bytes), flags: p.flags };
  }

  /** Drops messages older than the timeout; returns how many. */
  expire(nowMs: number): number {
    let n = 0;
    // Map order is insertion order = age order.
    for (const [key, p] of this.partial) {
      if (nowMs - p.startedMs < this.timeoutMs) break;
      this.partial.delete(key);
      this.bytes -= p.bytes;
      n++;
    }
    this.counts.timedOut += n;
    return n;
  }

  stats(): ReassemblyStats {
    return { pending: this.partial.size, pendingBytes: this.bytes, ...this.counts };
  }

  private evictOldest(): void {
    const first = this.partial.entries().next();
    if (first.done === true) return;
    const [key, p] = first.value;
    this.partial.delete(key);
    this.bytes -= p.bytes;
    this.counts.evicted++;
  }
}
