/**
 * Every setting the bridge knows: the C module's params and the bridge's own. The same name
 * works as an XML `<param name=...>` (case-insensitive, `_` and `-` alike) and as a
 * command-line flag `--name value`. Scripts rely on these names: do not rename them.
 */
import { NATS_PARAM_SPECS } from './nats-config.js';
import { spec, type ParamSpec } from './param-spec.js';
import { quoteName } from './redact.js';

export type { ParamSpec } from './param-spec.js';
import { closestNames, didYouMean } from './suggest.js';

export const PSK_ENV = 'FS_EVENT_MULTICAST_PSK';
export const ESL_PASSWORD_ENV = 'FS_EVENT_MULTICAST_ESL_PASSWORD';

export const PARAM_SPECS: readonly ParamSpec[] = Object.freeze([
  // The C module's params (spec section 1).
  spec({ key: 'address', display: 'address', module: true, defaultText: '', help: 'comma-separated IPv4/IPv6 unicast or multicast destinations' }),
  spec({ key: 'port', display: 'port', module: true, defaultText: '', help: 'UDP port: bound locally and sent to on every destination (1..65535)' }),
  spec({ key: 'source-address', display: 'source_address', module: true, defaultText: '0.0.0.0', help: 'IPv4 address the IPv4 socket binds to' }),
  spec({ key: 'source-address-ipv6', display: 'source_address_ipv6', module: true, defaultText: '::', help: 'IPv6 address the IPv6 socket binds to' }),
  spec({ key: 'bindings', display: 'bindings', module: true, defaultText: '', help: 'events sent: FreeSWITCH event names, ALL, CUSTOM followed by subclasses' }),
  spec({ key: 'ttl', display: 'ttl', module: true, defaultText: '1', help: 'multicast TTL/hops: 1..255 or 0' }),
  spec({ key: 'loopback', display: 'loopback', module: true, defaultText: 'no', help: 'IPv4 multicast loopback (yes/no)' }),
  spec({ key: 'psk', display: 'psk', module: true, secret: true, env: PSK_ENV, defaultText: '', help: 'pre-shared key: Blowfish-CBC encryption (none = plain)' }),
  // The bridge's own params.
  spec({ key: 'esl-host', display: 'esl-host', defaultText: '127.0.0.1', help: "FreeSWITCH event socket host" }),
  spec({ key: 'esl-port', display: 'esl-port', integer: [1, 65_535, 8021], help: 'FreeSWITCH event socket port' }),
  spec({ key: 'esl-password', display: 'esl-password', secret: true, env: ESL_PASSWORD_ENV, defaultText: 'ClueCon', help: 'event socket password' }),
  spec({ key: 'workers', display: 'workers', defaultText: 'auto', help: 'codec/crypto worker threads: 0 (main thread) .. 64, or auto' }),
  spec({ key: 'status-listen', display: 'status-listen', defaultText: '127.0.0.1:8088', help: 'status endpoint: host:port, [ipv6]:port, an absolute unix socket path, or off' }),
  spec({ key: 'switchname', display: 'switchname', defaultText: '', help: 'Multicast-Sender name (default: the name FreeSWITCH reports)' }),
  spec({ key: 'esl-reply-timeout', display: 'esl-reply-timeout', integer: [1, 3600, 5], help: 'seconds FreeSWITCH may leave waiting commands unanswered before the connection is closed and opened again, unanswered sendevents requeued (1..3600)' }),
  spec({ key: 'injectors', display: 'injectors', integer: [1, 64, 2], help: 'event socket connections used for sendevent (1..64); FreeSWITCH serves each on one core: more than its cores is slower' }),
  spec({ key: 'max-queue-age', display: 'max-queue-age', integer: [0, 86_400, 300], help: "seconds a received event may wait for FreeSWITCH before it is dropped as too old (0 = no age bound, 1..86400); under overload a newer event for the same registration, presence or mailbox replaces the queued one, and a registration past its own expiry is not sent" }),
  spec({ key: 'realtime', display: 'realtime', defaultText: 'auto', help: 'run real-time (SCHED_RR priority 1, the lowest): auto = when FreeSWITCH runs real-time and the bridge may (root or CAP_SYS_NICE or an RLIMIT_RTPRIO); yes = always try; no = never (a starvation warning names the fix)' }),
  spec({ key: 'inject-batch', display: 'inject-batch', defaultText: 'auto', help: 'carry many received events in the body of one command, fanned out by the mod_lua hook conf/freeswitch/scripts/fs_event_multicast_batch.lua (FreeSWITCH reads command heads one byte at a time, bodies in bulk): auto (when the hook answers the probe at connect), yes (the same, but its absence is an error), no' }),
  spec({ key: 'inject-batch-ms', display: 'inject-batch-ms', integer: [0, 1000, 10], help: 'with inject-batch: longest wait to fill a batch, milliseconds (0..1000; 0 = at the next turn of the event loop): each batch costs FreeSWITCH CPU of its own, so batches of one event cost more' }),
  spec({ key: 'inject-batch-max', display: 'inject-batch-max', integer: [1, 1024, 256], help: 'with inject-batch: most events per batch (1..1024; a batch also stays under 1 MiB)' }),
  spec({ key: 'lean-sendevent', display: 'lean-sendevent', defaultText: 'yes', help: 'leave out of each sendevent what no consumer reads (Orig-Event-Date-Local/-GMT, Orig-Event-Calling-*; yes/no): FreeSWITCH spends ~1 us CPU per command byte' }),
  spec({ key: 'peer-timeout', display: 'peer-timeout', integer: [1, 86_400, 60], help: 'seconds without a HEARTBEAT before a peer is down (1..86400)' }),
  spec({ key: 'max-datagram', display: 'max-datagram', integer: [512, 65_507, 65_507], help: 'largest datagram sent or accepted, bytes (512..65507)' }),
  spec({ key: 'batch-size', display: 'batch-size', integer: [1, 4096, 64], help: 'events per worker batch (1..4096)' }),
  spec({ key: 'batch-delay-us', display: 'batch-delay-us', integer: [0, 1_000_000, 0], help: 'longest wait to fill a partial batch, microseconds (0 = send as soon as a worker is free; timers round up to whole ms)' }),
  spec({ key: 'ingress-bindings', display: 'ingress-bindings', defaultText: 'ALL', help: 'received events fired locally (bindings grammar, on Orig-Event-Name/-Subclass)' }),
  spec({ key: 'multicast-interface', display: 'multicast-interface', defaultText: '', help: 'IPv4 address of the interface multicast is sent from (default: the route)' }),
  spec({ key: 'log-level', display: 'log-level', defaultText: 'info', help: 'fatal, error, warn, info, debug, trace or silent' }),
  // Hardening (limits on what peers may send).
  spec({ key: 'max-headers', display: 'max-headers', integer: [1, 100_000, 10_000], help: 'most header lines accepted in a received event (1..100000); more: dropped as too-many-headers' }),
  spec({ key: 'max-header-bytes', display: 'max-header-bytes', integer: [16, 65_507, 65_507], help: 'longest header line accepted in a received event, bytes (16..65507); longer: dropped as header-too-large' }),
  spec({ key: 'replay-window', display: 'replay-window', integer: [0, 86_400, 300], help: 'PSK mode: seconds a received packet is remembered to drop repeats as replay (0 = off, 1..86400)' }),
  spec({ key: 'max-peers', display: 'max-peers', integer: [1, 1_000_000, 1024], help: 'most peers tracked (1..1000000); a new name takes the place of the peer down longest, or is refused (counted) when all are up' }),
  spec({ key: 'udp-rcvbuf', display: 'udp-rcvbuf', integer: [4096, 2 ** 31 - 1, 4 * 1024 * 1024], help: 'UDP receive buffer wanted, bytes (4096..2147483647); Linux caps it at net.core.rmem_max' }),
  spec({ key: 'max-event-age', display: 'max-event-age', integer: [0, 86_400, 0], help: 'drop received events whose Event-Date-Timestamp is older than this many seconds, as replay (0 = off, 1..86400; needs synchronized clocks)' }),
  spec({ key: 'max-clock-skew', display: 'max-clock-skew', integer: [0, 86_400, 60], help: 'with max-event-age: seconds an Event-Date-Timestamp may be ahead of this clock; further ahead is dropped as future-dated (0..86400)' }),
  spec({ key: 'max-event-age-undated', display: 'max-event-age-undated', defaultText: 'drop', help: 'with max-event-age: what to do with a received event without Event-Date-Timestamp (drop, counted no-timestamp; or accept)' }),
  spec({ key: 'replay-state-file', display: 'replay-state-file', defaultText: 'auto', help: 'PSK mode: file that keeps replay protection across restarts (an absolute path; auto = $STATE_DIRECTORY/replay-state when systemd sets it, else off; off)' }),
  // Location directory (src/location).
  spec({ key: 'location', display: 'location', defaultText: 'no', help: 'keep the location directory (user -> box) from every registration seen (yes/no; location-db yes turns it on too); off by default: reading every registration costs CPU on the busiest path' }),
  spec({ key: 'location-max-entries', display: 'location-max-entries', integer: [1, 10_000_000, 100_000], help: 'most SIP users kept in the location directory (1..10000000); new users past it are refused (counted)' }),
  spec({ key: 'location-db', display: 'location-db', defaultText: 'no', help: "mirror the location directory into FreeSWITCH's mod_db (db insert/<domain>/LOCATION_<user>/<box address>; yes/no)" }),
  spec({ key: 'location-addresses', display: 'location-addresses', defaultText: '', help: "each box's address for the location directory, as NAME=ADDRESS,NAME=ADDRESS (switch names); a box not listed: its events' FreeSWITCH-IPv4" }),
  // Compact wire format between bridges (docs/compact-wire.md).
  spec({ key: 'compact-address', display: 'compact-address', defaultText: '', help: 'comma-separated destinations (like address) that get the compact, authenticated format instead of the legacy one; needs psk' }),
  spec({ key: 'compact-fragment-size', display: 'compact-fragment-size', integer: [256, 65_507, 1400], help: 'largest compact datagram, bytes (256..65507); larger events are split into fragments' }),
  spec({ key: 'compact-compress-above', display: 'compact-compress-above', integer: [0, 1 << 20, 512], help: 'compact messages larger than this many bytes are deflate-compressed (0 = never, up to 1048576)' }),
  // NATS transport beside UDP (src/config/nats-config.ts).
  ...NATS_PARAM_SPECS,
]);

const BY_KEY: ReadonlyMap<string, ParamSpec> = new Map(PARAM_SPECS.map((p) => [p.key, p]));

/** `Source_Address` and `source-address` both give `source-address`. */
export function canonicalKey(name: string): string {
  return name.trim().toLowerCase().replace(/_/g, '-');
}

export function findParam(name: string): ParamSpec | undefined {
  return BY_KEY.get(canonicalKey(name));
}

export function paramSpec(key: string): ParamSpec {
  const p = BY_KEY.get(key);
  if (p === undefined) throw new Error(`internal: no param ${key}`);
  return p;
}

/** The known params nearest to a misspelt name, as written in the file (`source_address`). */
export function nearestParams(name: string): string[] {
  return closestNames(canonicalKey(name), PARAM_SPECS.map((p) => p.key)).map((k) => paramSpec(k).display);
}

/**
 * `unknown parameter "pks" in event_multicast.conf.xml line 5 — did you mean "psk"?`: the C
 * module would ignore it, and a misspelt psk would then run unencrypted.
 */
export function unknownParamProblem(name: string, source: string, line: number | null): string {
  const where = `${source}${line === null ? '' : ` line ${line}`}`;
  const hint = didYouMean(nearestParams(name).map((n) => `"${n}"`)) || "; it is not a parameter of mod_event_multicast nor of this bridge (see 'fs-event-multicast run --help')";
  return `unknown parameter ${quoteName(name)} in ${where}${hint}`;
}

/** The environment variables the bridge reads (all named FS_EVENT_MULTICAST_...). */
export const ENV_PREFIX = 'FS_EVENT_MULTICAST_';
export function knownEnvNames(): string[] {
  return PARAM_SPECS.flatMap((p) => (p.env === undefined ? [] : [p.env]));
}

/** An FS_EVENT_MULTICAST_ variable the bridge does not read: a typo that would leave a secret unset. */
export function unknownEnvProblems(env: Record<string, string | undefined>): string[] {
  const known = knownEnvNames();
  return Object.keys(env)
    .filter((n) => n.toUpperCase().startsWith(ENV_PREFIX) && !known.includes(n) && env[n] !== undefined)
    .sort()
    .map((n) => {
      const tail = (v: string) => v.toUpperCase().slice(ENV_PREFIX.length);
      const near = closestNames(tail(n), known.map(tail)).map((t) => ENV_PREFIX + t);
      const hint = didYouMean(near) || `; the bridge reads only ${known.join(', ')}`;
      return `unknown environment variable ${/^\w+$/.test(n) ? n : quoteName(n)}${hint}`;
    });
}
