/**
 * Two bridges exchanging events through one real nats-server on loopback: the same datagrams
 * as over UDP (plain and PSK), own messages never fired back, credentials enforced and never
 * logged, reconnect after a server restart, and bounded backpressure while the server is away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeSide, DEFAULT_BINDINGS, waitFor } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';
import { natsStats, requireNatsServer, startNats, startNatsSide, waitNatsReady } from '../../testkit/nats-server.js';
import { NatsTransport, NatsTransportError } from '../../src/transport/nats/transport.js';

const REGISTER = [
  ['profile-name', 'internal'],
  ['from-user', '1000'],
  ['contact', '"Ann" <sip:1000@127.0.0.1:5060>'],
] as [string, string][];

for (const psk of [null, 'nats-Secret-Key-1']) {
  for (const workers of [0, 1]) {
    test(`${psk === null ? 'plain' : 'PSK'}, workers ${workers}: a sofia::register fired on A arrives on B once over NATS (no UDP configured), and A is not given its own`, { timeout: 30_000 }, async (t) => {
      const bin = requireNatsServer(t);
      if (bin === null) return;
      const nats = await startNats(t, bin);
      const params = { 'nats-subject-prefix': 'fsem.rt', ...(psk === null ? {} : { psk }) };
      const flags = { workers: String(workers) };
      const a = await startNatsSide(t, nats.urls, { switchname: 'fs-a', params, flags });
      const b = await startNatsSide(t, nats.urls, { switchname: 'fs-b', params, flags });
      await waitNatsReady(a);
      await waitNatsReady(b);

      a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: REGISTER });
      const [got] = await b.waitFired('sofia::register', 1, (f) => f.get('Orig-Event-Subclass') === 'sofia::register', 10_000);
      assert.equal(got!.get('Orig-Multicast-Sender'), 'fs-a');
      assert.equal(got!.get('Orig-from-user'), '1000');
      assert.equal(got!.get('Multicast'), 'yes');

      // And back: B to A.
      b.fireMarker('from-b');
      await a.waitMarker('from-b', 10_000);
      a.fireMarker('after');
      await b.waitMarker('after', 10_000);
      assert.equal(b.firedOrig('CUSTOM', 'sofia::register').filter((f) => f.get('Orig-Marker') === undefined).length, 1, 'exactly one copy');
      assert.equal(a.fired().filter((f) => f.get('Orig-Multicast-Sender') === 'fs-a').length, 0, 'A never fires its own event');
      const sa = natsStats(a).transport;
      assert.equal(sa.publishSubject, 'fsem.rt.events.fs-a');
      assert.equal(sa.published, 2);
      assert.equal(sa.received, 1, 'noEcho: A receives only B\'s message');
      assert.deepEqual(sa.dropped, { backpressure: 0, closed: 0, publishError: 0, unconfirmedAtDisconnect: 0 });
      assert.equal(b.counters.ingress.datagrams, 2);
      assert.equal(b.counters.ingress.fired, 2);
      assert.equal(Object.values(b.counters.ingress.dropped).reduce((x, y) => x + y, 0), 0);
      const peers = b.br.peersJson() as { transports: { udp: unknown; nats: { state: string; server: string; published: number } } };
      assert.equal(peers.transports.udp, null, 'no UDP transport');
      assert.equal(peers.transports.nats.state, 'connected');
      assert.equal(peers.transports.nats.server, nats.urls[0]!.replace('nats://', ''));
      if (psk !== null) for (const s of [a, b]) assert.ok(!s.logs.text.includes(psk), 'PSK not logged');
    });
  }
}

test('UDP and NATS at once: an event leaves on both; a peer on UDP only and one on NATS only both get it once', { timeout: 30_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const port = await freeUdpPort('127.0.0.2');
  const prefix = { 'nats-subject-prefix': 'fsem.both' };
  // A: UDP to 127.0.0.2 and NATS. B: UDP only on 127.0.0.2. C: NATS only.
  const a = await startNatsSide(t, nats.urls, { switchname: 'fs-a', params: { ...prefix, address: '127.0.0.2', port: String(port) }, flags: { 'source-address': '127.0.0.1' } });
  const b = await BridgeSide.start(t, { switchname: 'fs-b' }, { params: { address: '127.0.0.1', port: String(port), bindings: DEFAULT_BINDINGS }, flags: { workers: '0', 'source-address': '127.0.0.2' } });
  const c = await startNatsSide(t, nats.urls, { switchname: 'fs-c', params: prefix });
  await waitNatsReady(a);
  await waitNatsReady(c);
  a.fireMarker('both-ways');
  await b.waitMarker('both-ways', 10_000);
  await c.waitMarker('both-ways', 10_000);
  b.fireMarker('b-after');
  await a.waitMarker('b-after', 10_000);
  c.fireMarker('c-after');
  await a.waitMarker('c-after', 10_000);
  assert.equal(b.fired().length, 1);
  assert.equal(c.fired().length, 1);
  assert.equal(b.fired().filter((f) => f.get('Orig-Marker') === 'c-after').length, 0, 'relay is off: C\'s event does not reach B');
});

test('token auth: the right token connects, a wrong one fails start naming the reason; the token never appears in logs or status', { timeout: 30_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const token = 's3cret-T0ken-xyz';
  const nats = await startNats(t, bin, { token });
  await assert.rejects(
    startNatsSide(t, nats.urls, { switchname: 'fs-bad', params: { 'nats-token': 'wrong-token-abc' } }),
    (e: Error) =>
      e instanceof NatsTransportError &&
      e.code === 'AUTHORIZATION_VIOLATION' &&
      /cannot connect to NATS nats:\/\/127\.0\.0\.1:\d+: AUTHORIZATION_VIOLATION: Authorization Violation$/.test(e.message) &&
      !e.message.includes('wrong-token-abc'),
  );
  const a = await startNatsSide(t, nats.urls, { switchname: 'fs-a', params: { 'nats-token': token } });
  const b = await startNatsSide(t, nats.urls, { switchname: 'fs-b' }).catch((e: Error) => e);
  assert.ok(b instanceof NatsTransportError, 'without a token the server refuses');
  await waitNatsReady(a);
  const status = JSON.stringify(a.br.statusJson());
  assert.ok(!status.includes(token) && !a.logs.text.includes(token), 'token not in status or logs');
});

test('the server restarts: the bridge reconnects, datagrams sent meanwhile wait in the queue and arrive; counters say so', { timeout: 40_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const a = await startNatsSide(t, nats.urls, { switchname: 'fs-a' });
  const b = await startNatsSide(t, nats.urls, { switchname: 'fs-b' });
  await waitNatsReady(a);
  await waitNatsReady(b);
  a.fireMarker('before');
  await b.waitMarker('before', 10_000);

  const node = nats.nodes[0]!;
  await node.stop();
  await waitFor('A sees the disconnect', () => natsStats(a).transport.phase === 'reconnecting', 10_000, () => natsStats(a).transport);
  for (let i = 0; i < 5; i++) a.fireMarker(`during-${i}`);
  await waitFor('5 datagrams queued on A', () => natsStats(a).transport.queued === 5, 10_000, () => natsStats(a).transport);
  await node.start();
  await waitFor('both reconnected', () => natsStats(a).transport.reconnects >= 1 && natsStats(b).transport.reconnects >= 1, 15_000, () => [natsStats(a).transport, natsStats(b).transport]);
  // B resubscribed: what A had queued may have reached the server before B was back; what is sent now arrives.
  a.fireMarker('after');
  await b.waitMarker('after', 10_000);
  const sa = natsStats(a).transport;
  assert.equal(sa.queued, 0);
  assert.equal(sa.disconnects, 1);
  assert.equal(sa.published, 7, 'before + 5 queued + after');
  assert.ok(a.logs.find(/lost the NATS connection/), 'the disconnect is logged');
  assert.ok(a.logs.find(/reconnected to NATS/), 'the reconnect is logged');
});

test('backpressure: while the server is away the queue is bounded by nats-max-pending and the rest is dropped and counted', { timeout: 30_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const transport = new NatsTransport({ servers: nats.urls, subjectPrefix: 'fsem.bp', credentials: { kind: 'none' }, maxPendingBytes: 4096, state: null, reconnectWaitMs: 100 });
  t.after(() => transport.close());
  await transport.start();
  transport.setOwnName('bp');
  await nats.nodes[0]!.stop();
  await waitFor('disconnect seen', () => transport.stats().phase === 'reconnecting', 10_000, () => transport.stats());
  const datagram = Buffer.alloc(1000, 0x41);
  for (let i = 0; i < 10; i++) transport.send(datagram);
  const s = transport.stats();
  assert.equal(s.queued, 4, '4 × 1000 bytes fit in 4096');
  assert.equal(s.queuedBytes, 4000);
  assert.equal(s.dropped.backpressure, 6);
  await transport.close();
  assert.equal(transport.stats().dropped.closed, 4, 'closing drops what still waited, counted');
  transport.send(datagram);
  assert.equal(transport.stats().dropped.closed, 5);
});

test('an unreachable cluster does not stop the bridge: it starts, retries in the background and connects when a server appears', { timeout: 30_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const node = nats.nodes[0]!;
  await node.stop();
  const a = await startNatsSide(t, nats.urls, { switchname: 'fs-a' });
  assert.notEqual(natsStats(a).transport.phase, 'connected');
  assert.ok(a.logs.find(/unreachable \(CONNECTION_REFUSED: connection refused \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)\); retrying/), 'a warning says the cluster is unreachable, and why');
  assert.equal(natsStats(a).transport.lastError?.startsWith('CONNECTION_REFUSED'), true);
  a.fireMarker('early');
  await node.start();
  await waitNatsReady(a, 15_000);
  assert.equal(natsStats(a).transport.published, 1, 'the event sent before the connection went out on connect');
});
