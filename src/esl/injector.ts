/**
 * SendeventInjector: fires events into the local FreeSWITCH over N event-socket connections.
 *
 * FreeSWITCH reads event-socket commands one byte per recv(): a ~1.2 KB sendevent costs it
 * ~1.3 ms of CPU, so one connection carries ~740 sendevents/s and two ~1470/s on a 2-core box
 * (four or more are slower again). Hence a small fixed number of connections (default 2),
 * each pipelined: up to `maxInFlight` commands are written without waiting, and each
 * `+OK <uuid>` / `-ERR ...` reply (they come back in order) retires the oldest.
 *
 * Events with the same order key always take the same connection (a hash of the key), so they
 * keep their order; the bridge keys a received event by the SIP user or call it is about, else
 * by its sender (src/wire/order-key.ts), so one busy peer spreads over every connection. Each
 * connection has a bounded queue built for overload (src/esl/ingress-queue.ts): a newer event
 * for the same state (registration, presence entity, mailbox: src/wire/supersede-key.ts)
 * replaces the queued older one in place (`superseded`), urgent events (HEARTBEAT,
 * peerup/peerdown) go first, a registration past its own expiry is not sent (`expired`), and
 * beyond its count, bytes and age bounds the oldest commands are dropped, counted
 * (`droppedOldest`, `droppedTooOld`), with a rate-limited warning naming the cause. Every
 * command offered ends in exactly one of: delivered, -ERR/unknown reply, superseded, expired,
 * dropped (oldest, too old, refused, abandoned), or still queued / in flight.
 *
 * Unanswered commands, and what "without duplicates" means here. FreeSWITCH answers a
 * connection's commands in order, so a reply proves that command (and every earlier one) was
 * fired. When a connection drops, or FreeSWITCH answers nothing for replyTimeoutMs (the
 * connection is then closed and opened again), the written-but-unanswered commands are
 * uncertain: FreeSWITCH may have fired some before it stopped answering, or may still run
 * what it had buffered. They are put back once, at the head of the queue in their order, and
 * written again on the next connection: at-least-once (for the latest state: one whose
 * supersede key a newer queued command holds is not put back, counted superseded, since the
 * newer one is written after it anyway). Chosen over at-most-once because what
 * is replicated is state (registrations, presence, MWI), where firing an event twice is
 * harmless (mod_sofia replaces the registration, a second NOTIFY repeats the state) and losing
 * one is not (a lost unregister leaves a stale registration). What the bridge guarantees is
 * that it never duplicates on its own: a command is retired by its reply or requeued, never
 * both, never requeued twice for one loss (replies of a closed socket are ignored), and
 * commands FreeSWITCH acknowledged are never written again. The uncertain ones are counted
 * (`requeued`), so a possible duplicate is visible. A command that is the first unanswered
 * one at MAX_SUSPECT_STALLS timeouts in a row is dropped (`abandoned`): it may be what
 * blocks FreeSWITCH, and keeping it would stop that connection for good.
 */
import { Fifo } from '../util/fifo.js';
import { IngressQueue, type QueuedCommand } from './ingress-queue.js';
import { RateLimit } from '../util/rate-limit.js';
import { EslConnection, type EslFatalError, type EslReply } from './connection.js';
import { positiveInteger, resolveEndpoint, type EslEndpointOptions, type EslLogger, type ResolvedEndpoint } from './options.js';

export interface SendeventInjectorOptions extends EslEndpointOptions {
  /** Number of connections (setting `injectors`, 1..64, default 2: one per core of the measured 2-core FreeSWITCH). */
  connections?: number;
  /** Per connection: most commands queued before the oldest are dropped (default 10000). */
  maxQueuedEvents?: number;
  /** Per connection: most bytes queued before the oldest are dropped (default 16 MiB). */
  maxQueuedBytes?: number;
  /** Per connection: commands written ahead of their replies (default 64). */
  maxInFlight?: number;
  /** Per connection: longest a command may wait in the queue, ms (default 0: no age bound; setting max-queue-age). */
  maxQueueAgeMs?: number;
  /** Clock for queue ages and expiries, ms (default performance.now). */
  clock?: () => number;
  /** Least time between two warnings of the same kind per connection (default 10000 ms). */
  warnIntervalMs?: number;
  /** Wrong password or ACL: the injector has stopped for good. */
  onFatal?(error: EslFatalError): void;
  /** For commands sent with a start time: seconds from then to FreeSWITCH's `+OK` (latency metrics). */
  onReplyLatency?(seconds: number): void;
}

export interface InjectorConnectionStats {
  connected: boolean;
  /** Commands handed to send(). */
  offered: number;
  queued: number;
  queuedBytes: number;
  inFlight: number;
  /** Commands written to the socket (re-writes after a reconnect count again). */
  written: number;
  /** Replies `+OK ...`: FreeSWITCH fired the event. */
  delivered: number;
  repliesOk: number;
  /** Replies `-ERR ...`. */
  repliesErr: number;
  /** Replies that are neither `+OK` nor `-ERR`, and replies with no command waiting. */
  repliesUnknown: number;
  /** Dropped to keep the queue within maxQueuedEvents / maxQueuedBytes. */
  droppedOldest: number;
  /** Replaced in the queue by a newer event for the same state (src/wire/supersede-key.ts). */
  superseded: number;
  /** Registrations still queued when their own expiry had passed. */
  expired: number;
  /** Queued longer than maxQueueAgeMs. */
  droppedTooOld: number;
  /** A single command larger than maxQueuedBytes, or sent after close(). */
  droppedRefused: number;
  /**
   * Written but unanswered commands put back in the queue after a connection dropped or
   * stalled: FreeSWITCH may have fired them already, so each may fire twice (at-least-once).
   */
  requeued: number;
  /** Connections closed and reopened because FreeSWITCH answered nothing for replyTimeoutMs. */
  replyTimeouts: number;
  /** Commands dropped after being the first unanswered one at MAX_SUSPECT_STALLS timeouts in a row. */
  abandoned: number;
  /** Messages of an unknown content type from FreeSWITCH (ignored). */
  unknownMessages: number;
  reconnects: number;
}

export type InjectorStats = InjectorConnectionStats & { perConnection: InjectorConnectionStats[] };

/** A command left unanswered at this many reply timeouts in a row (as the first one waiting) is dropped. */
export const MAX_SUSPECT_STALLS = 3;

const DEFAULTS = { connections: 2, maxQueuedEvents: 10_000, maxQueuedBytes: 16 * 1024 * 1024, maxInFlight: 64, maxQueueAgeMs: 0, warnIntervalMs: 10_000 };

/** How a command may be treated while queued (see src/esl/ingress-queue.ts); absent: plain FIFO. */
export interface SendTag {
  /** Replaces a queued command with the same key and order key (src/wire/supersede-key.ts). */
  supersedeKey?: string | null;
  /** Seconds after it is sent (queued) that it is no longer worth firing: a register's expires. */
  expiresS?: number | null;
  /** Goes before every non-urgent command: HEARTBEAT, peerup/peerdown. */
  urgent?: boolean;
}

export class SendeventInjector {
  private readonly lanes: SendeventConnection[];
  private closing = false;

  constructor(options: SendeventInjectorOptions) {
    const owner = 'SendeventInjector';
    const endpoint = resolveEndpoint(options, owner);
    const settings = {
      connections: options.connections ?? DEFAULTS.connections,
      maxQueuedEvents: options.maxQueuedEvents ?? DEFAULTS.maxQueuedEvents,
      maxQueuedBytes: options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight,
      maxQueueAgeMs: options.maxQueueAgeMs ?? DEFAULTS.maxQueueAgeMs,
      clock: options.clock ?? (() => performance.now()),
      warnIntervalMs: options.warnIntervalMs ?? DEFAULTS.warnIntervalMs,
      stamps: options.onReplyLatency === undefined ? null : { at: new WeakMap<Buffer, number>(), observe: options.onReplyLatency },
    };
    positiveInteger(settings.connections, `${owner}: option 'connections'`);
    if (settings.connections > 64) throw new RangeError(`${owner}: option 'connections' must be 1..64, got ${settings.connections}`);
    positiveInteger(settings.maxQueuedEvents, `${owner}: option 'maxQueuedEvents'`);
    positiveInteger(settings.maxQueuedBytes, `${owner}: option 'maxQueuedBytes'`);
    positiveInteger(settings.maxInFlight, `${owner}: option 'maxInFlight'`);
    positiveInteger(settings.warnIntervalMs, `${owner}: option 'warnIntervalMs'`);
    if (!Number.isFinite(settings.maxQueueAgeMs) || settings.maxQueueAgeMs < 0) throw new RangeError(`${owner}: option 'maxQueueAgeMs' must be >= 0 (0 = no age bound), got ${settings.maxQueueAgeMs}`);
    let fatalReported = false;
    const onFatal = (error: EslFatalError): void => {
      if (fatalReported) return; // every connection hits the same wrong password
      fatalReported = true;
      for (const lane of this.lanes) void lane.connection.close();
      if (options.onFatal !== undefined) options.onFatal(error);
      else endpoint.logger.error({ esl: 'injector', reason: error.reason }, error.message);
    };
    this.lanes = Array.from({ length: settings.connections }, (_, i) => new SendeventConnection(i + 1, endpoint, settings, onFatal));
  }

  start(): void {
    for (const lane of this.lanes) lane.connection.start();
  }

  /** What is wrong now, one line per connection with a problem (empty when all work), for /healthz. */
  problems(): string[] {
    const out: string[] = [];
    for (const lane of this.lanes) {
      const p = lane.connection.problem;
      if (p !== null) out.push(`${lane.label}: ${p}${lane.inFlightOrQueued > 0 ? ` (${lane.inFlightOrQueued} sendevents waiting)` : ''}`);
    }
    return out;
  }

  /**
   * Queues one complete command text (`sendevent CUSTOM\n...\n\n[body]`) on the connection of
   * its order key. Never blocks; `tag` says whether it may replace a queued one, expires, or goes
   * first (see SendTag); drops the oldest queued commands when the queue is full.
   */
  send(orderKey: string, command: Buffer, startedAtMs?: number, tag?: SendTag): void {
    const lane = this.laneFor(orderKey);
    lane.counters.offered++;
    if (this.closing) {
      lane.counters.droppedRefused++;
      return;
    }
    const stamps = lane.stamps;
    if (startedAtMs !== undefined && stamps !== null) stamps.at.set(command, startedAtMs);
    // The order key is part of the queue key: a replacement never moves one key's event past another's.
    const key = tag?.supersedeKey == null ? null : `${orderKey}\u0000${tag.supersedeKey}`;
    lane.enqueue(command, key, tag?.urgent === true, tag?.expiresS ?? null);
  }

  /** The connection index (0-based) an order key's commands use. */
  connectionIndexOf(orderKey: string): number {
    return this.laneFor(orderKey).index - 1;
  }

  stats(): InjectorStats {
    const perConnection = this.lanes.map((lane) => lane.stats());
    const total: InjectorConnectionStats = { ...perConnection[0]! };
    for (const s of perConnection.slice(1)) {
      for (const key of Object.keys(total) as (keyof InjectorConnectionStats)[]) {
        if (key === 'connected') total.connected = total.connected && s.connected;
        else total[key] += s[key];
      }
    }
    return { ...total, perConnection };
  }

  /**
   * Stops accepting commands, waits up to `drainTimeoutMs` for the queues to be written and
   * answered, then closes the connections. Resolves with the final stats (what is still
   * queued or in flight then was not delivered).
   */
  async close(drainTimeoutMs = 2000): Promise<InjectorStats> {
    this.closing = true;
    const deadline = Date.now() + drainTimeoutMs;
    while (Date.now() < deadline && this.lanes.some((lane) => lane.busy && !lane.connection.closedForGood)) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const final = this.stats();
    await Promise.all(this.lanes.map((lane) => lane.connection.close()));
    return final;
  }

  /** Stateless (a hash): keys are many (one per SIP user or call), and remembering them would need a bound. */
  private laneFor(orderKey: string): SendeventConnection {
    return this.lanes.length === 1 ? this.lanes[0]! : this.lanes[fnv1a(orderKey) % this.lanes.length]!;
  }
}

interface LaneSettings {
  maxQueuedEvents: number;
  maxQueuedBytes: number;
  maxInFlight: number;
  maxQueueAgeMs: number;
  clock: () => number;
  warnIntervalMs: number;
  /** Start times (performance.now() ms) of the few commands sampled for latency; shared by the lanes. */
  stamps: ReplyStamps | null;
}

/** Sampled commands' start times; a WeakMap, so a dropped command leaves nothing behind. */
interface ReplyStamps {
  readonly at: WeakMap<Buffer, number>;
  observe(seconds: number): void;
}

/** One connection with its queue and its in-flight window. */
class SendeventConnection {
  readonly connection: EslConnection;
  readonly counters = { offered: 0, written: 0, repliesOk: 0, repliesErr: 0, repliesUnknown: 0, droppedRefused: 0, requeued: 0, abandoned: 0 };
  private readonly queue: IngressQueue;
  /** Written, reply not yet received, oldest first. */
  private inFlight = new Fifo<QueuedCommand>();
  private readonly logger: EslLogger;
  readonly label: string;
  /** The first unanswered command at the last reply timeout, and at how many timeouts in a row it was. */
  private suspect: Buffer | null = null;
  private suspectStalls = 0;
  private readonly warnLimit: RateLimit;
  private droppedSinceWarn = 0;
  /** queue.counters.droppedOldest when last looked at (what the warning reports is the difference). */
  private droppedSeen = 0;
  private errSinceWarn = 0;
  private readonly onReply = (reply: EslReply | null): void => this.handleReply(reply);

  constructor(
    readonly index: number,
    endpoint: ResolvedEndpoint,
    private readonly settings: LaneSettings,
    onFatal: (error: EslFatalError) => void,
  ) {
    this.logger = endpoint.logger;
    this.label = `injector#${index}`;
    this.warnLimit = new RateLimit(settings.warnIntervalMs);
    this.queue = new IngressQueue({ maxCount: settings.maxQueuedEvents, maxBytes: settings.maxQueuedBytes, maxAgeMs: settings.maxQueueAgeMs }, settings.clock);
    this.connection = new EslConnection(endpoint, {
      label: this.label,
      onReady: () => this.pump(),
      onDown: (_reason, stalled) => this.requeueInFlight(stalled),
      onFatal,
    });
  }

  get busy(): boolean {
    return this.queue.length > 0 || this.inFlight.length > 0;
  }

  get stamps(): ReplyStamps | null {
    return this.settings.stamps;
  }

  get inFlightOrQueued(): number {
    return this.queue.length + this.inFlight.length;
  }

  enqueue(command: Buffer, key: string | null, urgent: boolean, expiresS: number | null): void {
    if (command.length > this.settings.maxQueuedBytes) {
      this.counters.droppedRefused++;
      this.warn('oversize', { bytes: command.length, maxQueuedBytes: this.settings.maxQueuedBytes }, 'sendevent larger than the whole queue; dropped');
      return;
    }
    const now = this.settings.clock();
    this.queue.push({ command, key, urgent, queuedAtMs: now, expiresAtMs: expiresS === null ? Infinity : now + expiresS * 1000 });
    this.noteDropped();
    this.pump();
  }

  stats(): InjectorConnectionStats {
    return {
      connected: this.connection.ready,
      queued: this.queue.length,
      queuedBytes: this.queue.bytes,
      inFlight: this.inFlight.length,
      delivered: this.counters.repliesOk,
      ...this.counters,
      ...this.queue.counters,
      repliesUnknown: this.counters.repliesUnknown + this.connection.unexpectedReplies,
      replyTimeouts: this.connection.replyTimeouts,
      unknownMessages: this.connection.unknownMessages,
      reconnects: this.connection.reconnects,
    };
  }

  /** Writes queued commands while the window has room. */
  private pump(): void {
    if (!this.connection.ready) return;
    const room = this.settings.maxInFlight - this.inFlight.length;
    if (room <= 0 || this.queue.length === 0) return;
    const batch: Buffer[] = [];
    for (const entry of this.queue.takeUpTo(room)) {
      batch.push(entry.command);
      this.inFlight.push(entry);
    }
    if (batch.length === 0) return; // the rest had expired or grown too old
    this.connection.writeCommands(batch, this.onReply);
    this.counters.written += batch.length;
  }

  private handleReply(reply: EslReply | null): void {
    if (reply === null) return; // connection lost: onDown puts the in-flight commands back
    const answered = this.inFlight.shift();
    if (answered !== undefined && answered.command === this.suspect) {
      this.suspect = null;
      this.suspectStalls = 0;
    }
    const text = reply.replyText ?? (reply.body?.toString('utf8').trim() || '');
    if (text.startsWith('+OK')) {
      this.counters.repliesOk++;
      const stamps = this.settings.stamps;
      const at = stamps === null || answered === undefined ? undefined : stamps.at.get(answered.command);
      if (at !== undefined) {
        stamps!.at.delete(answered!.command);
        stamps!.observe((performance.now() - at) / 1000);
      }
    } else {
      if (text.startsWith('-ERR')) this.counters.repliesErr++;
      else this.counters.repliesUnknown++;
      this.errSinceWarn++;
      if (this.warn('reply', { reply: text.slice(0, 200), notOkSinceLastWarning: this.errSinceWarn }, 'FreeSWITCH did not accept a sendevent')) {
        this.errSinceWarn = 0;
      }
    }
    this.pump();
  }

  /** Puts the unanswered commands back, once, in order (see the file comment for why at-least-once). */
  private requeueInFlight(stalled: boolean): void {
    if (this.inFlight.length === 0) return;
    if (stalled) this.judgeSuspect();
    if (this.inFlight.length === 0) return;
    this.counters.requeued += this.inFlight.length;
    this.queue.prependFront([...this.inFlight]);
    this.inFlight = new Fifo<QueuedCommand>();
    this.noteDropped();
  }

  /** The first unanswered command at a reply timeout is the likeliest cause; drop it if it keeps being that. */
  private judgeSuspect(): void {
    const first = this.inFlight.peek();
    if (first?.command === this.suspect) this.suspectStalls++;
    else {
      this.suspect = first?.command ?? null;
      this.suspectStalls = 1;
    }
    if (this.suspectStalls < MAX_SUSPECT_STALLS) return;
    this.inFlight.shift();
    this.counters.abandoned++;
    this.suspect = null;
    this.suspectStalls = 0;
    this.logger.warn(
      { esl: this.label, command: describeCommand(first!.command), abandonedTotal: this.counters.abandoned },
      `dropped a sendevent that was the first one FreeSWITCH left unanswered ${MAX_SUSPECT_STALLS} times in a row: it may be what stops FreeSWITCH from answering`,
    );
  }

  /** Warns (rate-limited) when the queue's bounds dropped commands since the last look. */
  private noteDropped(): void {
    const dropped = this.queue.counters.droppedOldest - this.droppedSeen;
    if (dropped === 0) return;
    this.droppedSeen = this.queue.counters.droppedOldest;
    this.droppedSinceWarn += dropped;
    const cause = this.connection.ready
      ? `FreeSWITCH is not keeping up: ${this.inFlight.length} sendevents await its replies. It reads each command's headers one byte ` +
        'at a time (~1 µs of its CPU per byte, one core per connection); fire fewer events (ingress-bindings), keep lean-sendevent on, ' +
        'and use as many injectors as FreeSWITCH has cores'
      : `FreeSWITCH event socket is not connected${this.connection.lastFailure ? ` (${this.connection.lastFailure})` : ''}`;
    if (
      this.warn(
        'dropped',
        { cause, droppedSinceLastWarning: this.droppedSinceWarn, droppedTotal: this.queue.counters.droppedOldest, superseded: this.queue.counters.superseded, maxQueuedEvents: this.settings.maxQueuedEvents, maxQueuedBytes: this.settings.maxQueuedBytes },
        'sendevent queue full; dropping the oldest',
      )
    ) {
      this.droppedSinceWarn = 0;
    }
  }

  /** Logs at warn level unless the same kind was logged within warnIntervalMs; returns whether it logged. */
  private warn(kind: string, fields: object, message: string): boolean {
    if (!this.warnLimit.allow(kind)) return false;
    this.logger.warn({ esl: this.label, ...fields }, message);
    return true;
  }
}

/** The first line and the Event-Subclass of a sendevent, for a log line (bounded, printable). */
function describeCommand(command: Buffer): string {
  const head = command.subarray(0, 512).toString('latin1');
  const nl = head.indexOf('\n');
  const first = nl < 0 ? head : head.slice(0, nl);
  const subclass = /\nEvent-Subclass: ?([^\n]*)/.exec(head)?.[1];
  const origName = /\nOrig-Event-Name: ?([^\n]*)/.exec(head)?.[1];
  // eslint-disable-next-line no-control-regex
  const printable = (t: string) => t.replace(/[\x00-\x1f\x7f-\xff]/g, '?').slice(0, 80);
  return [first, subclass && `Event-Subclass: ${subclass}`, origName && `Orig-Event-Name: ${origName}`].filter(Boolean).map((t) => printable(t as string)).join(', ');
}

/** 32-bit FNV-1a over the UTF-16 code units: stable, cheap, spreads short names well. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
