/**
 * The parts the bridge runs right now. A reload replaces a part by assigning its field here, and
 * every path holds this one object, so each always reaches the current pool, injector, source
 * and transports without being told.
 */
import type { Config } from '../config/config.js';
import type { EslEventSource } from '../esl/event-source.js';
import type { SendeventInjector } from '../esl/injector.js';
import type { CodecPool } from '../pool/codec-pool.js';
import type { NatsLink } from '../transport/nats/link.js';
import type { UdpTransport } from '../transport/udp/udp-transport.js';
import type { Logger } from '../util/log.js';
import type { ReplayGuard } from '../wire/replay.js';
import type { Counters } from '../status/counters.js';
import type { CompactLink } from './compact-link.js';
import type { Destinations } from './fan-out.js';

export interface LiveParts {
  config: Config;
  /** The pool that takes new work (a reload's older pools may still deliver: pool-chain.ts). */
  pool: CodecPool;
  source: EslEventSource;
  injector: SendeventInjector;
  /** null when no UDP destination is configured (NATS only). */
  transport: UdpTransport | null;
  nats: NatsLink | null;
  /** PSK mode: recent packets, checked on the main thread so a repeat is caught whichever worker decoded it. */
  replay: ReplayGuard | null;
  /** Compact wire format: replay windows, reassembly and counts; kept across reloads. */
  readonly compact: CompactLink;
  readonly counters: Counters;
  readonly logger: Logger;
  /** Epoch ms (tests drive it). */
  now(): number;
  /** The configured switchname, else the one learned from FreeSWITCH. */
  switchname(): string | null;
  /** A rate-limited warning (one per key per interval). */
  warn(key: string, fields: object, message: string): void;
}

export function destinationsOf(p: LiveParts): Destinations {
  return { udp: p.transport, nats: p.nats, compact: p.compact };
}
