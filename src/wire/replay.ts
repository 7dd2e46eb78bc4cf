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
 * Events without a timestamp, and events from the future (clock skew), are not stale.
 */
export function isStale(timestampUs: number | null, nowMs: number, maxAgeMs: number): boolean {
  return maxAgeMs > 0 && timestampUs !== null && nowMs - timestampUs / 1000 > maxAgeMs;
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
