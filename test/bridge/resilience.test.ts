/**
 * A running bridge when things go wrong: the event socket is lost or FreeSWITCH restarts while
 * traffic flows, the ESL password is wrong, the configuration is reloaded (good and bad) under
 * traffic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { Bridge } from '../../src/bridge/bridge.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/util/log.js';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { startPair, BridgeSide, LogCapture, moduleXml, waitFor, type FiredEvent } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

/** Fires `count` sofia::register events on `side`, `perTick` at a time, one tick every `everyMs`; resolves when all are fired. */
async function trickle(side: BridgeSide, tag: string, count: number, perTick = 10, everyMs = 2): Promise<void> {
  for (let i = 0; i < count; ) {
    for (let k = 0; k < perTick && i < count; k++, i++) {
      // A call-id each: distinct registrations, so none may supersede another in a busy injector queue.
      side.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Stream', tag], ['Stream-Index', String(i)], ['call-id', `${tag}-${i}`]] });
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function indexesOf(fired: FiredEvent[], tag: string): number[] {
  return fired.filter((f) => f.get('Orig-Stream') === tag).map((f) => Number(f.get('Orig-Stream-Index')));
}

/** Every index 0..count-1 present (at-least-once: a command in flight at a drop may fire twice). */
/** What is wrong with a stream of indexes that should be 0..n-1 in order: for a failure message. */
function describeStream(indexes: number[], n: number): string {
  const seen = new Map<number, number>();
  for (const i of indexes) seen.set(i, (seen.get(i) ?? 0) + 1);
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !seen.has(i));
  const twice = [...seen].filter(([, c]) => c > 1).map(([i]) => i);
  const firstOutOfOrder = indexes.findIndex((v, k) => k > 0 && v < indexes[k - 1]!);
  const around = firstOutOfOrder < 0 ? '' : `; out of order at position ${firstOutOfOrder}: …${indexes.slice(Math.max(0, firstOutOfOrder - 3), firstOutOfOrder + 3).join(', ')}…`;
  return `missing ${JSON.stringify(missing)}, twice ${JSON.stringify(twice)}${around}`;
}

function assertComplete(indexes: number[], count: number, what: string): void {
  const seen = new Set(indexes);
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  assert.deepEqual(missing, [], `${what}: missing indexes`);
  assert.ok(indexes.length - count <= 64 * 2, `${what}: at most one in-flight window fired twice (got ${indexes.length - count} extra)`);
}

test("ESL lost on B while traffic flows: B's events are queued and fired after the reconnect, nothing lost, nothing crashes", { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { flags: { workers: '1' } });
  const n = 600;
  const flowing = trickle(a, 'drop', n);
  await waitFor('some events through before the drop', () => indexesOf(b.fired(), 'drop').length >= 100);
  b.fs.dropConnections();
  await flowing;
  await b.waitReady(10_000);
  const got = await b.waitFired(`${n} stream events`, n, (f) => f.get('Orig-Stream') === 'drop', 15_000);
  assertComplete(indexesOf(got, 'drop'), n, 'after dropConnections');
  const injector = b.eslStatus().injector as unknown as { reconnects: number; droppedOldest: number; delivered: number };
  assert.ok(injector.reconnects >= 1, `the injector reconnected (${JSON.stringify(injector)})`);
  assert.equal(injector.droppedOldest, 0, 'nothing dropped from the bounded queue');
  assert.equal(b.counters.ingress.fired, n, 'every datagram became one command');
  assert.equal(b.counters.ingress.lost, 0);
  assert.equal(a.counters.egress.datagrams, n);
  assert.ok(b.logs.find(/lost the FreeSWITCH event socket; reconnecting/), 'the loss was logged');
  // The bridge on B still forwards B's own events after its event socket came back.
  b.fireMarker('b-after-drop');
  await a.waitMarker('b-after-drop');
});

test("B's FreeSWITCH stops and restarts while traffic flows: what arrived meanwhile is fired after it is back", { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { flags: { workers: '0' } });
  a.fireMarker('before-restart');
  await b.waitMarker('before-restart');
  await b.fs.stop();
  await waitFor('B to notice FreeSWITCH is gone', () => !b.eslStatus().injector.connected && !b.eslStatus().events.connected);
  const n = 300;
  await trickle(a, 'down', n, 50, 1);
  await waitFor(`${n} datagrams received by B while FreeSWITCH is down`, () => b.counters.ingress.fired >= n + 1, 5_000, () => b.counters.ingress);
  const queued = b.eslStatus().injector.queued;
  assert.ok(queued >= n, `B queued the commands while FreeSWITCH was down (queued ${queued})`);
  assert.equal(indexesOf(b.fired(), 'down').length, 0, 'nothing fired while down');
  await b.fs.restart();
  await b.waitReady(10_000);
  const got = await b.waitFired(`${n} events after the restart`, n, (f) => f.get('Orig-Stream') === 'down', 15_000);
  assertComplete(indexesOf(got, 'down'), n, 'after restart');
  // Queued commands keep their order.
  const order = indexesOf(got, 'down');
  assert.deepEqual(order.slice(0, n), Array.from({ length: n }, (_, i) => i));
  assert.equal(b.eslStatus().injector.queued, 0);
  assert.equal(b.counters.ingress.lost, 0);
  // And the event side came back too: B's box sends again.
  b.fireMarker('b-after-restart');
  await a.waitMarker('b-after-restart');
});

test('wrong ESL password: onFatal once with a clear message, no retry loop, the password in no log', { timeout: 20_000 }, async (t) => {
  const fsPassword = 'the-right-pass-9';
  const wrong = 'a-wrong-pass-7';
  let connections = 0;
  const side = await BridgeSide.start(
    t,
    { switchname: 'fs-a', fsPassword, noWaitReady: true, flags: { 'esl-password': wrong, injectors: '2' } },
    { params: { address: '127.0.0.2', port: '42999', bindings: 'HEARTBEAT' }, flags: { 'source-address': '127.0.0.1', workers: '0' } },
  );
  side.fs.on('connection', () => connections++);
  await waitFor('onFatal', () => side.fatals.length > 0, 5_000);
  const first = side.fatals[0]!;
  assert.match(first.message, /rejected the event-socket password .*check the ESL password setting — not retrying/);
  // Every connection (events + 2 injectors) gets the same answer; none tries again.
  await waitFor('all connections closed', () => side.fs.connectionCount() === 0, 5_000);
  const seen = connections;
  await new Promise((r) => setTimeout(r, 600)); // longer than the first backoff steps (100-200 ms): a retry would show
  assert.equal(connections, seen, 'no new connection after the fatal error');
  assert.equal(side.fatals.length, 1, 'onFatal reported once (the event source and the injectors all hit it)');
  assert.equal(side.fs.connectionCount(), 0);
  for (const e of side.fatals) assert.ok(!e.message.includes(wrong) && !e.message.includes(fsPassword), 'no password in the error');
  assert.ok(!side.logs.text.includes(wrong), 'no password in the log');
  assert.equal(side.logs.lines.filter((l) => l.level === 60).length, 1, 'logged once at fatal level');
});

test('reload under traffic: new bindings take effect, the stream loses nothing; an unchanged file is counted as such', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { params: { bindings: 'CUSTOM sofia::register' }, flags: { workers: '1' } });
  const n = 600;
  const flowing = trickle(a, 'reload', n);
  await waitFor('traffic flowing', () => indexesOf(b.fired(), 'reload').length >= 100);
  a.params = { ...a.params, bindings: 'CUSTOM sofia::register sofia::unregister' };
  await a.br.reload('test');
  assert.equal(a.counters.reloads.applied, 1);
  await flowing;
  await a.waitReady();
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::unregister', headers: [['Marker', 'newly-bound']] });
  await b.waitMarker('newly-bound');
  const got = await b.waitFired(`${n} events across the reload`, n, (f) => f.get('Orig-Stream') === 'reload', 10_000);
  // The new event socket takes over exactly where the old one stopped: none lost, none twice.
  // One sender's events, in FreeSWITCH's order, across the handover and the pool swap (bindings
  // changed, so the pool was replaced too): none lost, none twice, none overtaken.
  const order = indexesOf(got, 'reload');
  assert.deepEqual(order, Array.from({ length: n }, (_, i) => i), `${describeStream(order, n)}; A: ${JSON.stringify(a.counters.egress)} B: ${JSON.stringify(b.counters.ingress)}`);
  assert.ok(a.logs.find(/new event socket took over/), 'the new event socket took over');
  await a.br.reload('again');
  assert.equal(a.counters.reloads.unchanged, 1);
  assert.equal(a.counters.reloads.applied, 1);
});

test('reload of a new PSK on both sides: traffic flows with the new key; a bad file is rejected and the old configuration keeps running', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { params: { psk: 'first-key-1' }, flags: { workers: '1' } });
  a.fireMarker('old-key');
  await b.waitMarker('old-key');
  for (const side of [a, b]) side.params = { ...side.params, psk: 'second-key-2' };
  await Promise.all([a.br.reload('psk'), b.br.reload('psk')]);
  assert.equal(a.counters.reloads.applied, 1);
  assert.equal(b.counters.reloads.applied, 1);
  a.fireMarker('new-key');
  await b.waitMarker('new-key');
  b.fireMarker('new-key-back');
  await a.waitMarker('new-key-back');

  // A broken file: rejected, named in the log, old configuration (and key) kept.
  const good = a.params;
  a.params = { ...good, port: 'not-a-port' };
  const flowing = trickle(a, 'bad-reload', 200, 20, 2);
  await a.br.reload('bad file');
  await flowing;
  assert.equal(a.counters.reloads.rejected, 1);
  assert.equal(a.counters.reloads.applied, 1);
  const err = a.logs.find(/configuration reload failed; keeping the running configuration/);
  assert.ok(err, 'the rejection is logged');
  assert.match(String(err.err), /port 'not-a-port'/);
  const got = await b.waitFired('200 events after the bad reload', 200, (f) => f.get('Orig-Stream') === 'bad-reload');
  assertComplete(indexesOf(got, 'bad-reload'), 200, 'after the rejected reload');
  for (const key of ['first-key-1', 'second-key-2']) {
    assert.ok(!a.logs.text.includes(key) && !b.logs.text.includes(key), 'no PSK in the logs');
  }
});

test('a start that fails (status port taken) rejects naming status-listen and leaves nothing open: no ESL connection, UDP port free', { timeout: 20_000 }, async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => blocker.close(() => r())));
  const taken = (blocker.address() as AddressInfo).port;
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-a' });
  t.after(() => fs.stop());
  const udpPort = await freeUdpPort('127.0.0.1');
  const { config } = loadConfig({
    xmlText: moduleXml({ address: '127.0.0.2', port: String(udpPort), bindings: 'HEARTBEAT' }),
    flags: { 'source-address': '127.0.0.1', workers: '1', 'esl-port': String(fs.port), 'status-listen': `127.0.0.1:${taken}` },
    env: {},
  });
  const logs = new LogCapture();
  await assert.rejects(
    Bridge.start({ config, logger: createLogger({ level: 'info', format: 'json', destination: logs.stream }) }),
    new RegExp(`status-listen 127\\.0\\.0\\.1:${taken}: cannot listen: EADDRINUSE`),
  );
  await waitFor('every ESL connection of the failed bridge closed', () => fs.connectionCount() === 0, 5_000);
  // A plain socket (no SO_REUSEADDR) can bind the UDP port only once the bridge's socket is closed.
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.bind(udpPort, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((r) => probe.close(() => r()));
});
