/**
 * Options of the NATS transport, their up-front validation, and the subject layout. Pure: no
 * connection here, so the rules can be tested (and reported to the operator) before connecting.
 *
 * Subjects, for a prefix P (one prefix per NATS cluster, e.g. `fsem.cluster1`):
 *   P.events.<sender>   every datagram, live only
 *   P.state.<sender>    datagrams of state events (registrations, presence) when JetStream
 *                       state is on: delivered live like the others AND kept in the stream
 * <sender> is the publishing bridge's switch name made into one subject token. Subscribers
 * take both `P.events.>` and `P.state.>`, so a bridge without state still gets state events.
 */
import type { Secret } from './secret.js';

export type NatsCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: Secret }
  | { readonly kind: 'user'; readonly user: string; readonly password: Secret }
  /** A `.creds` file (JWT + nkey seed), read when connecting. */
  | { readonly kind: 'creds'; readonly file: string }
  /** A file holding an nkey seed (`SU...`), read when connecting. */
  | { readonly kind: 'nkey'; readonly seedFile: string };

export interface NatsStateOptions {
  /** JetStream stream keeping the state subjects. */
  readonly stream: string;
  /** Oldest message kept, seconds. */
  readonly maxAgeSeconds: number;
  /** Stream replicas (1 on a single server; up to the cluster size). */
  readonly replicas: number;
}

export interface NatsTransportOptions {
  /** nats://host:port URLs; several = one cluster (the client picks, fails over and learns more). */
  readonly servers: readonly string[];
  readonly subjectPrefix: string;
  readonly credentials: NatsCredentials;
  /** Bytes published but not yet confirmed by the server, and bytes queued while disconnected: beyond it new datagrams are dropped. */
  readonly maxPendingBytes: number;
  /** JetStream state stream, or null (no stream, no catch-up). */
  readonly state: NatsStateOptions | null;
  /** How long start() waits for the first connection before going on in the background (ms). */
  readonly firstConnectWaitMs?: number;
  /** Wait between reconnect attempts to one server (ms, default 250). */
  readonly reconnectWaitMs?: number;
  /** Connection name shown by the server's monitoring (default fs-event-multicast). */
  readonly clientName?: string;
}

export class NatsOptionsError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid NATS transport option '${option}': ${message}`);
    this.name = 'NatsOptionsError';
  }
}

/** A NATS subject token: no dots, wildcards or white space. */
const TOKEN = /^[A-Za-z0-9_-]+$/;
/** A subject prefix: tokens joined by dots. */
const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** JetStream stream names: no dots, wildcards, white space or path separators. */
const STREAM = /^[A-Za-z0-9_-]{1,64}$/;

/** Why a server URL is not allowed, or null when it is fine. */
export function serverUrlProblem(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL; allowed: nats://host:port';
  }
  if (u.protocol !== 'nats:' && u.protocol !== 'tls:') return `scheme ${u.protocol.replace(/:$/, '')} is not nats (or tls)`;
  if (u.hostname === '') return 'no host';
  if (u.username !== '' || u.password !== '') return 'credentials in the URL are not allowed (they would be logged): use nats-user/nats-password or nats-token';
  if (u.pathname !== '' && u.pathname !== '/') return `a path (${u.pathname}) is not allowed`;
  if (u.port !== '' && (Number(u.port) < 1 || Number(u.port) > 65535)) return `port ${u.port} out of range 1..65535`;
  return null;
}

export function subjectPrefixProblem(prefix: string): string | null {
  if (prefix.length === 0 || prefix.length > 200) return 'empty or longer than 200 characters';
  if (!PREFIX.test(prefix)) return 'allowed: tokens of letters, digits, _ and - joined by dots (no wildcards * >, no spaces), e.g. fsem.cluster1';
  return null;
}

export function streamNameProblem(name: string): string | null {
  return STREAM.test(name) ? null : 'allowed: 1..64 letters, digits, _ and - (no dots)';
}

/** A switch name as one subject token: every other character becomes `_`; empty gives `_unknown_`. */
export function senderToken(switchname: string | null): string {
  if (switchname === null || switchname === '') return '_unknown_';
  const t = switchname.replace(/[^A-Za-z0-9_-]/g, '_');
  return TOKEN.test(t) ? t : '_unknown_';
}

export interface NatsSubjects {
  readonly events: string;
  readonly state: string;
  /** What a bridge subscribes to. */
  readonly subscribeEvents: string;
  readonly subscribeState: string;
}

/** The subjects a bridge called `switchname` publishes on, and the wildcards it listens on. */
export function natsSubjects(prefix: string, switchname: string | null): NatsSubjects {
  const token = senderToken(switchname);
  return {
    events: `${prefix}.events.${token}`,
    state: `${prefix}.state.${token}`,
    subscribeEvents: `${prefix}.events.>`,
    subscribeState: `${prefix}.state.>`,
  };
}

/** The default state stream of a prefix: `FSEM_STATE_` + the prefix, dots as `_`. */
export function defaultStreamName(prefix: string): string {
  return `FSEM_STATE_${prefix.replace(/\./g, '_')}`.slice(0, 64);
}

export const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;

export interface ResolvedNatsTransportOptions extends NatsTransportOptions {
  readonly firstConnectWaitMs: number;
  readonly reconnectWaitMs: number;
  readonly clientName: string;
}

export function resolveNatsTransportOptions(o: NatsTransportOptions): ResolvedNatsTransportOptions {
  if (!Array.isArray(o.servers) || o.servers.length === 0) {
    throw new NatsOptionsError('servers', 'at least one nats://host:port URL is required');
  }
  o.servers.forEach((s, i) => {
    const p = serverUrlProblem(s);
    if (p !== null) throw new NatsOptionsError(`servers[${i}]`, `'${s}': ${p}`);
  });
  const prefixProblem = subjectPrefixProblem(o.subjectPrefix);
  if (prefixProblem !== null) throw new NatsOptionsError('subjectPrefix', `'${o.subjectPrefix}': ${prefixProblem}`);
  if (!Number.isInteger(o.maxPendingBytes) || o.maxPendingBytes < 1024 || o.maxPendingBytes > 2 ** 31 - 1) {
    throw new NatsOptionsError('maxPendingBytes', `${String(o.maxPendingBytes)} is not an integer in 1024..2147483647`);
  }
  const c = o.credentials;
  if (c.kind === 'user' && (c.user === '' || /[\s]/.test(c.user))) {
    throw new NatsOptionsError('credentials.user', 'empty or contains white space');
  }
  if (o.state !== null) {
    const p = streamNameProblem(o.state.stream);
    if (p !== null) throw new NatsOptionsError('state.stream', `'${o.state.stream}': ${p}`);
    if (!Number.isInteger(o.state.maxAgeSeconds) || o.state.maxAgeSeconds < 1) {
      throw new NatsOptionsError('state.maxAgeSeconds', `${String(o.state.maxAgeSeconds)} is not a positive integer`);
    }
    if (!Number.isInteger(o.state.replicas) || o.state.replicas < 1 || o.state.replicas > 5) {
      throw new NatsOptionsError('state.replicas', `${String(o.state.replicas)} is not an integer in 1..5`);
    }
  }
  const wait = (name: string, v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    if (!Number.isInteger(v) || v < 0 || v > 600_000) throw new NatsOptionsError(name, `${String(v)} is not an integer number of ms in 0..600000`);
    return v;
  };
  return {
    ...o,
    servers: [...o.servers],
    firstConnectWaitMs: wait('firstConnectWaitMs', o.firstConnectWaitMs, 3000),
    reconnectWaitMs: wait('reconnectWaitMs', o.reconnectWaitMs, 250),
    clientName: o.clientName ?? 'fs-event-multicast',
  };
}
