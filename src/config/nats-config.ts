/**
 * The bridge's NATS params (read by loadConfig beside the others): which servers, the subject
 * prefix, credentials (secrets stay `Secret`s; files are checked now and read when connecting),
 * relay mode, backpressure bound and the optional JetStream state stream.
 *
 * NATS runs when `nats-servers` is set; UDP runs when `address` is set; both may run at once.
 */
import { accessSync, constants } from 'node:fs';
import { isAbsolute } from 'node:path';
import { BindingsError, parseBindings, type Bindings } from './bindings.js';
import { readInteger, readYesNo, spec, type ParamSpec, type ParamSpecInput } from './param-spec.js';
import { Secret } from './secret.js';
import {
  DEFAULT_MAX_PENDING_BYTES,
  defaultStreamName,
  serverUrlProblem,
  streamNameProblem,
  subjectPrefixProblem,
  type NatsCredentials,
} from './nats-options.js';

export const NATS_TOKEN_ENV = 'FS_EVENT_MULTICAST_NATS_TOKEN';
export const NATS_PASSWORD_ENV = 'FS_EVENT_MULTICAST_NATS_PASSWORD';

export const DEFAULT_SUBJECT_PREFIX = 'fsem';
/** Registrations and presence: what a satellite needs to know at once after a restart. */
export const DEFAULT_STATE_EVENTS = 'PRESENCE_IN CUSTOM sofia::register sofia::unregister sofia::expire';
export const DEFAULT_STATE_MAX_AGE_SECONDS = 3600;

export interface NatsStateConfig {
  /** Which events go to the state subject (bindings grammar). */
  readonly events: Bindings;
  readonly maxAgeSeconds: number;
  readonly replicas: number;
  readonly stream: string;
}

export interface NatsConfig {
  readonly servers: readonly string[];
  readonly subjectPrefix: string;
  readonly credentials: NatsCredentials;
  /** Hub: republish what arrives on UDP to NATS and what arrives on NATS to UDP. */
  readonly relay: boolean;
  readonly maxPendingBytes: number;
  readonly state: NatsStateConfig | null;
}

/** The param descriptions (merged into PARAM_SPECS by params.ts). */
export const NATS_PARAM_SPECS: readonly ParamSpec[] = ([
  { key: 'nats-servers', display: 'nats-servers', defaultText: '', help: 'NATS server URLs, comma-separated nats://host:port (several = one cluster); set = the NATS transport runs' },
  { key: 'nats-subject-prefix', display: 'nats-subject-prefix', defaultText: DEFAULT_SUBJECT_PREFIX, help: 'subject prefix of this NATS cluster, e.g. fsem.cluster1 (datagrams go to <prefix>.events.<switchname>)' },
  { key: 'nats-token', display: 'nats-token', secret: true, env: NATS_TOKEN_ENV, defaultText: '', help: 'NATS token authentication' },
  { key: 'nats-user', display: 'nats-user', redacted: true, defaultText: '', help: 'NATS user (with nats-password)' },
  { key: 'nats-password', display: 'nats-password', secret: true, env: NATS_PASSWORD_ENV, defaultText: '', help: 'NATS password (with nats-user)' },
  { key: 'nats-creds-file', display: 'nats-creds-file', defaultText: '', help: 'NATS .creds file (JWT and nkey seed), absolute path' },
  { key: 'nats-nkey-seed-file', display: 'nats-nkey-seed-file', defaultText: '', help: 'file holding an NATS nkey seed (SU...), absolute path' },
  { key: 'nats-relay', display: 'nats-relay', defaultText: 'no', help: 'hub mode: republish datagrams received on UDP to NATS and those received on NATS to UDP (never back where they came from)' },
  { key: 'nats-max-pending', display: 'nats-max-pending', integer: [65_536, 1_073_741_824, DEFAULT_MAX_PENDING_BYTES], help: 'bytes published but unconfirmed or queued while disconnected; beyond it datagrams are dropped and counted (65536..1073741824)' },
  { key: 'nats-state', display: 'nats-state', defaultText: 'no', help: 'JetStream: keep state events in a stream, and replay it on start so a satellite catches up' },
  { key: 'nats-state-events', display: 'nats-state-events', defaultText: DEFAULT_STATE_EVENTS, help: 'which events are state (bindings grammar)' },
  { key: 'nats-state-max-age', display: 'nats-state-max-age', integer: [1, 31_536_000, DEFAULT_STATE_MAX_AGE_SECONDS], help: 'seconds a state event is kept in the stream (1..31536000)' },
  { key: 'nats-state-replicas', display: 'nats-state-replicas', integer: [1, 5, 1], help: 'replicas of the state stream (1..5; at most the cluster size)' },
  { key: 'nats-state-stream', display: 'nats-state-stream', defaultText: 'FSEM_STATE_<prefix>', help: 'name of the JetStream stream' },
] satisfies ParamSpecInput[]).map(spec);

export interface NatsRawValue {
  readonly value: string;
  readonly origin: 'flag' | 'env' | 'file';
}


/**
 * Reads the NATS params. Problems (naming the param, the bad value unless it is a secret, and
 * what is allowed) and warnings are pushed; returns null when NATS is not configured.
 */
export function readNatsConfig(raw: (key: string) => NatsRawValue | null, problems: string[], warnings: string[]): NatsConfig | null {
  const serversRaw = raw('nats-servers');
  const others = NATS_PARAM_SPECS.filter((s) => s.key !== 'nats-servers' && raw(s.key) !== null).map((s) => s.display);
  if (serversRaw === null || serversRaw.value.trim() === '') {
    if (others.length > 0) warnings.push(`${others.join(', ')} set but nats-servers is not: the NATS transport does not run`);
    return null;
  }

  const servers: string[] = [];
  // Credentials in a URL: no entry is quoted, since a password may hold a comma and split
  // across entries.
  const userInfo = serversRaw.value.includes('@');
  if (userInfo) {
    problems.push('nats-servers: credentials in the URL (a user or password before the host) are not allowed: they would be logged; use nats-user with nats-password, or nats-token (the value is not shown)');
  }
  for (const entry of userInfo ? [] : serversRaw.value.split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    const p = serverUrlProblem(entry);
    if (p !== null) problems.push(`nats-servers '${entry}': ${p}`);
    else if (!servers.includes(entry)) servers.push(entry);
  }
  if (servers.length === 0 && !problems.some((p) => p.startsWith('nats-servers'))) {
    problems.push(`nats-servers '${serversRaw.value}': no server; allowed: comma-separated nats://host:port`);
  }

  const subjectPrefix = (raw('nats-subject-prefix')?.value ?? DEFAULT_SUBJECT_PREFIX).trim();
  const prefixProblem = subjectPrefixProblem(subjectPrefix);
  if (prefixProblem !== null) problems.push(`nats-subject-prefix '${subjectPrefix}': ${prefixProblem}`);

  const credentials = readCredentials(raw, problems);
  const relay = yesNo('nats-relay', raw, problems);
  const maxPendingBytes = integer('nats-max-pending', raw, problems);

  let state: NatsStateConfig | null = null;
  if (yesNo('nats-state', raw, problems)) {
    let events = parseBindings(DEFAULT_STATE_EVENTS);
    const eventsRaw = raw('nats-state-events');
    if (eventsRaw !== null) {
      try {
        events = parseBindings(eventsRaw.value);
        if (events.events.length === 0 && !events.all) problems.push(`nats-state-events '${eventsRaw.value}': no event; allowed: the bindings grammar, e.g. ${DEFAULT_STATE_EVENTS}`);
      } catch (e) {
        if (!(e instanceof BindingsError)) throw e;
        problems.push(`nats-state-events: ${e.message}`);
      }
    }
    const stream = (raw('nats-state-stream')?.value ?? defaultStreamName(subjectPrefix)).trim();
    const streamProblem = streamNameProblem(stream);
    if (streamProblem !== null) problems.push(`nats-state-stream '${stream}': ${streamProblem}`);
    state = {
      events,
      maxAgeSeconds: integer('nats-state-max-age', raw, problems),
      replicas: integer('nats-state-replicas', raw, problems),
      stream,
    };
  } else {
    const stateOnly = ['nats-state-events', 'nats-state-max-age', 'nats-state-replicas', 'nats-state-stream'].filter((k) => raw(k) !== null);
    if (stateOnly.length > 0) warnings.push(`${stateOnly.join(', ')} set but nats-state is off: no state stream`);
  }
  return { servers, subjectPrefix, credentials, relay, maxPendingBytes, state };
}

function readCredentials(raw: (key: string) => NatsRawValue | null, problems: string[]): NatsCredentials {
  const token = raw('nats-token');
  const user = raw('nats-user');
  const password = raw('nats-password');
  const creds = raw('nats-creds-file');
  const nkey = raw('nats-nkey-seed-file');
  const given = [
    token !== null ? 'nats-token' : null,
    user !== null || password !== null ? 'nats-user/nats-password' : null,
    creds !== null ? 'nats-creds-file' : null,
    nkey !== null ? 'nats-nkey-seed-file' : null,
  ].filter((g): g is string => g !== null);
  if (given.length > 1) {
    problems.push(`NATS credentials: ${given.join(' and ')} are all set; allowed: exactly one of nats-token, nats-user with nats-password, nats-creds-file, nats-nkey-seed-file`);
    return { kind: 'none' };
  }
  const secretText = (display: string, r: NatsRawValue): Secret | null => {
    if (r.value === '' || /[\r\n\0]/.test(r.value)) {
      problems.push(`${display}: empty or contains a line break or NUL byte`);
      return null;
    }
    return new Secret(r.value);
  };
  if (token !== null) {
    const s = secretText('nats-token', token);
    return s === null ? { kind: 'none' } : { kind: 'token', token: s };
  }
  if (user !== null || password !== null) {
    if (user === null || password === null) {
      problems.push(`NATS credentials: ${user === null ? 'nats-password is set without nats-user' : 'nats-user is set without nats-password'}; set both`);
      return { kind: 'none' };
    }
    const name = user.value.trim();
    if (name === '' || /\s/.test(name)) {
      problems.push('nats-user: empty or contains white space (the value is not shown)');
      return { kind: 'none' };
    }
    const s = secretText('nats-password', password);
    return s === null ? { kind: 'none' } : { kind: 'user', user: name, password: s };
  }
  const file = (display: string, r: NatsRawValue): string | null => {
    const path = r.value.trim();
    if (!isAbsolute(path)) {
      problems.push(`${display} '${path}': not an absolute path`);
      return null;
    }
    try {
      accessSync(path, constants.R_OK);
    } catch (e) {
      problems.push(`${display} '${path}': cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
      return null;
    }
    return path;
  };
  if (creds !== null) {
    const f = file('nats-creds-file', creds);
    return f === null ? { kind: 'none' } : { kind: 'creds', file: f };
  }
  if (nkey !== null) {
    const f = file('nats-nkey-seed-file', nkey);
    return f === null ? { kind: 'none' } : { kind: 'nkey', seedFile: f };
  }
  return { kind: 'none' };
}

type RawLookup = (key: string) => NatsRawValue | null;

function natsSpec(key: string): ParamSpec {
  const found = NATS_PARAM_SPECS.find((p) => p.key === key);
  if (found === undefined) throw new Error(`internal: no NATS param ${key}`);
  return found;
}

function yesNo(key: string, raw: RawLookup, problems: string[]): boolean {
  return readYesNo(natsSpec(key), raw(key)?.value ?? null, false, problems);
}

function integer(key: string, raw: RawLookup, problems: string[]): number {
  return readInteger(natsSpec(key), raw(key)?.value ?? null, problems);
}

/** One line for the start log: servers, prefix, credential kind (never the secret), relay, state. */
export function describeNats(n: NatsConfig): Record<string, unknown> {
  return {
    servers: n.servers,
    subjectPrefix: n.subjectPrefix,
    auth: n.credentials.kind,
    relay: n.relay,
    state: n.state === null ? 'off' : { stream: n.state.stream, maxAgeSeconds: n.state.maxAgeSeconds, events: n.state.events.text },
  };
}

/** Whether two NATS configs differ (secrets compared by value: they serialise as [redacted]). */
export function natsConfigChanged(a: NatsConfig | null, b: NatsConfig | null): boolean {
  if (JSON.stringify(a) !== JSON.stringify(b)) return true;
  const ca = a?.credentials;
  const cb = b?.credentials;
  if (ca?.kind === 'token' && cb?.kind === 'token') return !ca.token.sameAs(cb.token);
  if (ca?.kind === 'user' && cb?.kind === 'user') return !ca.password.sameAs(cb.password);
  return false;
}
