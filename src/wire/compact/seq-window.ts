/**
 * Per-sender sequence state, kept on the main thread (several workers see one sender's
 * datagrams): a sliding-window bitmap as in IPsec / DTLS gives exact replay rejection within
 * the window, and counts of loss, reordering and duplicates per sender. Pure: no clock of its
 * own, no I/O.
 */

export const DEFAULT_WINDOW = 1024;
export const DEFAULT_MAX_SENDERS = 4096;
/** A sender never seen before must have sent within this many seconds of our clock. */
export const DEFAULT_MAX_AGE_SECONDS = 300;

export type SeqVerdict =
  | 'new' // the highest so far (possibly after a gap)
  | 'reordered' // older than the highest, inside the window, not seen before: accepted
  | 'duplicate' // seen before: rejected (a replay, or the network duplicated it)
  | 'too-old' // older than the window reaches: rejected (cannot tell it from a replay)
  | 'stale'; // first datagram of an unknown sender, timestamped too far from now: rejected

export function accepted(v: SeqVerdict): boolean {
  return v === 'new' || v === 'reordered';
}

/** A window of `size` sequence numbers below the highest one seen (size a multiple of 32). */
export class SeqWindow {
  private readonly bits: Uint32Array;
  private highest = -1;

  constructor(readonly size = DEFAULT_WINDOW) {
    if (!Number.isInteger(size) || size < 32 || size % 32 !== 0) throw new RangeError(`window must be a multiple of 32, got ${size}`);
    this.bits = new Uint32Array(size / 32);
  }

  get top(): number {
    return this.highest;
  }

  /** The bitmap (a copy), for saving; with `top` it is the whole state. */
  bitmap(): Uint8Array {
    return new Uint8Array(this.bits.buffer.slice(0));
  }

  /** A window as saved by bitmap() and top; null when the bitmap does not fit this size. */
  static restore(size: number, top: number, bitmap: Uint8Array): SeqWindow | null {
    if (bitmap.length !== size / 8 || !Number.isInteger(top) || top < -1 || top > 0xffffffff) return null;
    const w = new SeqWindow(size);
    new Uint8Array(w.bits.buffer).set(bitmap);
    w.highest = top;
    return w;
  }

  /** Judges `seq` and, when accepted, records it. */
  check(seq: number): SeqVerdict {
    if (seq > this.highest) {
      const gap = seq - this.highest;
      if (this.highest < 0 || gap >= this.size) this.bits.fill(0);
      else for (let s = this.highest + 1; s < seq; s++) this.clear(s);
      this.highest = seq;
      this.set(seq);
      return 'new';
    }
    if (this.highest - seq >= this.size) return 'too-old';
    if (this.has(seq)) return 'duplicate';
    this.set(seq);
    return 'reordered';
  }

  private set(s: number): void {
    const i = s % this.size;
    this.bits[i >>> 5]! |= 1 << (i & 31);
  }
  private clear(s: number): void {
    const i = s % this.size;
    this.bits[i >>> 5]! &= ~(1 << (i & 31));
  }
  private has(s: number): boolean {
    const i = s % this.size;
    return (this.bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
}

export interface SenderStats {
  /** Sender instance id (16 hex digits). */
  sender: string;
  /** Multicast-Sender of its events, once one was decoded. */
  name: string | null;
  /** Datagrams accepted. */
  received: number;
  /** Sequence numbers never received between the first and the highest seen (late ones arriving later reduce it). */
  lost: number;
  reordered: number;
  duplicates: number;
  tooOld: number;
  highestSeq: number;
  lastSeenMs: number;
}

interface SenderState {
  readonly window: SeqWindow;
  name: string | null;
  lowest: number;
  received: number;
  reordered: number;
  duplicates: number;
  tooOld: number;
  lastSeenMs: number;
  /** Latest send time (its clock, unix seconds) of an accepted datagram. */
  latestTime: number;
}

/** What a sender instance's replay protection needs across a restart (see replay-state.ts). */
export interface SenderSnapshot {
  sender: string;
  name: string | null;
  top: number;
  /** The window's bitmap. */
  bits: Uint8Array;
  lastSeenMs: number;
  latestTime: number;
}

export interface SenderTrackerOptions {
  window?: number;
  maxSenders?: number;
  maxAgeSeconds?: number;
}

/** Every sender instance's window and counts; bounded (the least recently seen is forgotten). */
export class SenderTracker {
  private readonly senders = new Map<string, SenderState>();
  private readonly windowSize: number;
  private readonly maxSenders: number;
  private readonly maxAgeSeconds: number;
  /** Datagrams of unknown senders rejected as too old by their timestamp. */
  stale = 0;
  /** Senders forgotten to stay within maxSenders. */
  evicted = 0;

  constructor(o: SenderTrackerOptions = {}) {
    this.windowSize = o.window ?? DEFAULT_WINDOW;
    this.maxSenders = o.maxSenders ?? DEFAULT_MAX_SENDERS;
    this.maxAgeSeconds = o.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  }

  /**
   * Judges and records one authenticated datagram. An unknown sender is only admitted with a
   * timestamp within maxAge of `nowMs`: after its state was forgotten (or we restarted), old
   * captures of it cannot be replayed.
   */
  accept(sender: string, seq: number, timeSeconds: number, nowMs: number): SeqVerdict {
    let s = this.senders.get(sender);
    if (s === undefined) {
      if (Math.abs(nowMs / 1000 - timeSeconds) > this.maxAgeSeconds) {
        this.stale++;
        return 'stale';
      }
      if (this.senders.size >= this.maxSenders) this.evictOldest();
      s = { window: new SeqWindow(this.windowSize), name: null, lowest: seq, received: 0, reordered: 0, duplicates: 0, tooOld: 0, lastSeenMs: nowMs, latestTime: timeSeconds };
      this.senders.set(sender, s);
    }
    const v = s.window.check(seq);
    if (v === 'new' || v === 'reordered') {
      s.received++;
      s.lastSeenMs = nowMs;
      if (timeSeconds > s.latestTime) s.latestTime = timeSeconds;
      if (seq < s.lowest) s.lowest = seq;
      if (v === 'reordered') s.reordered++;
    } else if (v === 'duplicate') s.duplicates++;
    else if (v === 'too-old') s.tooOld++;
    return v;
  }

  /** Names the sender instance after the Multicast-Sender of its events. */
  setName(sender: string, name: string | null): void {
    const s = this.senders.get(sender);
    if (s !== undefined && name !== null && s.name !== name) s.name = name;
  }

  nameOf(sender: string): string | null {
    return this.senders.get(sender)?.name ?? null;
  }

  list(): SenderStats[] {
    return [...this.senders].map(([sender, s]) => ({
      sender,
      name: s.name,
      received: s.received,
      lost: Math.max(0, s.window.top - s.lowest + 1 - s.received),
      reordered: s.reordered,
      duplicates: s.duplicates,
      tooOld: s.tooOld,
      highestSeq: s.window.top,
      lastSeenMs: s.lastSeenMs,
    }));
  }

  /** The counts summed per peer name (a peer has one sender instance per worker and restart). */
  byName(): Map<string, { received: number; lost: number; reordered: number; duplicates: number; tooOld: number; instances: number }> {
    const out = new Map<string, { received: number; lost: number; reordered: number; duplicates: number; tooOld: number; instances: number }>();
    for (const s of this.list()) {
      if (s.name === null) continue;
      const a = out.get(s.name) ?? { received: 0, lost: 0, reordered: 0, duplicates: 0, tooOld: 0, instances: 0 };
      a.received += s.received;
      a.lost += s.lost;
      a.reordered += s.reordered;
      a.duplicates += s.duplicates;
      a.tooOld += s.tooOld;
      a.instances++;
      out.set(s.name, a);
    }
    return out;
  }

  /**
   * The sender instances worth remembering across a restart: those whose datagrams could still
   * pass the freshness check of an unknown sender (maxAgeSeconds either side of now) if this
   * receiver forgot them. Older ones need no memory: their captures are refused as stale anyway.
   * The margin counts the sender's clock as well as ours (a sender ahead of us stays longer).
   */
  snapshot(nowMs: number): SenderSnapshot[] {
    const out: SenderSnapshot[] = [];
    const horizonMs = 2 * this.maxAgeSeconds * 1000;
    for (const [sender, s] of this.senders) {
      if (nowMs - Math.max(s.lastSeenMs, s.latestTime * 1000) > horizonMs) continue;
      out.push({ sender, name: s.name, top: s.window.top, bits: s.window.bitmap(), lastSeenMs: s.lastSeenMs, latestTime: s.latestTime });
    }
    return out;
  }

  /** Takes over saved sender windows (before any datagram of this run); returns how many were taken. */
  restore(saved: readonly SenderSnapshot[]): number {
    let taken = 0;
    for (const x of saved) {
      if (this.senders.has(x.sender)) continue;
      const window = SeqWindow.restore(this.windowSize, x.top, x.bits);
      if (window === null) continue;
      if (this.senders.size >= this.maxSenders) this.evictOldest();
      // Counts start again; `lowest` past the top so nothing counts as lost from before the restart.
      this.senders.set(x.sender, { window, name: x.name, lowest: x.top + 1, received: 0, reordered: 0, duplicates: 0, tooOld: 0, lastSeenMs: x.lastSeenMs, latestTime: x.latestTime });
      taken++;
    }
    return taken;
  }

  private evictOldest(): void {
    let oldestKey: string | null = null;
    let oldest = Infinity;
    for (const [k, s] of this.senders) {
      if (s.lastSeenMs < oldest) {
        oldest = s.lastSeenMs;
        oldestKey = k;
      }
    }
    if (oldestKey !== null) {
      this.senders.delete(oldestKey);
      this.evicted++;
    }
  }
}
