/**
 * The running bridge: what mod_event_multicast does for one FreeSWITCH box, from outside it.
 *
 *   egress   FreeSWITCH --ESL event plain--> [main] raw texts --> pool (filter, sender, frame,
 *            Blowfish) --> [main] one datagram per destination            (egress-path.ts)
 *   ingress  peers --UDP/NATS--> [main] datagrams --> pool (decrypt, MAGIC, parse, rewrite,
 *            sendevent text) --> [main] sendevent injectors; HEARTBEATs -> peers   (ingress-path.ts)
 *
 * The main thread only moves bytes and counts; every per-byte cost is in the pool. This class is
 * the facade: it builds the parts (part-options.ts says from what), wires them, and owns their
 * lifecycle — start, reload (reload-plan.ts says what a change rebuilds; source-handover.ts and
 * pool-chain.ts keep order across it), stop — and the status views over them.
 */
import { cpus } from 'node:os';
import { BRIDGE_SUBSCRIPTION, eslSubscription } from '../config/bindings.js';
import { describeDestinations, type Config } from '../config/config.js';
import { describeNats } from '../config/nats-config.js';
import type { EslFatalError } from '../esl/connection.js';
import { EslEventSource } from '../esl/event-source.js';
import { SendeventInjector } from '../esl/injector.js';
import { OwnApiCommands } from '../esl/own-api-commands.js';
import { LocationService } from '../location/location-service.js';
import { CodecPool, type QueuedSamples } from '../pool/codec-pool.js';
import type { EgressResult, IngressResult } from '../pool/tasks.js';
import { PeerWatch } from '../peers/peer-watch.js';
import { newCounters, type Counters } from '../status/counters.js';
import { StatusEndpoint } from '../status/status-endpoint.js';
import { NatsLink } from '../transport/nats/link.js';
import { UdpHealth } from '../transport/udp/udp-health.js';
import { UdpTransport, UdpTransportError } from '../transport/udp/udp-transport.js';
import type { Logger } from '../util/log.js';
import { RateLimit } from '../util/rate-limit.js';
import { CompactLink } from './compact-link.js';
import { EgressPath } from './egress-path.js';
import { FreeSwitchFacts } from './freeswitch-facts.js';
import { IngressPath } from './ingress-path.js';
import type { LiveParts } from './live-parts.js';
import { codecSettingsOf, eslEndpointOf, replayGuardFor, udpOptionsOf, udpWanted } from './part-options.js';
import { PoolChain } from './pool-chain.js';
import { reloadPlan, type ReloadStep } from './reload-plan.js';
import { ReplayPersistence } from './replay-persistence.js';
import { URGENT } from './ingress-tag.js';
import { SourceHandover } from './source-handover.js';
import { StatusViews } from './status-views.js';

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
  /** The bridge owns its process and may make it real-time (setting realtime; default false: embedded, e.g. in tests). */
  mayChangeScheduling?: boolean;
  /** How long a pool replaced by a reload may take to finish what it holds (default 5000 ms). */
  poolDrainTimeoutMs?: number;
  /** How often changed replay state is written to replay-state-file (default 5000 ms). */
  replaySaveIntervalMs?: number;
}

/**
 * Workers for `workers=auto`. On 2 cores the full benchmark (`npm run bench`: workers 0/1/2) found
 * no throughput gain from a worker and a worse tail latency and memory: a worker only competes
 * with the main thread and FreeSWITCH there. With more cores, leave one for the main thread and
 * one for FreeSWITCH, and give the rest to the pool.
 */
export function autoWorkers(cores = cpus().length): number {
  return cores <= 2 ? 0 : Math.min(8, cores - 2);
}

const LOG_INTERVAL_MS = 10_000;
/** How often the kernel's view of the UDP sockets is read (udp-watch.ts). */
const SOCKET_CHECK_INTERVAL_MS = 10_000;
/** A replaced pool gets this long to finish what it holds; then it is closed and the rest counted lost. */
const POOL_DRAIN_TIMEOUT_MS = 5_000;

/** A pool's result with the latency samples of its batch. */
interface PoolOutput {
  result: EgressResult | IngressResult;
  samples: QueuedSamples;
  /** Ingress: per datagram, the address it came from. */
  sources: readonly (string | undefined)[] | null;
}

export class Bridge {
  readonly counters: Counters = newCounters();
  /** The parts running now; a reload assigns new ones here (live-parts.ts). */
  private readonly live: LiveParts;
  private readonly logger: Logger;
  private readonly now: () => number;
  private handover: SourceHandover | null = null;
  /** The pools that may still deliver, so a reload's pool swap reorders nothing; its current one is live.pool. */
  private pools!: PoolChain<CodecPool, PoolOutput>;
  private readonly ownApi = new OwnApiCommands();
  private readonly views: StatusViews;
  private readonly status: StatusEndpoint;
  private readonly peers: PeerWatch;
  private readonly egress: EgressPath;
  private readonly ingress: IngressPath;
  private readonly facts: FreeSwitchFacts;
  private readonly replayState: ReplayPersistence;
  /** Location directory (src/location): fed from both paths' registrations; mirrored into mod_db through the event socket. */
  private readonly location: LocationService;
  private readonly udpHealth: UdpHealth;
  /** Transports replaced by a reload that are not closed yet: still ours for the socket check. */
  private readonly retiring = new Set<UdpTransport>();
  private peerTimer: NodeJS.Timeout | null = null;
  private socketTimer: NodeJS.Timeout | null = null;
  private learnedName: string | null = null;
  private accepting = false;
  private stopped = false;
  private fatalReported = false;
  private reloading: Promise<void> | null = null;
  private readonly warnLimit = new RateLimit(LOG_INTERVAL_MS);

  private constructor(private readonly options: BridgeOptions) {
    const config = options.config;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    // The parts made by startAll() are set there; until then nothing reads them.
    this.live = {
      config,
      pool: undefined as unknown as CodecPool,
      source: undefined as unknown as EslEventSource,
      injector: undefined as unknown as SendeventInjector,
      transport: null,
      nats: null,
      replay: replayGuardFor(config),
      compact: new CompactLink(),
      counters: this.counters,
      logger: this.logger,
      now: this.now,
      switchname: () => this.switchname,
      warn: (key, fields, message) => this.warnRateLimited(key, fields, message),
    };
    const live = this.live;
    this.peers = new PeerWatch({
      timeoutMs: config.peerTimeoutSeconds * 1000,
      maxPeers: config.maxPeers,
      now: this.now,
      fire: (key, command) => live.injector.send(key, command, undefined, URGENT),
      counters: this.counters.peers,
      logger: this.logger,
      warn: live.warn,
    });
    this.location = new LocationService(config.location, { now: this.now, api: (line) => live.source.api(line), warn: live.warn });
    this.egress = new EgressPath(live, {
      ownApi: this.ownApi,
      location: this.location,
      onReloadXml: () => void this.reload('RELOADXML'),
      onSwitchName: (name) => this.learnName(name),
      nameUnknown: () => this.learnedName === null,
    });
    this.ingress = new IngressPath(live, { location: this.location, peers: this.peers });
    this.facts = new FreeSwitchFacts({
      logger: this.logger,
      ...(options.procRoot !== undefined ? { procRoot: options.procRoot } : {}),
      mayChangeScheduling: options.mayChangeScheduling === true,
      realtimeMode: () => live.config.realtime,
      onOwnAddresses: () => this.applyOwnAddresses(),
    });
    this.replayState = new ReplayPersistence({
      logger: this.logger,
      now: this.now,
      guard: () => live.replay,
      compact: live.compact,
      ...(options.replaySaveIntervalMs !== undefined ? { saveIntervalMs: options.replaySaveIntervalMs } : {}),
      warn: live.warn,
    });
    this.udpHealth = new UdpHealth(this.logger);
    this.views = new StatusViews(live, {
      peers: this.peers,
      location: this.location,
      ownApi: this.ownApi,
      facts: this.facts,
      ingress: this.ingress,
      replayState: this.replayState,
      udpHealth: this.udpHealth,
      active: () => !this.stopped,
    });
    this.status = new StatusEndpoint(this.views.source);
  }

  // Status views (status-views.ts), also read by the CLI's demo and by tests.
  peersText(): string {
    return this.views.peersText();
  }

  peersJson(): unknown {
    return this.views.peersJson();
  }

  statusJson(): unknown {
    return this.views.statusJson();
  }

  healthProblems(): string[] {
    return this.views.healthProblems();
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

  get switchname(): string | null {
    return this.live.config.switchname ?? this.learnedName;
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
        const target = this.handover?.next ?? this.live.source;
        const live = Promise.all([target.subscribed, target.switchName]).then(() => true, () => false);
        if (!(await Promise.race([live, timeout]))) return false;
        // A reload that started meanwhile brings another source: wait for that one.
        if (this.reloading === null && (this.handover?.next ?? this.live.source) === target) return true;
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Where the status endpoint listens, or null. */
  get statusAddress(): string | null {
    return this.status.address;
  }

  // ---------------------------------------------------------------------------------------------
  // Start and the parts

  private async startAll(): Promise<void> {
    const live = this.live;
    const c = live.config;
    await this.replayState.start(c); // before any packet of this run
    this.pools = this.createPools(c);
    live.pool = this.pools.current;
    if (udpWanted(c)) {
      const t = (live.transport = this.createTransport(c));
      await t.start();
      for (const w of t.warnings()) this.logger.warn({ udp: true }, w);
    }
    if (c.nats !== null) {
      live.nats = this.createNats(c);
      await live.nats.start();
    }
    live.injector = this.createInjector(c);
    live.source = this.createSource(c);
    this.accepting = true;
    live.injector.start();
    live.source.start();
    await this.status.start(c.statusListen);
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
        workers: live.pool.workers,
        injectors: c.injectors,
        esl: `${c.esl.host}:${c.esl.port}`,
        status: this.status.address ?? 'off',
        nats: c.nats === null ? 'off' : describeNats(c.nats),
      },
      'bridge started',
    );
  }

  /** A failed start (status port taken...) closes what it had opened: nothing keeps running. */
  private async abortStart(): Promise<void> {
    this.stopped = true;
    this.accepting = false;
    if (this.peerTimer !== null) clearInterval(this.peerTimer);
    if (this.socketTimer !== null) clearInterval(this.socketTimer);
    this.replayState.abandon();
    // Parts are unset when the step that makes them was not reached.
    const live = this.live as Partial<LiveParts>;
    await live.source?.close();
    await live.injector?.close(0);
    await live.transport?.close();
    await live.nats?.close();
    await live.pool?.close();
    await this.status.close();
  }

  private createPool(c: Config): CodecPool {
    const workers = c.workers === 'auto' ? autoWorkers() : c.workers;
    const pool: CodecPool = new CodecPool(codecSettingsOf(c), { workers, maxBatch: c.batchSize, batchDelayUs: c.batchDelayUs }, {
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

  private createPools(c: Config): PoolChain<CodecPool, PoolOutput> {
    const count = ({ result: r }: PoolOutput) => (this.counters[r.kind].lost += r.ends.length);
    const drainMs = this.options.poolDrainTimeoutMs ?? POOL_DRAIN_TIMEOUT_MS;
    return new PoolChain<CodecPool, PoolOutput>(
      this.createPool(c),
      {
        deliver: (r) => this.deliver(r),
        lost: count,
        abandoned: (pool, dropped) => {
          this.counters.egress.lost += dropped.egress;
          this.counters.ingress.lost += dropped.ingress;
          this.logger.warn(
            { timeoutMs: drainMs, queuedDropped: dropped, pool: pool.stats() },
            'reload: the replaced worker pool did not finish in time; it is closed, and what it still held is counted lost',
          );
        },
      },
      drainMs,
    );
  }

  /** Results from the pools, in order, to the path they belong to. */
  private deliver({ result, samples, sources }: PoolOutput): void {
    const now = performance.now();
    this.views.metrics.batchSize.observe({ direction: result.kind }, result.ends.length);
    if (result.kind === 'egress') {
      this.egress.onResult(result);
      if (samples !== null) for (let i = 1; i < samples.length; i += 2) this.views.metrics.egressLatency.observe((now - samples[i]!) / 1000);
    } else this.ingress.onResult(result, sources ?? [], samples);
  }

  private createTransport(c: Config): UdpTransport {
    const t = new UdpTransport(udpOptionsOf(c));
    t.onDatagram((datagram, from) => {
      // During a reload the old socket lingers briefly; for multicast both get every datagram,
      // so only the current one feeds the pool (no duplicates).
      if (!this.accepting || t !== this.live.transport) return;
      this.ingress.receive(datagram, this.live.nats?.udpOrigin, from.address);
    });
    t.onError((e) => this.warnRateLimited('udp', { err: e.message }, 'UDP socket error'));
    return t;
  }

  /** The NATS side (src/transport/nats/link.ts): its datagrams take the same ingress path as UDP's. */
  private createNats(c: Config): NatsLink {
    const link: NatsLink = new NatsLink(c.nats!, this.logger, (datagram, origin) => {
      if (!this.accepting || link !== this.live.nats) return;
      this.ingress.receive(datagram, origin);
    });
    link.setOwnName(this.switchname);
    return link;
  }

  private createSource(c: Config): EslEventSource {
    const source: EslEventSource = new EslEventSource({
      ...eslEndpointOf(c, this.logger),
      subscription: eslSubscription(c.bindings, BRIDGE_SUBSCRIPTION),
      onEvents: (texts) => this.onSourceEvents(source, texts),
      onApiCommand: (command) => this.ownApi.expect(command),
      onSwitchName: (name) => this.learnName(name),
      onFatal: (e) => this.fatal(e),
      onConnectionChange: (up) => {
        // The connection logs its own ups and downs (rate-limited); nothing more here.
        if (up) void this.facts.learn(source);
        if (up && this.handover?.next === source) this.handover.nextSubscribed();
      },
    });
    return source;
  }

  private createInjector(c: Config): SendeventInjector {
    return new SendeventInjector({
      ...eslEndpointOf(c, this.logger),
      connections: c.injectors,
      maxQueueAgeMs: c.maxQueueAgeSeconds * 1000,
      batch: c.injectBatch,
      batchMs: c.injectBatchMs,
      batchMaxEvents: c.injectBatchMax,
      // Its probe's API events reach only a subscribed event source: expect an echo only then.
      onApiCommand: (line) => {
        if ((this.live as Partial<LiveParts>).source?.connected === true) this.ownApi.expect(line);
      },
      onFatal: (e) => this.fatal(e),
      onReplyLatency: (seconds) => this.views.metrics.ingressLatency.observe(seconds),
    });
  }

  private onSourceEvents(from: EslEventSource, texts: Buffer[]): void {
    if (!this.accepting) return;
    if (this.handover !== null) this.handover.onEvents(from, texts);
    else if (from === this.live.source) this.egress.passOn(texts);
  }

  /** Like the C module, nothing is sent to a unicast destination that is this box (freeswitch-facts.ts). */
  private applyOwnAddresses(): void {
    const own = this.facts.ownAddresses;
    const skipped = this.live.transport?.skipOwnAddresses(own) ?? [];
    if (skipped.length > 0) this.logger.info({ skipped, own }, "not sending to this box's own address");
  }

  private learnName(name: string): void {
    if (this.learnedName === name) return;
    this.learnedName = name;
    this.live.pool.ownName = this.switchname;
    this.live.nats?.setOwnName(this.switchname);
    this.logger.info({ switchname: name, override: this.live.config.switchname }, 'learned the switch name from FreeSWITCH');
  }

  private fatal(e: EslFatalError | Error): void {
    // The event source and the injector hit the same wrong password: report it once.
    if (this.stopped || this.fatalReported) return;
    this.fatalReported = true;
    this.logger.fatal({ reason: (e as EslFatalError).reason }, e.message);
    this.options.onFatal?.(e);
  }

  private warnRateLimited(key: string, fields: object, message: string): void {
    if (!this.warnLimit.allow(key)) return;
    this.logger.warn({ ...fields, counters: key === 'ingress-drop' ? this.counters.ingress.dropped : undefined }, message);
  }

  /** Checks peer timeouts now (also run by a timer); compact reassembly and locations expire with them. */
  expirePeers(): void {
    const now = this.now();
    this.live.compact.expire(now);
    this.location.expire();
    this.peers.expire(now);
  }

  /** Reads the kernel's view of the UDP sockets now (also run by a timer): udp-health.ts. */
  checkSockets(): void {
    const live = this.live;
    const own = [live.transport, ...this.retiring].flatMap((t) => t?.boundAddresses() ?? []);
    this.counters.ingress.kernelRcvbufDrops += this.udpHealth.check(own, this.now(), {
      port: live.config.port,
      rcvbufConfigured: live.config.udpRcvbufBytes,
      rcvbufEffective: () => live.transport?.stats().sockets.map((s) => s.recvBuffer.effective) ?? [],
    });
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
    const live = this.live;
    const old = live.config;
    if (next.contentHash === old.contentHash) {
      this.counters.reloads.unchanged++;
      this.logger.debug({ why }, 'configuration unchanged');
      return;
    }
    const plan = reloadPlan(old, next);
    const step = (s: ReloadStep) => plan.steps.has(s);
    try {
      // First, as it is the one step that can fail for reasons outside the file (address in use).
      if (step('status')) await this.status.move(old.statusListen, next.statusListen);
      if (step('log-level')) this.logger.level = next.logLevel;
      if (step('udp')) await this.replaceTransport(next, old);
      if (step('nats')) {
        // Make before break: the new connection is up (or retrying) before the old one closes.
        const n = next.nats === null ? null : this.createNats(next);
        await n?.start();
        const oldN = live.nats;
        live.nats = n;
        n?.setOwnName(this.switchname);
        setTimeout(() => void oldN?.close(), 200).unref();
      }
      if (step('pool')) {
        this.pools.replace(this.createPool(next));
        live.pool = this.pools.current;
      }
      live.pool.switchname = next.switchname;
      if (step('injector')) {
        // Only when its own settings change: a new injector beside a draining old one could reorder a sender's events.
        const oldInjector = live.injector;
        live.injector = this.createInjector(next);
        live.injector.start();
        void oldInjector.close(5000);
      }
      if (step('events') && (!plan.sameFreeSwitch || plan.changed.includes('eslReplyTimeoutSeconds') || eslSubscription(old.bindings, BRIDGE_SUBSCRIPTION) !== eslSubscription(next.bindings, BRIDGE_SUBSCRIPTION))) {
        this.replaceSource(this.createSource(next), plan.sameFreeSwitch);
      }
      if (step('peer-limits')) this.peers.setLimits(next.peerTimeoutSeconds * 1000, next.maxPeers);
      if (step('replay-guard')) live.replay = replayGuardFor(next);
      if (step('replay-store')) await this.replayState.move(next);
      if (step('location')) this.location.configure(next.location);
      live.config = next;
      live.pool.ownName = this.switchname;
      this.counters.reloads.applied++;
      this.logger.info({ why, changed: plan.changed, destinations: describeDestinations(next), status: this.status.address ?? 'off', logLevel: next.logLevel }, 'configuration reloaded');
    } catch (e) {
      this.counters.reloads.rejected++;
      this.logger.error({ why, err: (e as Error).message }, 'could not apply the new configuration; keeping the running one');
    }
  }

  /**
   * Reload: new sockets for new destinations, port, addresses or buffer. Make before break where
   * the kernel allows it (another port or address, or a multicast port shared with reuse). A port
   * bound exclusively must be let go first: the old sockets close and the new ones bind at once
   * (datagrams arriving in those few ms are lost). When the new sockets cannot bind, the running
   * configuration's are bound again and the error reported.
   */
  private async replaceTransport(next: Config, running: Config): Promise<void> {
    const live = this.live;
    const oldT = live.transport;
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
        live.transport = null;
        await back.start();
        live.transport = back;
        this.applyOwnAddresses();
        throw retry;
      }
    }
    live.transport = t;
    this.applyOwnAddresses();
    if (oldT !== null) {
      this.retiring.add(oldT);
      setTimeout(() => void oldT.close().then(() => this.retiring.delete(oldT)), 200).unref();
    }
    this.checkSockets();
  }

  /** Reload: a new event source replaces the running one (source-handover.ts). */
  private replaceSource(next: EslEventSource, sameFreeSwitch: boolean): void {
    this.handover?.complete('another reload');
    const live = this.live;
    const old = live.source;
    if (!sameFreeSwitch) {
      live.source = next;
      next.start();
      void old.close();
      return;
    }
    this.handover = new SourceHandover(old, next, {
      passOn: (texts) => {
        if (this.accepting) this.egress.passOn(texts);
      },
      done: (source, how, buffered, switchAt) => {
        this.handover = null;
        live.source = source;
        this.logger.info({ esl: 'events', how, buffered, switchAt }, 'new event socket took over');
      },
    });
    next.start();
  }

  // ---------------------------------------------------------------------------------------------

  /** Stops taking input, drains what is in flight (bounded), then closes everything. */
  async stop(drainMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.accepting = false;
    if (this.peerTimer !== null) clearInterval(this.peerTimer);
    if (this.socketTimer !== null) clearInterval(this.socketTimer);
    this.egress.stop();
    const live = this.live;
    const h = this.handover;
    this.handover = null;
    await h?.abandon(live.source);
    await live.source.close();
    const drained = await Promise.race([
      Promise.all([this.pools.settled(), live.pool.drain()]).then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), drainMs).unref()),
    ]);
    if (!drained) this.logger.warn({ pool: live.pool.stats() }, 'stop: the pool did not drain in time');
    await this.replayState.stop();
    await live.injector.close(drainMs);
    await live.transport?.close();
    await live.nats?.close();
    await live.pool.close();
    await this.status.close();
    this.logger.info({ counters: this.counters }, 'bridge stopped');
  }
}
