import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metricsSnapshotOf, peersView, transportsView } from '../../src/status/views.js';
import { newCounters } from '../../src/status/counters.js';

const peers = [
  { name: 'fs-b', up: true, lastSeenMs: 1_000_500 },
  { name: 'fs-c', up: false, lastSeenMs: 900_000 },
];

test('/peers.json: legacy-only clusters get no compact keys; secondsAgo counts whole seconds as multicast_peers does', () => {
  const v = peersView({
    active: true,
    nowMs: 1_010_999,
    configured: [{ label: 'unicast', address: '127.0.0.2' }],
    compactConfigured: [],
    compactCounts: new Map(),
    peers,
    udp: null,
    nats: null,
  }) as Record<string, unknown>;
  assert.equal(v.state, 'Active');
  assert.deepEqual(v.configured, [{ kind: 'unicast', address: '127.0.0.2' }]);
  assert.equal('compact' in v, false);
  assert.equal('compactConfigured' in v, false);
  assert.deepEqual(v.peers, [
    { name: 'fs-b', up: true, lastSeen: 1000, secondsAgo: 10 },
    { name: 'fs-c', up: false, lastSeen: 900, secondsAgo: 110 },
  ]);
});

test('/peers.json: where compact is in use, per-peer compact counts are shown beside the peer', () => {
  const v = peersView({
    active: false,
    nowMs: 1_000_000,
    configured: [],
    compactConfigured: [{ label: 'unicast', address: '127.0.0.3' }],
    compactCounts: new Map([['fs-b', { received: 5 }]]),
    peers,
    udp: null,
    nats: null,
  }) as { state: string; compact: unknown; peers: { compact?: unknown }[] };
  assert.equal(v.state, 'Inactive');
  assert.deepEqual(v.compact, { 'fs-b': { received: 5 } });
  assert.deepEqual(v.peers[0]!.compact, { received: 5 });
  assert.equal(v.peers[1]!.compact, undefined);
});

test('transports: UDP sums every destination; NATS shows its state, never its credentials', () => {
  const t = transportsView(
    { destinations: [{ sent: 3, failed: 1 }, { sent: 4, failed: 0 }], received: 9, socketErrors: 2 },
    { transport: { phase: 'connected', server: 'nats://127.0.0.1:4222', reconnects: 1, published: 5, received: 6, dropped: { queueFull: 0 }, catchUp: { state: 'done' } }, relay: null },
  ) as { udp: unknown; nats: Record<string, unknown> };
  assert.deepEqual(t.udp, { sent: 7, failed: 1, received: 9, socketErrors: 2 });
  assert.equal(t.nats.state, 'connected');
  assert.equal(t.nats.catchUp, 'done');
});

test('metrics snapshot: connected injector connections and peers up are counted from the parts', () => {
  const s = metricsSnapshotOf({
    counters: newCounters(),
    pool: { egress: { queued: 3 }, ingress: { queued: 4 } },
    injector: { queued: 10, inFlight: 2, repliesOk: 7, repliesErr: 1, reconnects: 0, offered: 30, superseded: 5, expired: 1, droppedOldest: 0, droppedTooOld: 2, droppedRefused: 0, abandoned: 0, batches: 2, batchedEvents: 9, notBatchable: 1, fanOut: 'present', fanOutWaits: 3, fanOutPolls: 7, fanOutTimeouts: 0, perConnection: [{ connected: true }, { connected: false }] },
    events: { connected: true, reconnects: 2 },
    peers,
    nats: null,
  });
  assert.deepEqual(s.injector, {
    queued: 10,
    inFlight: 2,
    connections: 2,
    connected: 1,
    repliesOk: 7,
    repliesErr: 1,
    reconnects: 0,
    offered: 30,
    notDelivered: { superseded: 5, expired: 1, droppedOldest: 0, droppedTooOld: 2, droppedRefused: 0, abandoned: 0 },
    batches: 2,
    batchedEvents: 9,
    notBatchable: 1,
    fanOut: 'present',
    fanOutWaits: 3,
    fanOutPolls: 7,
    fanOutTimeouts: 0,
  });
  assert.deepEqual(s.peers, { up: 1, known: 2 });
  assert.deepEqual(s.pool, { egressQueued: 3, ingressQueued: 4 });
  assert.equal(s.nats, null);
});
