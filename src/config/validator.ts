/**
 * Validation: raw param texts (sources.ts) become one typed Config. Each check names the param,
 * the bad value (never a secret's) and what is allowed, and returns a usable value so that every
 * problem of a file is reported at once. Ranges and defaults of integer params come from their
 * spec (params.ts), read by param-spec.ts's readers.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { type Bindings, BindingsError, bindingsNotes, bindingsNotices, heartbeatWarning, parseBindings } from './bindings.js';
import { readCompactParams } from './compact-params.js';
import { readNatsConfig } from './nats-config.js';
import { badValue, FALSE_WORDS, readInteger, readYesNo, TRUE_WORDS } from './param-spec.js';
import { type ParamSpec, paramSpec } from './params.js';
import { Secret } from './secret.js';
import type { RawSources, RawValue } from './sources.js';
import { LOG_LEVELS, type AddressFamily, type Config, type Destination, type DestinationKind, type LogLevel, type StatusListen } from './types.js';

const INTEGER = /^\d+$/;

/** Every param validated into a Config (not yet frozen); problems and warnings are pushed, and all are found in one pass. */
export function validateConfig(src: RawSources, env: Record<string, string | undefined>, problems: string[], warnings: string[], notices: string[]): Config {
  const { raw, file, text } = src;
  const v = new Validator(problems, warnings);

  // Destinations.
  // With compact-address, address may be left empty (a cluster of bridges only).
  const compactOnly = (raw('address')?.value.trim() ?? '') === '' && (raw('compact-address')?.value.trim() ?? '') !== '';
  // With nats-servers, address may be left empty too (NATS only: no UDP socket unless compact-address).
  const natsOnly = (raw('address')?.value.trim() ?? '') === '' && (raw('nats-servers')?.value.trim() ?? '') !== '';
  const destinations = compactOnly || natsOnly ? [] : v.destinations(raw('address'));
  const compact = readCompactParams({ raw: (k) => raw(k)?.value ?? null, legacy: destinations, hasPsk: raw('psk') !== null, classify: classifyAddress, problems, warnings });
  const allDestinations = [...destinations, ...compact.destinations];
  const port = natsOnly && allDestinations.length === 0 && raw('port') === null ? 0 : v.port(raw('port'));
  const nats = readNatsConfig(raw, problems, warnings);
  const sourceAddress = v.sourceAddress(raw('source-address'), 4, '0.0.0.0');
  const sourceAddressIpv6 = v.sourceAddress(raw('source-address-ipv6'), 6, '::');
  const ipv4 = allDestinations.some((d) => d.family === 4);
  const ipv6 = allDestinations.some((d) => d.family === 6);
  v.checkSockets(allDestinations, raw('source-address') !== null, raw('source-address-ipv6') !== null, sourceAddress, sourceAddressIpv6);

  const bindingsRaw = raw('bindings');
  if (bindingsRaw === null || bindingsRaw.value.trim() === '') {
    warnings.push('no bindings: no local event will be sent (the C module says "No Event Bindings")');
  }
  const bindings = v.bindings('bindings', bindingsRaw?.value ?? '');
  const noHeartbeat = heartbeatWarning(bindings);
  if (noHeartbeat !== null) warnings.push(noHeartbeat);
  notices.push(...bindingsNotices(bindings));
  const ingressBindings = v.bindings('ingress-bindings', raw('ingress-bindings')?.value ?? 'ALL');

  const ttl = v.ttl(raw('ttl'));
  const loopback = v.loopback(raw('loopback'));
  const pskRaw = raw('psk');
  const psk = v.psk(pskRaw);

  const eslHost = v.host(raw('esl-host'), '127.0.0.1');
  const eslPort = v.integer('esl-port', raw('esl-port'));
  const passwordRaw = raw('esl-password');
  const eslPassword = v.password(passwordRaw);
  if (passwordRaw === null && !isLoopbackHost(eslHost)) {
    warnings.push(`esl-password is FreeSWITCH's default ClueCon while esl-host ${eslHost} is not a loopback address; set a real password`);
  }

  const workers = v.workers(raw('workers'));
  const statusListen = v.statusListen(raw('status-listen'));
  const switchname = v.switchname(raw('switchname'));
  const injectors = v.integer('injectors', raw('injectors'));
  const leanSendevent = v.yesNo('lean-sendevent', raw('lean-sendevent'), true);
  const peerTimeoutSeconds = v.integer('peer-timeout', raw('peer-timeout'));
  const maxDatagram = v.integer('max-datagram', raw('max-datagram'));
  const batchSize = v.integer('batch-size', raw('batch-size'));
  const batchDelayUs = v.integer('batch-delay-us', raw('batch-delay-us'));
  const multicastInterface = v.multicastInterface(raw('multicast-interface'), allDestinations);
  const logLevel = v.logLevel(raw('log-level'));
  const maxHeaders = v.integer('max-headers', raw('max-headers'));
  const maxHeaderBytes = v.integer('max-header-bytes', raw('max-header-bytes'));
  const replayWindowSeconds = v.integer('replay-window', raw('replay-window'));
  const maxEventAgeSeconds = v.integer('max-event-age', raw('max-event-age'));
  const maxPeers = v.integer('max-peers', raw('max-peers'));
  const udpRcvbufBytes = v.integer('udp-rcvbuf', raw('udp-rcvbuf'));
  const maxClockSkewSeconds = v.integer('max-clock-skew', raw('max-clock-skew'));
  const undatedEvents = v.choice('max-event-age-undated', raw('max-event-age-undated'), ['drop', 'accept'] as const, 'drop');
  const replayState = v.replayStateFile(raw('replay-state-file'), env);
  const eslReplyTimeoutSeconds = v.integer('esl-reply-timeout', raw('esl-reply-timeout'));
  const maxQueueAgeSeconds = v.integer('max-queue-age', raw('max-queue-age'));
  const injectBatch = v.choice('inject-batch', raw('inject-batch'), ['auto', 'yes', 'no'] as const, 'auto');
  const injectBatchMs = v.integer('inject-batch-ms', raw('inject-batch-ms'));
  const injectBatchMax = v.integer('inject-batch-max', raw('inject-batch-max'));
  const realtime = v.choice('realtime', raw('realtime'), ['auto', 'yes', 'no'] as const, 'auto');
  if (raw('replay-state-file') !== null && replayState.file !== null && pskRaw === null) {
    warnings.push('replay-state-file has no effect without a psk: there is no replay protection to keep');
  }
  if (maxEventAgeSeconds === 0 && (raw('max-clock-skew') !== null || raw('max-event-age-undated') !== null)) {
    warnings.push('max-clock-skew and max-event-age-undated only apply with max-event-age set');
  }
  const locationDb = v.yesNo('location-db', raw('location-db'), false);
  const location = {
    enabled: v.yesNo('location', raw('location'), false) || locationDb,
    maxEntries: v.integer('location-max-entries', raw('location-max-entries')),
    db: locationDb,
    addresses: v.locationAddresses(raw('location-addresses')),
  };
  if (raw('replay-window') !== null && pskRaw === null && replayWindowSeconds > 0) {
    warnings.push('replay-window has no effect without a psk: plain packets carry nothing that tells a replay from a new event');
  }

  if (nats?.state != null && maxEventAgeSeconds > 0 && maxEventAgeSeconds < nats.state.maxAgeSeconds) {
    warnings.push(`max-event-age ${maxEventAgeSeconds} is below nats-state-max-age ${nats.state.maxAgeSeconds}: state events older than ${maxEventAgeSeconds} s replayed on start are dropped as replay`);
  }

  return {
    file,
    contentHash: createHash('md5').update(text ?? '', 'utf8').digest('hex'),
    destinations,
    compactDestinations: compact.destinations,
    compactFragmentBytes: compact.fragmentBytes,
    compactCompressAbove: compact.compressAbove,
    port,
    sourceAddress,
    sourceAddressIpv6,
    ipv4,
    ipv6,
    bindings,
    ingressBindings,
    ttl,
    loopback,
    psk,
    esl: { host: eslHost, port: eslPort, password: eslPassword },
    workers,
    statusListen,
    switchname,
    injectors,
    leanSendevent,
    peerTimeoutSeconds,
    maxDatagram,
    batchSize,
    batchDelayUs,
    multicastInterface,
    logLevel,
    maxHeaders,
    maxHeaderBytes,
    replayWindowSeconds,
    maxEventAgeSeconds,
    maxPeers,
    location,
    udpRcvbufBytes,
    maxClockSkewSeconds,
    undatedEvents,
    replayState,
    eslReplyTimeoutSeconds,
    maxQueueAgeSeconds,
    injectBatch,
    injectBatchMs,
    injectBatchMax,
    realtime,
    secretSources: { psk: pskRaw?.origin ?? null, eslPassword: passwordRaw?.origin ?? 'default' },
    nats,
  };
}

const MAX_WORKERS = 64;
const BLOWFISH_MAX_KEY_BYTES = 72;
const DEFAULT_STATUS_LISTEN: StatusListen = { kind: 'tcp', host: '127.0.0.1', port: 8088 };
/** Validators push to `problems`/`warnings` and return a usable value so that all problems are found in one pass. */
class Validator {
  constructor(
    private readonly problems: string[],
    private readonly warnings: string[],
  ) {}

  private bad(spec: ParamSpec, value: string, problem: string): void {
    this.problems.push(badValue(spec, value, problem));
  }

  destinations(r: RawValue | null): Destination[] {
    const spec = paramSpec('address');
    if (r === null || r.value.trim() === '') {
      this.problems.push('address: no destination; set address to one or more IPv4/IPv6 addresses, comma-separated');
      return [];
    }
    const out: Destination[] = [];
    const entries = r.value.split(',').map((s) => s.trim());
    if (entries.some((e) => e === '')) this.warnings.push(`address '${r.value}': empty entries between commas ignored`);
    for (const entry of entries) {
      if (entry === '') continue;
      const d = classifyAddress(entry);
      if (d === null) {
        this.bad(spec, entry, 'not an IPv4 or IPv6 address (host names are not resolved); allowed: e.g. 225.1.1.1, 10.0.0.2, ff05::4242, fd00::2');
        continue;
      }
      if (out.some((o) => o.address === d.address)) {
        this.warnings.push(`address: destination ${entry} is listed twice; it is sent to once`);
        continue;
      }
      out.push(d);
    }
    if (entries.every((e) => e === '')) {
      this.problems.push(`address '${r.value}': no destination; set address to one or more IPv4/IPv6 addresses, comma-separated`);
    }
    return out;
  }

  port(r: RawValue | null): number {
    const spec = paramSpec('port');
    if (r === null) {
      this.problems.push('port: not set; the bridge binds to and sends to one UDP port: set port to 1..65535 (e.g. 4242)');
      return 0;
    }
    const t = r.value.trim();
    if (!INTEGER.test(t) || Number(t) > 65535) {
      this.bad(spec, r.value, 'not a port number; allowed: 1..65535');
      return 0;
    }
    if (Number(t) === 0) {
      this.bad(spec, r.value, 'port 0 (the C module\'s default) means no port: the bridge could not send anything; allowed: 1..65535');
      return 0;
    }
    return Number(t);
  }

  sourceAddress(r: RawValue | null, family: AddressFamily, fallback: string): string {
    if (r === null || r.value.trim() === '') return fallback;
    const spec = paramSpec(family === 4 ? 'source-address' : 'source-address-ipv6');
    const a = r.value.replace(/\s+/g, '');
    const got = isIP(a);
    if (got !== family) {
      const what = got === 0 ? 'not an IP address' : `an IPv${got} address`;
      this.bad(spec, a, `${what}; allowed: an IPv${family} address of this host (default ${fallback})`);
      return fallback;
    }
    return a;
  }

  checkSockets(dests: Destination[], v4Set: boolean, v6Set: boolean, src4: string, src6: string): void {
    const has4 = dests.some((d) => d.family === 4);
    const has6 = dests.some((d) => d.family === 6);
    if (v4Set && !has4 && dests.length > 0) {
      this.warnings.push(`source_address ${src4} is set but no destination is IPv4: no IPv4 socket is opened, so nothing is received over IPv4 either`);
    }
    if (v6Set && !has6 && dests.length > 0) {
      this.warnings.push(`source_address_ipv6 ${src6} is set but no destination is IPv6: no IPv6 socket is opened, so nothing is received over IPv6 either`);
    }
    if (src4.startsWith('127.')) {
      for (const d of dests) {
        if (d.family === 4 && d.kind === 'unicast' && !d.address.startsWith('127.')) {
          this.warnings.push(`source_address ${src4} is a loopback address but destination ${d.address} is not: the kernel will not send there from loopback`);
        }
      }
    }
    if (src6 === '::1') {
      for (const d of dests) {
        if (d.family === 6 && d.address !== '::1') {
          this.warnings.push(`source_address_ipv6 ::1 is loopback but destination ${d.address} is not: the kernel will not send there from loopback`);
        }
      }
    }
  }

  bindings(key: 'bindings' | 'ingress-bindings', text: string): Bindings {
    try {
      const b = parseBindings(text);
      for (const note of bindingsNotes(b)) this.warnings.push(key === 'bindings' ? note : `ingress-${note}`);
      return b;
    } catch (e) {
      if (!(e instanceof BindingsError)) throw e;
      this.problems.push(key === 'bindings' ? e.message : `ingress-${e.message}`);
      return parseBindings('');
    }
  }

  /** Like the C module: 1..255 or exactly "0"; anything else is a warning and 1. */
  ttl(r: RawValue | null): number {
    if (r === null) return 1;
    const t = r.value.trim();
    if (t === '0') return 0;
    if (INTEGER.test(t) && Number(t) >= 1 && Number(t) <= 255) return Number(t);
    this.warnings.push(`ttl '${r.value}' is invalid (allowed: 1..255 or 0); using the default of 1, as the C module does`);
    return 1;
  }

  /** A yes/no param of the bridge's own: any other word is an error. */
  yesNo(key: string, r: RawValue | null, fallback: boolean): boolean {
    return readYesNo(paramSpec(key), r?.value ?? null, fallback, this.problems);
  }

  /** FreeSWITCH's switch_true(): yes/on/true/t/enabled/active/allow or a non-zero number. */
  loopback(r: RawValue | null): boolean {
    if (r === null) return false;
    const t = r.value.trim().toLowerCase();
    if (TRUE_WORDS.has(t)) return true;
    if (/^-?\d+$/.test(t)) return Number(t) !== 0;
    if (!FALSE_WORDS.has(t)) {
      this.warnings.push(`loopback '${r.value}' is not a yes/no word; taken as no (as FreeSWITCH does); allowed: yes, no, true, false, on, off`);
    }
    return false;
  }

  psk(r: RawValue | null): Secret | null {
    if (r === null) return null;
    const spec = paramSpec('psk');
    if (r.value === '') {
      this.bad(spec, r.value, 'empty; remove the param for plain mode, or give a key of 1..72 bytes');
      return null;
    }
    if (/[\r\n\0]/.test(r.value)) {
      this.bad(spec, r.value, 'contains a line break or NUL byte; allowed: 1..72 bytes of text');
      return null;
    }
    const s = new Secret(r.value);
    if (s.byteLength > BLOWFISH_MAX_KEY_BYTES) {
      this.warnings.push(`psk is ${s.byteLength} bytes long: Blowfish uses only the first ${BLOWFISH_MAX_KEY_BYTES} (as FreeSWITCH's OpenSSL does)`);
    }
    return s;
  }

  password(r: RawValue | null): Secret {
    if (r === null) return new Secret('ClueCon');
    if (r.value === '' || /[\r\n\0]/.test(r.value)) {
      this.bad(paramSpec('esl-password'), r.value, 'empty or contains a line break; allowed: the password of FreeSWITCH\'s event_socket.conf.xml');
      return new Secret('ClueCon');
    }
    return new Secret(r.value);
  }

  host(r: RawValue | null, fallback: string): string {
    if (r === null) return fallback;
    const t = r.value.trim();
    if (isIP(t) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(t)) return t;
    this.bad(paramSpec('esl-host'), r.value, 'not an IP address or host name; allowed: e.g. 127.0.0.1, ::1, localhost');
    return fallback;
  }

  integer(key: string, r: RawValue | null): number {
    return readInteger(paramSpec(key), r?.value ?? null, this.problems);
  }

  workers(r: RawValue | null): number | 'auto' {
    if (r === null) return 'auto';
    const t = r.value.trim();
    if (t.toLowerCase() === 'auto') return 'auto';
    if (INTEGER.test(t) && Number(t) <= MAX_WORKERS) return Number(t);
    this.bad(paramSpec('workers'), r.value, `allowed: auto, or an integer 0..${MAX_WORKERS} (0 = do the work on the main thread)`);
    return 'auto';
  }

  statusListen(r: RawValue | null): StatusListen {
    if (r === null) return DEFAULT_STATUS_LISTEN;
    const spec = paramSpec('status-listen');
    const t = r.value.trim();
    const allowed = 'allowed: host:port (e.g. 127.0.0.1:8088), [ipv6]:port, an absolute unix socket path, or off';
    if (['off', 'none', 'no', 'false'].includes(t.toLowerCase())) return { kind: 'off' };
    if (t.startsWith('/')) return { kind: 'unix', path: t };
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(t) ?? /^([^:]+):(\d+)$/.exec(t);
    if (m === null) {
      this.bad(spec, r.value, `${t.includes('/') ? 'a unix socket path must be absolute; ' : ''}${allowed}`);
      return DEFAULT_STATUS_LISTEN;
    }
    const host = m[1]!;
    const port = Number(m[2]);
    if (isIP(host) === 0 && host !== 'localhost') {
      this.bad(spec, r.value, `host '${host}' is not an IP address; ${allowed}`);
      return DEFAULT_STATUS_LISTEN;
    }
    if (port > 65535) {
      this.bad(spec, r.value, `port ${port} out of range; ${allowed}; port 0..65535 (0 = any free port)`);
      return DEFAULT_STATUS_LISTEN;
    }
    return { kind: 'tcp', host, port };
  }

  /** `NAME=ADDRESS,NAME=ADDRESS`: names as in switchname, addresses as mod_db can carry them (src/location/db-mirror.ts). */
  locationAddresses(r: RawValue | null): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    if (r === null || r.value.trim() === '') return out;
    for (const item of r.value.split(',')) {
      const m = /^\s*([^=\s][^=]*?)\s*=\s*([A-Za-z0-9._\-+@:[\]]{1,128})\s*$/.exec(item);
      // eslint-disable-next-line no-control-regex
      if (m === null || m[1]!.length > 255 || /[\x00-\x1f\x7f]/.test(m[1]!)) {
        this.bad(paramSpec('location-addresses'), r.value, `${JSON.stringify(item.trim())} is not NAME=ADDRESS (address: letters, digits and . _ - + @ : [ ] only)`);
        return new Map();
      }
      out.set(m[1]!, m[2]!);
    }
    return out;
  }

  switchname(r: RawValue | null): string | null {
    if (r === null) return null;
    const t = r.value.trim();
    // eslint-disable-next-line no-control-regex
    if (t === '' || t.length > 255 || /[\x00-\x1f\x7f]/.test(t)) {
      this.bad(paramSpec('switchname'), r.value, 'allowed: 1..255 printable characters (leave it out to use the name FreeSWITCH reports)');
      return null;
    }
    return t;
  }

  multicastInterface(r: RawValue | null, dests: Destination[]): string | null {
    if (r === null || r.value.trim() === '') return null;
    const t = r.value.trim();
    if (isIP(t) !== 4) {
      this.bad(paramSpec('multicast-interface'), r.value, 'allowed: the IPv4 address of a local interface (e.g. 10.0.0.5, or 127.0.0.1 for tests)');
      return null;
    }
    if (!dests.some((d) => d.family === 4 && d.kind === 'multicast')) {
      this.warnings.push(`multicast-interface ${t} is set but no destination is IPv4 multicast; it has no effect`);
    }
    return t;
  }

  choice<T extends string>(key: string, r: RawValue | null, allowed: readonly T[], fallback: T): T {
    if (r === null) return fallback;
    const t = r.value.trim().toLowerCase();
    const found = allowed.find((a) => a === t);
    if (found !== undefined) return found;
    this.bad(paramSpec(key), r.value, `allowed: ${allowed.join(' or ')} (default ${fallback})`);
    return fallback;
  }

  /**
   * `auto` (the default) keeps the state in systemd's StateDirectory when the unit has one
   * ($STATE_DIRECTORY), else nowhere: the bridge never guesses a writable place of its own.
   */
  replayStateFile(r: RawValue | null, env: Record<string, string | undefined>): { file: string | null; origin: string } {
    const t = r === null ? 'auto' : r.value.trim();
    if (['off', 'none', 'no', 'false'].includes(t.toLowerCase())) return { file: null, origin: 'off' };
    if (t.toLowerCase() === 'auto') {
      const dir = (env['STATE_DIRECTORY'] ?? '').split(':')[0]!.trim();
      if (dir.startsWith('/')) return { file: join(dir, 'replay-state'), origin: 'auto: $STATE_DIRECTORY' };
      return { file: null, origin: 'auto: $STATE_DIRECTORY is not set' };
    }
    if (!t.startsWith('/') || /[\0\r\n]/.test(t) || t.endsWith('/')) {
      this.bad(paramSpec('replay-state-file'), r!.value, 'allowed: an absolute file path (its directory must exist), auto, or off');
      return { file: null, origin: 'off' };
    }
    return { file: t, origin: r!.origin };
  }

  logLevel(r: RawValue | null): LogLevel {
    if (r === null) return 'info';
    const t = r.value.trim().toLowerCase();
    const found = LOG_LEVELS.find((l) => l === t);
    if (found !== undefined) return found;
    this.bad(paramSpec('log-level'), r.value, `allowed: ${LOG_LEVELS.join(', ')}`);
    return 'info';
  }
}

/** IPv4 multicast = first octet 224..239; IPv6 multicast = text starts with `ff` (any case). */
export function classifyAddress(address: string): Destination | null {
  const family = isIP(address);
  if (family === 4) {
    const first = Number(address.split('.')[0]);
    const kind: DestinationKind = first >= 224 && first <= 239 ? 'multicast' : 'unicast';
    return { address, family, kind, label: kind === 'multicast' ? 'IPv4 multicast' : 'IPv4 unicast' };
  }
  if (family === 6) {
    const kind: DestinationKind = address.slice(0, 2).toLowerCase() === 'ff' ? 'multicast' : 'unicast';
    return { address, family, kind, label: kind === 'multicast' ? 'IPv6 multicast' : 'IPv6 unicast' };
  }
  return null;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

