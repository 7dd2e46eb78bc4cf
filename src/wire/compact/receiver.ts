/**
 * The main thread's part of compact ingress: every authenticated datagram a worker opened goes
 * through the sender's replay window, and fragments through reassembly. Pure (the caller gives
 * the time), so the bridge and the tests drive it the same way.
 */
import type { CompactPacketInfo } from './ingress.js';
import { Reassembler, type ReassemblyOptions, type ReassemblyStats } from './reassembly.js';
import { SenderTracker, type SenderStats, type SenderTrackerOptions } from './seq-window.js';

export type ReceiveOutcome =
  /** A one-datagram message, fresh: the worker's result stands. */
  | { kind: 'single' }
  /** Rejected by the replay window (duplicate, too old, or a stale unknown sender). */
  | { kind: 'replay'; detail: string }
  /** A fragment, stored; its message is not complete yet. */
  | { kind: 'pending' }
  /** A fragment that contradicts its message. */
  | { kind: 'inconsistent'; detail: string }
  /** The last missing fragment: the whole message payload, to be decoded (messageToCommand). */
  | { kind: 'complete'; payload: Buffer; flags: number };

export interface CompactReceiverStats {
  /** Authenticated datagrams that passed the replay window. */
  accepted: number;
  replays: { duplicate: number; tooOld: number; stale: number };
  fragments: number;
  reassembly: ReassemblyStats;
  sendersEvicted: number;
  senders: SenderStats[];
}

export class CompactReceiver {
  readonly tracker: SenderTracker;
  readonly reassembler: Reassembler;
  private accepted = 0;
  private fragments = 0;
  private readonly replays = { duplicate: 0, tooOld: 0, stale: 0 };

  constructor(o: { senders?: SenderTrackerOptions; reassembly?: ReassemblyOptions } = {}) {
    this.tracker = new SenderTracker(o.senders);
    this.reassembler = new Reassembler(o.reassembly);
  }

  receive(info: CompactPacketInfo, nowMs: number): ReceiveOutcome {
    const v = this.tracker.accept(info.sender, info.seq, info.time, nowMs);
    if (v === 'duplicate' || v === 'too-old' || v === 'stale') {
      if (v === 'duplicate') this.replays.duplicate++;
      else if (v === 'too-old') this.replays.tooOld++;
      else this.replays.stale++;
      const why = v === 'stale' ? `sent at ${info.time}, too far from our clock for a sender not seen before` : v;
      return { kind: 'replay', detail: `compact: sender ${info.sender} seq ${info.seq}: ${why}` };
    }
    this.accepted++;
    if (info.count === 1 || info.chunk === null) return { kind: 'single' };
    this.fragments++;
    const r = this.reassembler.add({ sender: info.sender, seq: info.seq, index: info.index, count: info.count, flags: info.flags, chunk: info.chunk }, nowMs);
    if (r.done) return { kind: 'complete', payload: r.payload, flags: r.flags };
    return r.problem === null ? { kind: 'pending' } : { kind: 'inconsistent', detail: `compact: sender ${info.sender}: ${r.problem}` };
  }

  /** Names a sender instance after the Multicast-Sender of an event it sent. */
  named(sender: string, name: string | null): void {
    this.tracker.setName(sender, name);
  }

  /** Gives up on messages whose fragments did not all come in time (also done on every fragment). */
  expire(nowMs: number): number {
    return this.reassembler.expire(nowMs);
  }

  stats(): CompactReceiverStats {
    return {
      accepted: this.accepted,
      replays: { ...this.replays },
      fragments: this.fragments,
      reassembly: this.reassembler.stats(),
      sendersEvicted: this.tracker.evicted,
      senders: this.tracker.list(),
    };
  }
}
