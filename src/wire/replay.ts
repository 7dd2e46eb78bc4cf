/**
 * Replay protection for PSK packets that keeps the wire as it is (the C module has none).
 *
 * What identifies a packet: every PSK datagram is `UUID text + zeros + Blowfish-CBC(text + MAGIC)`
 * with a fresh random UUID, but only the UUID's first 8 characters are the IV: the other 28 and
 * the 220 zero bytes can be changed by anyone without changing what the packet decrypts to, so a
 * replay keyed on the UUID alone is bypassed by editing one character. The key used here is the
 * LAST 16 CIPHERTEXT BYTES instead. They are bound to the packet by the checks every packet
 * passes: the plaintext must end with the 21-byte MAGIC plus 1..8 padding bytes, i.e. the last
 * two blocks are MAGIC/padding only, so changing either of them (or appending, removing blocks at
 * the end) fails the padding or MAGIC check. Changing the IV or earlier blocks leaves the key
 * as it was. So every variant of a captured packet that still decodes has the same key, and two
 * honest packets share it only if they have the same IV and the same plaintext: a true duplicate.
 *
 * Memory: two generations of keys (a time-bucketed set). A key stays at least `windowMs`; a
 * generation is dropped after two windows. Only packets that decoded with the PSK are
 * remembered (a flood of forged packets cannot fill it); when honest traffic fills the bound,
 * the generation turns early (counted: the window is shorter than asked for that long).
 */
import { PSK_PREFIX_BYTES } from './magic.js';

export const REPLAY_KEY_BYTES = 16;

/** The key a PSK datagram is remembered by (latin1 text of its last 16 bytes), or null if it has none. */
export function replayKeyOf(datagram: Uint8Array): string | null {
  if (datagram.length < PSK_PREFIX_BYTES + REPLAY_KEY_BYTES) return null;
  return Buffer.from(datagram.buffer, datagram.byteOffset + datagram.length - REPLAY_KEY_BYTES, REPLAY_KEY_BYTES).toString('latin1');
}

/**
 * An event older than `maxAgeMs` by its Event-Date-Timestamp (µs since the epoch); 0 = no limit.
 * Only the age: eventAgeVerdict also judges future and missing timestamps.
 */
export function isStale(timestampUs: number | null, nowMs: number, maxAgeMs: number): boolean {
  return maxAgeMs > 0 && timestampUs !== null && nowMs - timestampUs / 1000 > maxAgeMs;
}

/** max-event-age and its companions (params max-clock-skew, max-event-age-undated). */
export interface AgeLimit {
  /** 0 = no age check at all (then nothing below applies either). */
  maxAgeMs: number;
  /** How far ahead of our clock a timestamp may be (the senders' clocks are never exactly ours). */
  maxSkewMs: number;
  /** An event without a (numeric) Event-Date-Timestamp: dropped, or let through. */
  undated: 'drop' | 'accept';
}

export type AgeVerdict = 'ok' | 'stale' | 'future' | 'undated';

/**
 * What max-event-age makes of an event's Event-Date-Timestamp. A stamp far in the future would
 * pass the age check for ever (a packet captured with it could be replayed until then), so one
 * more than maxSkewMs ahead is refused. FreeSWITCH stamps every event, so one without a stamp
 * was made by hand: refused unless `undated` is 'accept'.
 */
export function eventAgeVerdict(timestampUs: number | null, nowMs: number, limit: AgeLimit): AgeVerdict {
  if (limit.maxAgeMs <= 0) return 'ok';
  if (timestampUs === null) return limit.undated === 'accept' ? 'ok' : 'undated';
  const ageMs = nowMs - timestampUs / 1000;
  if (ageMs > limit.maxAgeMs) return 'stale';
  if (-ageMs > limit.maxSkewMs) return 'future';
  return 'ok';
}

/** The drop reason and a detail line for a refused verdict. */
export function ageDrop(v: Exclude<AgeVerdict, 'ok'>, limit: AgeLimit): { reason: 'replay' | 'future-dated' | 'no-timestamp'; detail: string } {
  switch (v) {
    case 'stale':
      return { reason: 'replay', detail: `Event-Date-Timestamp older than ${limit.maxAgeMs / 1000} s` };
    case 'future':
      return { reason: 'future-dated', detail: `Event-Date-Timestamp more than ${limit.maxSkewMs / 1000} s ahead of this clock (max-clock-skew)` };
    case 'undated':
      return { reason: 'no-timestamp', detail: 'no Event-Date-Timestamp while max-event-age is set (max-event-age-undated drop)' };
  }
}

export interface ReplayGuardOptions {
  /** How long a key is remembered at least, ms (> 0). */
  windowMs: number;
  /** Most keys held (both generations); default 1 000 000 (about 70 MB at worst). */
  maxKeys?: number;
}

export interface ReplayGuardStats {
  checked: number;
  replays: number;
  /** Keys held now. */
  keys: number;
  /** Generations turned because they were full before their time (the window was shortened). */
  earlyTurns: number;
}

export const DEFAULT_REPLAY_MAX_KEYS = 1_000_000;

export interface ReplayGuardSnapshot {
  windowMs: number;
  turnedAtMs: number | null;
  /** Keys (16 latin1 characters each) of the newer and the older generation. */
  current: string[];
  previous: string[];
}

export class ReplayGuard {
  readonly windowMs: number;
  readonly maxKeys: number;
  private current = new Set<string>();
  private previous = new Set<string>();
  private turnedAt: number | null = null;
  private checked = 0;
  private replays = 0;
  private earlyTurns = 0;

  constructor(options: ReplayGuardOptions) {
    const { windowMs, maxKeys = DEFAULT_REPLAY_MAX_KEYS } = options;
    if (!(Number.isFinite(windowMs) && windowMs > 0)) throw new RangeError(`ReplayGuard: windowMs must be > 0, got ${String(windowMs)}`);
    if (!(Number.isInteger(maxKeys) && maxKeys >= 2)) throw new RangeError(`ReplayGuard: maxKeys must be an integer >= 2, got ${String(maxKeys)}`);
    this.windowMs = windowMs;
    this.maxKeys = maxKeys;
  }

  /** True when `key` was seen within the window (a replay: drop it); otherwise remembers it and returns false. */
  seen(key: string, nowMs: number): boolean {
    this.checked++;
    this.turn(nowMs);
    if (this.current.has(key) || this.previous.has(key)) {
      this.replays++;
      return true;
    }
    if (this.current.size >= this.maxKeys >> 1) {
      this.earlyTurns++;
      this.previous = this.current;
      this.current = new Set();
      this.turnedAt = nowMs;
    }
    this.current.add(key);
    return false;
  }

  stats(): ReplayGuardStats {
    return { checked: this.checked, replays: this.replays, keys: this.current.size + this.previous.size, earlyTurns: this.earlyTurns };
  }

  /** Everything needed to go on after a restart (see replay-state.ts): the keys of both generations and when they turned. */
  snapshot(): ReplayGuardSnapshot {
    return { windowMs: this.windowMs, turnedAtMs: this.turnedAt, current: [...this.current], previous: [...this.previous] };
  }

  /**
   * Takes over a snapshot saved by an earlier run (before any packet of this one): the keys stay
   * remembered as long as they would have been without the restart; generations already past
   * are dropped by the next check. At most maxKeys are taken (the newest generation first).
   */
  restore(s: ReplayGuardSnapshot, nowMs: number): number {
    this.turnedAt = s.turnedAtMs ?? nowMs;
    const half = this.maxKeys >> 1;
    this.current = new Set(s.current.slice(0, half));
    this.previous = new Set(s.previous.slice(0, half));
    // The saved window may differ from ours (a changed replay-window): the keys are kept either way.
    this.turn(nowMs);
    return this.current.size + this.previous.size;
  }

  private turn(now: number): void {
    if (this.turnedAt === null) {
      this.turnedAt = now;
      return;
    }
    const age = now - this.turnedAt;
    if (age < this.windowMs) return;
    // Every key of `current` was added less than one window after turnedAt (else it would have
    // turned then), so after two windows nothing held is still inside the window.
    this.previous = age >= 2 * this.windowMs ? new Set() : this.current;
    this.current = new Set();
    this.turnedAt = now;
  }
}
