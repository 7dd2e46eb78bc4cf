/**
 * The running bridge: what mod_event_multicast does for one FreeSWITCH box, from outside it.
 *
 *   egress   FreeSWITCH --ESL event plain--> [main] raw texts --> pool (filter, sender, frame,
 *            Blowfish) --> [main] one datagram per destination
 *   ingress  peers --UDP--> [main] datagrams --> pool (decrypt, MAGIC, parse, rewrite, sendevent
 *            text) --> [main] sendevent injectors (per-sender order); HEARTBEATs -> peer table
 *
 * The main thread only moves bytes and counts; every per-byte cost is in the pool.
 */
import { cpus } from 'node:os';
import { isIP } from 'node:net';
import { BRIDGE_SUBSCRIPTION, eslSubscription } from '../config/bindings.js';
import { describeDestinations, type Config, type StatusListen } from '../config/config.js';
import { EslEventSource } from '../esl/event-source.js';
import { SendeventInjector } from '../esl/injector.js';
import { apiCommandKey, OwnApiCommands } from '../esl/own-api-commands.js';
import type { EslFatalError } from '../esl/connection.js';
import { UdpTransport, UdpTransportError } from '../transport/udp/udp-transport.js';
import { describeNats } from '../config/nats-config.js';
import { NatsLink } from '../transport/nats/link.js';
import { multicastPeersText, PeerTable, type PeerChange } from '../peers/peer-table.js';
import { UdpSocketWatch, type UdpWatchResult } from '../transport/udp/udp-watch.js';
import { TokenBucket } from '../util/token-bucket.js';
import { printable } from '../wire/printable.js';
import { batchItem } from '../pool/batch.js';
import { CodecPool } from '../pool/codec-pool.js';
import {
  DELIVERED,
  EGRESS_NOT_BOUND,
  EGRESS_OWN_COMMAND,
  EGRESS_SENT,
  EGRESS_TOO_LARGE,
  EGRESS_UNREADABLE,
  SIGNAL_RELOADXML,
  type CodecSettings,
  type EgressResult,
  type IngressResult,
} from '../pool/tasks.js';
import { newCounters, type Counters } from '../status/counters.js';
import { StatusServer } from '../status/status-server.js';
import { buildCustomSendevent } from '../wire/ingress.js';
import { DROP_REASONS, type DropReason } from '../wire/types.js';
import { ReplayGuard } from '../wire/replay.js';
import type { CompactPacketInfo, MessageOptions } from '../wire/compact/ingress.js';
import { bindingAllows } from '../config/bindings.js';
import { CompactLink } from './compact-link.js';
import { PoolChain } from './pool-chain.js';
import { RateLimit } from '../util/rate-limit.js';
import { schedulingReport, starvationWarning, type SchedulingReport } from '../host/scheduling.js';
import { SourceHandover } from './source-handover.js';
import { reloadPlan, type ReloadStep } from './reload-plan.js';
import { fanOutEgress, fanOutRelay, type Destinations } from './fan-out.js';
import { BridgeMetrics, type MetricsSnapshot } from '../status/metrics.js';
import type { QueuedSamples } from '../pool/codec-pool.js';
import { LocationService } from '../location/location-service.js';

/** A pool's result with the latency samples of its batch. */
interface PoolOutput {
  result: EgressResult | IngressResult;
  samples: QueuedSamples;
  /** Ingress: per datagram, the address it came from. */
  sources: readonly (string | undefined)[] | null;
}
import { ReplayStore } from './replay-store.js';
import { mismatchKindOf, PskMismatchReport } from './psk-mismatch.js';
import type { ReplayState } from '../wire/replay-state.js';
import type { Logger } from '../util/log.js';

export interface BridgeOptions {
  config: Config;
  logger: Logger;
  /** Re-reads the configuration (SIGHUP, RELOADXML); throws ConfigError when the new file is bad. */
  reloadConfig?: () => Config;
  /** The bridge stopped for good (wrong ESL password...): the caller should exit non-zero. */
  onFatal?: (error: Error) => void;
  /** Epoch ms; tests drive peer timeouts with it. */
  now?: () => number;
  /** Where /proc is (default /proc); tests point it at a made-up tree. */
  procRoot?: string;
  /** How long a pool replaced by a reload may take to finish what it holds (default 5000 ms). */
  poolDrainTimeoutMs?: number;
  /** How often changed replay state is written to replay-state-file (default 5000 ms). */
  replaySaveIntervalMs?: number;
}

/**
 * Workers for `workers=auto`. Measured on 2 cores (bench full run, 1.3 KB PSK events): 0 workers
 * matched 1 and 2 on throughput (egress 80k/s; ingress 47.5k vs 45k vs 40k) with far better tail
 * latency (e2e p99 at 10k/s 2.5 ms vs 11.9 ms) and less memory (107 vs 147 MB): on two cores a
 * worker only competes with the main thread and FreeSWITCH. With more cores, leave one for the
 * main thread and one for FreeSWITCH, and give the rest to the pool.
 */
export function autoWorkers(cores = cpus().length): number {
  return cores <= 2 ? 0 : Math.min(8, cores - 2);
}

const LOG_INTERVAL_MS = 10_000;
/** peerup/peerdown fired into FreeSWITCH: one per peer at once (up to this many), then this rate. */
const PEER_EVENT_BURST_MAX = 4096;
const PEER_EVENT_RATE_PER_S = 20;
/** How often the kernel's view of the UDP sockets is read (udp-watch.ts). */
const SOCKET_CHECK_INTERVAL_MS = 10_000;
/** Changed replay state is written this often; a crash loses at most this much of it. */
const REPLAY_SAVE_INTERVAL_MS = 5_000;
/** Egress queue depths (events) at which the event socket is paused and resumed. */
const EGRESS_PAUSE_AT = 8192;
const EGRESS_RESUME_AT = 2048;
/** The longest a read pause lasts (FreeSWITCH buffers meanwhile; it cuts a reader 100000 events behind). */
const EGRESS_PAUSE_MAX_MS = 500;
/** A replaced pool gets this long to finish what it holds; then it is closed and the rest counted lost. */
const POOL_DRAIN_TIMEOUT_MS = 5_000;

export class Bridge {
  readonly counters: Counters = newCounters();
  private config: Config;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly poolDrainTimeoutMs: number;
  /** null when no UDP destination is configured (NATS only). */
  private transport: UdpTransport | null = null;
  /** The NATS transport (nats-servers set), or null. */
  private nats: NatsLink | null = null;
  private pool!: CodecPool;
  private source!: EslEventSource;
  private handover: SourceHandover | null = null;
  /** The pools that may still deliver, so a reload's pool swap reorders nothing; its current one is `pool`. */
  private pools!: PoolChain<CodecPool, PoolOutput>;
  /** The bridge's own `api` commands, whose API events are never sent to peers. */
  private readonly ownApi = new OwnApiCommands();
  /** This process against FreeSWITCH's real-time threads (src/host/scheduling.ts); null until read. */
  private scheduling: SchedulingReport | null = null;
  private readonly metrics = new BridgeMetrics(() => this.metricsSnapshot());
  private injector!: SendeventInjector;
  private status: StatusServer | null = null;
  private peers: PeerTable;
  /** PSK mode: recent packets, checked here on the main thread so a repeat is caught whichever worker decoded it. */
  private replay: ReplayGuard | null;
  /** Compact wire format: replay windows, reassembly and counts; kept across reloads. */
  private readonly compact = new CompactLink();
  /** Peers whose packets this bridge cannot read for want of the same PSK, by address (logged once each). */
  private readonly pskMismatch = new PskMismatchReport();
  /** replay-state-file: replay memory kept across restarts; null when not configured. */
  private replayStore: ReplayStore | null = null;
  private replayTimer: NodeJS.Timeout | null = null;
  /** Replay checks done when the state was last written (nothing new: no write). */
  private replaySavedVersion = -1;
  private replayNextSaveAt = 0;
  private peerTimer: NodeJS.Timeout | null = null;
  /** Limits peerup/peerdown sendevents: a flood of invented names must not become a flood of commands. */
  private peerEvents: TokenBucket;
  /** Other listeners on the UDP port, kernel receive-buffer drops. */
  private readonly udpWatch = new UdpSocketWatch();
  /** Transports replaced by a reload that are not closed yet: still ours for the watch. */
  private readonly retiring = new Set<UdpTransport>();
  private socketTimer: NodeJS.Timeout | null = null;
  private learnedName: string | null = null;
  private accepting = false;
  private readPause: { source: EslEventSource; timer: NodeJS.Timeout } | null = null;
  /** FreeSWITCH's local_ip_v4 / local_ip_v6, learned after connecting. */
  private ownAddresses: string[] = [];
  /** Whether FreeSWITCH has mod_event_multicast loaded (asked on every connect); null = not known. */
  private cModuleLoaded: boolean | null = null;
  private stopped = false;
  private fatalReported = false;
  private reloading: Promise<void> | null = null;
  private readonly warnLimit = new RateLimit(LOG_INTERVAL_MS);
  /** Location directory (src/location): fed from both paths' registrations; mirrored into mod_db via this.source.api. */
  private readonly location: LocationService;

  private constructor(private readonly options: BridgeOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.poolDrainTimeoutMs = options.poolDrainTimeoutMs ?? POOL_DRAIN_TIMEOUT_MS;
    this.peers = new PeerTable(this.config.peerTimeoutSeconds * 1000, { maxPeers: this.config.maxPeers });
    this.peerEvents = peerEventBucket(this.config, this.now());
    this.replay = replayGuardFor(this.config);
    this.location = new LocationService(this.config.location, {
      now: this.now,
      api: (line) => this.source.api(line),
      warn: (key, fields, message) => this.warnRateLimited(key, fields, message),
    });
  }

  static async start(options: BridgeOptions): Promise<Bridge> {
    const b = new Bridge(options);
    try {
      await b.startAll();
    } catch (e) {
      await b.abortStart();
      throw e;
    }
    return b;
  }

  /** A failed start (status port taken...) closes what it had opened: nothing keeps running. */
  private async abortStart(): Promise<void> {
    this.stopped = true;
    this.accepting = false;
    if (this.peerTimer !== null) clearInterval(this.peerTimer);
    if (this.socketTimer !== null) clearInterval(this.socketTimer);
    if (this.replayTimer !== null) clearInterval(this.replayTimer);
    // Fields are unset when the step that makes them was not reached.
    await this.source?.close();
    await this.injector?.close(0);
    await this.transport?.close();
    await this.nats?.close();
    await this.pool?.close();
    await this.status?.close();
  }

  get switchname(): string | null {
    return this.config.switchname ?? this.learnedName;
  }

  /**
   * Resolves true once an event FreeSWITCH fires from now on is sure to be sent: the event socket
   * that carries the current bindings is subscribed (during a reload, the new one) and the switch
   * name is known. False on timeout or when the source stopped for good.
   */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      for (;;) {
        if (this.reloading !== null && (await Promise.race([this.reloading.then(() => true), timeout])) === false) return false;
        const target = this.handover?.next ?? this.source;
        const live = Promise.all([target.subscribed, target.switchName]).then(() => true, () => false);
        if (!(await Promise.race([live, timeout]))) return false;
        // A reload that started meanwhile brings another source: wait for that one.
        if (this.reloading === null && (this.handover?.next ?? this.source) === target) return true;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Where the status endpoint listens, or null. */
  get statusAddress(): string | null {
    return this.status?.address ?? null;
  }

  private async startAll(): Promise<void> {
    const c = this.config;
    await this.loadReplayState(c);
    this.pools = this.createPools(c);
    this.pool = this.pools.current;
    if (udpWanted(c)) {
      const t = (this.transport = this.createTransport(c));
      await t.start();
      for (const w of t.warnings()) this.logger.warn({ udp: true }, w);
    }
    if (c.nats !== null) {
      this.nats = this.createNats(c);
      await this.nats.start();
    }
    this.injector = this.createInjector(c);
    this.source = this.createSource(c);
    this.accepting = true;
    this.injector.start();
    this.source.start();
    this.status = await StatusServer.start(c.statusListen, this.statusSource);
    this.peerTimer = setInterval(() => this.expirePeers(), Math.min(5000, Math.max(250, (c.peerTimeoutSeconds * 1000) / 4)));
    this.peerTimer.unref();
    this.checkSockets();
    this.socketTimer = setInterval(() => this.checkSockets(), SOCKET_CHECK_INTERVAL_MS);
    this.socketTimer.unref();
    this.logger.info(
      {
        destinations: describeDestinations(c),
        port: c.port,
        psk: c.psk !== null,
        workers: this.pool.workers,
        injectors: c.injectors,
        esl: `${c.esl.host}:${c.esl.port}`,
        status: this.status?.address ?? 'off',
        nats: c.nats === null ? 'off' : describeNats(c.nats),
      },
      'bridge started',
    );
  }

  /**
   * Replay protection across restarts: takes over what the last run had seen (before any packet
   * of this run), proves the file can be written (a configured file that cannot be is a start
   * error, not a silent loss of protection), then writes changes every few seconds and at stop.
   */
  private async loadReplayState(c: Config): Promise<void> {
    const file = c.psk === null ? null : c.replayState.file; // plain mode has no replay protection to keep
    if (file === null) {
      if (c.psk !== null && c.replayWindowSeconds > 0 && c.replayState.origin !== 'off') {
        this.logger.warn(
          { replayStateFile: c.replayState.origin },
          'replay protection is kept in memory only: after a restart, a packet captured before it can be replayed once (within replay-window); set replay-state-file to a file path',
        );
      }
      return;
    }
    const store = new ReplayStore(file);
    const r = await store.load();
    const now = this.now();
    if (r.kind === 'loaded') {
      const keys = r.state.legacy !== null && this.replay !== null ? this.replay.restore(r.state.legacy, now) : 0;
      const senders = c.psk !== null ? this.compact.receiver.tracker.restore(r.state.compact) : 0;
      store.noteLoaded(keys, senders, r.state.savedAtMs);
      this.logger.info({ replayStateFile: file, keys, compactSenders: senders, savedSecondsAgo: Math.round((now - r.state.savedAtMs) / 1000) }, 'replay state taken over from the last run');
    } else if (r.kind === 'refused') {
      this.logger.warn({ replayStateFile: file, why: r.why }, 'replay state file not used; starting with empty replay memory');
    } else {
      this.logger.info({ replayStateFile: file }, 'no replay state file yet; it is written from now on');
    }
    await store.save(() => this.replayState()); // throws a clear error when the file cannot be written
    this.replayStore = store;
    this.replaySavedVersion = this.replayVersion();
    const every = this.options.replaySaveIntervalMs ?? REPLAY_SAVE_INTERVAL_MS;
    this.replayTimer = setInterval(() => void this.saveReplayState(false), every);
    this.replayTimer.unref();
  }

  /** Reload: the replay state is written one last time where it was, then kept in the new place (or nowhere). */
  private async moveReplayState(next: Config): Promise<void> {
    if (this.replayTimer !== null) clearInterval(this.replayTimer);
    this.replayTimer = null;
    await this.saveReplayState(true);
    this.replayStore = null;
    await this.loadReplayState(next);
  }

  private replayState(): ReplayState {
    const now = this.now();
    return { savedAtMs: now, legacy: this.replay?.snapshot() ?? null, compact: this.compact.receiver.tracker.snapshot(now) };
  }

  /** Grows with every replay check: unchanged means nothing new to write. */
  private replayVersion(): number {
    return (this.replay?.stats().checked ?? 0) + this.compact.receiver.stats().accepted;
  }

  private async saveReplayState(final: boolean): Promise<void> {
    const store = this.replayStore;
    if (store === null) return;
    const version = this.replayVersion();
    if (!final && (version === this.replaySavedVersion || Date.now() < this.replayNextSaveAt)) return;
    try {
      const started = Date.now();
      await store.save(() => this.replayState());
      // Encoding a million keys takes ~100 ms of this thread: never spend more than ~5% of it on saving.
      this.replayNextSaveAt = Date.now() + 20 * (Date.now() - started);
      this.replaySavedVersion = version;
      if (final) this.logger.info({ replayStateFile: store.file, bytes: store.stats.lastSavedBytes }, 'replay state written');
    } catch (e) {
      this.warnRateLimited('replay-state', { err: (e as Error).message }, 'could not write the replay state; replay protection after a restart is weaker until it works again');
    }
  }

  private settingsOf(c: Config): CodecSettings {
    return {
      psk: c.psk === null ? null : c.psk.reveal(),
      bindings: c.bindings,
      ingressBindings: c.ingressBindings,
      maxDatagram: c.maxDatagram,
      limits: { maxHeaders: c.maxHeaders, maxHeaderBytes: c.maxHeaderBytes },
      maxEventAgeMs: c.maxEventAgeSeconds * 1000,
      maxClockSkewMs: c.maxClockSkewSeconds * 1000,
      undatedEvents: c.undatedEvents,
      stateBindings: c.nats?.state?.events ?? null,
      leanSendevent: c.leanSendevent,
      compact: {
        send: c.compactDestinations.length > 0,
        legacy: c.destinations.length > 0,
        fragmentBytes: c.compactFragmentBytes,
        compressAbove: c.compactCompressAbove,
      },
      location: c.location.enabled,
    };
  }

  private createPool(c: Config): CodecPool {
    const workers = c.workers === 'auto' ? autoWorkers() : c.workers;
    const pool: CodecPool = new CodecPool(this.settingsOf(c), { workers, maxBatch: c.batchSize, batchDelayUs: c.batchDelayUs }, {
      onEgress: (result, samples) => this.pools.result(pool, { result, samples, sources: null }),
      onIngress: (result, samples, sources) => this.pools.result(pool, { result, samples, sources }),
      onTaskError: (direction, error, items) => {
        this.counters[direction].lost += items;
        this.logger.error({ direction, items, err: (error as Error).message }, 'a worker batch failed; its items are counted as lost');
      },
      onPoolError: (error) => {
        this.counters.workerErrors++;
        this.logger.error({ err: (error as Error).message }, 'a worker thread failed; it is replaced');
      },
    });
    pool.switchname = c.switchname;
    pool.ownName = this.switchname;
    return pool;
  }

  /**
   * Reload: new sockets for new destinations, port, addresses or buffer. Make before break where
   * the kernel allows it (another port or address, or a multicast port shared with reuse). A port
   * bound exclusively must be let go first: the old sockets close and the new ones bind at once
   * (datagrams arriving in those few ms are lost). When the new sockets cannot bind, the running
   * configuration's are bound again and the error reported.
   */
  private async replaceTransport(next: Config, running: Config): Promise<void> {
    const oldT = this.transport;
    let t = udpWanted(next) ? this.createTransport(next) : null;
    try {
      await t?.start();
    } catch (e) {
      if (!(e instanceof UdpTransportError && e.code === 'EADDRINUSE' && oldT !== null)) throw e;
      await oldT.close();
      t = this.createTransport(next);
      try {
        await t.start();
      } catch (retry) {
        const back = this.createTransport(running);
        this.transport = null;
        await back.start();
        this.transport = back;
        this.applyOwnAddresses();
        throw retry;
      }
    }
    this.transport = t;
    this.applyOwnAddresses();
    if (oldT !== null) {
      this.retiring.add(oldT);
      setTimeout(() => void oldT.close().then(() => this.retiring.delete(oldT)), 200).unref();
    }
    this.checkSockets();
  }

  private createTransport(c: Config): UdpTransport {
    const t = new UdpTransport({
      destinations: [
        ...c.destinations.map((d) => ({ address: d.address, family: d.family, multicast: d.kind === 'multicast', format: 'legacy' as const })),
        ...c.compactDestinations.map((d) => ({ address: d.address, family: d.family, multicast: d.kind === 'multicast', format: 'compact' as const })),
      ],
      port: c.port,
      sourceAddress: c.sourceAddress,
      sourceAddressV6: c.sourceAddressIpv6,
      ttl: c.ttl,
      loopback: c.loopback,
      recvBufferBytes: c.udpRcvbufBytes,
      ...(c.multicastInterface !== null ? { multicastInterface: c.multicastInterface } : {}),
    });
    t.onDatagram((datagram, from) => {
      // During a reload the old socket lingers briefly; for multicast both get every datagram,
      // so only the current one feeds the pool (no duplicates).
      if (!this.accepting || t !== this.transport) return;
      this.counters.ingress.datagrams++;
      this.pool.ingress(datagram, this.nats?.udpOrigin, from.address);
    });
    t.onError((e) => this.warnRateLimited('udp', { err: e.message }, 'UDP socket error'));
    return t;
  }

  /** The NATS side (src/transport/nats/link.ts): its datagrams take the same ingress path as UDP's. */
  private createNats(c: Config): NatsLink {
    const link: NatsLink = new NatsLink(c.nats!, this.logger, (datagram, origin) => {
      if (!this.accepting || link !== this.nats) return;
      this.counters.ingress.datagrams++;
      this.pool.ingress(datagram, origin);
    });
    link.setOwnName(this.switchname);
    return link;
  }

  private eslEndpoint(c: Config) {
    return { host: c.esl.host, port: c.esl.port, password: c.esl.password.reveal(), logger: this.logger, replyTimeoutMs: c.eslReplyTimeoutSeconds * 1000 };
  }

  private createSource(c: Config): EslEventSource {
    const source: EslEventSource = new EslEventSource({
      ...this.eslEndpoint(c),
      subscription: eslSubscription(c.bindings, BRIDGE_SUBSCRIPTION),
      onEvents: (texts) => this.onSourceEvents(source, texts),
      onApiCommand: (command) => this.ownApi.expect(command),
      onSwitchName: (name) => this.learnName(name),
      onFatal: (e) => this.fatal(e),
      onConnectionChange: (up) => {
        // The connection logs its own ups and downs (rate-limited); nothing more here.
        if (up) {
          void this.learnFromFreeSwitch(source);
          void this.checkScheduling();
        }
        if (up && this.handover?.next === source) this.handover.nextSubscribed();
      },
    });
    return source;
  }

  private onSourceEvents(from: EslEventSource, texts: Buffer[]): void {
    if (!this.accepting) return;
    if (this.handover !== null) this.handover.onEvents(from, texts);
    else if (from === this.source) this.passOn(texts);
  }


  /** On every (re)connect: what FreeSWITCH says about itself (asked with `api`, see learnOwnAddresses). */
  private async learnFromFreeSwitch(source: EslEventSource): Promise<void> {
    // Pipelined on the one connection: the whole exchange takes no longer than the address probes alone.
    await Promise.all([this.learnOwnAddresses(source), this.checkCModule(source)]);
  }

  /**
   * mod_event_multicast loaded beside the bridge: both send every event, so every event goes out
   * twice, and both fire what they receive. Asked like the address probes (`api`), so the API
   * event FreeSWITCH raises for it is treated the same way.
   */
  private async checkCModule(source: EslEventSource): Promise<void> {
    let answer: string;
    try {
      answer = (await source.api('module_exists mod_event_multicast')).trim();
    } catch {
      return; // not connected any more: the next connection asks again
    }
    const loaded = answer === 'true' ? true : answer === 'false' ? false : null;
    const before = this.cModuleLoaded;
    this.cModuleLoaded = loaded;
    if (loaded === true) {
      this.logger.warn(
        { esl: 'events', module: 'mod_event_multicast' },
        'mod_event_multicast is loaded in FreeSWITCH: it and this bridge both send every event (every event goes out twice) and both fire what peers send. ' +
          'Unload it (fs_cli -x "unload mod_event_multicast") and remove <load module="mod_event_multicast"/> from modules.conf.xml',
      );
    } else if (loaded === false && before === true) {
      this.logger.info({ esl: 'events', module: 'mod_event_multicast' }, 'mod_event_multicast is no longer loaded in FreeSWITCH');
    } else if (loaded === null) {
      this.logger.debug({ esl: 'events', answer: answer.slice(0, 120) }, 'could not tell whether mod_event_multicast is loaded');
    }
  }

  /**
   * The box's own addresses (FreeSWITCH's local_ip_v4 / local_ip_v6 globals): like the C
   * module, the bridge sends nothing to a unicast destination that is this box, so every box of a
   * cluster can share one `address` list.
   */
  private async learnOwnAddresses(source: EslEventSource): Promise<void> {
    const found: string[] = [];
    for (const name of ['local_ip_v4', 'local_ip_v6']) {
      try {
        const value = (await source.api(`global_getvar ${name}`)).trim();
        if (isIP(value) !== 0) found.push(value);
      } catch {
        // Not connected any more: the next connection asks again.
      }
    }
    this.ownAddresses = found;
    this.applyOwnAddresses();
  }

  private applyOwnAddresses(): void {
    const skipped = this.transport?.skipOwnAddresses(this.ownAddresses) ?? [];
    if (skipped.length > 0) this.logger.info({ skipped, own: this.ownAddresses }, 'not sending to this box\'s own address');
  }

  private passOn(texts: Buffer[]): void {
    this.counters.egress.events += texts.length;
    for (const t of texts) this.pool.egress(t);
    if (this.pool.egressQueued >= EGRESS_PAUSE_AT && this.readPause === null) this.pauseReading();
  }

  /**
   * Backpressure toward FreeSWITCH: while the egress queue is full, stop reading the event
   * socket so FreeSWITCH buffers instead of the bridge reading and dropping (which burns the CPU
   * the workers need). A pause never outlasts EGRESS_PAUSE_MAX_MS: FreeSWITCH cuts a listener
   * 100000 events behind, so past that the bridge reads again and drops the oldest.
   */
  private pauseReading(): void {
    const source = this.source;
    source.pause();
    this.counters.egress.readPauses++;
    this.readPause = { source, timer: setTimeout(() => this.resumeReading(), EGRESS_PAUSE_MAX_MS) };
    this.readPause.timer.unref();
  }

  private resumeReading(): void {
    const p = this.readPause;
    if (p === null) return;
    this.readPause = null;
    clearTimeout(p.timer);
    p.source.resume();
  }

  /** Reload: a new event source replaces the running one (source-handover.ts). */
  private replaceSource(next: EslEventSource, sameFreeSwitch: boolean): void {
    this.handover?.complete('another reload');
    const old = this.source;
    if (!sameFreeSwitch) {
      this.source = next;
      next.start();
      void old.close();
      return;
    }
    this.handover = new SourceHandover(old, next, {
      passOn: (texts) => {
        if (this.accepting) this.passOn(texts);
      },
      done: (source, how, buffered, switchAt) => {
        this.handover = null;
        this.source = source;
        this.logger.info({ esl: 'events', how, buffered, switchAt }, 'new event socket took over');
      },
    });
    next.start();
  }

  private createInjector(c: Config): SendeventInjector {
    return new SendeventInjector({
      ...this.eslEndpoint(c),
      connections: c.injectors,
      onFatal: (e) => this.fatal(e),
      onReplyLatency: (seconds) => this.metrics.ingressLatency.observe(seconds),
      batch: c.injectBatch,
      batchMs: c.injectBatchMs,
      batchMaxEvents: c.injectBatchMax,
      // Its probe's API events reach only a subscribed event source: expect an echo only then.
      onApiCommand: (line) => {
        if (this.source?.connected) this.ownApi.expect(line);
      },
    });
  }

  private learnName(name: string): void {
    if (this.learnedName === name) return;
    this.learnedName = name;
    this.pool.ownName = this.switchname;
    this.nats?.setOwnName(this.switchname);
    this.logger.info({ switchname: name, override: this.config.switchname }, 'learned the switch name from FreeSWITCH');
  }

  private fatal(e: EslFatalError | Error): void {
    // The event source and the injector hit the same wrong password: report it once.
    if (this.stopped || this.fatalReported) return;
    this.fatalReported = true;
    this.logger.fatal({ reason: (e as EslFatalError).reason }, e.message);
    this.options.onFatal?.(e);
  }

  // ---------------------------------------------------------------------------------------------
  // Results from the pool, in order.

  private deliver({ result, samples, sources }: PoolOutput): void {
    const now = performance.now();
    this.metrics.batchSize.observe({ direction: result.kind }, result.ends.length);
    if (result.kind === 'egress') {
      this.onEgress(result);
      if (samples !== null) for (let i = 1; i < samples.length; i += 2) this.metrics.egressLatency.observe((now - samples[i]!) / 1000);
    } else this.onIngress(result, sources ?? [], samples);
  }

  private createPools(c: Config): PoolChain<CodecPool, PoolOutput> {
    const count = ({ result: r }: PoolOutput) => (this.counters[r.kind].lost += r.ends.length);
    return new PoolChain<CodecPool, PoolOutput>(
      this.createPool(c),
      {
        deliver: (r) => this.deliver(r),
        lost: count,
        abandoned: (pool, dropped) => {
          this.counters.egress.lost += dropped.egress;
          this.counters.ingress.lost += dropped.ingress;
          this.logger.warn(
            { timeoutMs: this.poolDrainTimeoutMs, queuedDropped: dropped, pool: pool.stats() },
            'reload: the replaced worker pool did not finish in time; it is closed, and what it still held is counted lost',
          );
        },
      },
      this.poolDrainTimeoutMs,
    );
  }

  private onEgress(r: EgressResult): void {
    if (this.readPause !== null && this.pool.egressQueued <= EGRESS_RESUME_AT) this.resumeReading();
    if (r.apiEvents !== undefined) this.dropOwnApiEvents(r);
    if (r.registrations !== undefined) this.location.local(r.registrations, this.switchname);
    const e = this.counters.egress;
    e.datagrams += fanOutEgress(r, this.destinations());
    for (let i = 0; i < r.ends.length; i++) {
      const outcome = r.outcome[i];
      if (outcome === EGRESS_NOT_BOUND) e.notBound++;
      else if (outcome === EGRESS_OWN_COMMAND) e.ownCommand++;
      else if (outcome === EGRESS_UNREADABLE) e.unreadable++;
      else if (outcome === EGRESS_TOO_LARGE) e.tooLarge++;
      if (r.signals[i]! & SIGNAL_RELOADXML) void this.reload('RELOADXML');
    }
    for (const big of r.tooLarge) {
      this.logger.warn({ event: big.event, bytes: big.bytes, maxDatagram: this.config.maxDatagram }, 'event too large for one datagram: not sent');
    }
    if (r.switchname !== null && this.learnedName === null) this.learnName(r.switchname);
  }

  private destinations(): Destinations {
    return { udp: this.transport, nats: this.nats, compact: this.compact };
  }

  /** The API events raised by the bridge's own `api` commands are never sent (own-api-commands.ts). */
  private dropOwnApiEvents(r: EgressResult): void {
    for (const a of r.apiEvents!) {
      if (r.outcome[a.index] === EGRESS_SENT && this.ownApi.claim(apiCommandKey(a.command, a.argument))) r.outcome[a.index] = EGRESS_OWN_COMMAND;
    }
  }

  private onIngress(r: IngressResult, sources: readonly (string | undefined)[] = [], samples: QueuedSamples = null): void {
    const g = this.counters.ingress;
    const now = this.now();
    if (r.relay !== undefined) fanOutRelay(r, this.destinations());
    let s = 0; // the next latency sample: [offset, queued at] pairs, in offset order
    const replayed = r.registrations !== undefined ? new Set<number>() : null; // location: replays are not registrations
    for (let i = 0; i < r.ends.length; i++) {
      while (samples !== null && s < samples.length && samples[s]! < i) s += 2;
      const queuedAt = samples !== null && samples[s] === i ? samples[s + 1] : undefined;
      const sender = r.senders[i] ?? null;
      const info = r.compact?.[i] ?? null;
      if (info !== null && this.onCompactIngress(info, sender, now)) continue;
      const key = r.replayKeys?.[i] ?? null;
      if (key !== null && this.replay !== null && this.replay.seen(key, now)) {
        g.dropped.replay++;
        replayed?.add(i);
        continue;
      }
      if (r.drop[i] === DELIVERED) this.fire(r.orderKeys?.[i] ?? sender ?? '', batchItem(r, i), queuedAt);
      else {
        const reason = DROP_REASONS[r.drop[i]!]!;
        g.dropped[reason]++;
        const from = sources[i];
        if (from !== undefined) this.notePskMismatch(from, reason, now);
      }
      if (r.heartbeat[i] === 1 && sender !== null) this.sighted(sender, now);
    }
    if (r.registrations !== undefined) this.location.remote(r.registrations, replayed);
    if (r.details.length > 0) this.warnRateLimited('ingress-drop', { examples: r.details }, 'dropped received packets');
  }

  /** A drop that means "this peer and this bridge do not share a PSK": said once per peer address. */
  private notePskMismatch(from: string, reason: DropReason, now: number): void {
    const kind = mismatchKindOf(reason, this.config.psk !== null);
    if (kind === null) return;
    const line = this.pskMismatch.note(from, kind, reason, now);
    if (line !== null) this.logger.warn(line.fields, line.message);
  }

  /** `queuedAt`: for a sampled datagram, when it was received (ingress latency to FreeSWITCH's reply). */
  private fire(orderKey: string, command: Buffer, queuedAt?: number): void {
    this.injector.send(orderKey, command, queuedAt);
    this.counters.ingress.fired++;
  }

  /** A HEARTBEAT from `sender`: it may bring the peer up, or be refused by the bounded table. */
  private sighted(sender: string, now: number): void {
    const change = this.peers.sighted(sender, now);
    if (change === null) return;
    if (change.kind !== 'refused') return this.firePeerChange(change);
    const t = this.peers.stats();
    const why = change.reason === 'table-full' ? `the peer table is full (max-peers ${t.maxPeers}, every peer up): new peers refused` : 'peer names longer than 255 bytes refused';
    this.warnRateLimited(`peer-${change.reason}`, { refusedTableFull: t.refusedTableFull, refusedNameTooLong: t.refusedNameTooLong, example: printable(sender.slice(0, 64)) }, why);
  }

  /**
   * How a reassembled compact message is decoded: read through getters at use, so it follows
   * reloads and the learned switch name, and is built once rather than per datagram.
   */
  private readonly compactDecode: MessageOptions = ((b: Bridge): MessageOptions => ({
    get ownName() {
      return b.switchname;
    },
    allows: (name, subclass) => bindingAllows(b.config.ingressBindings, name, subclass),
    get limits() {
      return { maxHeaders: b.config.maxHeaders, maxHeaderBytes: b.config.maxHeaderBytes };
    },
    get lean() {
      return b.config.leanSendevent;
    },
    get age() {
      const c = b.config;
      return { maxAgeMs: c.maxEventAgeSeconds * 1000, maxSkewMs: c.maxClockSkewSeconds * 1000, undated: c.undatedEvents };
    },
    get nowMs() {
      return b.now();
    },
  }))(this);

  /** A compact datagram's replay window and reassembly (compact-link.ts); true when that settled the item. */
  private onCompactIngress(info: CompactPacketInfo, sender: string | null, now: number): boolean {
    const d = this.compact.ingress(info, sender, now, this.compactDecode);
    if (d.kind === 'worker') return false;
    if (d.kind === 'pending') return true;
    const g = this.counters.ingress;
    if (d.kind === 'drop') {
      g.dropped[d.reason]++;
      this.warnRateLimited('compact-drop', { examples: [d.detail] }, 'dropped received compact packets');
      return true;
    }
    const m = d.outcome;
    if (m.ok) this.fire(m.sender ?? '', m.command);
    else g.dropped[m.reason]++;
    if (m.heartbeat && m.sender !== null) this.sighted(m.sender, now);
    return true;
  }

  private firePeerChange(change: PeerChange): void {
    if (!this.peerEvents.take(this.now())) {
      // The table still follows the peer; only FreeSWITCH (and the log) are spared the flood.
      this.counters.peers.eventsRefused++;
      this.warnRateLimited('peer-events', { eventsRefused: this.counters.peers.eventsRefused, limit: `${PEER_EVENT_RATE_PER_S}/s, burst ${this.peerEvents.burst}` }, 'too many peer up/down changes: not all are fired into FreeSWITCH or logged');
      return;
    }
    const subclass = change.kind === 'peerup' ? 'multicast::peerup' : 'multicast::peerdown';
    // The peer's own key: its connection, so a peerup never overtakes the HEARTBEAT that caused it.
    this.injector.send(change.peer, buildCustomSendevent(subclass, [['Peer', change.peer], ['Lastseen', change.lastseen]]));
    if (change.kind === 'peerup') this.counters.peers.up++;
    else this.counters.peers.down++;
    this.logger.info({ peer: printable(change.peer), lastseen: change.lastseen }, change.kind === 'peerup' ? 'peer up' : 'peer down');
  }

  /** Checks peer timeouts now (also run by a timer). */
  expirePeers(): void {
    this.compact.expire(this.now());
    this.location.expire();
    for (const change of this.peers.expire(this.now())) this.firePeerChange(change);
  }

  /**
   * Reads the kernel's view of the UDP sockets (also run by a timer): other listeners on the
   * port are logged when they change, receive-buffer drops counted and logged once per episode.
   */
  checkSockets(): void {
    const own = [this.transport, ...this.retiring].flatMap((t) => t?.boundAddresses() ?? []);
    if (own.length === 0) return;
    const r = this.udpWatch.check(own, this.now());
    if (r !== null) this.reportSockets(r);
  }

  private reportSockets(r: UdpWatchResult): void {
    this.counters.ingress.kernelRcvbufDrops += r.newDrops;
    const port = this.config.port;
    if (r.sharersChanged && r.sharers.length > 0) {
      this.logger.warn(
        { port, sharers: r.sharers, find: `ss -uanp 'sport = :${port}'` },
        `another socket is bound to UDP port ${port} on this host and can take datagrams meant for the bridge: a loaded mod_event_multicast ('unload mod_event_multicast'), a second bridge, or another program`,
      );
    } else if (r.sharersChanged) this.logger.info({ port }, `no other socket shares UDP port ${port} any more`);
    if (r.episodeStarted !== null) {
      const rcvbuf = this.transport?.stats().sockets.map((s) => s.recvBuffer.effective) ?? [];
      this.logger.warn(
        { kernelRcvbufDrops: r.newDrops, receiveBufferBytes: rcvbuf, udpRcvbuf: this.config.udpRcvbufBytes },
        'the kernel is dropping received datagrams: the receive buffer is full because the bridge does not read fast enough. Raise udp-rcvbuf and net.core.rmem_max (sysctl), and give the bridge real-time priority (see conf/fs-event-multicast.service)',
      );
    }
    if (r.episodeEnded !== null) {
      const e = r.episodeEnded;
      this.logger.info({ drops: e.drops, seconds: Math.round((e.lastMs - e.sinceMs) / 1000) }, 'kernel receive-buffer drops have stopped');
    }
  }

  private warnRateLimited(key: string, fields: object, message: string): void {
    if (!this.warnLimit.allow(key)) return;
    this.logger.warn({ ...fields, counters: key === 'ingress-drop' ? this.counters.ingress.dropped : undefined }, message);
  }

  // ---------------------------------------------------------------------------------------------
  // Status

  private readonly statusSource = {
    peersText: () => this.peersText(),
    peersJson: () => this.peersJson(),
    status: () => this.statusJson(),
    healthy: () => this.source.connected,
    problems: () => this.healthProblems(),
    metrics: () => this.metrics.exposition(),
    locationsJson: (query: { user?: string; domain?: string }) => this.location.json(query),
  };

  private metricsSnapshot(): MetricsSnapshot {
    const pool = this.pool.stats();
    const inj = this.injector.stats();
    const events = this.source.stats();
    const peers = this.peers.list();
    const nats = this.nats?.stats() ?? null;
    return {
      counters: this.counters,
      pool: { egressQueued: pool.egress.queued, ingressQueued: pool.ingress.queued },
      injector: {
        queued: inj.queued,
        inFlight: inj.inFlight,
        connections: inj.perConnection.length,
        connected: inj.perConnection.filter((c) => c.connected).length,
        repliesOk: inj.repliesOk,
        repliesErr: inj.repliesErr,
        reconnects: inj.reconnects,
        batches: inj.batches,
        batchedEvents: inj.batchedEvents,
        notBatchable: inj.notBatchable,
        fanOut: inj.fanOut,
      },
      events: { connected: events.connected, reconnects: events.reconnects },
      peers: { up: peers.filter((p) => p.up).length, known: peers.length },
      nats: nats === null ? null : { connected: nats.transport.phase === 'connected', reconnects: nats.transport.reconnects },
    };
  }

  /** Reload: the status endpoint moves; on failure the old one is kept and the error thrown. */
  private async moveStatus(from: StatusListen, to: StatusListen): Promise<void> {
    const old = this.status;
    try {
      this.status = await StatusServer.start(to, this.statusSource);
    } catch (first) {
      if (old === null) throw first;
      // The new address may overlap the old one (same port, another host): free it and retry.
      await old.close();
      try {
        this.status = await StatusServer.start(to, this.statusSource);
      } catch (e) {
        this.status = await StatusServer.start(from, this.statusSource).catch(() => null);
        throw e;
      }
      return;
    }
    await old?.close();
  }

  peersText(): string {
    return multicastPeersText(!this.stopped, describeDestinations(this.config), this.peers.list(), this.now());
  }

  peersJson(): unknown {
    const now = this.now();
    const compactCounts = this.compact.peerCounts();
    // Shown only where the compact format is in use: the legacy-only answer stays as it was.
    const compactInUse = this.config.compactDestinations.length > 0 || compactCounts.size > 0;
    return {
      state: this.stopped ? 'Inactive' : 'Active',
      configured: this.config.destinations.map((d) => ({ kind: d.label, address: d.address })),
      ...(compactInUse ? { compactConfigured: this.config.compactDestinations.map((d) => ({ kind: d.label, address: d.address })) } : {}),
      transports: this.transportsJson(),
      // Per peer name (all its sender instances): datagrams received, lost, reordered, duplicated, too old.
      ...(compactInUse ? { compact: Object.fromEntries(compactCounts) } : {}),
      peers: this.peers.list().map((p) => ({
        name: p.name,
        up: p.up,
        lastSeen: Math.floor(p.lastSeenMs / 1000),
        secondsAgo: Math.floor(now / 1000) - Math.floor(p.lastSeenMs / 1000),
        ...(compactCounts.has(p.name) ? { compact: compactCounts.get(p.name) } : {}),
      })),
    };
  }

  /** Per transport: is it running, where to, what went through, what was dropped. */
  private transportsJson(): unknown {
    const u = this.transport?.stats() ?? null;
    const n = this.nats?.stats() ?? null;
    return {
      udp:
        u === null
          ? null
          : {
              sent: u.destinations.reduce((x, d) => x + d.sent, 0),
              failed: u.destinations.reduce((x, d) => x + d.failed, 0),
              received: u.received,
              socketErrors: u.socketErrors,
            },
      nats:
        n === null
          ? null
          : {
              state: n.transport.phase,
              server: n.transport.server,
              reconnects: n.transport.reconnects,
              published: n.transport.published,
              received: n.transport.received,
              dropped: n.transport.dropped,
              catchUp: n.transport.catchUp.state,
              relay: n.relay,
            },
    };
  }

  /**
   * On every connect (FreeSWITCH may have restarted with another priority): is the bridge at
   * risk of starving beside a real-time FreeSWITCH? Warned when that turns true, with the fix.
   */
  private async checkScheduling(): Promise<void> {
    const r = await schedulingReport(this.options.procRoot);
    const wasAtRisk = this.scheduling?.starvationRisk ?? false;
    this.scheduling = r;
    if (r.starvationRisk && !wasAtRisk) this.logger.warn({ freeswitch: r.freeswitch, bridge: r.bridge }, starvationWarning(r));
  }

  /** What /healthz reports: one line per thing that is wrong now (empty when all works). */
  healthProblems(): string[] {
    const out: string[] = [];
    const events = this.source.problem;
    if (events !== null) out.push(`events: ${events}`);
    out.push(...this.injector.problems());
    const sharers = this.udpWatch.stats().portSharers;
    if (sharers.length > 0) {
      const list = sharers.map((s) => `${s.local} (uid ${s.uid}, inode ${s.inode}, ${s.how})`).join(', ');
      out.push(`udp: other sockets on UDP port ${this.config.port} can take the bridge's datagrams: ${list}; find them with: ss -uanp 'sport = :${this.config.port}'`);
    }
    return out;
  }

  statusJson(): unknown {
    return {
      switchname: this.switchname,
      // Both sending every event is the usual cause of "every event arrives twice".
      freeswitch: { modEventMulticastLoaded: this.cModuleLoaded },
      scheduling: this.scheduling,
      ownApiCommands: this.ownApi.stats(),
      health: this.healthProblems(),
      uptimeSeconds: Math.round(process.uptime()),
      counters: this.counters,
      pool: this.pool.stats(),
      esl: { events: this.source.stats(), injector: this.injector.stats() },
      udp: this.transport?.stats() ?? null,
      nats: this.nats?.stats() ?? null,
      compact: this.compact.stats(),
      replay: this.replay?.stats() ?? null,
      peerTable: this.peers.stats(),
      location: this.location.stats(),
      udpSockets: this.udpWatch.stats(),
      pskMismatch: this.pskMismatch.stats(),
      replayState: this.replayStore === null ? { file: null, why: this.config.replayState.origin } : this.replayStore.stats,
      memory: { rssBytes: process.memoryUsage.rss() },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Reload: make before break, so nothing in flight is dropped.

  /** Re-reads the configuration; a bad new file keeps the old configuration running. */
  reload(why: string): Promise<void> {
    if (this.options.reloadConfig === undefined || this.stopped) return Promise.resolve();
    if (this.reloading !== null) return this.reloading;
    this.reloading = this.doReload(why).finally(() => (this.reloading = null));
    return this.reloading;
  }

  private async doReload(why: string): Promise<void> {
    let next: Config;
    try {
      next = this.options.reloadConfig!();
    } catch (e) {
      this.counters.reloads.rejected++;
      this.logger.error({ why, err: (e as Error).message }, 'configuration reload failed; keeping the running configuration');
      return;
    }
    const old = this.config;
    if (next.contentHash === old.contentHash) {
      this.counters.reloads.unchanged++;
      this.logger.debug({ why }, 'configuration unchanged');
      return;
    }
    const plan = reloadPlan(old, next);
    const step = (s: ReloadStep) => plan.steps.has(s);
    try {
      // First, as it is the one step that can fail for reasons outside the file (address in use).
      if (step('status')) await this.moveStatus(old.statusListen, next.statusListen);
      if (step('log-level')) this.logger.level = next.logLevel;
      if (step('udp')) await this.replaceTransport(next, old);
      if (step('nats')) {
        // Make before break: the new connection is up (or retrying) before the old one closes.
        const n = next.nats === null ? null : this.createNats(next);
        await n?.start();
        const oldN = this.nats;
        this.nats = n;
        n?.setOwnName(this.switchname);
        setTimeout(() => void oldN?.close(), 200).unref();
      }
      if (step('pool')) {
        this.pools.replace(this.createPool(next));
        this.pool = this.pools.current;
      }
      this.pool.switchname = next.switchname;
      if (step('injector')) {
        // Only when its own settings change: a new injector beside a draining old one could reorder a sender's events.
        const oldInjector = this.injector;
        this.injector = this.createInjector(next);
        this.injector.start();
        void oldInjector.close(5000);
      }
      if (step('events') && (!plan.sameFreeSwitch || plan.changed.includes('eslReplyTimeoutSeconds') || eslSubscription(old.bindings, BRIDGE_SUBSCRIPTION) !== eslSubscription(next.bindings, BRIDGE_SUBSCRIPTION))) {
        this.replaceSource(this.createSource(next), plan.sameFreeSwitch);
      }
      if (step('peer-limits')) {
        // Keep who was seen; only the limits change.
        this.peers.setLimits(next.peerTimeoutSeconds * 1000, next.maxPeers);
        this.peerEvents = peerEventBucket(next, this.now());
      }
      if (step('replay-guard')) this.replay = replayGuardFor(next);
      if (step('replay-store')) await this.moveReplayState(next);
      if (step('location')) this.location.configure(next.location);
      this.config = next;
      this.pool.ownName = this.switchname;
      this.counters.reloads.applied++;
      this.logger.info({ why, changed: plan.changed, destinations: describeDestinations(next), status: this.status?.address ?? 'off', logLevel: next.logLevel }, 'configuration reloaded');
    } catch (e) {
      this.counters.reloads.rejected++;
      this.logger.error({ why, err: (e as Error).message }, 'could not apply the new configuration; keeping the running one');
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Stops taking input, drains what is in flight (bounded), then closes everything. */
  async stop(drainMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.accepting = false;
    if (this.peerTimer !== null) clearInterval(this.peerTimer);
    if (this.socketTimer !== null) clearInterval(this.socketTimer);
    if (this.readPause !== null) clearTimeout(this.readPause.timer);
    const h = this.handover;
    this.handover = null;
    await h?.abandon(this.source);
    await this.source.close();
    const drained = await Promise.race([
      Promise.all([this.pools.settled(), this.pool.drain()]).then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), drainMs).unref()),
    ]);
    if (!drained) this.logger.warn({ pool: this.pool.stats() }, 'stop: the pool did not drain in time');
    if (this.replayTimer !== null) clearInterval(this.replayTimer);
    await this.saveReplayState(true);
    await this.injector.close(drainMs);
    await this.transport?.close();
    await this.nats?.close();
    await this.pool.close();
    await this.status?.close();
    this.logger.info({ counters: this.counters }, 'bridge stopped');
  }
}

/** peerup/peerdown: a burst of one per possible peer, then PEER_EVENT_RATE_PER_S. */
function peerEventBucket(c: Config, nowMs: number): TokenBucket {
  return new TokenBucket(PEER_EVENT_RATE_PER_S, Math.min(c.maxPeers, PEER_EVENT_BURST_MAX), nowMs);
}

/** UDP runs when some destination (legacy or compact) is configured; without one the bridge is NATS only. */
function udpWanted(c: Config): boolean {
  return c.destinations.length > 0 || c.compactDestinations.length > 0;
}

/** Replay protection is on in PSK mode with a replay-window > 0. */
function replayGuardFor(c: Config): ReplayGuard | null {
  return c.psk !== null && c.replayWindowSeconds > 0 ? new ReplayGuard({ windowMs: c.replayWindowSeconds * 1000 }) : null;
}
