/**
 * A three-node NATS cluster on one machine (routes on loopback): two bridges on different nodes
 * exchange registrations; the node one of them is connected to is stopped mid-test, the bridge
 * fails over to another node and the registrations keep flowing both ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, type BridgeSide } from '../../testkit/bridge-harness.js';
import { natsStats, requireNatsServer, startNats, startNatsSide, waitNatsReady } from '../../testkit/nats-server.js';

function register(side: BridgeSide, user: string): void {
  side.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', user], ['profile-name', 'internal']] });
}

async function waitRegister(side: BridgeSide, user: string): Promise<void> {
  await side.waitFired(`register of ${user}`, 1, (f) => f.get('Orig-Event-Subclass') === 'sofia::register' && f.get('Orig-from-user') === user, 15_000);
}

test('three-node cluster: the node a bridge is connected to stops mid-test; both bridges keep exchanging registrations through the others', { timeout: 60_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const cluster = await startNats(t, bin, { nodes: 3 });
  const [n1, n2, n3] = cluster.nodes;
  // A lists node 1 first, B node 2; each knows all three.
  const params = { 'nats-subject-prefix': 'fsem.cluster1', psk: 'cluster-Key-1' };
  // One injector connection each: FreeSWITCH then sees the transport's order across users too (with more, order is kept per user).
  const flags = { injectors: '1' };
  const a = await startNatsSide(t, [n1!.url, n2!.url, n3!.url], { switchname: 'fs-a', params, flags });
  const b = await startNatsSide(t, [n2!.url, n3!.url, n1!.url], { switchname: 'fs-b', params, flags });
  await waitNatsReady(a);
  await waitNatsReady(b);

  register(a, '1001');
  await waitRegister(b, '1001');
  register(b, '2001');
  await waitRegister(a, '2001');

  // Stop the node A is connected to (whichever the client picked).
  const aServer = natsStats(a).transport.server;
  const victim = cluster.nodes.find((n) => n.url === `nats://${aServer}`);
  assert.ok(victim, `A is connected to one of the nodes (${aServer})`);
  await victim.stop();
  await waitFor(
    'A failed over to another node',
    () => {
      const s = natsStats(a).transport;
      return s.phase === 'connected' && s.reconnects >= 1 && s.server !== aServer;
    },
    20_000,
    () => natsStats(a).transport,
  );
  await waitFor('B connected', () => natsStats(b).transport.phase === 'connected', 20_000, () => natsStats(b).transport);

  // Registrations keep flowing both ways through the two nodes left.
  for (let i = 0; i < 20; i++) register(a, `11${String(i).padStart(2, '0')}`);
  for (let i = 0; i < 20; i++) register(b, `21${String(i).padStart(2, '0')}`);
  await waitRegister(b, '1119');
  await waitRegister(a, '2119');
  const fromA = b.firedOrig('CUSTOM', 'sofia::register').map((f) => f.get('Orig-from-user'));
  const fromB = a.firedOrig('CUSTOM', 'sofia::register').map((f) => f.get('Orig-from-user'));
  for (let i = 0; i < 20; i++) {
    assert.ok(fromA.includes(`11${String(i).padStart(2, '0')}`), `B got A's register ${i}`);
    assert.ok(fromB.includes(`21${String(i).padStart(2, '0')}`), `A got B's register ${i}`);
  }
  // In order, once each (no duplicates from the failover).
  const afterA = fromA.filter((u) => u!.startsWith('11'));
  assert.deepEqual(afterA, [...afterA].sort(), 'A\'s registrations arrive in order');
  assert.equal(new Set(afterA).size, afterA.length, 'each once');
  const sa = natsStats(a).transport;
  assert.equal(sa.disconnects, 1);
  assert.notEqual(sa.server, aServer);
  assert.equal(sa.dropped.backpressure, 0);
  const peers = a.br.peersJson() as { transports: { nats: { state: string; reconnects: number; server: string } } };
  assert.equal(peers.transports.nats.state, 'connected');
  assert.equal(peers.transports.nats.reconnects, 1);
  assert.equal(peers.transports.nats.server, sa.server);
});
