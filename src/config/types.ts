/** The validated configuration's shape (config.ts builds it; every layer above reads it). */
import type { Bindings } from './bindings.js';
import type { NatsConfig } from './nats-config.js';
import type { Secret } from './secret.js';

export type AddressFamily = 4 | 6;
export type DestinationKind = 'unicast' | 'multicast';
export type DestinationLabel = 'IPv4 unicast' | 'IPv4 multicast' | 'IPv6 unicast' | 'IPv6 multicast';

export interface Destination {
  /** As written in `address` (white space stripped). */
  readonly address: string;
  readonly family: AddressFamily;
  readonly kind: DestinationKind;
  /** The C module's name for the kind, as `multicast_peers` prints it. */
  readonly label: DestinationLabel;
}

export type StatusListen =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'off' };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type SecretSource = 'default' | 'file' | 'env' | 'flag';
/** Where a param's value came from. */
export type ValueSource = SecretSource;

export interface Config {
  /** The file read, or null when the XML came as text (or there was none). */
  readonly file: string | null;
  /** MD5 (hex) of the XML text, to tell on RELOADXML whether anything changed. */
  readonly contentHash: string;
  readonly destinations: readonly Destination[];
  /** Destinations that get the compact wire format (`compact-address`, docs/compact-wire.md); [] = none. */
  readonly compactDestinations: readonly Destination[];
  /** Largest compact datagram, bytes; compact messages larger than compactCompressAbove are compressed (0 = never). */
  readonly compactFragmentBytes: number;
  readonly compactCompressAbove: number;
  readonly port: number;
  readonly sourceAddress: string;
  readonly sourceAddressIpv6: string;
  /** An IPv4 socket is needed (some destination is IPv4); likewise IPv6. */
  readonly ipv4: boolean;
  readonly ipv6: boolean;
  readonly bindings: Bindings;
  readonly ingressBindings: Bindings;
  readonly ttl: number;
  readonly loopback: boolean;
  /** null = plain mode. */
  readonly psk: Secret | null;
  readonly esl: { readonly host: string; readonly port: number; readonly password: Secret };
  readonly workers: number | 'auto';
  readonly statusListen: StatusListen;
  /** Override of the name learned from FreeSWITCH (`FreeSWITCH-Switchname`), or null. */
  readonly switchname: string | null;
  readonly injectors: number;
  /** Lean sendevent commands (src/wire/lean.ts): what no consumer reads is left out, FreeSWITCH's CPU being per byte. */
  readonly leanSendevent: boolean;
  readonly peerTimeoutSeconds: number;
  readonly maxDatagram: number;
  readonly batchSize: number;
  readonly batchDelayUs: number;
  /** IPv4 address of the interface to send multicast from, or null (the routing table decides). */
  readonly multicastInterface: string | null;
  readonly logLevel: LogLevel;
  /** Scan limits for received events: most header lines, longest header line (bytes). */
  readonly maxHeaders: number;
  readonly maxHeaderBytes: number;
  /** PSK mode: seconds a received packet is remembered to drop repeats; 0 = off. */
  readonly replayWindowSeconds: number;
  /** Received events older than this (Event-Date-Timestamp) are dropped as replay; 0 = off. */
  readonly maxEventAgeSeconds: number;
  /** Most peers tracked (src/peers/peer-table.ts). */
  readonly maxPeers: number;
  /** Location directory (src/location): on (location or location-db), most users, mirror into mod_db, box addresses by switch name. */
  readonly location: { readonly enabled: boolean; readonly maxEntries: number; readonly db: boolean; readonly addresses: ReadonlyMap<string, string> };
  /** UDP receive buffer wanted, bytes (the kernel caps it at net.core.rmem_max). */
  readonly udpRcvbufBytes: number;
  /** With maxEventAgeSeconds: how far ahead of our clock a timestamp may be before the event is dropped as future-dated. */
  readonly maxClockSkewSeconds: number;
  /** With maxEventAgeSeconds: events without Event-Date-Timestamp are dropped (counted no-timestamp) or accepted. */
  readonly undatedEvents: 'drop' | 'accept';
  /** Where replay state is kept across restarts (PSK mode), or null (not kept); `origin` says why. */
  readonly replayState: { readonly file: string | null; readonly origin: string };
  /** Seconds commands may wait for FreeSWITCH's reply before the connection is recycled. */
  readonly eslReplyTimeoutSeconds: number;
  /** Seconds a received event may wait in the injector queue (0 = no age bound). */
  readonly maxQueueAgeSeconds: number;
  /** Batched injection (src/esl/batch-command.ts): off, used when the FreeSWITCH hook is found, or expected. */
  readonly injectBatch: 'auto' | 'yes' | 'no';
  /** Longest wait to fill a batch (ms) and most events in one. */
  readonly injectBatchMs: number;
  readonly injectBatchMax: number;
  /** When the bridge makes itself real-time (src/host/realtime.ts). */
  readonly realtime: 'auto' | 'yes' | 'no';
  /** Where each secret came from (never the secret itself). */
  readonly secretSources: { readonly psk: SecretSource | null; readonly eslPassword: SecretSource };
  /** The NATS transport (nats-servers set), or null: see src/config/nats-config.ts. */
  readonly nats: NatsConfig | null;
}

/** Every problem found, each naming the param, the bad value (never a secret's) and what is allowed. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.length === 1 ? problems[0]! : `${problems.length} configuration problems:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

