/**
 * Counting what arrives in switch B: an event-socket listener subscribed to
 * `CUSTOM multicast::event` (what both the C module and a bridge fire for a replicated event)
 * keeps, per trial, which of the trial's events arrived and when. Events of other runs or of
 * earlier trials (a backlog still draining) are counted apart, never as this trial's.
 */
import { benchTag } from './event-shapes.js';

export class ArrivalCounter {
  private base = 0;
  private sentAt = new Float64Array(0);
  private arrivedAt = new Float64Array(0);
  arrived = 0;
  duplicates = 0;
  /** Events of this run that belong to no open trial (late arrivals of an earlier one). */
  stale = 0;
  /** performance.now() of the last arrival of anything of this run. */
  lastArrivalMs = 0;

  constructor(private readonly run: string) {}

  /** Starts a trial of events base .. base+count-1. */
  open(base: number, count: number): void {
    this.base = base;
    this.sentAt = new Float64Array(count);
    this.arrivedAt = new Float64Array(count);
    this.arrived = 0;
    this.duplicates = 0;
    this.stale = 0;
  }

  markSent(seq: number): void {
    const i = seq - this.base;
    if (i >= 0 && i < this.sentAt.length) this.sentAt[i] = performance.now();
  }

  /** The raw text of one event from B's listener. */
  onEvent(text: Buffer, nowMs = performance.now()): void {
    const seq = benchTag(text, this.run);
    if (seq === null) return;
    this.lastArrivalMs = nowMs;
    const i = seq - this.base;
    if (i < 0 || i >= this.arrivedAt.length || this.sentAt[i] === 0) {
      this.stale++;
      return;
    }
    if (this.arrivedAt[i] !== 0) {
      this.duplicates++;
      return;
    }
    this.arrivedAt[i] = nowMs;
    this.arrived++;
  }

  /** Latencies (ms) of the events that arrived, sorted. */
  latencies(): Float64Array {
    const out = new Float64Array(this.arrived);
    let k = 0;
    for (let i = 0; i < this.arrivedAt.length; i++) if (this.arrivedAt[i] !== 0) out[k++] = this.arrivedAt[i]! - this.sentAt[i]!;
    return out.sort();
  }
}

/** The p-th percentile (0..100) of sorted values, nearest rank; null when empty. */
export function percentile(sorted: Float64Array, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
