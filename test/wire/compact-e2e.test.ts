/**
 * End to end through two bridges on loopback: A sends the compact format to B (its workers
 * sealing), B sends the legacy PSK format to A. Both receive on their one port. An event of
 * several kilobytes that does not compress crosses in fragments; the per-peer counts show up
 * in peers --json.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADDRESS_B, startPair } from '../../testkit/bridge-harness.js';
import { prng } from '../../testkit/fixtures.js';

interface PeersJson {
  compact: Record<string, { received: number; lost: number; reordered: number; duplicates: number; instances: number }>;
  compactConfigured: { address: string }[];
  peers: { name: string; up: boolean; compact: { received: number; lost: number } | null }[];
}
interface StatusJson {
  compact: { counters: { egress: { events: number; datagrams: number; fragmentedEvents: number }; ingress: { reassembled: number } } };
  udp: { destinations: { address: string; sent: number }[] };
}

test('compact A -> B (with fragments) and legacy PSK B -> A through two bridges', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, {
    params: { psk: 'ClueCon', bindings: 'HEARTBEAT CUSTOM sofia::register sofia::unregister' },
    a: { params: { address: '', 'compact-address': ADDRESS_B }, flags: { workers: '2' } },
  });
  const random = prng(11);
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const bigHeaders: [string, string][] = Array.from({ length: 50 }, (_, i) => [`X-Var-${i}`, `${hex(90)} ${i}%:&`]);

  a.fs.fireHeartbeat();
  a.fireMarker('small-1');
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Marker', 'big-1'], ...bigHeaders], body: 'line one\nline: two\n' });
  a.fireMarker('small-2');

  await b.waitMarker('small-1');
  const big = await b.waitMarker('big-1');
  await b.waitMarker('small-2');
  for (const [name, value] of bigHeaders) assert.equal(big.get(`Orig-${name}`), value, name);
  assert.equal(big.body?.toString('utf8'), 'line one\nline: two\n');
  assert.equal(big.get('Orig-Multicast-Sender'), 'fs-a');
  assert.equal(big.get('Multicast'), 'yes');

  // B -> A in the C module's PSK format: A (which sends only compact) still receives it.
  b.fireMarker('legacy-1');
  await a.waitMarker('legacy-1');

  const statusA = a.br.statusJson() as StatusJson;
  assert.ok(statusA.compact.counters.egress.fragmentedEvents >= 1);
  assert.ok(statusA.compact.counters.egress.datagrams > statusA.compact.counters.egress.events);
  assert.equal(statusA.udp.destinations.length, 1);
  assert.equal(statusA.udp.destinations[0]!.address, ADDRESS_B);
  const statusB = b.br.statusJson() as StatusJson;
  assert.equal(statusB.compact.counters.ingress.reassembled, 1);
  assert.equal(b.counters.ingress.dropped.undecryptable, 0);

  const peers = b.br.peersJson() as PeersJson;
  const fsA = peers.compact['fs-a'];
  assert.ok(fsA !== undefined, JSON.stringify(peers));
  assert.ok(fsA.received >= 4, `received ${fsA.received}`);
  assert.equal(fsA.lost, 0);
  assert.equal(fsA.duplicates, 0);
  const peerA = peers.peers.find((p) => p.name === 'fs-a');
  assert.ok(peerA?.up, 'the compact HEARTBEAT made fs-a a peer');
  assert.equal(peerA.compact?.lost, 0);
  assert.deepEqual((a.br.peersJson() as PeersJson).compactConfigured.map((d) => d.address), [ADDRESS_B]);
});
