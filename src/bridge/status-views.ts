/**
 * What the status endpoint shows (src/status/status-server.ts): /status, /peers(.json),
 * /healthz, /metrics and /locations.json, read from the running parts at request time and
 * shaped by src/status/views.ts. Nothing here is on the event path.
 */
import { describeDestinations } from '../config/config.js';
import type { OwnApiCommands } from '../esl/own-api-commands.js';
import type { LocationService } from '../location/location-service.js';
import { multicastPeersText } from '../peers/peer-table.js';
import type { PeerWatch } from '../peers/peer-watch.js';
import { BridgeMetrics } from '../status/metrics.js';
import type { StatusSource } from '../status/status-server.js';
import { metricsSnapshotOf, peersView } from '../status/views.js';
import type { UdpHealth } from '../transport/udp/udp-health.js';
import type { FreeSwitchFacts } from './freeswitch-facts.js';
import type { IngressPath } from './ingress-path.js';
import type { LiveParts } from './live-parts.js';
import type { ReplayPersistence } from './replay-persistence.js';

export interface StatusViewParts {
  peers: PeerWatch;
  location: LocationService;
  ownApi: OwnApiCommands;
  facts: FreeSwitchFacts;
  ingress: IngressPath;
  replayState: ReplayPersistence;
  udpHealth: UdpHealth;
  /** False once the bridge stopped. */
  active(): boolean;
}

export class StatusViews {
  /** Prometheus: counters read at scrape time; the latency and batch histograms are fed by the paths. */
  readonly metrics = new BridgeMetrics(() => {
    const l = this.live;
    return metricsSnapshotOf({ counters: l.counters, pool: l.pool.stats(), injector: l.injector.stats(), events: l.source.stats(), peers: this.x.peers.list(), nats: l.nats?.stats() ?? null });
  });

  readonly source: StatusSource = {
    peersText: () => this.peersText(),
    peersJson: () => this.peersJson(),
    status: () => this.statusJson(),
    healthy: () => this.live.source.connected,
    problems: () => this.healthProblems(),
    metrics: () => this.metrics.exposition(),
    locationsJson: (query) => this.x.location.json(query),
  };

  constructor(
    private readonly live: LiveParts,
    private readonly x: StatusViewParts,
  ) {}

  /** `multicast_peers`, as the C module prints it. */
  peersText(): string {
    return multicastPeersText(this.x.active(), describeDestinations(this.live.config), this.x.peers.list(), this.live.now());
  }

  peersJson(): unknown {
    const l = this.live;
    return peersView({
      active: this.x.active(),
      nowMs: l.now(),
      configured: l.config.destinations,
      compactConfigured: l.config.compactDestinations,
      compactCounts: l.compact.peerCounts(),
      peers: this.x.peers.list(),
      udp: l.transport?.stats() ?? null,
      nats: l.nats?.stats() ?? null,
    });
  }

  /** What /healthz reports: one line per thing that is wrong now (empty when all works). */
  healthProblems(): string[] {
    const l = this.live;
    const out: string[] = [];
    const events = l.source.problem;
    if (events !== null) out.push(`events: ${events}`);
    out.push(...l.injector.problems());
    const udp = this.x.udpHealth.problem(l.config.port);
    if (udp !== null) out.push(udp);
    return out;
  }

  statusJson(): unknown {
    const l = this.live;
    const x = this.x;
    return {
      switchname: l.switchname(),
      // Both sending every event is the usual cause of "every event arrives twice".
      freeswitch: { modEventMulticastLoaded: x.facts.cModuleLoaded },
      scheduling: x.facts.scheduling === null ? null : { ...x.facts.scheduling, realtime: x.facts.realtime.last },
      ownApiCommands: x.ownApi.stats(),
      health: this.healthProblems(),
      uptimeSeconds: Math.round(process.uptime()),
      counters: l.counters,
      pool: l.pool.stats(),
      esl: { events: l.source.stats(), injector: l.injector.stats() },
      udp: l.transport?.stats() ?? null,
      nats: l.nats?.stats() ?? null,
      compact: l.compact.stats(),
      replay: l.replay?.stats() ?? null,
      peerTable: x.peers.stats(),
      location: x.location.stats(),
      udpSockets: x.udpHealth.stats(),
      pskMismatch: x.ingress.pskMismatch.stats(),
      replayState: x.replayState.stats(),
      memory: { rssBytes: process.memoryUsage.rss() },
    };
  }
}
