/**
 * One inbound event-socket connection to FreeSWITCH that keeps itself up: connect, answer the
 * `auth/request`, run the owner's setup commands (subscriptions), then stay ready; when the
 * socket drops or FreeSWITCH is down it retries with bounded, jittered exponential backoff and
 * runs the setup again. A rejected password (`-ERR invalid`) or an ACL rejection is fatal: it is
 * reported once and never retried, since retrying cannot fix configuration.
 *
 * Replies (`command/reply`, `api/response`) arrive in command order, so each command written
 * queues one callback and each reply completes the oldest. Event bodies (`text/event-plain`)
 * are collected per socket read and handed over as one batch, unparsed. The owner may pause
 * reading for a short while (its queue is full): FreeSWITCH then buffers; it cuts a listener
 * that falls 100000 events behind, so pauses must stay short (the owner bounds them).
 */
import { connect, type Socket } from 'node:net';
import { CONTENT_TYPES, EslFramer, EslFramingError, type EslEnvelope } from './framing.js';
import { backoffDelayMs, type ResolvedEndpoint } from './options.js';

export interface EslReply {
  readonly contentType: string;
  readonly replyText: string | undefined;
  readonly jobUuid: string | undefined;
  readonly body: Buffer | null;
}

/** Completes one command: the reply, or null when the connection was lost first. */
export type ReplyCallback = (reply: EslReply | null) => void;

export type FatalReason = 'auth-rejected' | 'access-denied' | 'setup-rejected';

/** A condition retrying cannot fix (wrong password, ACL, bad subscription). */
export class EslFatalError extends Error {
  override readonly name = 'EslFatalError';
  constructor(
    readonly reason: FatalReason,
    message: string,
  ) {
    super(message);
  }
}

/** A command was issued while no authenticated connection exists. */
export class EslNotConnectedError extends Error {
  override readonly name = 'EslNotConnectedError';
}

export interface EslConnectionHooks {
  /** Names the connection in logs, e.g. 'events' or 'injector#2'. */
  readonly label: string;
  /** Runs after authentication on every (re)connect; the connection is ready when it resolves. */
  setup?(connection: EslConnection): Promise<void>;
  onReady?(): void;
  /** The raw event texts of one socket read, in arrival order. */
  onEvents?(texts: Buffer[]): void;
  /** A connection (ready or still in its handshake) went away; a retry is scheduled. */
  onDown?(reason: string): void;
  onFatal(error: EslFatalError): void;
}

type State = 'idle' | 'connecting' | 'authenticating' | 'setup' | 'ready' | 'retry-wait' | 'closed' | 'fatal';

/** How often a still-failing reconnect loop is reported at warn level (in between: debug). */
const STILL_DOWN_WARN_INTERVAL_MS = 30_000;

export class EslConnection {
  private state: State = 'idle';
  private socket: Socket | null = null;
  /** Bumped per socket, so late events of an old socket are ignored. */
  private generation = 0;
  private readonly framer: EslFramer;
  private pending: ReplyCallback[] = [];
  private pendingHead = 0;
  private batch: Buffer[] = [];
  private attempt = 0;
  private everReady = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private lastError = '';
  private downSince = 0;
  private lastStillDownWarn = 0;
  private closeWaiters: (() => void)[] = [];

  /** Times a connection became ready again after the first time. */
  reconnects = 0;
  /** Replies that arrived with no command waiting for one. */
  unexpectedReplies = 0;
  eventsReceived = 0;
  readBatches = 0;

  constructor(
    private readonly endpoint: ResolvedEndpoint,
    private readonly hooks: EslConnectionHooks,
  ) {
    this.framer = new EslFramer((envelope, body) => this.onMessage(envelope, body));
  }

  get ready(): boolean {
    return this.state === 'ready';
  }

  /** True once authenticated (during setup too): commands may be written. */
  get authenticated(): boolean {
    return this.state === 'ready' || this.state === 'setup';
  }

  get closedForGood(): boolean {
    return this.state === 'closed' || this.state === 'fatal';
  }

  /** Why the last connection attempt or connection ended ('' if none did). */
  get lastFailure(): string {
    return this.lastError;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.open();
  }

  /** Writes one command line (`\n\n` is appended) and resolves with its reply. */
  request(command: string): Promise<EslReply> {
    return new Promise((resolve, reject) => {
      if (!this.authenticated || this.socket === null) {
        reject(new EslNotConnectedError(`event socket ${this.hooks.label} is not connected to FreeSWITCH at ${this.where()}`));
        return;
      }
      this.pending.push((reply) => (reply === null ? reject(new EslNotConnectedError(`event socket ${this.hooks.label}: connection lost before the reply`)) : resolve(reply)));
      this.socket.write(command + '\n\n');
    });
  }

  /**
   * Writes complete command texts back to back (one writev), each completed by `onReply` in
   * order. Returns false (writing nothing) when not authenticated.
   */
  writeCommands(commands: readonly Buffer[], onReply: ReplyCallback): boolean {
    const socket = this.socket;
    if (!this.authenticated || socket === null) return false;
    socket.cork();
    for (const command of commands) {
      this.pending.push(onReply);
      socket.write(command);
    }
    socket.uncork();
    return true;
  }

  /** Stops reading the socket (the kernel and FreeSWITCH buffer meanwhile); a new socket starts unpaused. */
  pauseReading(): void {
    this.socket?.pause();
  }

  resumeReading(): void {
    this.socket?.resume();
  }

  /** Commands written whose reply has not arrived. */
  get awaitingReplies(): number {
    return this.pending.length - this.pendingHead;
  }

  /** Stops for good: no more retries; resolves when the socket is closed. */
  close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'fatal') {
      return this.socket === null ? Promise.resolve() : new Promise((resolve) => this.closeWaiters.push(resolve));
    }
    const wasAuthenticated = this.authenticated;
    this.state = 'closed';
    this.clearTimers();
    const socket = this.socket;
    if (socket === null) return Promise.resolve();
    return new Promise((resolve) => {
      this.closeWaiters.push(resolve);
      if (!wasAuthenticated) {
        socket.destroy();
        return;
      }
      socket.end('exit\n\n');
      // FreeSWITCH answers `exit` and closes; do not wait long if it does not.
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  private where(): string {
    return `${this.endpoint.host}:${this.endpoint.port}`;
  }

  private fields(extra: object = {}): object {
    return { esl: this.hooks.label, freeswitch: this.where(), ...extra };
  }

  private open(): void {
    const generation = ++this.generation;
    this.state = 'connecting';
    const socket = connect({ host: this.endpoint.host, port: this.endpoint.port });
    this.socket = socket;
    socket.setNoDelay(true);
    this.handshakeTimer = setTimeout(() => {
      if (generation !== this.generation) return;
      this.lastError = `no complete handshake within ${this.endpoint.handshakeTimeoutMs} ms (state ${this.state})`;
      socket.destroy();
    }, this.endpoint.handshakeTimeoutMs);
    socket.on('connect', () => {
      if (generation !== this.generation || this.state !== 'connecting') return;
      socket.setKeepAlive(true, 15_000);
      this.state = 'authenticating';
    });
    socket.on('data', (chunk: Buffer) => {
      if (generation === this.generation) this.onData(chunk);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (generation === this.generation) this.lastError = err.code ?? err.message;
    });
    socket.on('close', () => this.onSocketClosed(generation));
  }

  private onData(chunk: Buffer): void {
    try {
      this.framer.push(chunk);
    } catch (err) {
      if (!(err instanceof EslFramingError)) throw err;
      this.lastError = err.message;
      this.endpoint.logger.error(this.fields({ err: err.message }), 'event socket stream is not valid ESL; dropping the connection');
      this.socket?.destroy();
      return;
    }
    if (this.batch.length === 0) return;
    const texts = this.batch;
    this.batch = [];
    this.eventsReceived += texts.length;
    this.readBatches++;
    try {
      this.hooks.onEvents?.(texts);
    } catch (err) {
      // The owner's bug must not stop the reading, or FreeSWITCH would cut us off.
      this.endpoint.logger.error(this.fields({ err: String(err) }), 'event batch handler threw; batch lost');
    }
  }

  private onMessage(envelope: EslEnvelope, body: Buffer | null): void {
    switch (envelope.contentType) {
      case CONTENT_TYPES.eventPlain:
        if (body !== null && body.length > 0) this.batch.push(body);
        return;
      case CONTENT_TYPES.commandReply:
      case CONTENT_TYPES.apiResponse:
        this.completeOldest({ contentType: envelope.contentType, replyText: envelope.replyText, jobUuid: envelope.jobUuid, body });
        return;
      case CONTENT_TYPES.authRequest:
        this.answerAuthRequest();
        return;
      case CONTENT_TYPES.disconnectNotice:
        this.endpoint.logger.debug(this.fields(), 'FreeSWITCH sent a disconnect notice');
        return;
      case CONTENT_TYPES.rudeRejection:
        this.fatal(
          new EslFatalError(
            'access-denied',
            `FreeSWITCH at ${this.where()} refused the event-socket connection (${(body?.toString('utf8') ?? '').trim() || 'rude rejection'}); check its event_socket ACL — not retrying`,
          ),
        );
        return;
      default:
        this.endpoint.logger.debug(this.fields({ contentType: envelope.contentType }), 'ignoring event-socket message');
    }
  }

  private completeOldest(reply: EslReply): void {
    if (this.pendingHead >= this.pending.length) {
      this.unexpectedReplies++;
      this.endpoint.logger.debug(this.fields({ replyText: reply.replyText }), 'reply with no command waiting');
      return;
    }
    const callback = this.pending[this.pendingHead]!;
    this.pending[this.pendingHead++] = noop;
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    callback(reply);
  }

  private answerAuthRequest(): void {
    const socket = this.socket;
    if (this.state !== 'authenticating' || socket === null) return;
    const generation = this.generation;
    this.pending.push((reply) => {
      if (reply === null || generation !== this.generation) return;
      const text = reply.replyText ?? '';
      if (text.startsWith('+OK')) {
        this.runSetup(generation);
      } else {
        this.fatal(
          new EslFatalError(
            'auth-rejected',
            `FreeSWITCH at ${this.where()} rejected the event-socket password (${text || 'no reply text'}); check the ESL password setting — not retrying`,
          ),
        );
      }
    });
    socket.write(`auth ${this.endpoint.password}\n\n`);
  }

  private runSetup(generation: number): void {
    this.state = 'setup';
    Promise.resolve()
      .then(() => this.hooks.setup?.(this))
      .then(
        () => {
          if (generation !== this.generation || this.state !== 'setup') return;
          clearTimeout(this.handshakeTimer);
          this.state = 'ready';
          this.attempt = 0;
          if (this.everReady) this.reconnects++;
          const wasDownMs = this.downSince === 0 ? 0 : Date.now() - this.downSince;
          this.downSince = 0;
          this.endpoint.logger.info(
            this.fields(this.everReady ? { downMs: wasDownMs, reconnects: this.reconnects } : {}),
            this.everReady ? 'reconnected to FreeSWITCH event socket' : 'connected to FreeSWITCH event socket',
          );
          this.everReady = true;
          this.hooks.onReady?.();
        },
        (err: unknown) => {
          if (generation !== this.generation || this.state !== 'setup') return;
          if (err instanceof EslFatalError) {
            this.fatal(err);
            return;
          }
          this.lastError = `setup failed: ${err instanceof Error ? err.message : String(err)}`;
          this.socket?.destroy();
        },
      );
  }

  private onSocketClosed(generation: number): void {
    if (generation !== this.generation) return;
    const previous = this.state;
    this.socket = null;
    clearTimeout(this.handshakeTimer);
    this.framer.reset();
    this.batch = [];
    this.failPending();
    if (previous === 'closed' || previous === 'fatal') {
      const waiters = this.closeWaiters;
      this.closeWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const reason = this.lastError || (previous === 'ready' ? 'FreeSWITCH closed the connection' : `closed during ${previous}`);
    this.lastError = reason;
    this.state = 'retry-wait';
    const delay = backoffDelayMs(this.attempt++, this.endpoint.backoff);
    const now = Date.now();
    if (previous === 'ready' || this.downSince === 0) {
      if (this.downSince === 0) this.downSince = now;
      this.lastStillDownWarn = now;
      this.endpoint.logger.warn(
        this.fields({ reason, retryInMs: delay }),
        previous === 'ready' ? 'lost the FreeSWITCH event socket; reconnecting' : 'cannot connect to FreeSWITCH event socket; retrying with backoff',
      );
    } else if (now - this.lastStillDownWarn >= STILL_DOWN_WARN_INTERVAL_MS) {
      this.lastStillDownWarn = now;
      this.endpoint.logger.warn(
        this.fields({ reason, attempts: this.attempt, downMs: now - this.downSince, retryInMs: delay }),
        'FreeSWITCH event socket still unreachable; retrying',
      );
    } else {
      this.endpoint.logger.debug(this.fields({ reason, attempts: this.attempt, retryInMs: delay }), 'event socket retry failed');
    }
    this.lastError = '';
    try {
      this.hooks.onDown?.(reason);
    } finally {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.state === 'retry-wait') this.open();
      }, delay);
    }
  }

  private failPending(): void {
    const callbacks = this.pending.slice(this.pendingHead);
    this.pending = [];
    this.pendingHead = 0;
    for (const callback of callbacks) callback(null);
  }

  private fatal(error: EslFatalError): void {
    if (this.state === 'fatal' || this.state === 'closed') return;
    this.state = 'fatal';
    this.clearTimers();
    this.endpoint.logger.error(this.fields({ reason: error.reason }), error.message);
    this.socket?.destroy();
    this.hooks.onFatal(error);
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.handshakeTimer);
    this.retryTimer = undefined;
  }
}

function noop(): void {}
