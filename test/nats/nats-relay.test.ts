/**
 * Hub relay between two UDP "sites" and one NATS server. Each site is a box and a hub on
 * loopback unicast (what a multicast group does, without touching the host's multicast); the
 * hubs run UDP and NATS with nats-relay on. Events cross from site to site, exactly once, never
 * back into the transport they came from; with two hubs on one site (a loop UDP -> NATS -> UDP
 * -> NATS ...), the once-per-window rule stops the loop after one round.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeSide, DEFAULT_BINDINGS, waitFor } from '../../testkit/bridge-harness.js';
import { natsStats, requireNatsServer, startNats, startNatsSide, waitNatsReady } from '../../testkit/nats-server.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

const PSK = 'relay-Key-1';
const PREFIX = 'fsem.relay';

/** A box on UDP only: binds `self`, sends to `peers`. */
function box(t: TestContext, name: string, self: string, peers: string[], port: number): Promise<BridgeSide> {
  return BridgeSide.start(t, { switchname: name }, {
    params: { address: peers.join(','), port: String(port), bindings: DEFAULT_BINDINGS, psk: PSK },
    flags: { workers: '0', 'source-address': self },
  });
}

/** A hub: UDP like a box, plus NATS with relay on. */
function hub(t: TestContext, urls: string[], name: string, self: string, peers: string[], port: number, workers = '0'): Promise<BridgeSide> {
  return startNatsSide(t, urls, {
    switchname: name,
    params: { address: peers.join(','), port: String(port), psk: PSK, 'nats-subject-prefix': PREFIX, 'nats-relay': 'on' },
    flags: { workers, 'source-address': self },
  });
}

function relayStats(side: BridgeSide) {
  const r = natsStats(side).relay;
  assert.ok(r !== null, `${side.name} relays`);
  return r;
}

/** Waits until the counters stop moving for a while (nothing still bouncing around). */
async function settle(sides: BridgeSide[], quietMs = 400): Promise<void> {
  const published = (s: BridgeSide) => ((s.br.statusJson() as { nats: { transport: { published: number } } | null }).nats?.transport.published ?? 0);
  const snapshot = () => JSON.stringify(sides.map((s) => [s.counters.ingress.datagrams, published(s)]));
  let last = snapshot();
  let since = Date.now();
  await waitFor('traffic to settle', () => {
    const now = snapshot();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
    return Date.now() - since >= quietMs;
  }, 10_000);
}

function snapshotCounts(sides: BridgeSide[]) {
  return sides.map((s) => ({ name: s.name, udpIn: s.counters.ingress.datagrams }));
}

test('two sites and NATS: an event crosses site to site exactly once through both hubs, and never comes back to where it came from', { timeout: 40_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const p1 = await freeUdpPort('127.0.0.2');
  const p2 = await freeUdpPort('127.0.0.4');
  const s1 = await box(t, 'fs-s1', '127.0.0.1', ['127.0.0.2'], p1);
  const h1 = await hub(t, nats.urls, 'hub-1', '127.0.0.2', ['127.0.0.1'], p1, '1');
  const s2 = await box(t, 'fs-s2', '127.0.0.3', ['127.0.0.4'], p2);
  const h2 = await hub(t, nats.urls, 'hub-2', '127.0.0.4', ['127.0.0.3'], p2);
  await waitNatsReady(h1);
  await waitNatsReady(h2);

  s1.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', 's1-user']] });
  const [atS2] = await s2.waitFired('site 1 register at site 2', 1, (f) => f.get('Orig-from-user') === 's1-user', 10_000);
  assert.equal(atS2!.get('Orig-Multicast-Sender'), 'fs-s1', 'the original sender, unchanged by the hubs');
  s2.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', 's2-user']] });
  await s1.waitFired('site 2 register at site 1', 1, (f) => f.get('Orig-from-user') === 's2-user', 10_000);
  await settle([s1, h1, s2, h2]);

  // Each box got exactly the other site's one datagram: nothing of its own came back.
  assert.equal(s1.counters.ingress.datagrams, 1, `site 1 box: ${JSON.stringify(snapshotCounts([s1, h1, s2, h2]))}`);
  assert.equal(s2.counters.ingress.datagrams, 1);
  assert.equal(s1.counters.ingress.dropped['own-packet'], 0);
  assert.equal(s2.counters.ingress.dropped['own-packet'], 0);
  assert.equal(s1.fired().length, 1);
  assert.equal(s2.fired().length, 1);
  // The hubs fire both events locally too (they are bridges beside a FreeSWITCH).
  assert.equal(h1.fired().length, 2);
  assert.equal(h2.fired().length, 2);
  assert.deepEqual({ ...relayStats(h1), remembered: 0 }, { toNats: 1, toUdp: 1, suppressedRepeat: 0, noTarget: 0, remembered: 0 });
  assert.equal(relayStats(h2).toNats, 1);
  assert.equal(relayStats(h2).toUdp, 1);
  // NATS carried each event once (published by the hub of its site).
  assert.equal(natsStats(h1).transport.published, 1);
  assert.equal(natsStats(h2).transport.published, 1);
  const peers = h1.br.peersJson() as { transports: { udp: { sent: number; received: number }; nats: { relay: { toNats: number } } } };
  assert.equal(peers.transports.udp.received, 1);
  assert.equal(peers.transports.udp.sent, 1, 'the relayed NATS event went to site 1, nothing else');
  assert.equal(peers.transports.nats.relay.toNats, 1);
});

test('a hub\'s own events are sent on both transports but never relayed; without relay a hub does not republish', { timeout: 40_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const p1 = await freeUdpPort('127.0.0.2');
  const s1 = await box(t, 'fs-s1', '127.0.0.1', ['127.0.0.2'], p1);
  const h1 = await hub(t, nats.urls, 'hub-1', '127.0.0.2', ['127.0.0.1'], p1);
  // A plain NATS member without relay, with UDP that nobody listens to.
  const other = await startNatsSide(t, nats.urls, { switchname: 'fs-n', params: { psk: PSK, 'nats-subject-prefix': PREFIX } });
  await waitNatsReady(h1);
  await waitNatsReady(other);
  h1.fireMarker('hub-own');
  await s1.waitMarker('hub-own', 10_000);
  await other.waitMarker('hub-own', 10_000);
  await settle([s1, h1, other]);
  assert.equal(relayStats(h1).toNats + relayStats(h1).toUdp, 0, 'own events are sent, not relayed');
  assert.equal(natsStats(h1).transport.published, 1);
  assert.equal(natsStats(other).relay, null);
  other.fireMarker('from-nats');
  await h1.waitMarker('from-nats', 10_000);
  await s1.waitMarker('from-nats', 10_000);
  assert.equal(relayStats(h1).toUdp, 1);
});

test('a loop (two hubs on one site, both relaying) is cut after one round: every box gets the event once, the copies are counted as suppressed', { timeout: 40_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const p1 = await freeUdpPort('127.0.0.2');
  const p2 = await freeUdpPort('127.0.0.4');
  const s1 = await box(t, 'fs-s1', '127.0.0.1', ['127.0.0.2'], p1);
  const h1 = await hub(t, nats.urls, 'hub-1', '127.0.0.2', ['127.0.0.1'], p1);
  // Site 2: a box and two hubs, each sending to the two others (like one multicast group).
  const s2 = await box(t, 'fs-s2', '127.0.0.3', ['127.0.0.4', '127.0.0.5'], p2);
  const h2 = await hub(t, nats.urls, 'hub-2', '127.0.0.4', ['127.0.0.3', '127.0.0.5'], p2);
  const h2b = await hub(t, nats.urls, 'hub-2b', '127.0.0.5', ['127.0.0.3', '127.0.0.4'], p2);
  for (const h of [h1, h2, h2b]) await waitNatsReady(h);

  s1.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', 'loop-user']] });
  await s2.waitFired('the register at site 2', 1, (f) => f.get('Orig-from-user') === 'loop-user', 10_000);
  await settle([s1, h1, s2, h2, h2b], 600);

  // Site 2's hubs each got it from NATS and relayed it to UDP; each then got the other's copy on UDP and did not relay it again.
  for (const h of [h2, h2b]) {
    assert.equal(relayStats(h).toUdp, 1, `${h.name} relayed it to site 2 once`);
    assert.equal(relayStats(h).toNats, 0, `${h.name} did not send it back to NATS`);
    assert.equal(relayStats(h).suppressedRepeat, 1, `${h.name} suppressed the other hub's copy`);
  }
  assert.equal(relayStats(h1).toUdp, 0, 'nothing came back to site 1');
  assert.equal(s1.counters.ingress.datagrams, 0);
  // The box on site 2 got two copies (one per hub) and fired it once: the second is a replay (same PSK packet).
  assert.equal(s2.counters.ingress.datagrams, 2);
  assert.equal(s2.firedOrig('CUSTOM', 'sofia::register').length, 1);
  assert.equal(s2.counters.ingress.dropped.replay, 1);
  // NATS carried it once.
  assert.equal(natsStats(h1).transport.published + natsStats(h2).transport.published + natsStats(h2b).transport.published, 1);
});
