/**
 * The bridge's main-thread side of the compact wire format: sending each event's compact
 * datagrams to the compact destinations, and for received ones the per-sender replay window,
 * fragment reassembly and the counts `peers --json` and /status show. Decoding a reassembled
 * message happens here (large events only; one-datagram messages are decoded in the pool).
 */
import type { CompactEgressBatch } from '../wire/compact/pool-glue.js';
import { messageToCommand, type CompactPacketInfo, type MessageOptions, type MessageOutcome } from '../wire/compact/ingress.js';
import { CompactReceiver, type CompactReceiverStats } from '../wire/compact/receiver.js';
import type { DropReason } from '../wire/types.js';

export type CompactDecision =
  /** A fresh one-datagram message: the pool's result stands. */
  | { kind: 'worker' }
  | { kind: 'drop'; reason: DropReason; detail: string }
  /** A fragment stored for reassembly. */
  | { kind: 'pending' }
  /** A reassembled message, decoded. */
  | { kind: 'message'; outcome: MessageOutcome };

export interface CompactLinkCounters {
  egress: { events: number; datagrams: number; fragmentedEvents: number };
  ingress: { reassembled: number };
}

export class CompactLink {
  readonly receiver = new CompactReceiver();
  readonly counters: CompactLinkCounters = { egress: { events: 0, datagrams: 0, fragmentedEvents: 0 }, ingress: { reassembled: 0 } };

  /** Sends event i's compact datagrams (those from index `k` of the batch on); returns the index after them. */
  sendEvent(batch: CompactEgressBatch, i: number, k: number, send: (datagram: Buffer) => void): number {
    const n = batch.perEvent[i]!;
    if (n === 0) return k;
    this.counters.egress.events++;
    if (n > 1) this.counters.egress.fragmentedEvents++;
    for (let j = 0; j < n; j++, k++) {
      const start = k === 0 ? 0 : batch.ends[k - 1]!;
      send(Buffer.from(batch.buf, start, batch.ends[k]! - start));
      this.counters.egress.datagrams++;
    }
    return k;
  }

  /** One authenticated compact datagram the pool opened; `sender` is the Multicast-Sender the pool decoded, if any. */
  ingress(info: CompactPacketInfo, sender: string | null, nowMs: number, decode: MessageOptions): CompactDecision {
    const r = this.receiver.receive(info, nowMs);
    switch (r.kind) {
      case 'single':
        this.receiver.named(info.sender, sender);
        return { kind: 'worker' };
      case 'replay':
        return { kind: 'drop', reason: 'replay', detail: r.detail };
      case 'inconsistent':
        return { kind: 'drop', reason: 'malformed-header', detail: r.detail };
      case 'pending':
        return { kind: 'pending' };
      case 'complete': {
        this.counters.ingress.reassembled++;
        const outcome = messageToCommand(r.payload, r.flags, decode);
        this.receiver.named(info.sender, outcome.sender);
        return { kind: 'message', outcome };
      }
    }
  }

  expire(nowMs: number): void {
    this.receiver.expire(nowMs);
  }

  /** Loss / reorder / duplicate counts of a peer (summed over its sender instances), or null. */
  peerCounts(): Map<string, { received: number; lost: number; reordered: number; duplicates: number; tooOld: number; instances: number }> {
    return this.receiver.tracker.byName();
  }

  stats(): { counters: CompactLinkCounters; receiver: CompactReceiverStats } {
    return { counters: structuredClone(this.counters), receiver: this.receiver.stats() };
  }
}
