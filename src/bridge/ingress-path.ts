/**
 * Ingress: peers' datagrams (UDP or NATS) come back from the pool decoded and rewritten as
 * sendevent commands; the main thread checks PSK replays (here, so a repeat is caught whichever
 * worker decoded it), reassembles compact fragments' bookkeeping (compact-link.ts), fires what
 * is delivered into FreeSWITCH, counts every drop by reason, and passes HEARTBEATs to the peer
 * watch and registrations to the location directory.
 */
import { bindingAllows } from '../config/bindings.js';
import type { LocationService } from '../location/location-service.js';
import { batchItem } from '../pool/batch.js';
import type { QueuedSamples } from '../pool/codec-pool.js';
import { DELIVERED, type IngressResult } from '../pool/tasks.js';
import type { PeerWatch } from '../peers/peer-watch.js';
import type { CompactPacketInfo, MessageOptions } from '../wire/compact/ingress.js';
import { DROP_REASONS, type DropReason } from '../wire/types.js';
import type { SendTag } from '../esl/injector.js';
import { fanOutRelay } from './fan-out.js';
import { ingressTag, sendTagOf } from './ingress-tag.js';
import { destinationsOf, type LiveParts } from './live-parts.js';
import { mismatchKindOf, PskMismatchReport } from './psk-mismatch.js';

export interface IngressPathOptions {
  location: LocationService;
  peers: PeerWatch;
}

export class IngressPath {
  /** Peers whose packets this bridge cannot read for want of the same PSK, by address (logged once each). */
  readonly pskMismatch = new PskMismatchReport();
  /** How a reassembled compact message is decoded: getters, so it follows reloads and the learned switch name. */
  private readonly compactDecode: MessageOptions;

  constructor(
    private readonly p: LiveParts,
    private readonly o: IngressPathOptions,
  ) {
    this.compactDecode = {
      get ownName() {
        return p.switchname();
      },
      allows: (name, subclass) => bindingAllows(p.config.ingressBindings, name, subclass),
      get limits() {
        return { maxHeaders: p.config.maxHeaders, maxHeaderBytes: p.config.maxHeaderBytes };
      },
      get lean() {
        return p.config.leanSendevent;
      },
      get age() {
        const c = p.config;
        return { maxAgeMs: c.maxEventAgeSeconds * 1000, maxSkewMs: c.maxClockSkewSeconds * 1000, undated: c.undatedEvents };
      },
      get nowMs() {
        return p.now();
      },
      get location() {
        return p.config.location.enabled;
      },
    };
  }

  /** A datagram received (UDP or NATS): counted and queued for the pool. */
  receive(datagram: Buffer, origin: number | undefined, from?: string): void {
    this.p.counters.ingress.datagrams++;
    this.p.pool.ingress(datagram, origin, from);
  }

  /** A pool's ingress result, in order; `sources`: per datagram, the address it came from. */
  onResult(r: IngressResult, sources: readonly (string | undefined)[] = [], samples: QueuedSamples = null): void {
    const g = this.p.counters.ingress;
    const now = this.p.now();
    const replay = this.p.replay;
    if (r.relay !== undefined) fanOutRelay(r, destinationsOf(this.p));
    let s = 0; // the next latency sample: [offset, queued at] pairs, in offset order
    const replayed = r.registrations !== undefined ? new Set<number>() : null; // location: replays are not registrations
    for (let i = 0; i < r.ends.length; i++) {
      while (samples !== null && s < samples.length && samples[s]! < i) s += 2;
      const queuedAt = samples !== null && samples[s] === i ? samples[s + 1] : undefined;
      const sender = r.senders[i] ?? null;
      const info = r.compact?.[i] ?? null;
      if (info !== null && this.onCompact(info, sender, now)) {
        replayed?.add(i); // settled by the compact window: a one-datagram replay is no registration either
        continue;
      }
      const key = r.replayKeys?.[i] ?? null;
      if (key !== null && replay !== null && replay.seen(key, now)) {
        g.dropped.replay++;
        replayed?.add(i);
        continue;
      }
      if (r.drop[i] === DELIVERED) this.fire(r.orderKeys?.[i] ?? sender ?? '', batchItem(r, i), queuedAt, ingressTag(r, i));
      else {
        const reason = DROP_REASONS[r.drop[i]!]!;
        g.dropped[reason]++;
        const from = sources[i];
        if (from !== undefined) this.notePskMismatch(from, reason, now);
      }
      if (r.heartbeat[i] === 1 && sender !== null) this.o.peers.sighted(sender, now);
    }
    if (r.registrations !== undefined) this.o.location.remote(r.registrations, replayed);
    if (r.details.length > 0) this.p.warn('ingress-drop', { examples: r.details }, 'dropped received packets');
  }

  /**
   * Fires a sendevent command; `queuedAt`, for a sampled datagram: when it was received (latency
   * to FreeSWITCH's reply); `tag`: how it may wait under overload (ingress-tag.ts).
   */
  fire(orderKey: string, command: Buffer, queuedAt?: number, tag?: SendTag): void {
    this.p.injector.send(orderKey, command, queuedAt, tag);
    this.p.counters.ingress.fired++;
  }

  /** A compact datagram's replay window and reassembly (compact-link.ts); true when that settled the item. */
  private onCompact(info: CompactPacketInfo, sender: string | null, now: number): boolean {
    const d = this.p.compact.ingress(info, sender, now, this.compactDecode);
    if (d.kind === 'worker') return false;
    if (d.kind === 'pending') return true;
    const g = this.p.counters.ingress;
    if (d.kind === 'drop') {
      g.dropped[d.reason]++;
      this.p.warn('compact-drop', { examples: [d.detail] }, 'dropped received compact packets');
      return true;
    }
    const m = d.outcome;
    if (m.registration !== undefined) this.o.location.remote([m.registration], null);
    if (m.ok) this.fire(m.orderKey ?? m.sender ?? '', m.command, undefined, sendTagOf(m.heartbeat, m.supersede));
    else g.dropped[m.reason]++;
    if (m.heartbeat && m.sender !== null) this.o.peers.sighted(m.sender, now);
    return true;
  }

  /** A drop that means "this peer and this bridge do not share a PSK": said once per peer address. */
  private notePskMismatch(from: string, reason: DropReason, now: number): void {
    const kind = mismatchKindOf(reason, this.p.config.psk !== null);
    if (kind === null) return;
    const line = this.pskMismatch.note(from, kind, reason, now);
    if (line !== null) this.p.logger.warn(line.fields, line.message);
  }
}
