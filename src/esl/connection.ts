/**
 * One inbound event-socket connection to FreeSWITCH that keeps itself up: connect, answer the
 * `auth/request`, run the owner's setup commands (subscriptions), then stay ready; when the
 * socket drops or FreeSWITCH is down it retries with bounded, jittered exponential backoff and
 * runs the setup again. A rejected password (`-ERR invalid`), an ACL rejection or an answer to
 * `auth` that no event socket gives is fatal: it is handed to the owner (who reports it once) and
 * never retried, since retrying cannot fix configuration.
 *
 * The backoff starts again from its first step only after a connection stayed up for a while
 * (`backoff.stableAfterMs`): a switch that accepts and then drops every connection is retried
 * with a growing delay, and logged once per episode plus a summary every 30 s, not per drop.
 *
 * A connection can also get stuck without dropping: FreeSWITCH reads the commands and answers
 * none (a blocked listener thread), or answers with messages of a type no command expects.
 * When commands are waiting and no reply has come for `replyTimeoutMs`, the connection is
 * closed and opened again like a lost one (its owner requeues what was unanswered), and
 * `problem` says what happened until a reply shows the new connection works.
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

export type FatalReason = 'auth-rejected' | 'not-event-socket' | 'access-denied' | 'setup-rejected';

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
  /**
   * A connection (ready or still in its handshake) went away; a retry is scheduled. `stalled`:
   * it was closed because its commands got no reply for replyTimeoutMs.
   */
  onDown?(reason: string, stalled: boolean): void;
  onFatal(error: EslFatalError): void;
}

type State = 'idle' | 'connecting' | 'authenticating' | 'setup' | 'ready' | 'retry-wait' | 'closed' | 'fatal';

/** How often a still-failing or flapping reconnect loop is reported at warn level (in between: debug). */
const STILL_DOWN_WARN_INTERVAL_MS = 30_000;
/** Least time between two warnings about unknown message types or stalled replies, per connection. */
const FAULT_WARN_INTERVAL_MS = 30_000;
/** Longest piece of text from the network put into a log line or an error. */
const MAX_QUOTED = 120;

/**
 * One run of trouble: from the first loss (or failed connect) until a connection stays up for
 * stableAfterMs. Logged at its start, then summarised at most every 30 s.
 */
interface TroubleEpisode {
  readonly since: number;
  drops: number;
  /** Connections that became ready during the episode (and dropped again). */
  readies: number;
  lastWarnAt: number;
}

export class EslConnection {
  private state: State = 'idle';
  private socket: Socket | null = null;
  /** Bumped per socket, so late events of an old socket are ignored. */
  private generation = 0;
  private readonly framer: EslFramer;
  private pending: ReplyCallback[] = [];
  /** What each pending command is ('sendevent', 'api', ...), same indices as `pending`: named in stall reports. */
  private pendingWhat: string[] = [];
  private pendingHead = 0;
  private batch: Buffer[] = [];
  private attempt = 0;
  private everReady = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private lastError = '';
  /** Why the connection is down now ('' while ready): for `problem`. */
  private downReason = '';
  private episode: TroubleEpisode | null = null;
  private readySince = 0;
  private closeWaiters: (() => void)[] = [];
  /** Reply watchdog: replies seen, and when that count last moved (or commands started waiting). */
  private repliesSeen = 0;
  private progressMark = 0;
  private progressAt = 0;
  private watchdog: NodeJS.Timeout | undefined;
  /** The current socket was closed because no reply came: not a healthy connection. */
  private stalledSocket = false;
  /** What went wrong with replies, shown by `problem` until a reply arrives again. */
  private stallText: string | null = null;
  private fatalText: string | null = null;
  private unknownSinceProgress = 0;
  private lastUnknownType = '';
  private readonly lastFaultWarn = new Map<string, number>();

  /** Times a connection became ready again after the first time. */
  reconnects = 0;
  /** Replies that arrived with no command waiting for one. */
  unexpectedReplies = 0;
  /** Messages of a content type the event socket does not send (counted, ignored). */
  unknownMessages = 0;
  /** Connections closed because commands waited longer than replyTimeoutMs for a reply. */
  replyTimeouts = 0;
  eventsReceived = 0;
  readBatches = 0;

  constructor(
    private readonly endpoint: ResolvedEndpoint,
    private readonly hooks: EslConnectionHooks,
  ) {
    this.framer = new EslFramer((envelope, body) => this.onMessage(envelope, body));
  }

  /** Subscribed and usable: also false between a stall closing the socket and its 'close' event. */
  get ready(): boolean {
    return this.state === 'ready' && this.socket !== null && !this.socket.destroyed;
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
    return this.lastError || this.downReason;
  }

  /**
   * What is wrong with this connection now, in words for /healthz, or null when it works:
   * not connected (and why), no reply for replyTimeoutMs (until a reply comes again), or stopped.
   */
  get problem(): string | null {
    if (this.fatalText !== null) return `stopped: ${this.fatalText}`;
    if (this.state === 'closed') return null;
    // A stall is over once the new connection answered, or has nothing left to answer.
    if (this.stallText !== null && this.state === 'ready' && this.awaitingReplies === 0) this.stallText = null;
    if (this.stallText !== null) return this.state === 'ready' ? this.stallText : `${this.stallText}; reconnecting`;
    if (this.state === 'ready') return null;
    const why = this.lastError || this.downReason;
    return `not connected to FreeSWITCH at ${this.where()}${why ? ` (${why})` : ''}`;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.open();
  }

  /** Writes one command line (`\n\n` is appended) and resolves with its reply. */
  request(command: string): Promise<EslReply> {
    return new Promise((resolve, reject) => {
      if (!this.authenticated || this.socket === null || this.socket.destroyed) {
        reject(new EslNotConnectedError(`event socket ${this.hooks.label} is not connected to FreeSWITCH at ${this.where()}`));
        return;
      }
      this.noteWaiting();
      this.pending.push((reply) => (reply === null ? reject(new EslNotConnectedError(`event socket ${this.hooks.label}: connection lost before the reply`)) : resolve(reply)));
      this.pendingWhat.push(verbOf(command));
      this.socket.write(command + '\n\n');
    });
  }

  /**
   * Writes complete command texts back to back (one writev), each completed by `onReply` in
   * order. Returns false (writing nothing) when not authenticated.
   */
  writeCommands(commands: readonly Buffer[], onReply: ReplyCallback, what = 'sendevent'): boolean {
    const socket = this.socket;
    if (!this.authenticated || socket === null || socket.destroyed) return false;
    this.noteWaiting();
    socket.cork();
    for (const command of commands) {
      this.pending.push(onReply);
      this.pendingWhat.push(what);
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
      // The first cause stays (a stall closes the socket, and a write after that errors too).
      if (generation === this.generation && this.lastError === '') this.lastError = err.code ?? err.message;
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
      case 'text/event-json':
      case 'text/event-xml':
      case 'log/data':
        // FreeSWITCH sends these only to clients that asked for them; harmless if they come.
        this.endpoint.logger.debug(this.fields({ contentType: envelope.contentType }), 'ignoring event-socket message');
        return;
      default:
        this.onUnknownMessage(envelope);
    }
  }

  /**
   * A content type FreeSWITCH's event socket does not send. Counted and ignored; if it came in
   * place of a reply, the reply watchdog recycles the connection and says so.
   */
  private onUnknownMessage(envelope: EslEnvelope): void {
    this.unknownMessages++;
    this.unknownSinceProgress++;
    this.lastUnknownType = quoted(envelope.contentType || '(none)');
    this.faultWarn(
      'unknown-type',
      { contentType: this.lastUnknownType, replyText: envelope.replyText === undefined ? undefined : quoted(envelope.replyText), unknownMessages: this.unknownMessages, waitingForReplies: this.awaitingReplies },
      'FreeSWITCH sent an event-socket message of a type no command expects; ignored',
    );
  }

  private completeOldest(reply: EslReply): void {
    if (this.pendingHead >= this.pending.length) {
      this.unexpectedReplies++;
      this.endpoint.logger.debug(this.fields({ replyText: reply.replyText }), 'reply with no command waiting');
      return;
    }
    this.repliesSeen++;
    this.unknownSinceProgress = 0;
    if (this.stallText !== null && this.state === 'ready') this.stallText = null;
    const callback = this.pending[this.pendingHead]!;
    this.pending[this.pendingHead] = noop;
    this.pendingWhat[this.pendingHead++] = '';
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingWhat = this.pendingWhat.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    callback(reply);
  }

  private answerAuthRequest(): void {
    const socket = this.socket;
    if (this.state !== 'authenticating' || socket === null) return;
    const generation = this.generation;
    this.noteWaiting();
    this.pending.push((reply) => {
      if (reply === null || generation !== this.generation) return;
      const refusal = authRefusal(reply, this.where());
      if (refusal === null) this.runSetup(generation);
      else this.fatal(refusal);
    });
    this.pendingWhat.push('auth');
    socket.write(`auth ${this.endpoint.password}\n\n`);
  }

  // ---- reply watchdog ------------------------------------------------------------------------

  /** Called before commands are written: when none were waiting, the wait for progress starts now. */
  private noteWaiting(): void {
    if (this.awaitingReplies === 0) {
      this.progressMark = this.repliesSeen;
      this.progressAt = Date.now();
    }
    if (this.watchdog !== undefined) return;
    const every = Math.max(5, Math.floor(this.endpoint.replyTimeoutMs / 4));
    this.watchdog = setInterval(() => this.checkProgress(), every);
    this.watchdog.unref();
  }

  /** A count compared every quarter timeout: no per-reply timer or clock read on the hot path. */
  private checkProgress(): void {
    if (this.awaitingReplies === 0 || this.socket === null) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
      return;
    }
    const now = Date.now();
    if (this.repliesSeen !== this.progressMark) {
      this.progressMark = this.repliesSeen;
      this.progressAt = now;
      return;
    }
    if (now - this.progressAt >= this.endpoint.replyTimeoutMs) this.onStall(now - this.progressAt);
  }

  private onStall(waitedMs: number): void {
    const what = this.pendingWhat[this.pendingHead] || 'a command';
    const waiting = this.awaitingReplies;
    this.replyTimeouts++;
    this.stalledSocket = true;
    const instead = this.unknownSinceProgress > 0 ? ` (it sent ${this.unknownSinceProgress} message(s) of unknown type ${this.lastUnknownType} instead)` : '';
    const after = secondsText(this.endpoint.replyTimeoutMs);
    this.stallText = `no reply to ${what} for ${after} s${instead}`;
    this.lastError = this.stallText;
    this.faultWarn(
      'stall',
      { waitingForReplies: waiting, waitedMs, replyTimeoutMs: this.endpoint.replyTimeoutMs, replyTimeouts: this.replyTimeouts },
      `FreeSWITCH sent no reply to ${what} for ${after} s${instead}; closing the event-socket connection and opening a new one`,
    );
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.socket?.destroy();
  }

  /** Warns at most once per FAULT_WARN_INTERVAL_MS per kind (the counters keep the totals). */
  private faultWarn(kind: string, fields: object, message: string): void {
    const now = Date.now();
    const last = this.lastFaultWarn.get(kind);
    if (last !== undefined && now - last < FAULT_WARN_INTERVAL_MS) {
      this.endpoint.logger.debug(this.fields(fields), message);
      return;
    }
    this.lastFaultWarn.set(kind, now);
    this.endpoint.logger.warn(this.fields(fields), message);
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
          this.readySince = Date.now();
          this.downReason = '';
          // The backoff is not reset here: only a connection that stays up resets it (see onSocketClosed).
          if (this.everReady) this.reconnects++;
          const e = this.episode;
          if (e === null || e.readies === 0) {
            this.endpoint.logger.info(
              this.fields(this.everReady ? { downMs: e === null ? 0 : this.readySince - e.since, reconnects: this.reconnects } : {}),
              this.everReady ? 'reconnected to FreeSWITCH event socket' : 'connected to FreeSWITCH event socket',
            );
          } else {
            this.endpoint.logger.debug(this.fields({ reconnects: this.reconnects }), 'reconnected to FreeSWITCH event socket (again)');
          }
          if (e !== null) e.readies++;
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
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.framer.reset();
    this.batch = [];
    this.failPending();
    if (previous === 'closed' || previous === 'fatal') {
      const waiters = this.closeWaiters;
      this.closeWaiters = [];
      for (const w of waiters) w();
      return;
    }
    const now = Date.now();
    const reason = this.lastError || (previous === 'ready' ? 'FreeSWITCH closed the connection' : `closed during ${previous}`);
    const stalled = this.stalledSocket;
    const longLived = previous === 'ready' && now - this.readySince >= this.endpoint.backoff.stableAfterMs;
    this.stalledSocket = false;
    this.downReason = reason;
    this.state = 'retry-wait';
    // Only a connection that stayed up and answered starts the backoff again from its first step.
    if (longLived && !stalled) this.attempt = 0;
    const delay = backoffDelayMs(this.attempt++, this.endpoint.backoff);
    this.reportDown(previous, reason, delay, longLived || this.episode === null, stalled, now);
    this.lastError = '';
    try {
      this.hooks.onDown?.(reason, stalled);
    } finally {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.state === 'retry-wait') this.open();
      }, delay);
    }
  }

  /**
   * One warning when trouble starts, then a summary at most every 30 s; the rest at debug level.
   * A connection closed for a stall was already warned about (rate-limited) by onStall.
   */
  private reportDown(previous: State, reason: string, delay: number, newEpisode: boolean, stalled: boolean, now: number): void {
    const log = this.endpoint.logger;
    if (newEpisode) {
      this.episode = { since: now, drops: 1, readies: 0, lastWarnAt: now };
      (stalled ? log.debug.bind(log) : log.warn.bind(log))(
        this.fields({ reason, retryInMs: delay }),
        previous === 'ready' ? 'lost the FreeSWITCH event socket; reconnecting' : 'cannot connect to FreeSWITCH event socket; retrying with backoff',
      );
      return;
    }
    const e = this.episode!;
    e.drops++;
    const fields = { reason, attempts: this.attempt, drops: e.drops, connectedBetween: e.readies, downMs: now - e.since, retryInMs: delay };
    if (stalled || now - e.lastWarnAt < STILL_DOWN_WARN_INTERVAL_MS) {
      log.debug(this.fields(fields), 'event socket retry failed');
      return;
    }
    e.lastWarnAt = now;
    log.warn(
      this.fields(fields),
      e.readies > 0
        ? 'FreeSWITCH event socket keeps dropping soon after it connects; retrying with backoff'
        : 'FreeSWITCH event socket still unreachable; retrying',
    );
  }

  private failPending(): void {
    const callbacks = this.pending.slice(this.pendingHead);
    this.pending = [];
    this.pendingWhat = [];
    this.pendingHead = 0;
    for (const callback of callbacks) callback(null);
  }

  /** Not logged here: the owner reports it, once (several connections hit the same cause). */
  private fatal(error: EslFatalError): void {
    if (this.state === 'fatal' || this.state === 'closed') return;
    this.state = 'fatal';
    this.fatalText = error.message;
    this.clearTimers();
    this.socket?.destroy();
    this.hooks.onFatal(error);
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.handshakeTimer);
    clearInterval(this.watchdog);
    this.retryTimer = undefined;
    this.watchdog = undefined;
  }
}

function noop(): void {}

/** 5000 -> '5', 300 -> '0.3'. */
function secondsText(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1);
}

/** The first word of a command line, for messages ('api', 'event', 'sendevent'). */
function verbOf(command: string): string {
  const end = command.search(/[ \n]/);
  return end < 0 ? command : command.slice(0, end);
}

/** Text from the network made safe to quote in a log line: control bytes escaped, length bounded. */
export function quoted(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return JSON.stringify(clean.length > MAX_QUOTED ? `${clean.slice(0, MAX_QUOTED)}…` : clean);
}

/**
 * What the answer to `auth` means: null when accepted, else the fatal error that says what
 * actually came back. Only `command/reply` `+OK accepted` or `-ERR invalid` come from an event
 * socket; anything else means the port is something else (or FreeSWITCH is not what we think).
 */
export function authRefusal(reply: EslReply, where: string): EslFatalError | null {
  const text = (reply.replyText ?? '').trim();
  if (reply.contentType === CONTENT_TYPES.commandReply) {
    if (text.startsWith('+OK')) return null;
    if (text.startsWith('-ERR invalid') || text === '-ERR') {
      return new EslFatalError('auth-rejected', `FreeSWITCH at ${where} rejected the event-socket password (${text}); check the ESL password setting — not retrying`);
    }
    return new EslFatalError(
      'not-event-socket',
      `FreeSWITCH at ${where} answered 'auth' with ${quoted(text || 'an empty reply')}, where an event socket answers '+OK accepted' or '-ERR invalid': is this FreeSWITCH's event socket? Check esl-host and esl-port — not retrying`,
    );
  }
  const body = reply.body === null ? '' : reply.body.toString('utf8').trim();
  const said = text || body;
  return new EslFatalError(
    'not-event-socket',
    `expected a command/reply to 'auth' from ${where}, got ${reply.contentType || 'a message without Content-Type'}${said ? ` (${quoted(said)})` : ''}: not an event socket? Check esl-host and esl-port — not retrying`,
  );
}
