/**
 * SendeventInjector: fires events into the local FreeSWITCH over N event-socket connections.
 *
 * FreeSWITCH reads an event-socket command's head one byte per recv() (each followed by a
 * sched_yield()), one thread per connection: a replicated registration's head costs it several
 * ms of CPU (README, "Calibrating the simulated switch"). Hence a small fixed number of
 * connections (default 2, one per core; more are slower again), and on each a window of
 * `maxInFlight` commands written ahead of their replies (default 64: a batch of received events
 * from the pool goes out in one write; FreeSWITCH then holds at most 64 commands per connection,
 * a fraction of a second of its CPU, beyond which the backlog stays in this queue, where a newer
 * state supersedes it). Each `+OK <uuid>` / `-ERR ...` reply (they come back in order) retires the
 * oldest. With the batch hook, batches instead (see pumpBatches), at most 2 not fanned out.
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
import { randomBytes, randomUUID } from 'node:crypto';
import { Fifo } from '../util/fifo.js';
import { IngressQueue, type QueuedCommand } from './ingress-queue.js';
import { RateLimit } from '../util/rate-limit.js';
import { EslConnection, type EslFatalError, type EslReply } from './connection.js';
import { positiveInteger, resolveEndpoint, type EslEndpointOptions, type EslLogger, type ResolvedEndpoint } from './options.js';
import { BATCH_DONE_VARIABLE_PREFIX, BATCH_PROBE_VARIABLE, MAX_BATCH_BODY_BYTES, MAX_BATCH_EVENTS, batchCommand, encodeBatchBody, parseSendeventForBatch, type BatchRecord } from './batch-command.js';

export interface SendeventInjectorOptions extends EslEndpointOptions {
  /** Number of connections (setting `injectors`, 1..64, default 2: one per core of the measured 2-core FreeSWITCH). */
  connections?: number;
  /** Per connection: most commands queued before the oldest are dropped (default 10000). */
  maxQueuedEvents?: number;
  /** Per connection: most bytes queued before the oldest are dropped (default 16 MiB). */
  maxQueuedBytes?: number;
  /** Per connection: commands written ahead of their replies (default 64; batches: at most MAX_BATCHES_IN_FLIGHT). */
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
  /**
   * Batched injection (src/esl/batch-command.ts): 'no' (default here; the bridge passes its
   * `inject-batch` setting), 'auto' (probe each connection for the FreeSWITCH hook, batch where it
   * answers, else one sendevent per event), 'yes' (the same; a missing hook is logged as an error).
   */
  batch?: 'auto' | 'yes' | 'no';
  /** Longest wait to fill a batch, ms (default 5; 0 = next turn of the event loop). */
  batchMs?: number;
  /** Most events per batch (default 256, at most MAX_BATCH_EVENTS). */
  batchMaxEvents?: number;
  /** Most ms the probe waits for the hook's answer (default 2000). */
  batchProbeTimeoutMs?: number;
  /** Most ms to wait for the hook to report a batch fanned out before writing the next anyway (default 5000). */
  fanOutTimeoutMs?: number;
  /** Each `api` command line the injector sends (its probe), before it goes out: FreeSWITCH raises an API event for it. */
  onApiCommand?(commandLine: string): void;
}

/** Whether FreeSWITCH's batch fan-out is used: off (inject-batch no), not yet known, found, or missing. */
export type FanOutState = 'off' | 'unknown' | 'present' | 'absent';

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
  /** Batch commands written (each carries `batchedEvents` / `batches` events on average). */
  batches: number;
  batchedEvents: number;
  /** Commands sent one by one while batching was on, because a batch cannot reproduce them (src/esl/batch-command.ts). */
  notBatchable: number;
  /** Times a batch waited because FLOW_WINDOW_BATCHES earlier batches were not yet fanned out inside FreeSWITCH. */
  fanOutWaits: number;
  /** `api global_getvar` polls of the hook's done mark. */
  fanOutPolls: number;
  /** Waits given up after fanOutTimeoutMs (the next batch went out anyway; logged). */
  fanOutTimeouts: number;
}

export type InjectorStats = InjectorConnectionStats & { perConnection: InjectorConnectionStats[]; fanOut: FanOutState };

/** A command left unanswered at this many reply timeouts in a row (as the first one waiting) is dropped. */
export const MAX_SUSPECT_STALLS = 3;

const DEFAULTS = { connections: 2, maxQueuedEvents: 10_000, maxQueuedBytes: 16 * 1024 * 1024, maxInFlight: 64, maxQueueAgeMs: 0, warnIntervalMs: 10_000, batchMs: 10, batchMaxEvents: 256, batchProbeTimeoutMs: 2000, fanOutTimeoutMs: 5000 };
/** How a command may be treated while queued (see src/esl/ingress-queue.ts); absent: plain FIFO. */
export interface SendTag {
  /** Replaces a queued command with the same key and order key (src/wire/supersede-key.ts). */
  supersedeKey?: string | null;
  /** Seconds after it is sent (queued) that it is no longer worth firing: a register's expires. */
  expiresS?: number | null;
  /** Goes before every non-urgent command: HEARTBEAT, peerup/peerdown. */
  urgent?: boolean;
}

/** A probe's answer is reused by the other connections for this long. */
const PROBE_REUSE_MS = 10_000;
/**
 * Batches written ahead of their replies: one (stop and wait). FreeSWITCH runs its threads
 * SCHED_FIFO by default; a listener thread whose socket always holds more bytes never blocks in
 * recv(), so it keeps its core from FreeSWITCH's other threads of the same priority (event
 * dispatch, other listeners, accepting a login). With one batch at a time its socket runs dry
 * after each batch and it yields. A batch carries up to inject-batch-max events, so throughput
 * does not suffer; events that arrive meanwhile make the next batch bigger.
 */
const MAX_BATCHES_IN_FLIGHT = 1;
/**
 * Flow control (see src/esl/batch-command.ts): FreeSWITCH's +OK only says a batch was queued for
 * its dispatch thread. No batch is written while this many of the connection's batches are not
 * yet fanned out, so FreeSWITCH holds at most this many batches of backlog and the rest waits in
 * the bridge's queue, where a newer state replaces an older one and an expired one is dropped.
 * Two: one being fanned out, one ready behind it, so the dispatch thread never idles for a poll.
 */
export const FLOW_WINDOW_BATCHES = 2;
/** How often the done mark is polled while a batch waits: cheap (a ~60-byte api head), only while waiting. */
const FAN_OUT_POLL_MS = 3;

/** How to install the fan-out, for the one log line that says it is missing. */
export const FAN_OUT_INSTALL_HINT =
  'copy conf/freeswitch/scripts/fs_event_multicast_batch.lua into FreeSWITCH\'s scripts directory, add ' +
  '<hook event="CUSTOM" subclass="fs_event_multicast::batch" script="fs_event_multicast_batch.lua"/> to the <settings> of ' +
  'autoload_configs/lua.conf.xml (see conf/freeswitch/lua.conf.xml), load mod_lua, then `reload mod_lua`; the bridge looks again at every reconnect';

export class SendeventInjector {
  private readonly lanes: SendeventConnection[];
  private closing = false;
  private fanOut: FanOutState;
  /** Probes run one at a time: they share one FreeSWITCH global variable. */
  private probeChain: Promise<unknown> = Promise.resolve();
  private toldAbsent = false;
  private toldPresent = false;
  private lastProbe: { at: number; present: boolean } | null = null;

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
      batchMs: options.batchMs ?? DEFAULTS.batchMs,
      batchMaxEvents: options.batchMaxEvents ?? DEFAULTS.batchMaxEvents,
      probe: null as ((connection: EslConnection) => Promise<boolean>) | null,
      fanOutTimeoutMs: options.fanOutTimeoutMs ?? DEFAULTS.fanOutTimeoutMs,
      onApiCommand: options.onApiCommand ?? null,
    };
    positiveInteger(settings.fanOutTimeoutMs, `${owner}: option 'fanOutTimeoutMs'`);
    const batchMode = options.batch ?? 'no';
    if (!['auto', 'yes', 'no'].includes(batchMode)) throw new RangeError(`${owner}: option 'batch' must be auto, yes or no, got ${String(batchMode)}`);
    if (!Number.isInteger(settings.batchMs) || settings.batchMs < 0 || settings.batchMs > 1000) throw new RangeError(`${owner}: option 'batchMs' must be 0..1000, got ${settings.batchMs}`);
    positiveInteger(settings.batchMaxEvents, `${owner}: option 'batchMaxEvents'`);
    if (settings.batchMaxEvents > MAX_BATCH_EVENTS) throw new RangeError(`${owner}: option 'batchMaxEvents' must be 1..${MAX_BATCH_EVENTS}, got ${settings.batchMaxEvents}`);
    this.fanOut = batchMode === 'no' ? 'off' : 'unknown';
    if (batchMode !== 'no') {
      const probeTimeoutMs = options.batchProbeTimeoutMs ?? DEFAULTS.batchProbeTimeoutMs;
      positiveInteger(probeTimeoutMs, `${owner}: option 'batchProbeTimeoutMs'`);
      settings.probe = (connection) => this.probeSerially(connection, probeTimeoutMs, batchMode, endpoint.logger, options.onApiCommand);
    }
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
    return { ...total, perConnection, fanOut: this.fanOut };
  }

  /** Whether batches are used now: 'present' once a connection found the FreeSWITCH hook. */
  get fanOutState(): FanOutState {
    return this.fanOut;
  }

  private probeSerially(connection: EslConnection, timeoutMs: number, mode: 'auto' | 'yes', logger: EslLogger, onApi?: (line: string) => void): Promise<boolean> {
    // The other connections go to the same FreeSWITCH: a fresh answer holds for them too (no second wait for a missing hook).
    const run = this.probeChain.then(() => {
      const last = this.lastProbe;
      if (last !== null && Date.now() - last.at < PROBE_REUSE_MS) return last.present;
      return probeFanOut(connection, timeoutMs, onApi).then((present) => {
        this.lastProbe = { at: Date.now(), present };
        return present;
      });
    });
    this.probeChain = run.catch(() => undefined);
    return run.then((present) => {
      this.noteFanOut(present, mode, logger);
      return present;
    });
  }

  /** Says once that batching is on, and once (per process) that the hook is missing and how to install it. */
  private noteFanOut(present: boolean, mode: 'auto' | 'yes', logger: EslLogger): void {
    this.fanOut = present ? 'present' : 'absent';
    if (present && !this.toldPresent) {
      this.toldPresent = true;
      logger.info({ esl: 'injector', injectBatch: mode }, 'FreeSWITCH has the batch fan-out hook: received events are fired in batches (one command body per batch)');
    } else if (!present && !this.toldAbsent) {
      this.toldAbsent = true;
      const message = `FreeSWITCH has no batch fan-out hook (inject-batch ${mode}): firing one sendevent per event, which costs FreeSWITCH several times more CPU. To install it: ${FAN_OUT_INSTALL_HINT}`;
      if (mode === 'yes') logger.error({ esl: 'injector', injectBatch: mode }, message);
      else logger.warn({ esl: 'injector', injectBatch: mode }, message);
    }
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
    for (const lane of this.lanes) lane.stopTimers();
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
  batchMs: number;
  batchMaxEvents: number;
  /** Asks FreeSWITCH whether the batch fan-out is installed (null: batching off). */
  probe: ((connection: EslConnection) => Promise<boolean>) | null;
  fanOutTimeoutMs: number;
  onApiCommand: ((commandLine: string) => void) | null;
}

/** What one written command carries: one sendevent, or a batch of them (retired or requeued together). */
interface InFlightUnit {
  /** The queued commands it carries (one, or a batch's events in order). */
  readonly commands: QueuedCommand[];
  readonly batch: boolean;
}

/**
 * Fires one probe batch carrying a fresh token and reads back the global variable the hook sets
 * to it. True when the hook answered within timeoutMs. Connection loss rejects (setup then fails
 * and the connection is retried); any other odd answer means no hook.
 */
export async function probeFanOut(connection: EslConnection, timeoutMs: number, onApi?: (line: string) => void): Promise<boolean> {
  // Without mod_lua there is no hook: say so at once instead of waiting for an answer that cannot come.
  onApi?.('module_exists mod_lua');
  const lua = await connection.request('api module_exists mod_lua');
  if ((lua.body?.toString('latin1') ?? '').trim() !== 'true') return false;
  const token = randomBytes(8).toString('hex');
  const reply = await connection.request(batchCommand(encodeBatchBody([], token)).toString('latin1'));
  if (!(reply.replyText ?? '').startsWith('+OK')) return false;
  const deadline = Date.now() + timeoutMs;
  const line = `global_getvar ${BATCH_PROBE_VARIABLE}`;
  for (let wait = 2; ; wait = Math.min(wait * 2, 200)) {
    onApi?.(line);
    const answer = await connection.request(`api ${line}`);
    if ((answer.body?.toString('latin1') ?? '').trim() === token) return true;
    if (Date.now() + wait > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** Sampled commands' start times; a WeakMap, so a dropped command leaves nothing behind. */
interface ReplyStamps {
  readonly at: WeakMap<Buffer, number>;
  observe(seconds: number): void;
}

/** One connection with its queue and its in-flight window. */
class SendeventConnection {
  readonly connection: EslConnection;
  readonly counters = {
    offered: 0, written: 0, delivered: 0, repliesOk: 0, repliesErr: 0, repliesUnknown: 0, droppedRefused: 0, requeued: 0, abandoned: 0,
    batches: 0, batchedEvents: 0, notBatchable: 0, fanOutWaits: 0, fanOutPolls: 0, fanOutTimeouts: 0,
  };
  private readonly queue: IngressQueue;
  /** Written, reply not yet received, oldest first: single sendevents or batches. */
  private inFlight = new Fifo<InFlightUnit>();
  /** Events in `inFlight` (a batch counts its events). */
  private inFlightEvents = 0;
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
  /** This connection found the FreeSWITCH hook at its last setup: queued events go out in batches. */
  private batching = false;
  /** Batching: the queue waited batchMs (or is full enough); write what is there. */
  private flushDue = false;
  private flushTimer: NodeJS.Timeout | undefined;
  /** This connection's name in the hook's done mark, and the global variable that holds it. */
  private readonly flowToken = randomBytes(8).toString('hex');
  private readonly doneVariable = `${BATCH_DONE_VARIABLE_PREFIX}${this.flowToken}`;
  /** Batches written (their seq numbers: 1..batchSeq) and the last one the hook reported fanned out. */
  private batchSeq = 0;
  private doneSeq = 0;
  /** A poll loop runs; the hook reported at least once on this connection; flow control gave up on it until reconnect. */
  private polling = false;
  private doneSeen = false;
  private flowOff = false;

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
    const probe = settings.probe;
    this.connection = new EslConnection(endpoint, {
      label: this.label,
      ...(probe === null
        ? {}
        : {
            setup: async (connection: EslConnection) => {
              this.batching = await probe(connection);
            },
          }),
      onReady: () => this.pump(),
      onDown: (_reason, stalled) => {
        this.requeueInFlight(stalled);
        // What the old connection's batches do inside FreeSWITCH no longer holds this one back.
        this.doneSeq = this.batchSeq;
        this.flowOff = false;
        this.doneSeen = false;
      },
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
    return this.queue.length + this.inFlightEvents;
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
      inFlight: this.inFlightEvents,
      ...this.counters,
      ...this.queue.counters,
      repliesUnknown: this.counters.repliesUnknown + this.connection.unexpectedReplies,
      replyTimeouts: this.connection.replyTimeouts,
      unknownMessages: this.connection.unknownMessages,
      reconnects: this.connection.reconnects,
    };
  }

  /** Writes queued commands while the window has room: one by one, or in batches when the hook is there. */
  private pump(): void {
    if (!this.connection.ready || this.queue.length === 0) return;
    if (this.batching) {
      this.pumpBatches();
      return;
    }
    const room = this.settings.maxInFlight - this.inFlight.length;
    if (room <= 0) return;
    const out: Buffer[] = [];
    for (const entry of this.queue.takeUpTo(room)) {
      out.push(entry.command);
      this.pushInFlight({ commands: [entry], batch: false });
    }
    if (out.length === 0) return; // the rest had expired or grown too old
    this.connection.writeCommands(out, this.onReply);
    this.counters.written += out.length;
  }

  /**
   * Batching: a batch goes out once the oldest queued event waited batchMs or a full batch is
   * queued, while fewer than MAX_BATCHES_IN_FLIGHT are unanswered. Events stay in queue order;
   * one a batch cannot reproduce goes out alone at its place.
   */
  private pumpBatches(): void {
    const { batchMaxEvents } = this.settings;
    const room = Math.min(this.settings.maxInFlight, MAX_BATCHES_IN_FLIGHT);
    const out: Buffer[] = [];
    while (this.inFlight.length + out.length < room && this.queue.length > 0) {
      if (!this.flushDue && this.queue.length < batchMaxEvents) break;
      if (this.fanOutBacklogged()) {
        this.waitForFanOut();
        break;
      }
      const commands: QueuedCommand[] = [];
      const records: BatchRecord[] = [];
      let bytes = 0;
      while (records.length < batchMaxEvents) {
        const next = this.queue.peek(); // undefined: what was left had expired or grown too old
        if (next === undefined) break;
        const parsed = parseSendeventForBatch(next.command, randomUUID());
        if (!parsed.ok) {
          if (records.length > 0) break; // goes out alone after this batch
          this.queue.shift();
          this.counters.notBatchable++;
          this.warn('not-batchable', { reason: parsed.reason, command: describeCommand(next.command) }, 'sent one sendevent alone: a batch cannot reproduce it');
          commands.push(next);
          break;
        }
        if (records.length > 0 && bytes + parsed.record.encodedBytes > MAX_BATCH_BODY_BYTES) break;
        this.queue.shift();
        commands.push(next);
        records.push(parsed.record);
        bytes += parsed.record.encodedBytes;
      }
      if (commands.length === 0) break;
      if (records.length === 0) {
        out.push(commands[0]!.command);
        this.pushInFlight({ commands, batch: false });
        this.counters.written++;
        continue;
      }
      out.push(batchCommand(encodeBatchBody(records), { token: this.flowToken, seq: ++this.batchSeq }));
      this.pushInFlight({ commands, batch: true });
      this.counters.written += commands.length;
      this.counters.batches++;
      this.counters.batchedEvents += commands.length;
    }
    if (out.length > 0) this.connection.writeCommands(out, this.onReply);
    if (this.queue.length === 0) this.flushDue = false;
    else if (!this.flushDue) this.armFlush();
  }

  /** FLOW_WINDOW_BATCHES of this connection's batches are not yet fanned out inside FreeSWITCH. */
  private fanOutBacklogged(): boolean {
    return !this.flowOff && this.batchSeq - this.doneSeq >= FLOW_WINDOW_BATCHES;
  }

  /**
   * Polls the hook's done mark every FAN_OUT_POLL_MS until the backlog is under the window, then
   * pumps. After fanOutTimeoutMs it gives up (counted, logged): when the hook never reported on
   * this connection (a hook from before flow control) flow control is off until reconnect, else
   * the count is resynchronised and batches go on.
   */
  private waitForFanOut(): void {
    if (this.polling) return;
    this.polling = true;
    this.counters.fanOutWaits++;
    const started = Date.now();
    const line = `global_getvar ${this.doneVariable}`;
    const poll = async (): Promise<void> => {
      while (this.connection.ready && this.fanOutBacklogged()) {
        this.settings.onApiCommand?.(line);
        this.counters.fanOutPolls++;
        const answer = await this.connection.request(`api ${line}`);
        const text = (answer.body?.toString('latin1') ?? '').trim();
        const done = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN;
        if (done <= this.batchSeq && done > this.doneSeq) {
          this.doneSeq = done;
          this.doneSeen = true;
        }
        if (!this.fanOutBacklogged()) break;
        if (Date.now() - started >= this.settings.fanOutTimeoutMs) {
          this.giveUpWaiting();
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, FAN_OUT_POLL_MS));
      }
    };
    poll()
      .catch(() => undefined) // connection lost: onDown resets the counts, onReady pumps
      .finally(() => {
        this.polling = false;
        this.pump();
      });
  }

  private giveUpWaiting(): void {
    this.counters.fanOutTimeouts++;
    const waiting = this.batchSeq - this.doneSeq;
    this.doneSeq = this.batchSeq;
    if (!this.doneSeen) {
      this.flowOff = true;
      this.logger.warn(
        { esl: this.label, waitedMs: this.settings.fanOutTimeoutMs },
        'the FreeSWITCH batch hook does not report its fan-out (an older fs_event_multicast_batch.lua?): batches go on without flow control on this connection until it reconnects; install the current hook so a backlog stays in the bridge\'s queue',
      );
    } else {
      this.warn('fan-out-timeout', { waitedMs: this.settings.fanOutTimeoutMs, batchesNotFannedOut: waiting, timeoutsTotal: this.counters.fanOutTimeouts }, 'FreeSWITCH has not fanned out earlier batches in time; writing the next batch anyway');
    }
  }

  private armFlush(): void {
    if (this.flushTimer !== undefined) return;
    const fire = (): void => {
      this.flushTimer = undefined;
      this.flushDue = true;
      this.pump();
    };
    if (this.settings.batchMs === 0) {
      this.flushTimer = setTimeout(fire, 0);
    } else this.flushTimer = setTimeout(fire, this.settings.batchMs);
    this.flushTimer.unref?.();
  }

  private pushInFlight(unit: InFlightUnit): void {
    this.inFlight.push(unit);
    this.inFlightEvents += unit.commands.length;
  }

  private shiftInFlight(): InFlightUnit | undefined {
    const unit = this.inFlight.shift();
    if (unit !== undefined) this.inFlightEvents -= unit.commands.length;
    return unit;
  }

  private handleReply(reply: EslReply | null): void {
    if (reply === null) return; // connection lost: onDown puts the in-flight commands back
    const answered = this.shiftInFlight();
    if (answered !== undefined && answered.commands[0]?.command === this.suspect) {
      this.suspect = null;
      this.suspectStalls = 0;
    }
    const text = reply.replyText ?? (reply.body?.toString('utf8').trim() || '');
    if (text.startsWith('+OK')) {
      this.counters.repliesOk++;
      this.counters.delivered += answered?.commands.length ?? 0;
      const stamps = this.settings.stamps;
      if (stamps !== null && answered !== undefined) {
        for (const { command } of answered.commands) {
          const at = stamps.at.get(command);
          if (at === undefined) continue;
          stamps.at.delete(command);
          stamps.observe((performance.now() - at) / 1000);
        }
      }
    } else {
      if (text.startsWith('-ERR')) this.counters.repliesErr++;
      else this.counters.repliesUnknown++;
      this.errSinceWarn++;
      if (this.warn('reply', { reply: text.slice(0, 200), events: answered?.commands.length ?? 0, notOkSinceLastWarning: this.errSinceWarn }, 'FreeSWITCH did not accept a sendevent')) {
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
    const back: QueuedCommand[] = [];
    for (const unit of this.inFlight) back.push(...unit.commands);
    this.counters.requeued += back.length;
    this.queue.prependFront(back);
    this.inFlight = new Fifo<InFlightUnit>();
    this.inFlightEvents = 0;
    this.noteDropped();
  }

  /** The first unanswered command at a reply timeout is the likeliest cause; drop it if it keeps being that. */
  private judgeSuspect(): void {
    const unit = this.inFlight.peek()!;
    const first = unit.commands[0]!.command;
    if (first === this.suspect) this.suspectStalls++;
    else {
      this.suspect = first;
      this.suspectStalls = 1;
    }
    if (this.suspectStalls < MAX_SUSPECT_STALLS) return;
    // Only the first event goes: the rest of a batch is put back like any unanswered command.
    unit.commands.shift();
    this.inFlightEvents--;
    if (unit.commands.length === 0) this.inFlight.shift();
    this.counters.abandoned++;
    this.suspect = null;
    this.suspectStalls = 0;
    this.logger.warn(
      { esl: this.label, command: describeCommand(first), abandonedTotal: this.counters.abandoned },
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
      ? `FreeSWITCH is not keeping up: ${this.inFlightEvents} sendevents await its replies. ` +
        (this.batching
          ? 'They go in batches already; fire fewer events (ingress-bindings)'
          : 'It reads each command\'s headers one byte at a time (~1 µs of its CPU per byte, one core per connection); install the batch fan-out hook (inject-batch), ' +
            'fire fewer events (ingress-bindings), keep lean-sendevent on, and use as many injectors as FreeSWITCH has cores')
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

  /** Stops the batch timer (the injector is closing). */
  stopTimers(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
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
