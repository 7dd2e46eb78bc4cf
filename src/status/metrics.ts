/**
 * Prometheus exposition (text format 0.0.4) on `/metrics`, with prom-client. Counters and gauges
 * are read from the bridge's own numbers at scrape time (nothing is counted twice, nothing is
 * added to the per-event path); only the latency and batch-size histograms are fed as work
 * happens, once per batch or per sampled event (see the callers).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Counters } from './counters.js';

/** What a scrape reads: the bridge's counters and its current queue depths and connections. */
export interface MetricsSnapshot {
  counters: Counters;
  pool: { egressQueued: number; ingressQueued: number };
  injector: {
    queued: number; inFlight: number; connections: number; connected: number; repliesOk: number; repliesErr: number; reconnects: number;
    offered: number; notDelivered: InjectorNotDelivered;
    /** Batched injection: batch commands written, events they carried, events sent alone while batching, and the hook's state. */
    batches: number; batchedEvents: number; notBatchable: number; fanOut: 'off' | 'unknown' | 'present' | 'absent';
    /** Flow control of batches: waits for the hook's fan-out, polls while waiting, waits given up. */
    fanOutWaits: number; fanOutPolls: number; fanOutTimeouts: number;
  };
  events: { connected: boolean; reconnects: number };
  peers: { up: number; known: number };
  nats: { connected: boolean; reconnects: number } | null;
}

/** Commands handed to the injector and not fired, by why (src/esl/ingress-queue.ts, src/esl/injector.ts). */
export interface InjectorNotDelivered {
  superseded: number;
  expired: number;
  droppedOldest: number;
  droppedTooOld: number;
  droppedRefused: number;
  abandoned: number;
}

/** Latency buckets (seconds): 100 µs to 10 s, for both directions. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export class BridgeMetrics {
  readonly registry = new Registry();
  /** Datagram received → FreeSWITCH's reply to its sendevent (sampled events). */
  readonly ingressLatency: Histogram<never>;
  /** Event read from the event socket → its datagram sent (one per batch: its oldest event). */
  readonly egressLatency: Histogram<never>;
  readonly batchSize: Histogram<'direction'>;

  constructor(snapshot: () => MetricsSnapshot) {
    const r = this.registry;
    collectDefaultMetrics({ register: r });
    // Gauges named like counters: Prometheus' own linter (promtool check metrics) rejects them.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) r.removeSingleMetric(name);
    // One snapshot per scrape, shared by every collect() of that scrape.
    let cached: { at: number; s: MetricsSnapshot } | null = null;
    const read = (): MetricsSnapshot => {
      const now = Date.now();
      if (cached === null || now - cached.at > 50) cached = { at: now, s: snapshot() };
      return cached.s;
    };
    type Values<L extends string> = (s: MetricsSnapshot) => [Partial<Record<L, string>>, number][];
    /** Read at scrape time from the bridge's own numbers: a Counter for running totals, a Gauge for levels. */
    const collected = <L extends string>(kind: 'total' | 'level', name: string, help: string, labelNames: readonly L[], values: Values<L>) => {
      const collect = function (this: Counter<L> | Gauge<L>) {
        this.reset();
        for (const [labels, v] of values(read())) {
          if (this instanceof Counter) this.inc(labels, v);
          else this.set(labels, v);
        }
      };
      return kind === 'total' ? new Counter<L>({ name, help, labelNames, registers: [r], collect }) : new Gauge<L>({ name, help, labelNames, registers: [r], collect });
    };
    const total = <L extends string>(name: string, help: string, labelNames: readonly L[], values: Values<L>) => collected('total', name, help, labelNames, values);
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], values: Values<L>) => collected('level', name, help, labelNames, values);

    total('fsem_egress_events_total', 'Events read from the FreeSWITCH event socket.', [], (s) => [[{}, s.counters.egress.events]]);
    total('fsem_egress_datagrams_total', 'Datagrams built from events (each goes to every destination).', [], (s) => [[{}, s.counters.egress.datagrams]]);
    total('fsem_egress_not_sent_total', 'Events read but not sent, by reason.', ['reason'], (s) => {
      const e = s.counters.egress;
      return [
        [{ reason: 'not-bound' }, e.notBound],
        [{ reason: 'own-command' }, e.ownCommand],
        [{ reason: 'too-large' }, e.tooLarge],
        [{ reason: 'unreadable' }, e.unreadable],
        [{ reason: 'lost' }, e.lost],
      ];
    });
    total('fsem_ingress_datagrams_total', 'Datagrams received from peers (UDP and NATS).', [], (s) => [[{}, s.counters.ingress.datagrams]]);
    total('fsem_ingress_fired_total', 'Events handed to FreeSWITCH with sendevent.', [], (s) => [[{}, s.counters.ingress.fired]]);
    total('fsem_ingress_dropped_total', 'Received datagrams dropped, by reason.', ['reason'], (s) => [
      ...Object.entries(s.counters.ingress.dropped).map(([reason, n]): [{ reason: string }, number] => [{ reason }, n]),
      [{ reason: 'lost' }, s.counters.ingress.lost],
      [{ reason: 'kernel-rcvbuf' }, s.counters.ingress.kernelRcvbufDrops],
    ]);
    total('fsem_sendevent_replies_total', "FreeSWITCH's replies to the bridge's sendevent commands.", ['result'], (s) => [
      [{ result: 'ok' }, s.injector.repliesOk],
      [{ result: 'err' }, s.injector.repliesErr],
    ]);
    total('fsem_sendevent_offered_total', 'Received events handed to the sendevent injector (each ends delivered, refused by FreeSWITCH, or not delivered).', [], (s) => [[{}, s.injector.offered]]);
    total('fsem_sendevent_not_delivered_total', 'Events the injector did not fire, by reason: superseded (a newer one for the same state replaced it), expired (a registration past its expiry), dropped-oldest / dropped-too-old (queue bounds), refused (too large, or after close), abandoned (FreeSWITCH stalled on it).', ['reason'], (s) => {
      const n = s.injector.notDelivered;
      return [
        [{ reason: 'superseded' }, n.superseded],
        [{ reason: 'expired' }, n.expired],
        [{ reason: 'dropped-oldest' }, n.droppedOldest],
        [{ reason: 'dropped-too-old' }, n.droppedTooOld],
        [{ reason: 'refused' }, n.droppedRefused],
        [{ reason: 'abandoned' }, n.abandoned],
      ];
    });
    total('fsem_injector_batches_total', 'Batch commands written (many received events in one command body; inject-batch).', [], (s) => [[{}, s.injector.batches]]);
    total('fsem_injector_batched_events_total', 'Received events written inside batch commands (divide by fsem_injector_batches_total for events per batch).', [], (s) => [
      [{}, s.injector.batchedEvents],
    ]);
    total('fsem_injector_not_batchable_total', 'Events sent as a single sendevent while batching was on (a batch cannot reproduce them).', [], (s) => [[{}, s.injector.notBatchable]]);
    total('fsem_injector_flow_control_total', 'Batch flow control: waits for the hook to fan out earlier batches, polls while waiting, waits given up (fan-out not reported in time).', ['what'], (s) => [
      [{ what: 'waits' }, s.injector.fanOutWaits],
      [{ what: 'polls' }, s.injector.fanOutPolls],
      [{ what: 'timeouts' }, s.injector.fanOutTimeouts],
    ]);
    total('fsem_esl_reconnects_total', 'Event-socket reconnects, by connection.', ['connection'], (s) => [
      [{ connection: 'events' }, s.events.reconnects],
      [{ connection: 'injector' }, s.injector.reconnects],
    ]);
    total('fsem_nats_reconnects_total', 'NATS reconnects.', [], (s) => (s.nats === null ? [] : [[{}, s.nats.reconnects]]));
    total('fsem_reloads_total', 'Configuration reloads, by result.', ['result'], (s) => [
      [{ result: 'applied' }, s.counters.reloads.applied],
      [{ result: 'rejected' }, s.counters.reloads.rejected],
      [{ result: 'unchanged' }, s.counters.reloads.unchanged],
    ]);
    total('fsem_peer_changes_total', 'Peers that went up or down.', ['change'], (s) => [
      [{ change: 'up' }, s.counters.peers.up],
      [{ change: 'down' }, s.counters.peers.down],
    ]);
    total('fsem_peer_events_refused_total', 'peerup/peerdown events not fired: over the rate limit.', [], (s) => [[{}, s.counters.peers.eventsRefused]]);
    total('fsem_worker_errors_total', 'Worker threads that failed outside a task (replaced).', [], (s) => [[{}, s.counters.workerErrors]]);

    gauge('fsem_queue_depth', 'Items waiting, by queue.', ['queue'], (s) => [
      [{ queue: 'egress-pool' }, s.pool.egressQueued],
      [{ queue: 'ingress-pool' }, s.pool.ingressQueued],
      [{ queue: 'injector' }, s.injector.queued],
      [{ queue: 'injector-in-flight' }, s.injector.inFlight],
    ]);
    gauge('fsem_peers', 'Peers known, by state.', ['state'], (s) => [
      [{ state: 'up' }, s.peers.up],
      [{ state: 'down' }, s.peers.known - s.peers.up],
    ]);
    gauge('fsem_injector_connections', 'sendevent connections, by state.', ['state'], (s) => [
      [{ state: 'connected' }, s.injector.connected],
      [{ state: 'configured' }, s.injector.connections],
    ]);
    gauge('fsem_injector_fan_out', "1 for the state of FreeSWITCH's batch fan-out hook as the injector found it.", ['state'], (s) => [
      [{ state: s.injector.fanOut }, 1],
    ]);
    gauge('fsem_esl_events_connected', '1 while the event subscription is connected.', [], (s) => [[{}, s.events.connected ? 1 : 0]]);
    gauge('fsem_nats_connected', '1 while the NATS transport is connected.', [], (s) => (s.nats === null ? [] : [[{}, s.nats.connected ? 1 : 0]]));

    this.ingressLatency = new Histogram({
      name: 'fsem_ingress_latency_seconds',
      help: "Datagram received to FreeSWITCH's reply to its sendevent (sampled events).",
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
    this.egressLatency = new Histogram({
      name: 'fsem_egress_latency_seconds',
      help: 'Event read from the event socket to its datagram sent (the oldest event of each batch).',
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
    this.batchSize = new Histogram({
      name: 'fsem_batch_size',
      help: 'Items per codec batch, by direction.',
      labelNames: ['direction'],
      buckets: BATCH_BUCKETS,
      registers: [r],
    });
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
