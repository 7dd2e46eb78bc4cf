/**
 * The NATS side of the bridge, beside UDP: the same datagram bytes (legacy or compact framing,
 * PSK as configured) published to `<prefix>.events.<switchname>` (state events, when JetStream
 * state is on, to `<prefix>.state.<switchname>`), and everything on `<prefix>.events.>` and
 * `<prefix>.state.>` handed to the same ingress path as UDP datagrams. Subject layout: see
 * nats-options.ts.
 *
 * - Own messages: the connection is made with noEcho (the server never returns our own
 *   publishes), and messages on our own subjects (another connection with our name, the
 *   stream on catch-up) are skipped before any work; the pool's own-packet check stays.
 * - Reconnect: the client fails over between the configured servers (and those the cluster
 *   announces) forever. While disconnected, datagrams wait in a bounded queue and go out on
 *   reconnect; beyond the bound they are dropped and counted. The client library discards
 *   what it had buffered when the socket died, so publishes not yet confirmed by the server
 *   at a disconnect are counted as `unconfirmedAtDisconnect` (possibly lost).
 * - Backpressure: bytes published but not yet confirmed (a PING/PONG after them) are bounded
 *   by maxPendingBytes; beyond it new datagrams are dropped and counted, so a slow or stuck
 *   server cannot grow our memory.
 * - Start: an unreachable cluster does not stop the bridge (it keeps trying in the background,
 *   UDP runs meanwhile); wrong credentials do (start() rejects with the reason).
 */
import { readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type Msg,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import {
  natsSubjects,
  resolveNatsTransportOptions,
  type NatsSubjects,
  type NatsTransportOptions,
  type ResolvedNatsTransportOptions,
} from '../../config/nats-options.js';
import { describeNatsError as describe, isJetStreamMissing, isUnreachable, natsErrorCode } from './errors.js';
import { ensureStateStream, replayStateStream } from './state.js';

export { NatsOptionsError, type NatsTransportOptions, type NatsCredentials } from '../../config/nats-options.js';

export interface NatsSource {
  subject: string;
  /** Replayed from the state stream on start (not live). */
  catchUp: boolean;
}

export type NatsDatagramHandler = (datagram: Buffer, from: NatsSource) => void;

export type NatsPhase = 'new' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Things worth a log line; the bridge decides how loud. */
export type NatsTransportEvent =
  | { kind: 'connected'; server: string }
  | { kind: 'disconnected'; server: string; unconfirmed: number }
  | { kind: 'reconnected'; server: string; flushedQueued: number }
  | { kind: 'unreachable'; message: string }
  | { kind: 'error'; message: string }
  | { kind: 'stream'; stream: string; action: 'created' | 'updated' | 'unchanged' }
  | { kind: 'catch-up'; stream: string; read: number; delivered: number; ms: number };

export type NatsTransportErrorKind = 'credentials' | 'connect' | 'state';

export class NatsTransportError extends Error {
  constructor(
    readonly kind: NatsTransportErrorKind,
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NatsTransportError';
  }
}

export interface NatsCatchUpStats {
  state: 'off' | 'waiting' | 'running' | 'done' | 'failed';
  read: number;
  delivered: number;
  /** Live messages held back while the catch-up ran (then delivered after it). */
  heldLive: number;
  error: string | null;
}

export interface NatsTransportStats {
  phase: NatsPhase;
  /** The server connected to (host:port), or null. */
  server: string | null;
  servers: string[];
  publishSubject: string;
  connects: number;
  reconnects: number;
  disconnects: number;
  published: number;
  publishedBytes: number;
  /** Of published: to the state subject. */
  statePublished: number;
  received: number;
  receivedBytes: number;
  /** Messages on our own subjects, skipped. */
  skippedOwn: number;
  /** Published, not yet confirmed by the server. */
  pendingBytes: number;
  /** Waiting for a connection. */
  queued: number;
  queuedBytes: number;
  dropped: {
    /** Pending or queued bytes were at the bound. */
    backpressure: number;
    /** The transport was closed. */
    closed: number;
    /** The client refused the publish (payload too large...). */
    publishError: number;
    /** Published but unconfirmed when the connection dropped: possibly lost. */
    unconfirmedAtDisconnect: number;
  };
  catchUp: NatsCatchUpStats;
  lastError: string | null;
}

interface Queued {
  subject: string;
  datagram: Uint8Array;
  state: boolean;
}

export class NatsTransport {
  private readonly options: ResolvedNatsTransportOptions;
  private phase: NatsPhase = 'new';
  private nc: NatsConnection | null = null;
  private subjects: NatsSubjects;
  private ownNameSet = false;
  private handler: NatsDatagramHandler | null = null;
  private eventHandler: ((e: NatsTransportEvent) => void) | null = null;
  private server: string | null = null;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private sentBytes = 0;
  private sentMsgs = 0;
  private confirmedBytes = 0;
  private confirmedMsgs = 0;
  private flushing = false;
  /** Bumped on every disconnect, so a late reconnect confirmation for an older link is ignored. */
  private linkGeneration = 0;
  private flushScheduled = false;
  private streamReady: Promise<void> | null = null;
  private heldLive: { data: Buffer; subject: string }[] | null = null;
  private heldBytes = 0;
  private readonly liveSource: NatsSource = { subject: '', catchUp: false };
  private readonly counts = {
    connects: 0,
    reconnects: 0,
    disconnects: 0,
    published: 0,
    publishedBytes: 0,
    statePublished: 0,
    received: 0,
    receivedBytes: 0,
    skippedOwn: 0,
  };
  private readonly dropped = { backpressure: 0, closed: 0, publishError: 0, unconfirmedAtDisconnect: 0 };
  private readonly catchUp: NatsCatchUpStats;
  private lastError: string | null = null;

  /** Validates the options now (throws NatsOptionsError); the connection is made by start(). */
  constructor(options: NatsTransportOptions) {
    this.options = resolveNatsTransportOptions(options);
    this.subjects = natsSubjects(this.options.subjectPrefix, null);
    this.catchUp = { state: this.options.state === null ? 'off' : 'waiting', read: 0, delivered: 0, heldLive: 0, error: null };
  }

  onDatagram(handler: NatsDatagramHandler): void {
    this.handler = handler;
  }

  onEvent(handler: (e: NatsTransportEvent) => void): void {
    this.eventHandler = handler;
  }

  /**
   * Our switch name: the subject we publish on and the one we skip. The state catch-up waits
   * for it (so our own old state is not replayed to us). Call again if the name changes.
   */
  setOwnName(name: string): void {
    this.subjects = natsSubjects(this.options.subjectPrefix, name);
    this.ownNameSet = true;
    this.maybeCatchUp();
  }

  get connected(): boolean {
    return this.phase === 'connected';
  }

  /** Connects. Rejects with NatsTransportError on bad credentials; an unreachable cluster is retried in the background. */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new NatsTransportError('connect', `NATS transport cannot start: it is ${this.phase}`, undefined);
    this.phase = 'connecting';
    const base = this.connectionOptions();
    try {
      const nc = await connect({ ...base, waitOnFirstConnect: false });
      if (this.isClosed()) {
        await nc.close();
        return;
      }
      this.attach(nc);
    } catch (e) {
      if (!isUnreachable(e)) {
        this.phase = 'closed';
        throw new NatsTransportError('connect', `cannot connect to NATS ${this.options.servers.join(', ')}: ${describe(e)}`, natsErrorCode(e), { cause: e });
      }
      this.lastError = describe(e);
      this.emit({ kind: 'unreachable', message: `NATS ${this.options.servers.join(', ')} unreachable (${this.lastError}); retrying in the background` });
      connect({ ...base, waitOnFirstConnect: true }).then(
        (nc) => {
          if (this.isClosed()) void nc.close();
          else this.attach(nc);
        },
        (err: unknown) => {
          this.lastError = describe(err);
          if (!this.isClosed()) this.emit({ kind: 'error', message: `NATS connection given up: ${this.lastError}` });
          this.phase = 'closed';
        },
      );
    }
  }

  private isClosed(): boolean {
    return this.phase === 'closed';
  }

  private connectionOptions(): NodeConnectionOptions {
    const o = this.options;
    const c = o.credentials;
    const auth: Partial<NodeConnectionOptions> = {};
    if (c.kind === 'token') auth.token = c.token.reveal();
    else if (c.kind === 'user') {
      auth.user = c.user;
      auth.pass = c.password.reveal();
    } else if (c.kind === 'creds' || c.kind === 'nkey') {
      const file = c.kind === 'creds' ? c.file : c.seedFile;
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new NatsTransportError('credentials', `cannot read ${c.kind === 'creds' ? 'nats-creds-file' : 'nats-nkey-seed-file'} ${file}: ${code ?? String(e)}`, code);
      }
      auth.authenticator = c.kind === 'creds' ? credsAuthenticator(new Uint8Array(bytes)) : nkeyAuthenticator(new TextEncoder().encode(bytes.toString('utf8').trim()));
    }
    return {
      servers: [...o.servers],
      name: o.clientName,
      noEcho: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: o.reconnectWaitMs,
      reconnectJitter: Math.min(100, o.reconnectWaitMs),
      timeout: o.firstConnectWaitMs,
      pingInterval: 10_000,
      maxPingOut: 2,
      ...auth,
    };
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.phase = 'connected';
    this.counts.connects++;
    this.server = nc.getServer();
    const onMessage = (err: Error | null, msg: Msg): void => this.onMessage(err, msg);
    nc.subscribe(this.subjects.subscribeEvents, { callback: onMessage });
    nc.subscribe(this.subjects.subscribeState, { callback: onMessage });
    void this.watchStatus(nc);
    void nc.closed().then((err) => {
      if (err) this.lastError = describe(err);
      if (!this.isClosed()) {
        this.phase = 'closed';
        this.emit({ kind: 'error', message: `NATS connection closed${err ? `: ${describe(err)}` : ''}` });
      }
    });
    this.emit({ kind: 'connected', server: this.server });
    const flushed = this.flushQueue();
    if (flushed > 0) this.emit({ kind: 'reconnected', server: this.server, flushedQueued: flushed });
    const state = this.options.state;
    if (state !== null && this.streamReady === null) {
      this.streamReady = ensureStateStream(nc, `${this.options.subjectPrefix}.state.>`, state).then(
        (action) => this.emit({ kind: 'stream', stream: state.stream, action }),
        (e: unknown) => {
          this.lastError = describe(e);
          const hint = isJetStreamMissing(e) ? '' : ' (is JetStream enabled on the server?)';
          throw new NatsTransportError('state', `cannot create or update the JetStream stream ${state.stream}: ${describe(e)}${hint}`, natsErrorCode(e), { cause: e });
        },
      );
      this.streamReady.catch(() => undefined); // reported by the catch-up
    }
    this.maybeCatchUp();
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.isClosed()) return;
      if (s.type === 'disconnect') {
        this.linkGeneration++;
        this.phase = 'reconnecting';
        this.counts.disconnects++;
        const unconfirmed = this.sentMsgs - this.confirmedMsgs;
        this.dropped.unconfirmedAtDisconnect += unconfirmed;
        this.confirmedBytes = this.sentBytes;
        this.confirmedMsgs = this.sentMsgs;
        this.emit({ kind: 'disconnected', server: this.server ?? s.server, unconfirmed });
        this.server = null;
      } else if (s.type === 'reconnect') {
        // The client re-sent its subscriptions on reconnecting; one round trip makes sure the
        // server has them before this side calls itself connected (and others rely on that).
        const generation = this.linkGeneration;
        const reconnected = () => {
          if (this.isClosed() || generation !== this.linkGeneration) return; // dropped again meanwhile
          this.phase = 'connected';
          this.counts.reconnects++;
          this.server = nc.getServer();
          const flushed = this.flushQueue();
          this.emit({ kind: 'reconnected', server: this.server, flushedQueued: flushed });
        };
        nc.flush().then(reconnected, (e: unknown) => {
          this.lastError = describe(e);
          reconnected();
        });
      } else if (s.type === 'error') {
        this.lastError = describe(s.error);
        this.emit({ kind: 'error', message: `NATS: ${this.lastError}` });
      }
    }
  }

  private emit(e: NatsTransportEvent): void {
    this.eventHandler?.(e);
  }

  // ---------------------------------------------------------------------------------------------
  // Receive

  private onMessage(err: Error | null, msg: Msg): void {
    if (err !== null) {
      this.lastError = describe(err);
      return;
    }
    const subject = msg.subject;
    if (subject === this.subjects.events || subject === this.subjects.state) {
      this.counts.skippedOwn++;
      return;
    }
    const d = msg.data;
    this.counts.received++;
    this.counts.receivedBytes += d.length;
    const data = Buffer.from(d.buffer, d.byteOffset, d.length);
    const held = this.heldLive;
    if (held !== null) {
      // A catch-up is running: live events wait so they land after the older stream ones.
      if (this.heldBytes + d.length > this.options.maxPendingBytes) {
        this.dropped.backpressure++;
        return;
      }
      held.push({ data, subject });
      this.heldBytes += d.length;
      this.catchUp.heldLive++;
      return;
    }
    const h = this.handler;
    if (h === null) return;
    this.liveSource.subject = subject;
    h(data, this.liveSource);
  }

  private maybeCatchUp(): void {
    const state = this.options.state;
    const nc = this.nc;
    if (state === null || nc === null || !this.ownNameSet || this.catchUp.state !== 'waiting' || this.streamReady === null) return;
    this.catchUp.state = 'running';
    this.heldLive = [];
    const started = Date.now();
    const skip = this.subjects.state;
    const deliver = (data: Uint8Array, subject: string): void => {
      this.handler?.(Buffer.from(data.buffer, data.byteOffset, data.length), { subject, catchUp: true });
    };
    void this.streamReady
      .then(() => replayStateStream(nc, state, skip, deliver, 30_000))
      .then(
        (r) => {
          this.catchUp.state = 'done';
          this.catchUp.read = r.read;
          this.catchUp.delivered = r.delivered;
          this.emit({ kind: 'catch-up', stream: state.stream, read: r.read, delivered: r.delivered, ms: Date.now() - started });
        },
        (e: unknown) => {
          this.catchUp.state = 'failed';
          this.catchUp.error = describe(e);
          this.lastError = this.catchUp.error;
          this.emit({ kind: 'error', message: `state catch-up failed: ${this.catchUp.error}` });
        },
      )
      .finally(() => this.releaseHeld());
  }

  private releaseHeld(): void {
    const held = this.heldLive ?? [];
    this.heldLive = null;
    this.heldBytes = 0;
    const h = this.handler;
    if (h === null || this.isClosed()) return;
    for (const m of held) h(m.data, { subject: m.subject, catchUp: false });
  }

  // ---------------------------------------------------------------------------------------------
  // Send

  /** Publishes one datagram (to the state subject when `state` and JetStream state is on). Never throws; drops are counted. */
  send(datagram: Uint8Array, state = false): void {
    if (this.phase === 'closed') {
      this.dropped.closed++;
      return;
    }
    const toState = state && this.options.state !== null;
    const subject = toState ? this.subjects.state : this.subjects.events;
    const len = datagram.length;
    if (this.phase !== 'connected' || this.nc === null) {
      if (this.queuedBytes + len > this.options.maxPendingBytes) {
        this.dropped.backpressure++;
        return;
      }
      this.queue.push({ subject, datagram, state: toState });
      this.queuedBytes += len;
      return;
    }
    if (this.sentBytes - this.confirmedBytes + len > this.options.maxPendingBytes) {
      this.dropped.backpressure++;
      this.scheduleFlush();
      return;
    }
    this.publish(this.nc, subject, datagram, toState);
  }

  private publish(nc: NatsConnection, subject: string, datagram: Uint8Array, toState: boolean): void {
    try {
      nc.publish(subject, datagram);
    } catch (e) {
      this.dropped.publishError++;
      this.lastError = describe(e);
      return;
    }
    const len = datagram.length;
    this.counts.published++;
    this.counts.publishedBytes += len;
    if (toState) this.counts.statePublished++;
    this.sentBytes += len;
    this.sentMsgs++;
    this.scheduleFlush();
  }

  /** Sends what waited for a connection, in order; returns how many. */
  private flushQueue(): number {
    const nc = this.nc;
    if (nc === null || this.queue.length === 0) return 0;
    const items = this.queue.splice(0);
    this.queuedBytes = 0;
    for (const q of items) this.publish(nc, q.subject, q.datagram, q.state);
    return items.length;
  }

  /** One PING/PONG in flight at a time: its PONG confirms everything published before it. */
  private scheduleFlush(): void {
    if (this.flushing || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const nc = this.nc;
      if (nc === null || this.phase !== 'connected' || this.sentBytes === this.confirmedBytes) return;
      const markBytes = this.sentBytes;
      const markMsgs = this.sentMsgs;
      this.flushing = true;
      nc.flush().then(
        () => {
          this.confirmedBytes = Math.max(this.confirmedBytes, markBytes);
          this.confirmedMsgs = Math.max(this.confirmedMsgs, markMsgs);
          this.flushing = false;
          if (this.sentBytes !== this.confirmedBytes) this.scheduleFlush();
        },
        () => {
          this.flushing = false; // a disconnect: counted there
        },
      );
    });
  }

  // ---------------------------------------------------------------------------------------------

  stats(): NatsTransportStats {
    return {
      phase: this.phase,
      server: this.phase === 'connected' ? this.server : null,
      servers: [...this.options.servers],
      publishSubject: this.subjects.events,
      ...this.counts,
      pendingBytes: this.sentBytes - this.confirmedBytes,
      queued: this.queue.length,
      queuedBytes: this.queuedBytes,
      dropped: { ...this.dropped },
      catchUp: { ...this.catchUp },
      lastError: this.lastError,
    };
  }

  /** Flushes what was published (bounded wait), then closes. Safe to call more than once. */
  async close(flushMs = 1000): Promise<void> {
    if (this.phase === 'closed' && this.nc === null) return;
    const nc = this.nc;
    this.phase = 'closed';
    this.nc = null;
    this.dropped.closed += this.queue.length;
    this.queue.length = 0;
    this.queuedBytes = 0;
    if (nc === null || nc.isClosed()) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([nc.flush().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, flushMs)))]);
    clearTimeout(timer);
    await nc.close().catch(() => undefined);
  }
}
