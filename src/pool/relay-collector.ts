/**
 * Hub relay (nats-relay = on): a bridge with both transports republishes what one transport
 * brought to the other, unchanged (same bytes, same PSK framing), so a site's multicast group
 * and a NATS cluster see each other's events. No loops:
 *   1. never back into the transport it came from (UDP in -> NATS out, NATS in -> UDP out);
 *   2. only packets that decode (right PSK, valid framing) and are not our own: a packet whose
 *      Multicast-Sender is our own name is never relayed (the pool drops it as own-packet);
 *   3. a packet (by digest of its bytes) is relayed at most once per window: if it comes back
 *      through another hub, or arrives on both transports, it is not relayed again. Every
 *      packet's bytes are unique (PSK: fresh IV and UUID; plain: the event's microsecond
 *      timestamp), so this never suppresses a genuine new event.
 * Datagrams replayed from the JetStream state stream on start are not relayed (old news).
 *
 * The decision needs the decoded sender, so it is made in the pool worker (RelayCollector:
 * it copies the relayable datagrams out of the ingress batch, with their origin, state flag
 * and digest); the main thread only checks the digest window and sends (RelayWindow).
 */
import { createHash } from 'node:crypto';
import { bindingAllows, type Bindings } from '../config/bindings.js';
import { ORIGIN_NONE } from '../wire/origin.js';

/** The relayable datagrams of one ingress batch, packed like every batch. */
export interface RelayBatch {
  buf: ArrayBuffer;
  ends: Uint32Array;
  /** Per relayed item: ORIGIN_UDP or ORIGIN_NATS (where it came from). */
  origins: Uint8Array;
  /** Per relayed item: 1 when it is a state event (goes to the state subject on NATS). */
  state: Uint8Array;
  /** Per relayed item: digest of its bytes (base64), for the once-per-window rule. */
  digests: string[];
}

/** Worker side: collects relayable items of one ingress batch. */
export class RelayCollector {
  private readonly picked: { item: Uint8Array; origin: number; state: number; digest: string }[] = [];

  constructor(
    private readonly origins: Uint8Array,
    private readonly stateBindings: Bindings | null,
  ) {}

  /**
   * Item i decoded with this sender/event and this final drop reason (null = delivered).
   * Relayable: decoded, not our own, not a replay; 'filtered' only says what is fired locally.
   */
  consider(i: number, item: Uint8Array, reason: string | null, eventName: string | null, subclass: string | null): void {
    const origin = this.origins[i] ?? ORIGIN_NONE;
    if (origin === ORIGIN_NONE) return;
    if (reason !== null && reason !== 'filtered') return;
    const state = this.stateBindings !== null && eventName !== null && bindingAllows(this.stateBindings, eventName, subclass) ? 1 : 0;
    const digest = createHash('sha1').update(item).digest('base64');
    this.picked.push({ item, origin, state, digest });
  }

  finish(): RelayBatch | null {
    if (this.picked.length === 0) return null;
    let total = 0;
    for (const p of this.picked) total += p.item.length;
    const buf = new ArrayBuffer(total);
    const bytes = new Uint8Array(buf);
    const n = this.picked.length;
    const ends = new Uint32Array(n);
    const origins = new Uint8Array(n);
    const state = new Uint8Array(n);
    const digests: string[] = new Array<string>(n);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const p = this.picked[i]!;
      bytes.set(p.item, o);
      o += p.item.length;
      ends[i] = o;
      origins[i] = p.origin;
      state[i] = p.state;
      digests[i] = p.digest;
    }
    return { buf, ends, origins, state, digests };
  }
}

/** Whether an event is a state event (registrations, presence), for the egress side. */
export function isStateEvent(stateBindings: Bindings | null, eventName: string, subclass: string | null): boolean {
  return stateBindings !== null && bindingAllows(stateBindings, eventName, subclass);
}

