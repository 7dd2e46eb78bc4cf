/**
 * A simulated FreeSWITCH inbound event socket (mod_event_socket), faithful to the captures in
 * fixtures/freeswitch/esl-sessions: auth, event/nixevent/noevents/filter, api/bgapi, sendevent
 * (fired back to every matching listener, the sender included), exit, and FreeSWITCH's way of
 * cutting off a listener that falls too far behind. Used by tests, benchmarks and the demo.
 *
 * Deliberate simplifications (documented, not hidden):
 * - `event xml` is accepted and answered like FreeSWITCH, but events are then sent as plain.
 * - Header values of a `sendevent` are taken as UTF-8 text; invalid UTF-8 bytes are replaced.
 * - No auth timeout, no `log`, `myevents`, `userauth`, outbound sockets or sessions.
 * By default commands run as soon as they arrive (a fast sink). With `costModel` they run at
 * real FreeSWITCH's event-socket cost instead (src/testing/cost-model.ts): a
 * real-FreeSWITCH-like sink for benchmarks of the bridge's ingress.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as os from 'node:os';
import { serializeEvent, parseEventText, headerValue } from '../wire/event-text.js';
import type { EventData, Header } from '../wire/types.js';
import { CommandReader, CommandFramingError, type EslClientCommand } from './esl-command-reader.js';
import { Subscription, type EventForMatching } from './esl-subscription.js';
import { eventTypeFromName } from './event-types.js';
import {
  AUTH_REQUEST, GOODBYE_MESSAGE, SHUTDOWN_MESSAGE, apiResponse, bgapiReply, commandReply, disconnectNotice, eventFrame,
} from './esl-frames.js';
import {
  CALLED_FROM, deliveryHeaders, eventJson, heartbeatHeaders, statusText, type CallingSite, type SwitchIdentity,
} from './fs-event-stamp.js';
import { buildPumpBlock, pumpToSocket, type PumpBlock } from './event-pump.js';
import { BATCH_DONE_HEADER, BATCH_DONE_VARIABLE_PREFIX, BATCH_PROBE_VARIABLE, BATCH_SUBCLASS, decodeBatchBody, parseBatchDoneMark } from '../esl/batch-command.js';
import { commandCostUs, CpuScheduler, dispatchCostUs, eventKind, resolveCostModel, type CostModel, type CostModelOptions, type CpuLane } from './cost-model.js';

export interface FakeFreeSwitchOptions {
  host?: string; // default '127.0.0.1'
  port?: number; // default 0 (ephemeral)
  password?: string; // default 'ClueCon'
  switchname?: string; // default 'fs-sim'; appears as FreeSWITCH-Switchname on every event
  hostname?: string; // default: this machine's host name
  /**
   * The box's main addresses (FreeSWITCH-IPv4/-IPv6 headers, local_ip_v4/v6 globals). Default: the
   * documentation addresses of the captures (192.0.2.2, fd00::2); only reported, never used to send.
   * A bridge skips a unicast destination equal to them, so two simulated boxes on one machine must
   * not both claim a loopback address the other one sends to.
   */
  ipv4?: string;
  ipv6?: string;
  coreUuid?: string; // default: a random UUID
  /** A listener this many events behind is cut off, queue thrown away (FreeSWITCH: 100000). */
  maxQueuedEvents?: number;
  /** Keep at most this many received sendevents in `sendevents` (all are counted and emitted). Default: no limit. */
  keepSendevents?: number;
  /** Fire an API event for every known `api`/`bgapi` command, as FreeSWITCH does. Default true. */
  apiEvents?: boolean;
  /**
   * Serve commands at real FreeSWITCH's event-socket cost (src/testing/cost-model.ts): `true`
   * for the measured model, or some of its values. Default: commands run as soon as they arrive.
   */
  costModel?: CostModelOptions | true;
  /** Modules `api module_exists <name>` answers `true` for (default: none of the multicast ones; see `loadedModules`). */
  loadedModules?: readonly string[];
  /**
   * Run the bridge's batch fan-out like the mod_lua hook conf/freeswitch/scripts/fs_event_multicast_batch.lua
   * (lua.conf.xml hook on CUSTOM fs_event_multicast::batch): each event of a batch is fired as its
   * sendevent would be. Also makes `module_exists mod_lua` true. Default false (no hook).
   */
  batchFanOut?: boolean;
  /**
   * A slow dispatch thread: each batch is fanned out this many ms after the previous one (or
   * after it arrived), while its sendevent is answered `+OK` at once, as FreeSWITCH answers when
   * the batch event is queued. Default 0: fanned out at once. Tests may change `batchFanOutDelayMs`.
   */
  batchFanOutDelayMs?: number;
}

/**
 * Faults a test can switch on (setFault), each one a way a real event socket has been seen or
 * feared to misbehave:
 * - `stall-replies`: commands are read but never answered (a listener thread stuck in
 *   FreeSWITCH); `sendevent` only by default, or every command; `fire` says whether the stuck
 *   sendevents still fire their event (FreeSWITCH may have run it before getting stuck).
 * - `unknown-reply-type`: sendevents are answered with a message of another content type.
 * - `drop-after-auth`: every connection is closed right after `+OK accepted`.
 * - `auth-api-response`: `auth` is answered with an api/response (not an event socket?).
 */
export type FakeFault =
  | { kind: 'stall-replies'; commands?: 'sendevent' | 'all'; fire?: boolean }
  | { kind: 'unknown-reply-type'; contentType?: string }
  | { kind: 'drop-after-auth' }
  | { kind: 'auth-api-response' };

export interface ReceivedSendevent {
  eventName: string; // the word after `sendevent` (e.g. 'CUSTOM')
  headers: [string, string][]; // command headers in order, values RAW (FreeSWITCH does not URL-decode them)
  body: Buffer | null;
  raw: Buffer; // the exact command bytes as received
  connectionId: number;
}

export type FireRequest =
  | { name: string; subclass?: string; headers?: readonly Header[]; body?: string; calling?: CallingSite }
  | { raw: Buffer };

export interface PumpOptions {
  texts: Buffer[];
  count: number;
  /** undefined = as fast as the reader takes them */
  ratePerSec?: number;
  maxSeconds: number;
}

export interface PumpResult {
  /** Events handed to the slowest listener (= count unless time ran out or a listener went away). */
  sent: number;
  seconds: number;
  listeners: number;
  bytes: number;
}

export interface FakeFreeSwitchStats {
  connections: number;
  sendevents: number;
  eventsFired: number;
  framesQueued: number;
  cutOffs: number;
  /** Cost model only: CPU µs of simulated FreeSWITCH work done, and commands waiting to be read. */
  simulatedBusyUs?: number;
  commandsWaiting?: number;
}

/** An event ready for delivery: what matching needs plus its serialized text. */
interface Outgoing {
  type: string;
  subclass: string | null;
  data: EventData | null; // null for raw texts that do not parse
  /** Serialized on first need: a sendevent nobody listens to is never serialized. */
  text: Buffer | null;
}

const DEFAULTS = { host: '127.0.0.1', port: 0, password: 'ClueCon', switchname: 'fs-sim', maxQueuedEvents: 100_000 };

export class FakeFreeSwitch extends EventEmitter {
  readonly host: string;
  readonly switchname: string;
  readonly sendevents: ReceivedSendevent[] = [];
  /** mod_db's db_data table ("realm/key" -> value) and every `db` api argument received, in order. */
  readonly db = new Map<string, string>();
  readonly dbCommands: string[] = [];
  private portNumber: number;
  private readonly password: string;
  private readonly identity: SwitchIdentity;
  private readonly maxQueuedEvents: number;
  private readonly keepSendevents: number;
  private readonly apiEvents: boolean;
  private server: net.Server | null = null;
  private readonly conns = new Set<Listener>();
  private nextConnectionId = 1;
  private sequence = 0;
  private readonly startedNs = process.hrtime.bigint();
  private readonly counters = { sendevents: 0, eventsFired: 0, framesQueued: 0, cutOffs: 0 };
  /** null: no cost model, commands run as they arrive. */
  private readonly cpu: CpuScheduler<CpuJob> | null;
  /** Cost model: FreeSWITCH's one event-dispatch thread (fired events reach handlers and listeners through it). */
  private readonly dispatchLane: CpuLane<CpuJob> | null;
  private fault: FakeFault | null = null;
  /** Commands swallowed by a `stall-replies` fault (read, never answered). */
  stalledCommands = 0;
  /** What `api module_exists NAME` answers `true` for; tests may change it at any time. */
  readonly loadedModules: Set<string>;
  /** Whether the batch fan-out hook is installed (see FakeFreeSwitchOptions.batchFanOut); tests may change it. */
  batchFanOut: boolean;
  /** Global variables set at run time (the fan-out's probe answer). */
  readonly globals = new Map<string, string>();
  /** See FakeFreeSwitchOptions.batchFanOutDelayMs. */
  batchFanOutDelayMs: number;
  /**
   * Batches fanned out, events they fired, batches refused as malformed; batches (and their
   * events) accepted but not yet fanned out, and the most of each at any time.
   */
  readonly batchStats = { batches: 0, events: 0, refused: 0, pendingBatches: 0, pendingEvents: 0, maxPendingBatches: 0, maxPendingEvents: 0 };
  /** The slow dispatch thread's work, in arrival order. */
  private fanOutChain: Promise<void> = Promise.resolve();

  static async start(opts: FakeFreeSwitchOptions = {}): Promise<FakeFreeSwitch> {
    const fs = new FakeFreeSwitch(opts);
    await fs.listen(fs.portNumber);
    return fs;
  }

  private constructor(opts: FakeFreeSwitchOptions) {
    super();
    validateOptions(opts);
    this.host = opts.host ?? DEFAULTS.host;
    this.portNumber = opts.port ?? DEFAULTS.port;
    this.password = opts.password ?? DEFAULTS.password;
    this.switchname = opts.switchname ?? DEFAULTS.switchname;
    this.maxQueuedEvents = opts.maxQueuedEvents ?? DEFAULTS.maxQueuedEvents;
    this.keepSendevents = opts.keepSendevents ?? Number.POSITIVE_INFINITY;
    this.apiEvents = opts.apiEvents ?? true;
    this.batchFanOut = opts.batchFanOut ?? false;
    this.batchFanOutDelayMs = opts.batchFanOutDelayMs ?? 0;
    this.loadedModules = new Set(opts.loadedModules ?? ['mod_event_socket', 'mod_commands', 'mod_sofia', ...(this.batchFanOut ? ['mod_lua'] : [])]);
    this.cpu = opts.costModel === undefined ? null : new CpuScheduler<CpuJob>(resolveCostModel(opts.costModel), (_lane, job) => ('fired' in job ? this.dispatch(job.fired) : this.runCommand(job.conn, job.cmd)));
    this.dispatchLane = this.cpu?.lane(false) ?? null;
    this.identity = {
      coreUuid: opts.coreUuid ?? randomUUID(),
      hostname: opts.hostname ?? os.hostname(),
      switchname: this.switchname,
      ipv4: opts.ipv4 ?? '192.0.2.2',
      ipv6: opts.ipv6 ?? 'fd00::2',
    };
  }

  get port(): number {
    return this.portNumber;
  }

  get coreUuid(): string {
    return this.identity.coreUuid;
  }

  /** Number of sendevent commands received (also those not kept in `sendevents`). */
  get sendeventCount(): number {
    return this.counters.sendevents;
  }

  stats(): FakeFreeSwitchStats {
    const s: FakeFreeSwitchStats = { connections: this.conns.size, ...this.counters };
    if (this.cpu !== null) {
      s.simulatedBusyUs = Math.round(this.cpu.busyUs);
      s.commandsWaiting = [...this.conns].reduce((n, c) => n + (c.lane?.waiting ?? 0), 0);
    }
    return s;
  }

  /** The cost model in use, or null. */
  get costModel(): CostModel | null {
    return this.cpu?.model ?? null;
  }

  connectionCount(): number {
    return this.conns.size;
  }

  /**
   * Fires a local event: stamped like FreeSWITCH unless `raw` text is given (delivered as is).
   * Delivered to every listener whose subscription matches. Returns the serialized text.
   */
  fire(event: FireRequest): Buffer {
    const out = 'raw' in event ? outgoingFromText(event.raw) : this.build(event);
    this.dispatch(out);
    return textOf(out);
  }

  /** The text `fire` would deliver, without delivering it (e.g. to pre-serialize texts for `pump`). */
  eventText(event: Exclude<FireRequest, { raw: Buffer }>): Buffer {
    return textOf(this.build(event));
  }

  /** A HEARTBEAT text of this switch, not delivered. */
  heartbeatText(): Buffer {
    return this.eventText(this.heartbeatRequest());
  }

  /** A HEARTBEAT shaped like the capture (esl-session-heartbeat.raw), without the C module's Multicast-Sender. */
  fireHeartbeat(): Buffer {
    return this.fire(this.heartbeatRequest());
  }

  /** Switches a fault on (see FakeFault) for every connection, or off with null. */
  setFault(fault: FakeFault | null): void {
    this.fault = fault;
  }

  /** Simulates a lost event socket: every connection is dropped at once; the server keeps listening. */
  dropConnections(): void {
    for (const c of [...this.conns]) c.destroy();
    this.conns.clear();
  }

  /** FreeSWITCH down: listeners get the shutdown notice, connections close, the port is released. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.cpu?.stop();
    for (const c of [...this.conns]) c.closeWithNotice(SHUTDOWN_MESSAGE);
    this.conns.clear();
    await closed;
  }

  /** Listens again on the same host:port (stops first if running). */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen(this.portNumber);
  }

  /**
   * Load generator: streams pre-serialized event texts (raw, cycling through `texts`) to every
   * listener whose subscription matches, `count` events each, with backpressure, bounded in time.
   */
  async pump(opts: PumpOptions): Promise<PumpResult> {
    validatePump(opts);
    const started = process.hrtime.bigint();
    const deadlineNs = started + BigInt(Math.round(opts.maxSeconds * 1e9));
    const events = opts.texts.map(outgoingFromText);
    const blocks = new Map<string, PumpBlock>();
    const jobs: Promise<number>[] = [];
    let bytes = 0;
    for (const c of this.conns) {
      if (!c.authed || !c.sub.enabled) continue;
      const picked = events.map((e, i) => (c.sub.matches(matchView(e)) ? i : -1)).filter((i) => i >= 0);
      if (picked.length === 0) continue;
      const json = c.sub.format === 'json';
      const key = `${json ? 'j' : 'p'}:${picked.join(',')}`;
      let block = blocks.get(key);
      if (block === undefined) {
        block = buildPumpBlock(picked.map((i) => (json ? jsonFrameOf(events[i]!) : eventFrame(textOf(events[i]!)))));
        blocks.set(key, block);
      }
      const b = block;
      jobs.push(
        pumpToSocket(c.socket, b, {
          count: opts.count,
          ratePerSec: opts.ratePerSec,
          deadlineNs,
          maxBehind: this.maxQueuedEvents,
          onCutOff: () => this.cutOff(c),
        }).then((n) => {
          bytes += bytesFor(b, n);
          return n;
        }),
      );
    }
    const sentPer = await Promise.all(jobs);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { sent: sentPer.length === 0 ? 0 : Math.min(...sentPer), seconds, listeners: sentPer.length, bytes };
  }

  // ---- internals -------------------------------------------------------------------------

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen({ host: this.host, port }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.emit('error', err));
        const addr = server.address();
        if (addr !== null && typeof addr === 'object') this.portNumber = addr.port;
        this.server = server;
        resolve();
      });
    });
  }

  private accept(socket: net.Socket): void {
    const conn = new Listener(this.nextConnectionId++, socket, this.maxQueuedEvents);
    if (this.cpu !== null) conn.lane = this.cpu.lane();
    this.conns.add(conn);
    socket.on('close', () => {
      this.conns.delete(conn);
      if (conn.lane !== null) this.cpu?.remove(conn.lane);
    });
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    conn.write(AUTH_REQUEST);
    this.emit('connection', conn.id);
  }

  private onData(conn: Listener, chunk: Buffer): void {
    if (conn.finished) return;
    let commands: EslClientCommand[];
    try {
      commands = conn.reader.push(chunk);
    } catch (err) {
      if (err instanceof CommandFramingError) {
        conn.destroy();
        return;
      }
      throw err;
    }
    if (this.cpu !== null && conn.lane !== null) {
      // FreeSWITCH-like: each command takes effect once its (virtual) CPU time has passed.
      const m = this.cpu.model;
      for (const cmd of commands) {
        const body = cmd.body?.length ?? 0;
        this.cpu.submit(conn.lane, { conn, cmd }, commandCostUs(m, cmd.raw.length - body, body));
      }
      // A thread that reads slowly stops the TCP stream: the client's writes back up.
      if (conn.lane.waiting >= m.maxWaitingCommands && !conn.socket.isPaused()) {
        conn.socket.pause();
        conn.readPausedByCost = true;
      }
      return;
    }
    for (const cmd of commands) this.runCommand(conn, cmd);
  }

  private runCommand(conn: Listener, cmd: EslClientCommand): void {
    if (conn.finished) return; // bytes after `exit` or a failed auth are ignored
    if (conn.readPausedByCost && conn.lane !== null && conn.lane.waiting < (this.cpu?.model.maxWaitingCommands ?? 0) / 2) {
      conn.readPausedByCost = false;
      conn.socket.resume();
    }
    this.emit('command', { connectionId: conn.id, command: cmd.line });
    this.execute(conn, cmd);
  }

  /** parse_command: the same order of checks as mod_event_socket. */
  private execute(conn: Listener, cmd: EslClientCommand): void {
    const line = cmd.line;
    const lower = line.toLowerCase();
    if (lower.startsWith('exit') || lower.startsWith('...')) {
      conn.write(commandReply('+OK bye'));
      this.finish(conn);
      return;
    }
    if (!conn.authed) {
      if (lower.startsWith('auth ')) {
        if (this.fault?.kind === 'auth-api-response') {
          conn.write(apiResponse('-ERR auth Command not found!\n'));
          return;
        }
        if (line.slice(5) === this.password) {
          conn.authed = true;
          conn.write(commandReply('+OK accepted'));
          if (this.fault?.kind === 'drop-after-auth') setImmediate(() => conn.destroy());
        } else {
          conn.write(commandReply('-ERR invalid'));
          this.finish(conn);
        }
        return;
      }
      conn.write(commandReply('-ERR command not found'));
      return;
    }
    const f = this.fault;
    if (f?.kind === 'stall-replies' && ((f.commands ?? 'sendevent') === 'all' || lower.startsWith('sendevent'))) {
      this.stalledCommands++;
      if (f.fire === true && lower.startsWith('sendevent')) this.sendevent(conn, cmd, false);
      return;
    }
    if (lower.startsWith('filter ')) return conn.write(commandReply(conn.sub.filter(line.slice(7))));
    if (lower.startsWith('divert_events')) return conn.write(commandReply('-ERR not controlling a session.'));
    if (lower.startsWith('sendmsg')) {
      const uuid = line.slice(7).replace(/^ +/, '') || (headerOf(cmd.headers, 'session-id') ?? '');
      return conn.write(commandReply(`-ERR invalid session id [${uuid}]`));
    }
    if (lower.startsWith('sendevent')) return this.sendevent(conn, cmd);
    if (lower.startsWith('api ')) return this.api(conn, line.slice(4), null);
    if (lower.startsWith('bgapi ')) return this.api(conn, line.slice(6), headerOf(cmd.headers, 'job-uuid') ?? randomUUID());
    if (lower.startsWith('linger') || lower.startsWith('nolinger')) return conn.write(commandReply('-ERR not controlling a session'));
    if (lower.startsWith('event')) return conn.write(commandReply(conn.sub.event(afterFirstSpace(line.slice(5)))));
    if (lower.startsWith('nixevent')) return conn.write(commandReply(conn.sub.nixevent(afterFirstSpace(line.slice(5)))));
    if (lower.startsWith('noevents')) {
      conn.clearQueue();
      return conn.write(commandReply(conn.sub.noevents()));
    }
    conn.write(commandReply('-ERR command not found'));
  }

  private sendevent(conn: Listener, cmd: EslClientCommand, reply = true): void {
    const uuid = randomUUID();
    const eventName = cmd.line.slice(9).replace(/^[ \t]+/, '');
    const received: ReceivedSendevent = {
      eventName,
      headers: cmd.headers,
      body: cmd.body,
      raw: cmd.raw,
      connectionId: conn.id,
    };
    this.counters.sendevents++;
    if (this.sendevents.length < this.keepSendevents) this.sendevents.push(received);
    const f = this.fault;
    if (!reply) {
      // stalled: fired, never answered
    } else if (f?.kind === 'unknown-reply-type') {
      conn.write(Buffer.from(`Content-Type: ${f.contentType ?? 'text/x-unknown'}\nReply-Text: +OK ${uuid}\n\n`, 'latin1'));
    } else conn.write(commandReply(`+OK ${uuid}`));
    this.emit('sendevent', received);

    // The event as FreeSWITCH builds it: Command, the given headers (raw), Event-UUID.
    const known = eventName === '' ? null : eventTypeFromName(eventName);
    const type = known === null || known === 'ALL' ? 'CLONE' : known; // unknown names keep the reader's CLONE type
    const pairs: Header[] = [['Command', cmd.line], ...cmd.headers, ['Event-UUID', uuid]];
    // read_packet copies the body with "%s": it ends at its first NUL.
    const nul = cmd.body === null ? -1 : cmd.body.indexOf(0);
    const body = cmd.body === null ? null : (nul < 0 ? cmd.body : cmd.body.subarray(0, nul)).toString('utf8');
    const subclass = this.fireBuilt(type, pairs, body, CALLED_FROM.sendevent);
    if (type === 'CUSTOM' && subclass === BATCH_SUBCLASS && this.batchFanOut) this.queueFanOut(cmd.body, headerOf(cmd.headers, BATCH_DONE_HEADER));
  }

  /** The batch event goes to the dispatch thread: at once, or after batchFanOutDelayMs behind the batches before it. */
  private queueFanOut(body: Buffer | null, doneMark: string | undefined): void {
    const run = (): void => {
      this.fanOutBatch(body);
      // The hook's report, after the fan-out (also of a refused batch).
      const mark = parseBatchDoneMark(doneMark);
      if (mark !== null) this.globals.set(`${BATCH_DONE_VARIABLE_PREFIX}${mark.token}`, String(mark.seq));
    };
    if (this.batchFanOutDelayMs <= 0 && this.batchStats.pendingBatches === 0) {
      run();
      return;
    }
    const events = countBatchEvents(body);
    const s = this.batchStats;
    s.pendingBatches++;
    s.pendingEvents += events;
    s.maxPendingBatches = Math.max(s.maxPendingBatches, s.pendingBatches);
    s.maxPendingEvents = Math.max(s.maxPendingEvents, s.pendingEvents);
    this.fanOutChain = this.fanOutChain.then(
      () =>
        new Promise<void>((resolve) => {
          setTimeout(() => {
            s.pendingBatches--;
            s.pendingEvents -= events;
            run();
            resolve();
          }, this.batchFanOutDelayMs).unref(); // a stopped switch leaves nothing running
        }),
    );
  }

  /**
   * Fires an event built from (name, value) pairs in the order FreeSWITCH added them ("" values
   * dropped); a CUSTOM subclass moves to the top in the copy listeners get; then the delivery
   * stamp. Returns the subclass.
   */
  private fireBuilt(type: string, pairs: readonly Header[], body: string | null, at: CallingSite): string | null {
    let headers: Header[] = pairs.filter((h) => h[1] !== '');
    let subclass: string | null = null;
    if (type === 'CUSTOM') {
      subclass = headerOf(headers, 'Event-Subclass') ?? null;
      if (subclass !== null) headers = [['Event-Subclass', subclass], ...headers.filter(([n]) => n.toLowerCase() !== 'event-subclass')];
    }
    headers.push(...this.stamp(type, at));
    const fired: Outgoing = { type, subclass, data: { headers, body }, text: null };
    // FreeSWITCH's one event-dispatch thread: handlers (mod_sofia's SQL...) and listeners get it after its cost.
    const dispatchUs = this.cpu === null ? 0 : dispatchCostUs(this.cpu.model, eventKind(type, headers));
    if (dispatchUs > 0) this.cpu!.submit(this.dispatchLane!, { fired }, dispatchUs);
    else this.dispatch(fired);
    return subclass;
  }

  /** The hook's work (fs_event_multicast_batch.lua): all events of a well-formed batch, in order, or none. */
  private fanOutBatch(body: Buffer | null): void {
    if (body === null) return;
    const nul = body.indexOf(0);
    const decoded = decodeBatchBody(nul < 0 ? body : body.subarray(0, nul)); // FreeSWITCH keeps the body as a C string
    if (!decoded.ok) {
      this.batchStats.refused++;
      return;
    }
    this.batchStats.batches++;
    for (const ev of decoded.events) {
      this.batchStats.events++;
      const pairs: Header[] = ev.pairs.map(([n, v]) => [n.toString('utf8'), v.toString('utf8')]);
      this.fireBuilt('CUSTOM', pairs, ev.body === null ? null : ev.body.toString('utf8'), CALLED_FROM.batchHook);
    }
    if (decoded.probeToken !== null) this.globals.set(BATCH_PROBE_VARIABLE, decoded.probeToken);
  }

  private api(conn: Listener, rest: string, jobUuid: string | null): void {
    const sp = rest.indexOf(' ');
    const command = sp >= 0 ? rest.slice(0, sp) : rest;
    const arg = sp >= 0 ? rest.slice(sp + 1) : null;
    const result = this.runApi(command, arg);
    if (jobUuid === null) {
      conn.write(apiResponse(result.output === '' ? '-ERR no reply\n' : result.output));
      if (result.known) this.fireApiEvent(command, arg);
      return;
    }
    conn.write(bgapiReply(jobUuid));
    setImmediate(() => {
      if (result.known) this.fireApiEvent(command, arg);
      const headers: [string, string][] = [['Job-UUID', jobUuid], ['Job-Command', command]];
      if (arg !== null) headers.push(['Job-Command-Arg', arg]);
      this.fire({ name: 'BACKGROUND_JOB', headers, body: result.output, calling: CALLED_FROM.backgroundJob });
    });
  }

  /** The few APIs a bridge needs; anything else answers like an unknown FreeSWITCH API. */
  private runApi(command: string, arg: string | null): { known: boolean; output: string } {
    switch (command) {
      case 'status':
        return { known: true, output: statusText(this.uptimeMicros()) };
      case 'hostname':
        return { known: true, output: this.identity.hostname };
      case 'switchname':
        return { known: true, output: this.identity.switchname };
      case 'global_getvar': {
        // The switch name is not a global variable (api-and-bgapi.txt): `-ERR no reply`.
        const globals: Record<string, string> = {
          hostname: this.identity.hostname,
          local_ip_v4: this.identity.ipv4,
          local_ip_v6: this.identity.ipv6,
          core_uuid: this.identity.coreUuid,
        };
        return { known: true, output: arg !== null ? (globals[arg] ?? this.globals.get(arg) ?? '') : '' };
      }
      case 'echo':
        return { known: true, output: arg ?? '' };
      case 'module_exists':
        // mod_commands: `true` or `false`, no newline.
        return { known: true, output: arg !== null && this.loadedModules.has(arg.trim()) ? 'true' : 'false' };
      case 'db':
        return { known: true, output: this.runDb(arg ?? '') };
      case 'sofia':
        return { known: true, output: sofiaApi(arg ?? '') };
      default:
        return { known: false, output: `-ERR ${command} Command not found!\n` };
    }
  }

  /** mod_db's `db` api (mod_db.c): the argument split at '/' into at most 4 parts, the last taking the rest. */
  private runDb(arg: string): string {
    this.dbCommands.push(arg);
    const parts = arg.split('/');
    const [op, realm, key] = parts;
    const value = parts.slice(3).join('/');
    const k = `${realm ?? ''}/${key ?? ''}`;
    switch ((op ?? '').toLowerCase()) {
      case 'insert':
        if (parts.length < 4) return '!err!';
        this.db.set(k, value);
        return '+OK';
      case 'delete':
        if (parts.length < 2) return '!err!';
        this.db.delete(k);
        return '+OK';
      case 'select':
        return parts.length < 3 ? '!err!' : (this.db.get(k) ?? '');
      case 'exists':
        return parts.length < 3 ? '!err!' : this.db.has(k) ? 'true' : 'false';
      default:
        return '!err!';
    }
  }

  private fireApiEvent(command: string, arg: string | null): void {
    if (!this.apiEvents) return;
    const headers: [string, string][] = [['API-Command', command]];
    if (arg !== null) headers.push(['API-Command-Argument', arg]);
    this.fire({ name: 'API', headers, calling: CALLED_FROM.api });
  }

  private heartbeatRequest(): Exclude<FireRequest, { raw: Buffer }> {
    return { name: 'HEARTBEAT', headers: heartbeatHeaders(this.uptimeMicros()), calling: CALLED_FROM.heartbeat };
  }

  /** A stamped event as FreeSWITCH would fire it: Event-Subclass first, the delivery stamp, then its own headers. */
  private build(event: Exclude<FireRequest, { raw: Buffer }>): Outgoing {
    const type = eventTypeFromName(event.name);
    if (type === null || type === 'ALL') {
      throw new Error(`fire: unknown event name "${event.name}"; use a FreeSWITCH event type such as CUSTOM or HEARTBEAT`);
    }
    if (event.subclass !== undefined && type !== 'CUSTOM') {
      throw new Error(`fire: a subclass is only allowed with CUSTOM events (got name "${event.name}")`);
    }
    const subclass = type === 'CUSTOM' && event.subclass ? event.subclass : null;
    const headers: Header[] = [];
    if (subclass !== null) headers.push(['Event-Subclass', subclass]);
    headers.push(...this.stamp(type, event.calling ?? CALLED_FROM.fire));
    for (const h of event.headers ?? []) if (h[1] !== '') headers.push(h); // FreeSWITCH drops empty values
    const data: EventData = { headers, body: event.body ?? null };
    return { type, subclass, data, text: null };
  }

  private stamp(type: string, at: CallingSite): Header[] {
    this.counters.eventsFired++;
    return deliveryHeaders(type, this.identity, at, ++this.sequence);
  }

  private dispatch(ev: Outgoing): void {
    let plain: Buffer | undefined;
    let json: Buffer | undefined;
    const view = matchView(ev);
    for (const c of this.conns) {
      if (!c.authed || c.finished || !c.sub.matches(view)) continue;
      const frame = c.sub.format === 'json' ? (json ??= jsonFrameOf(ev)) : (plain ??= eventFrame(textOf(ev)));
      this.counters.framesQueued++;
      if (!c.enqueue(frame)) this.cutOff(c);
    }
  }

  /** FreeSWITCH's kill_listener without a message: the socket is closed, the queue thrown away. */
  private cutOff(c: Listener): void {
    this.counters.cutOffs++;
    this.conns.delete(c);
    c.destroy();
    this.emit('cutoff', c.id);
  }

  /** After `exit` or a failed auth: the goodbye notice, then the socket closes. */
  private finish(c: Listener): void {
    this.conns.delete(c);
    c.closeWithNotice(GOODBYE_MESSAGE);
  }

  private uptimeMicros(): number {
    return Number((process.hrtime.bigint() - this.startedNs) / 1000n);
  }
}

/** Work for the cost model's CPU: a command on its connection's thread, or a fired event on the dispatch thread. */
type CpuJob = { conn: Listener; cmd: EslClientCommand } | { fired: Outgoing };

/** One connected client: its framing state, subscription and outgoing event queue. */
class Listener {
  readonly reader = new CommandReader();
  readonly sub = new Subscription();
  authed = false;
  finished = false;
  /** Cost model: this connection's thread, and whether the cost model stopped reading it. */
  lane: CpuLane<CpuJob> | null = null;
  readPausedByCost = false;
  private queue: (Buffer | undefined)[] = [];
  private head = 0;
  private blocked = false;
  private corked = false;

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    private readonly maxQueued: number,
  ) {
    socket.on('drain', () => {
      this.blocked = false;
      if (this.socket.isPaused() && !this.finished && !this.readPausedByCost) this.socket.resume();
      this.flush();
    });
  }

  /** Replies go straight to the socket (as FreeSWITCH sends them from the listener thread). */
  write(buf: Buffer): void {
    if (this.socket.destroyed) return;
    this.corkForThisTick();
    if (!this.socket.write(buf)) {
      this.blocked = true;
      // A client that does not read its replies stops being read (FreeSWITCH blocks in send()).
      if (this.socket.writableLength > 1 << 20) this.socket.pause();
    }
  }

  /** Queues an event frame; false when the listener is now too far behind and must be cut off. */
  enqueue(frame: Buffer): boolean {
    if (this.queue.length - this.head >= this.maxQueued) {
      this.clearQueue();
      return false;
    }
    this.queue.push(frame);
    if (!this.blocked) this.flush();
    return true;
  }

  clearQueue(): void {
    this.queue = [];
    this.head = 0;
  }

  flush(): void {
    if (this.socket.destroyed) return;
    this.corkForThisTick();
    while (this.head < this.queue.length) {
      const frame = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      if (!this.socket.write(frame)) {
        this.blocked = true;
        break;
      }
    }
    if (this.head === this.queue.length) this.clearQueue();
    else if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  closeWithNotice(message: string): void {
    this.finished = true;
    this.clearQueue();
    if (this.socket.destroyed) return;
    const socket = this.socket;
    const timer = setTimeout(() => socket.destroy(), 200);
    timer.unref();
    socket.end(disconnectNotice(message), () => {
      clearTimeout(timer);
      socket.destroy();
    });
  }

  destroy(): void {
    this.finished = true;
    this.clearQueue();
    this.socket.destroy();
  }

  /** Batches this tick's writes into one writev. */
  private corkForThisTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }
}

// ---- helpers ---------------------------------------------------------------------------------

function outgoingFromText(text: Buffer): Outgoing {
  const parsed = parseEventText(text);
  const data = parsed.ok ? parsed.value : null;
  const name = data !== null ? headerValue(data, 'Event-Name') : undefined;
  const type = (name !== undefined ? eventTypeFromName(name) : null) ?? (name ?? '').toUpperCase();
  const subclass = data !== null && type === 'CUSTOM' ? (headerValue(data, 'Event-Subclass') ?? null) : null;
  return { type, subclass, data, text };
}

function textOf(ev: Outgoing): Buffer {
  if (ev.text === null) ev.text = serializeEvent(ev.data ?? { headers: [], body: null });
  return ev.text;
}

function matchView(ev: Outgoing): EventForMatching {
  return {
    type: ev.type,
    subclass: ev.subclass,
    header: (name) => (ev.data === null ? undefined : headerValue(ev.data, name)),
  };
}

function jsonFrameOf(ev: Outgoing): Buffer {
  const data = ev.data ?? { headers: [], body: null };
  return eventFrame(Buffer.from(eventJson(data.headers, data.body), 'utf8'), 'json');
}

function headerOf(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

/** FreeSWITCH's `strchr(cur, ' ')` then the text after it; '' when there is no space. */
function afterFirstSpace(s: string): string {
  const i = s.indexOf(' ');
  return i < 0 ? '' : s.slice(i + 1);
}

function bytesFor(block: PumpBlock, n: number): number {
  const full = Math.floor(n / block.cycle);
  const cycleBytes = block.offsets[block.cycle]!;
  const rest = n % block.cycle;
  return full * cycleBytes + block.offsets[rest]!;
}

function validateOptions(o: FakeFreeSwitchOptions): void {
  if (o.port !== undefined && !(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535)) {
    throw new RangeError(`FakeFreeSwitch option "port" must be an integer 0..65535 (got ${String(o.port)})`);
  }
  if (o.maxQueuedEvents !== undefined && !(Number.isInteger(o.maxQueuedEvents) && o.maxQueuedEvents >= 1)) {
    throw new RangeError(`FakeFreeSwitch option "maxQueuedEvents" must be an integer >= 1 (got ${String(o.maxQueuedEvents)})`);
  }
  if (o.keepSendevents !== undefined && !(o.keepSendevents >= 0)) {
    throw new RangeError(`FakeFreeSwitch option "keepSendevents" must be >= 0 (got ${String(o.keepSendevents)})`);
  }
  if (o.password !== undefined && (o.password.length === 0 || /[\r\n]/.test(o.password))) {
    throw new RangeError('FakeFreeSwitch option "password" must be non-empty and contain no CR/LF');
  }
  if (o.switchname !== undefined && o.switchname.length === 0) {
    throw new RangeError('FakeFreeSwitch option "switchname" must be non-empty');
  }
}

function validatePump(o: PumpOptions): void {
  if (!Array.isArray(o.texts) || o.texts.length === 0) throw new RangeError('pump: "texts" must be a non-empty array of event texts');
  if (!(Number.isInteger(o.count) && o.count >= 0)) throw new RangeError(`pump: "count" must be an integer >= 0 (got ${String(o.count)})`);
  if (!(typeof o.maxSeconds === 'number' && o.maxSeconds > 0 && Number.isFinite(o.maxSeconds))) {
    throw new RangeError(`pump: "maxSeconds" must be a finite number > 0 (got ${String(o.maxSeconds)})`);
  }
  if (o.ratePerSec !== undefined && !(o.ratePerSec > 0 && Number.isFinite(o.ratePerSec))) {
    throw new RangeError(`pump: "ratePerSec" must be a finite number > 0, or undefined for as fast as possible (got ${String(o.ratePerSec)})`);
  }
}

/**
 * The two `sofia` commands the real-FreeSWITCH benchmark uses, for its tests against this
 * simulator: `status profile NAME` (one profile, `internal`, RUNNING) and `profile NAME
 * flush_inbound_reg [...]` (nothing is registered here; answered as mod_sofia does).
 */
function sofiaApi(arg: string): string {
  const words = arg.trim().split(/\s+/);
  if (words[0] === 'status' && words[1] === 'profile') {
    return words[2] === 'internal' ? 'Name internal\nState RUNNING (0)\n' : 'Invalid Profile!\n';
  }
  if (words[0] === 'profile' && words[2] === 'flush_inbound_reg') {
    if (words[1] !== 'internal') return 'Invalid Profile!\n';
    return words.length > 3 ? '+OK flushing all registrations matching specified call_id\n' : '+OK flushing all registrations\n';
  }
  return '-USAGE: sofia status|profile ...\n';
}

/** Events a batch body carries (0 when malformed), for the pending counts. */
function countBatchEvents(body: Buffer | null): number {
  if (body === null) return 0;
  const decoded = decodeBatchBody(body);
  return decoded.ok ? decoded.events.length : 0;
}
