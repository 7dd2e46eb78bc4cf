/**
 * What each part is built from: pure maps from the validated configuration to a part's own
 * options, so the bridge's wiring reads as "make X from the config" and each map is tested alone.
 */
import type { Config } from '../config/config.js';
import type { EslEndpointOptions } from '../esl/options.js';
import type { CodecSettings } from '../pool/tasks.js';
import type { UdpTransportOptions } from '../transport/udp/udp-transport.js';
import type { Logger } from '../util/log.js';
import { ReplayGuard } from '../wire/replay.js';

/** What the pool's workers need to encode and decode. */
export function codecSettingsOf(c: Config): CodecSettings {
  return {
    psk: c.psk === null ? null : c.psk.reveal(),
    bindings: c.bindings,
    ingressBindings: c.ingressBindings,
    maxDatagram: c.maxDatagram,
    limits: { maxHeaders: c.maxHeaders, maxHeaderBytes: c.maxHeaderBytes },
    maxEventAgeMs: c.maxEventAgeSeconds * 1000,
    maxClockSkewMs: c.maxClockSkewSeconds * 1000,
    undatedEvents: c.undatedEvents,
    stateBindings: c.nats?.state?.events ?? null,
    leanSendevent: c.leanSendevent,
    compact: {
      send: c.compactDestinations.length > 0,
      legacy: c.destinations.length > 0,
      fragmentBytes: c.compactFragmentBytes,
      compressAbove: c.compactCompressAbove,
    },
    location: c.location.enabled,
  };
}

/** UDP runs when some destination (legacy or compact) is configured; without one the bridge is NATS only. */
export function udpWanted(c: Config): boolean {
  return c.destinations.length > 0 || c.compactDestinations.length > 0;
}

/** The UDP sockets: every destination with the wire format it takes. */
export function udpOptionsOf(c: Config): UdpTransportOptions {
  return {
    destinations: [
      ...c.destinations.map((d) => ({ address: d.address, family: d.family, multicast: d.kind === 'multicast', format: 'legacy' as const })),
      ...c.compactDestinations.map((d) => ({ address: d.address, family: d.family, multicast: d.kind === 'multicast', format: 'compact' as const })),
    ],
    port: c.port,
    sourceAddress: c.sourceAddress,
    sourceAddressV6: c.sourceAddressIpv6,
    ttl: c.ttl,
    loopback: c.loopback,
    recvBufferBytes: c.udpRcvbufBytes,
    ...(c.multicastInterface !== null ? { multicastInterface: c.multicastInterface } : {}),
  };
}

/** The event socket, for both the event source and the injectors. */
export function eslEndpointOf(c: Config, logger: Logger): EslEndpointOptions & { replyTimeoutMs: number } {
  return { host: c.esl.host, port: c.esl.port, password: c.esl.password.reveal(), logger, replyTimeoutMs: c.eslReplyTimeoutSeconds * 1000 };
}

/** Replay protection is on in PSK mode with a replay-window > 0. */
export function replayGuardFor(c: Config): ReplayGuard | null {
  return c.psk !== null && c.replayWindowSeconds > 0 ? new ReplayGuard({ windowMs: c.replayWindowSeconds * 1000 }) : null;
}
