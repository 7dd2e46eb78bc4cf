/**
 * Which destination gets which datagram, decided in one place. An egress event has a legacy
 * datagram (the C module's format), compact datagrams (when some destination takes the compact
 * format), or both: UDP destinations get the format they are configured for, NATS gets the
 * compact ones when they exist, else the legacy one. Hub relay republishes a received datagram on
 * the transport it did not come from, to the UDP destinations of its own format only, so compact
 * bytes never reach a C module.
 */
import { batchItem } from '../pool/batch.js';
import { EGRESS_SENT, type EgressResult, type IngressResult } from '../pool/tasks.js';
import type { UdpTransport } from '../transport/udp/udp-transport.js';
import type { NatsLink } from '../transport/nats/link.js';
import { isCompactDatagram } from '../wire/compact/format.js';
import { ORIGIN_NATS, ORIGIN_UDP } from '../wire/origin.js';
import type { CompactLink } from './compact-link.js';

export interface Destinations {
  udp: Pick<UdpTransport, 'send'> | null;
  nats: Pick<NatsLink, 'publish' | 'admitRelay' | 'countRelay'> | null;
  compact: Pick<CompactLink, 'sendEvent'>;
}

/** Sends every datagram of an egress result; returns how many legacy datagrams were built and sent. */
export function fanOutEgress(r: EgressResult, to: Destinations): number {
  const compact = r.compact;
  let legacySent = 0;
  let k = 0; // the next compact datagram
  for (let i = 0; i < r.ends.length; i++) {
    const n = compact?.perEvent[i] ?? 0;
    if (r.outcome[i] === EGRESS_SENT) {
      const state = r.state?.[i] === 1;
      const legacy = batchItem(r, i);
      if (legacy.length > 0) {
        to.udp?.send(legacy, 'legacy');
        legacySent++;
      }
      if (n > 0) {
        to.compact.sendEvent(compact!, i, k, (c) => {
          to.udp?.send(c, 'compact');
          to.nats?.publish(c, state);
        });
      } else if (legacy.length > 0) to.nats?.publish(legacy, state);
    }
    k += n;
  }
  return legacySent;
}

/** Hub relay: the relayable datagrams of an ingress result go out on the other transport. */
export function fanOutRelay(r: IngressResult, to: Destinations): void {
  const b = r.relay;
  const nats = to.nats;
  if (b === undefined || nats === null) return;
  for (let i = 0; i < b.ends.length; i++) {
    if (!nats.admitRelay(b.digests[i]!)) continue;
    const datagram = batchItem(b, i);
    if (b.origins[i] === ORIGIN_UDP) {
      nats.publish(datagram, b.state[i] === 1);
      nats.countRelay('toNats');
    } else if (b.origins[i] === ORIGIN_NATS) {
      if (to.udp === null) {
        nats.countRelay('noTarget');
        continue;
      }
      to.udp.send(datagram, isCompactDatagram(datagram) ? 'compact' : 'legacy');
      nats.countRelay('toUdp');
    }
  }
}
