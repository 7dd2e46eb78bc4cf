/**
 * The shapes /peers.json and /metrics read, built from the parts' own numbers. Pure: the inputs
 * are described here by what is read from them (each part's stats() fits), so this layer needs
 * none of the parts, and each view is tested with plain objects.
 */
import type { Counters } from './counters.js';
import type { InjectorNotDelivered, MetricsSnapshot } from './metrics.js';

export interface UdpStatsView {
  destinations: readonly { sent: number; failed: number }[];
  received: number;
  socketErrors: number;
}

export interface NatsStatsView {
  transport: { phase: string; server: string | null; reconnects: number; published: number; received: number; dropped: unknown; catchUp: { state: unknown } };
  relay: unknown;
}

export interface PeerView {
  name: string;
  up: boolean;
  lastSeenMs: number;
}

export interface PeersInput {
  active: boolean;
  nowMs: number;
  configured: readonly { label: string; address: string }[];
  compactConfigured: readonly { label: string; address: string }[];
  /** Per peer name: compact datagrams received, lost, reordered... (empty when compact is unused). */
  compactCounts: ReadonlyMap<string, unknown>;
  peers: readonly PeerView[];
  udp: UdpStatsView | null;
  nats: NatsStatsView | null;
}

/** /peers.json: the configured destinations, the transports and every peer with its last sighting. */
export function peersView(x: PeersInput): unknown {
  // Shown only where the compact format is in use: the legacy-only answer stays as it was.
  const compactInUse = x.compactConfigured.length > 0 || x.compactCounts.size > 0;
  const nowS = Math.floor(x.nowMs / 1000);
  return {
    state: x.active ? 'Active' : 'Inactive',
    configured: x.configured.map((d) => ({ kind: d.label, address: d.address })),
    ...(compactInUse ? { compactConfigured: x.compactConfigured.map((d) => ({ kind: d.label, address: d.address })) } : {}),
    transports: transportsView(x.udp, x.nats),
    ...(compactInUse ? { compact: Object.fromEntries(x.compactCounts) } : {}),
    peers: x.peers.map((p) => ({
      name: p.name,
      up: p.up,
      lastSeen: Math.floor(p.lastSeenMs / 1000),
      secondsAgo: nowS - Math.floor(p.lastSeenMs / 1000),
      ...(x.compactCounts.has(p.name) ? { compact: x.compactCounts.get(p.name) } : {}),
    })),
  };
}

/** Per transport: is it running, where to, what went through, what was dropped. */
export function transportsView(u: UdpStatsView | null, n: NatsStatsView | null): unknown {
  return {
    udp: u === null ? null : { sent: sum(u.destinations, 'sent'), failed: sum(u.destinations, 'failed'), received: u.received, socketErrors: u.socketErrors },
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

export interface InjectorStatsView extends InjectorNotDelivered {
  queued: number;
  inFlight: number;
  repliesOk: number;
  repliesErr: number;
  reconnects: number;
  offered: number;
  batches: number;
  batchedEvents: number;
  notBatchable: number;
  fanOut: 'off' | 'unknown' | 'present' | 'absent';
  fanOutWaits: number;
  fanOutPolls: number;
  fanOutTimeouts: number;
  perConnection: readonly { connected: boolean }[];
}

export interface MetricsInput {
  counters: Counters;
  pool: { egress: { queued: number }; ingress: { queued: number } };
  injector: InjectorStatsView;
  events: { connected: boolean; reconnects: number };
  peers: readonly PeerView[];
  nats: { transport: { phase: string; reconnects: number } } | null;
}

/** What a /metrics scrape reads. */
export function metricsSnapshotOf(x: MetricsInput): MetricsSnapshot {
  const inj = x.injector;
  return {
    counters: x.counters,
    pool: { egressQueued: x.pool.egress.queued, ingressQueued: x.pool.ingress.queued },
    injector: {
      queued: inj.queued,
      inFlight: inj.inFlight,
      connections: inj.perConnection.length,
      connected: inj.perConnection.filter((c) => c.connected).length,
      repliesOk: inj.repliesOk,
      repliesErr: inj.repliesErr,
      reconnects: inj.reconnects,
      offered: inj.offered,
      notDelivered: { superseded: inj.superseded, expired: inj.expired, droppedOldest: inj.droppedOldest, droppedTooOld: inj.droppedTooOld, droppedRefused: inj.droppedRefused, abandoned: inj.abandoned },
      batches: inj.batches,
      batchedEvents: inj.batchedEvents,
      notBatchable: inj.notBatchable,
      fanOut: inj.fanOut,
      fanOutWaits: inj.fanOutWaits,
      fanOutPolls: inj.fanOutPolls,
      fanOutTimeouts: inj.fanOutTimeouts,
    },
    events: { connected: x.events.connected, reconnects: x.events.reconnects },
    peers: { up: x.peers.filter((p) => p.up).length, known: x.peers.length },
    nats: x.nats === null ? null : { connected: x.nats.transport.phase === 'connected', reconnects: x.nats.transport.reconnects },
  };
}

function sum<K extends string>(rows: readonly Record<K, number>[], key: K): number {
  let total = 0;
  for (const r of rows) total += r[key];
  return total;
}
