/**
 * "Failed to find start of magic string": the C module's words for a packet it cannot read,
 * almost always two boxes that do not share a PSK (another key, or one with a key and one
 * without). The drops are counted by reason anyway; this says, once per peer address, which
 * peer it is and what to do, in the guide's words and ours. Never the key.
 *
 * Bounded: at most `maxAddresses` addresses are tracked (the least recently seen is forgotten,
 * counted); each is logged when first seen and again at most every `repeatAfterMs`; and at most
 * `maxNewPerMinute` first-time lines a minute are written, the rest counted (a spoofed flood
 * of source addresses cannot flood the log). Pure: the caller gives the time and does the
 * logging.
 */
import type { DropReason } from '../wire/types.js';

export type MismatchKind = 'wrong-psk' | 'plain-at-psk-bridge' | 'encrypted-at-plain-bridge';

/** Which drops mean "the peer and this bridge do not share a PSK". */
export function mismatchKindOf(reason: DropReason, pskMode: boolean): MismatchKind | null {
  if (pskMode) {
    if (reason === 'undecryptable' || reason === 'missing-magic' || reason === 'truncated-magic') return 'wrong-psk';
    if (reason === 'plain-packet-psk-expected') return 'plain-at-psk-bridge';
    return null;
  }
  return reason === 'encrypted-packet-no-psk' ? 'encrypted-at-plain-bridge' : null;
}

const GUIDE = '("Failed to find start of magic string" in the C module)';

export function mismatchMessage(address: string, kind: MismatchKind): string {
  switch (kind) {
    case 'wrong-psk':
      return `packets from ${address} cannot be decrypted with this PSK ${GUIDE}: the peer uses another PSK; give both the same psk`;
    case 'plain-at-psk-bridge':
      return `packets from ${address} are not encrypted, but this bridge has a psk ${GUIDE}: the peer has no psk; give both the same psk, or neither one`;
    case 'encrypted-at-plain-bridge':
      return `packets from ${address} are PSK-encrypted, but this bridge has no psk ${GUIDE}: set the peer's psk here too, or remove it there`;
  }
}

export interface MismatchEntry {
  address: string;
  kind: MismatchKind;
  /** Packets dropped for this reason from this address. */
  count: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

interface Tracked extends MismatchEntry {
  lastLoggedMs: number;
  countAtLastLog: number;
}

export interface MismatchLine {
  message: string;
  fields: { peer: string; kind: MismatchKind; reason: DropReason; packets: number; newSinceLastLine: number };
}

export interface MismatchOptions {
  maxAddresses?: number;
  repeatAfterMs?: number;
  maxNewPerMinute?: number;
}

export class PskMismatchReport {
  private readonly tracked = new Map<string, Tracked>();
  private readonly maxAddresses: number;
  private readonly repeatAfterMs: number;
  private readonly maxNewPerMinute: number;
  private minuteStart = 0;
  private newLinesThisMinute = 0;
  /** Addresses forgotten to stay within maxAddresses. */
  evicted = 0;
  /** Packets whose address's first line was held back by the per-minute limit (logged later, when the budget allows). */
  suppressed = 0;

  constructor(o: MismatchOptions = {}) {
    this.maxAddresses = o.maxAddresses ?? 1024;
    this.repeatAfterMs = o.repeatAfterMs ?? 10 * 60_000;
    this.maxNewPerMinute = o.maxNewPerMinute ?? 10;
  }

  /** One dropped packet from `address`; returns the line to log now, or null. */
  note(address: string, kind: MismatchKind, reason: DropReason, nowMs: number): MismatchLine | null {
    const key = `${kind} ${address}`;
    let t = this.tracked.get(key);
    if (t !== undefined) {
      t.count++;
      t.lastSeenMs = nowMs;
      // Most recently seen last: the first in the map is the one to forget.
      this.tracked.delete(key);
      this.tracked.set(key, t);
      if (t.lastLoggedMs === -Infinity) return this.firstLine(t, reason, nowMs); // held back by the per-minute limit so far
      if (nowMs - t.lastLoggedMs < this.repeatAfterMs) return null;
      return this.line(t, reason, nowMs);
    }
    if (this.tracked.size >= this.maxAddresses) {
      const oldest = this.tracked.keys().next().value as string;
      this.tracked.delete(oldest);
      this.evicted++;
    }
    t = { address, kind, count: 1, firstSeenMs: nowMs, lastSeenMs: nowMs, lastLoggedMs: -Infinity, countAtLastLog: 0 };
    this.tracked.set(key, t);
    return this.firstLine(t, reason, nowMs);
  }

  /** The first line about an address, within the per-minute budget of first lines. */
  private firstLine(t: Tracked, reason: DropReason, nowMs: number): MismatchLine | null {
    if (nowMs - this.minuteStart >= 60_000) {
      this.minuteStart = nowMs;
      this.newLinesThisMinute = 0;
    }
    if (this.newLinesThisMinute >= this.maxNewPerMinute) {
      this.suppressed++;
      return null;
    }
    this.newLinesThisMinute++;
    return this.line(t, reason, nowMs);
  }

  /** The addresses tracked now, the most recently seen first (at most `limit`). */
  list(limit = 32): MismatchEntry[] {
    const all = [...this.tracked.values()].slice(-limit).reverse();
    return all.map(({ address, kind, count, firstSeenMs, lastSeenMs }) => ({ address, kind, count, firstSeenMs, lastSeenMs }));
  }

  stats(): { addresses: number; evicted: number; suppressedLines: number; recent: MismatchEntry[] } {
    return { addresses: this.tracked.size, evicted: this.evicted, suppressedLines: this.suppressed, recent: this.list() };
  }

  private line(t: Tracked, reason: DropReason, nowMs: number): MismatchLine {
    const fresh = t.count - t.countAtLastLog;
    t.lastLoggedMs = nowMs;
    t.countAtLastLog = t.count;
    return { message: mismatchMessage(t.address, t.kind), fields: { peer: t.address, kind: t.kind, reason, packets: t.count, newSinceLastLine: fresh } };
  }
}
