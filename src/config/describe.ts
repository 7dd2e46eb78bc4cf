/**
 * The effective configuration as an operator reads it (`fs-event-multicast check`): every
 * param's value as the bridge will use it, secrets redacted, with where it came from; and every
 * place traffic goes to or comes from, marked when it is not this host. Pure.
 */
import { isIP } from 'node:net';
import type { Config, Destination, ValueSource } from './config.js';
import { PARAM_SPECS } from './params.js';
import { REDACTED, redactUrlCredentials } from './redact.js';

export interface SettingRow {
  /** As written in the file (`source_address`, `esl-host`). */
  readonly param: string;
  /** The value in use; [redacted] for a secret; `(none)` / `(unused: ...)` where nothing applies. */
  readonly value: string;
  readonly source: ValueSource;
}

export type TrafficDirection = 'send' | 'receive' | 'connect' | 'listen';

export interface TrafficRow {
  readonly direction: TrafficDirection;
  /** What the traffic is: `UDP legacy (psk)`, `NATS`, `event socket`, ... */
  readonly what: string;
  /** `225.1.1.1:4242`, `[fd00::2]:4242`, `nats://10.0.0.21:4222`, `/run/fsem.sock`. */
  readonly target: string;
  /** True when the traffic may leave this host. */
  readonly leavesHost: boolean;
  /** In words: `loopback: this host only`, `NOT loopback: leaves this host`, ... */
  readonly scope: string;
}

const NONE = '(none)';
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
const addresses = (ds: readonly Destination[]): string => (ds.length === 0 ? NONE : ds.map((d) => d.address).join(', '));
const natsUnused = '(unused: nats-servers is not set)';
const stateUnused = '(unused: nats-state is off)';

/** How each param's value in use is shown, by canonical key. */
const FORMAT: Readonly<Record<string, (c: Config) => string>> = {
  address: (c) => addresses(c.destinations),
  port: (c) => (c.port === 0 ? '(none: no UDP socket)' : String(c.port)),
  'source-address': (c) => c.sourceAddress,
  'source-address-ipv6': (c) => c.sourceAddressIpv6,
  bindings: (c) => c.bindings.text || '(none: nothing is sent)',
  ttl: (c) => String(c.ttl),
  loopback: (c) => yesNo(c.loopback),
  psk: (c) => (c.psk === null ? '(none: plain, unencrypted)' : REDACTED),
  'esl-host': (c) => c.esl.host,
  'esl-port': (c) => String(c.esl.port),
  'esl-password': () => REDACTED,
  workers: (c) => String(c.workers),
  'status-listen': (c) => statusText(c),
  switchname: (c) => c.switchname ?? '(the name FreeSWITCH reports)',
  injectors: (c) => String(c.injectors),
  'lean-sendevent': (c) => yesNo(c.leanSendevent),
  'inject-batch': (c) => c.injectBatch,
  'inject-batch-ms': (c) => String(c.injectBatchMs),
  'inject-batch-max': (c) => String(c.injectBatchMax),
  'peer-timeout': (c) => String(c.peerTimeoutSeconds),
  'max-datagram': (c) => String(c.maxDatagram),
  'batch-size': (c) => String(c.batchSize),
  'batch-delay-us': (c) => String(c.batchDelayUs),
  'ingress-bindings': (c) => c.ingressBindings.text || NONE,
  'multicast-interface': (c) => c.multicastInterface ?? '(the route decides)',
  'log-level': (c) => c.logLevel,
  'max-headers': (c) => String(c.maxHeaders),
  'max-header-bytes': (c) => String(c.maxHeaderBytes),
  'replay-window': (c) => String(c.replayWindowSeconds),
  'max-event-age': (c) => String(c.maxEventAgeSeconds),
  'max-clock-skew': (c) => String(c.maxClockSkewSeconds),
  'max-event-age-undated': (c) => c.undatedEvents,
  'replay-state-file': (c) => c.replayState.file ?? `(off: ${c.replayState.origin})`,
  'esl-reply-timeout': (c) => String(c.eslReplyTimeoutSeconds),
  'max-queue-age': (c) => String(c.maxQueueAgeSeconds),
  realtime: (c) => c.realtime,
  'max-peers': (c) => String(c.maxPeers),
  'udp-rcvbuf': (c) => String(c.udpRcvbufBytes),
  location: (c) => yesNo(c.location.enabled),
  'location-max-entries': (c) => String(c.location.maxEntries),
  'location-db': (c) => yesNo(c.location.db),
  'location-addresses': (c) => (c.location.addresses.size === 0 ? "(each box's FreeSWITCH-IPv4)" : [...c.location.addresses].map(([n, a]) => `${n}=${a}`).join(', ')),
  'compact-address': (c) => addresses(c.compactDestinations),
  'compact-fragment-size': (c) => String(c.compactFragmentBytes),
  'compact-compress-above': (c) => String(c.compactCompressAbove),
  'nats-servers': (c) => (c.nats === null ? '(none: NATS off)' : c.nats.servers.map(redactUrlCredentials).join(', ')),
  'nats-subject-prefix': (c) => c.nats?.subjectPrefix ?? natsUnused,
  'nats-token': (c) => (c.nats === null ? natsUnused : c.nats.credentials.kind === 'token' ? REDACTED : NONE),
  'nats-user': (c) => (c.nats === null ? natsUnused : c.nats.credentials.kind === 'user' ? REDACTED : NONE),
  'nats-password': (c) => (c.nats === null ? natsUnused : c.nats.credentials.kind === 'user' ? REDACTED : NONE),
  'nats-creds-file': (c) => (c.nats === null ? natsUnused : c.nats.credentials.kind === 'creds' ? c.nats.credentials.file : NONE),
  'nats-nkey-seed-file': (c) => (c.nats === null ? natsUnused : c.nats.credentials.kind === 'nkey' ? c.nats.credentials.seedFile : NONE),
  'nats-relay': (c) => (c.nats === null ? natsUnused : yesNo(c.nats.relay)),
  'nats-max-pending': (c) => (c.nats === null ? natsUnused : String(c.nats.maxPendingBytes)),
  'nats-state': (c) => (c.nats === null ? natsUnused : yesNo(c.nats.state !== null)),
  'nats-state-events': (c) => (c.nats === null ? natsUnused : (c.nats.state?.events.text ?? stateUnused)),
  'nats-state-max-age': (c) => (c.nats === null ? natsUnused : c.nats.state === null ? stateUnused : String(c.nats.state.maxAgeSeconds)),
  'nats-state-replicas': (c) => (c.nats === null ? natsUnused : c.nats.state === null ? stateUnused : String(c.nats.state.replicas)),
  'nats-state-stream': (c) => (c.nats === null ? natsUnused : (c.nats.state?.stream ?? stateUnused)),
};

/** Every param, in the order of `run --help`, with its value in use and its source. */
export function effectiveSettings(config: Config, sources: Readonly<Record<string, ValueSource>>): SettingRow[] {
  return PARAM_SPECS.map((p) => {
    const format = FORMAT[p.key];
    // A param added without a formatter still never shows a secret.
    const value = format !== undefined ? format(config) : p.redacted ? REDACTED : '(not shown by check)';
    return { param: p.display, value, source: sources[p.key] ?? 'default' };
  });
}

/** Every destination, listener and connection the bridge would use, each marked local or not. */
export function trafficTargets(c: Config): TrafficRow[] {
  const rows: TrafficRow[] = [];
  const mode = c.psk === null ? 'plain' : 'psk';
  for (const d of c.destinations) rows.push({ direction: 'send', what: `UDP ${d.label}, legacy format (${mode})`, target: hostPort(d.address, c.port), ...ipScope(d.address, c.ttl) });
  for (const d of c.compactDestinations) rows.push({ direction: 'send', what: `UDP ${d.label}, compact format`, target: hostPort(d.address, c.port), ...ipScope(d.address, c.ttl) });
  if (c.ipv4) rows.push({ direction: 'receive', what: 'UDP socket (IPv4)', target: hostPort(c.sourceAddress, c.port), ...ipScope(c.sourceAddress, c.ttl) });
  if (c.ipv6) rows.push({ direction: 'receive', what: 'UDP socket (IPv6)', target: hostPort(c.sourceAddressIpv6, c.port), ...ipScope(c.sourceAddressIpv6, c.ttl) });
  for (const url of c.nats?.servers ?? []) rows.push({ direction: 'connect', what: 'NATS server', target: redactUrlCredentials(url), ...hostScope(natsHost(url)) });
  rows.push({ direction: 'connect', what: 'FreeSWITCH event socket', target: hostPort(c.esl.host, c.esl.port), ...hostScope(c.esl.host) });
  const s = c.statusListen;
  if (s.kind === 'tcp') rows.push({ direction: 'listen', what: 'status endpoint (HTTP)', target: hostPort(s.host, s.port), ...hostScope(s.host) });
  if (s.kind === 'unix') rows.push({ direction: 'listen', what: 'status endpoint (HTTP)', target: s.path, leavesHost: false, scope: 'unix socket: this host only' });
  return rows;
}

function statusText(c: Config): string {
  const s = c.statusListen;
  return s.kind === 'off' ? 'off' : s.kind === 'unix' ? s.path : hostPort(s.host, s.port);
}

function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function natsHost(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return url;
  }
}

function isLoopbackIp(a: string): boolean {
  const family = isIP(a);
  if (family === 4) return a.startsWith('127.');
  if (family === 6) return a === '::1' || /^::ffff:127\./i.test(a) || /^0*:0*:0*:0*:0*:0*:0*:0*1$/.test(a);
  return false;
}

function isMulticastIp(a: string): boolean {
  const family = isIP(a);
  if (family === 4) {
    const first = Number(a.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return family === 6 && a.slice(0, 2).toLowerCase() === 'ff';
}

/** Where traffic to (or a socket bound at) this IP address reaches. */
function ipScope(a: string, ttl: number): { leavesHost: boolean; scope: string } {
  if (isLoopbackIp(a)) return { leavesHost: false, scope: 'loopback: this host only' };
  if (a === '0.0.0.0' || a === '::') return { leavesHost: true, scope: 'all interfaces: reachable from the network' };
  if (isMulticastIp(a)) {
    if (ttl === 0) return { leavesHost: false, scope: 'multicast with ttl 0: this host only' };
    return { leavesHost: true, scope: `NOT loopback: multicast, leaves this host (ttl ${ttl}${ttl === 1 ? ': the local network' : ''})` };
  }
  return { leavesHost: true, scope: 'NOT loopback: leaves this host' };
}

/** Like ipScope for a host that may be a name (esl-host, a NATS server). */
function hostScope(host: string): { leavesHost: boolean; scope: string } {
  if (host.toLowerCase() === 'localhost') return { leavesHost: false, scope: 'loopback: this host only' };
  if (isIP(host) === 0) return { leavesHost: true, scope: 'host name (resolved when connecting): may leave this host' };
  return ipScope(host, 1);
}
