/**
 * Overload and faults on a running bridge: a pool worker dies mid-batch, FreeSWITCH is down
 * while more arrives than the bounded queue holds, the event socket floods the bridge, and a
 * graceful stop happens under traffic. Every datagram and event is accounted for by a counter.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { Worker } from 'node:worker_threads';
import type { Bridge } from '../../src/bridge/bridge.js';
import type { Counters } from '../../src/status/counters.js';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { MAGIC, PLAIN_TRAILING_ZEROS } from '../../src/wire/magic.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { BridgeSide, waitFor, withTimeout } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

interface PoolView {
  drain(): Promise<void>;
  piscina: { threads: Worker[] } | null;
  stats(): { ingress: { queued: number; inFlight: number; droppedQueueFull: number }; egress: { queued: number; inFlight: number; droppedQueueFull: number } };
}
/** The bridge's pool, reached past `private` (test-only fault injection). */
const poolOf = (b: Bridge): PoolView => (b as unknown as { live: { pool: PoolView } }).live.pool;

const dropsOf = (c: Counters) => Object.values(c.ingress.dropped).reduce((x, y) => x + y, 0);

function plainPacket(stream: string, i: number, pad = 0): Buffer {
  const text = `Event-Name: CUSTOM\nEvent-Subclass: sofia::register\nStream: ${stream}\nStream-Index: ${i}\n${pad > 0 ? `Pad: ${'p'.repeat(pad)}\n` : ''}Multicast-Sender: fs-a\n\n`;
  return Buffer.concat([Buffer.from(text, 'latin1'), MAGIC, Buffer.alloc(PLAIN_TRAILING_ZEROS)]);
}

async function sideB(t: TestContext, params: Record<string, string>, workers: string) {
  const port = await freeUdpPort('127.0.0.2');
  const b = await BridgeSide.start(t, { switchname: 'fs-b' }, {
    params: { address: '127.0.0.1', port: String(port), bindings: 'HEARTBEAT', ...params },
    flags: { 'source-address': '127.0.0.2', workers },
  });
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => sock.close());
  /** Sends in slices, yielding between them, so loopback does not overrun the receive buffer. */
  const send = async (ds: Buffer[], slice = 100, pauseMs = 0) => {
    for (let i = 0; i < ds.length; i += slice) {
      await Promise.all(ds.slice(i, i + slice).map((d) => new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r()))));
      await new Promise((r) => (pauseMs > 0 ? setTimeout(r, pauseMs) : setImmediate(r)));
    }
  };
  return { b, send };
}

const streamIndexes = (b: BridgeSide, stream: string) => b.fired().filter((f) => f.get('Orig-Stream') === stream).map((f) => Number(f.get('Orig-Stream-Index')));

test('a pool worker killed mid-batch: the pool replaces it, the batch is counted as lost, every datagram is accounted for, the bridge keeps running', { timeout: 40_000 }, async (t) => {
  const psk = 'kill-test-key';
  const { b, send } = await sideB(t, { psk }, '2');
  const cipher = new PskCipher(psk);
  const senderLine = multicastSenderLine('fs-a');
  // Big PSK packets: a batch takes long enough in a worker to be caught in flight.
  const big = (i: number) => frameDatagram(Buffer.from(`Event-Name: CUSTOM\nEvent-Subclass: sofia::register\nStream: kill\nStream-Index: ${i}\nPad: ${'p'.repeat(20_000)}\n\n`, 'latin1'), { senderLine, cipher });
  const n = 1200;
  const pool = poolOf(b.br);
  let killed = 0;
  const sending = send(Array.from({ length: n }, (_, i) => big(i)), 50);
  await waitFor('an ingress batch in flight', () => pool.stats().ingress.inFlight > 0, 10_000);
  for (const w of pool.piscina!.threads) {
    void w.terminate();
    killed++;
  }
  await sending;
  await waitFor('every received datagram accounted for', () => {
    const c = b.counters;
    return c.ingress.datagrams > 0 && pool.stats().ingress.queued === 0 && pool.stats().ingress.inFlight === 0 && c.ingress.fired + dropsOf(c) + c.ingress.lost === c.ingress.datagrams;
  }, 20_000, () => ({ ingress: b.counters.ingress, pool: pool.stats() }));
  const c = b.counters;
  assert.equal(killed, 2);
  assert.ok(c.ingress.lost > 0, `a batch was in flight when its worker died: lost ${c.ingress.lost}`);
  assert.equal(dropsOf(c), 0, JSON.stringify(c.ingress.dropped));
  assert.ok(b.logs.find(/a worker batch failed/), 'the loss is logged');
  // The pool has workers again and the bridge still fires.
  await waitFor('fired == delivered', () => streamIndexes(b, 'kill').length === c.ingress.fired, 10_000);
  assert.equal(pool.piscina!.threads.length, 2, 'Piscina replaced the dead workers');
  await send([big(n)]);
  await b.waitFired('a packet after the kill', 1, (f) => f.get('Orig-Stream-Index') === String(n), 10_000);
});

test('FreeSWITCH down while more arrives than the queue holds: the oldest are dropped and counted, the newest 10 000 fired in order after it is back', { timeout: 60_000 }, async (t) => {
  const { b, send } = await sideB(t, {}, '1');
  await b.fs.stop();
  await waitFor('B sees FreeSWITCH gone', () => !b.eslStatus().injector.connected);
  const n = 11_000;
  await send(Array.from({ length: n }, (_, i) => plainPacket('down', i)), 50, 1);
  await waitFor('all received datagrams handed to the injector', () => b.counters.ingress.fired === b.counters.ingress.datagrams && b.counters.ingress.datagrams > 10_000, 15_000, () => b.counters.ingress);
  await new Promise((r) => setTimeout(r, 200)); // nothing still on its way
  const received = b.counters.ingress.datagrams;
  assert.equal(b.counters.ingress.fired, received);
  const inj = b.eslStatus().injector as unknown as { queued: number; droppedOldest: number };
  assert.equal(inj.queued, 10_000, 'the queue stops at its bound (maxQueuedEvents)');
  assert.equal(inj.droppedOldest, received - 10_000, 'the rest are dropped and counted');
  await b.fs.restart();
  await b.waitReady(10_000);
  await waitFor('the queued 10 000 fired', () => streamIndexes(b, 'down').length >= 10_000, 30_000, () => b.eslStatus().injector);
  const got = streamIndexes(b, 'down');
  assert.equal(got.length, 10_000);
  for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, 'in order');
  assert.ok(got.at(-1)! >= n - 1 - (n - received), 'the newest is kept');
  // With no loopback loss the first 500 are the ones dropped; each lost datagram can shift that by one.
  assert.ok(got[0]! >= n - 10_000 - (n - received), `the oldest went first (first fired index ${got[0]})`);
});

test('the event socket floods the bridge: reading pauses while the queue is full (FreeSWITCH buffers, never cuts it off), the queue stays bounded, every event is counted', { timeout: 60_000 }, async (t) => {
  const port = await freeUdpPort('127.0.0.1');
  const a = await BridgeSide.start(t, { switchname: 'fs-a' }, {
    params: { address: '127.0.0.2', port: String(port), bindings: 'CUSTOM sofia::register' },
    flags: { 'source-address': '127.0.0.1', workers: '1' },
  });
  const pool = poolOf(a.br);
  let maxQueued = 0;
  const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, pool.stats().egress.queued)), 2);
  t.after(() => clearInterval(sampler));
  const text = a.fs.eventText({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Flood', 'x'.repeat(900)]] });
  const count = 150_000;
  const r = await a.fs.pump({ texts: [text], count, maxSeconds: 30 });
  assert.equal(r.sent, count, 'FreeSWITCH handed every event to the bridge');
  await waitFor('every event read', () => a.counters.egress.events >= count, 20_000, () => a.counters.egress);
  await withTimeout(pool.drain(), 20_000, 'pool drain');
  clearInterval(sampler);
  assert.equal(a.fs.stats().cutOffs, 0, 'never so far behind that FreeSWITCH killed the listener');
  assert.ok(maxQueued <= 20_000, `pool queue bounded (max seen ${maxQueued})`);
  const e = a.counters.egress;
  const s = pool.stats().egress;
  assert.ok(e.readPauses > 0, 'the flood made the bridge pause reading the event socket');
  // Pausing pushes the excess back to FreeSWITCH instead of dropping it: far fewer drops than events.
  assert.ok(s.droppedQueueFull < count / 2, `drops ${s.droppedQueueFull} of ${count}`);
  assert.equal(e.events, count);
  assert.equal(e.datagrams + e.notBound + e.tooLarge + e.unreadable + e.lost + s.droppedQueueFull, e.events, `accounted: ${JSON.stringify({ e, s })}`);
});

test('graceful stop under traffic: what was received is fired before the connections close; with FreeSWITCH gone the stop is still bounded', { timeout: 40_000 }, async (t) => {
  const { b, send } = await sideB(t, {}, '1');
  const sending = send(Array.from({ length: 3000 }, (_, i) => plainPacket('stop', i, 400)), 50);
  await waitFor('traffic flowing', () => b.counters.ingress.fired >= 500, 10_000);
  await withTimeout(b.br.stop(5000), 15_000, 'stop under traffic');
  await sending;
  const fired = b.counters.ingress.fired;
  assert.ok(fired < 3000 || b.counters.ingress.datagrams === 3000);
  assert.equal(streamIndexes(b, 'stop').length, fired, 'every command handed to the injector was delivered before close');
  assert.equal(b.counters.ingress.lost, 0);
  assert.equal(b.counters.ingress.datagrams, fired + dropsOf(b.counters), 'nothing left in the pool');

  const second = await sideB(t, {}, '1');
  await second.b.fs.stop();
  await waitFor('FreeSWITCH gone', () => !second.b.eslStatus().injector.connected);
  await second.send(Array.from({ length: 200 }, (_, i) => plainPacket('stuck', i)));
  await waitFor('queued', () => second.b.eslStatus().injector.queued === 200);
  // drainMs 300: the stop gives up on the undeliverable queue instead of hanging.
  await withTimeout(second.b.br.stop(300), 5_000, 'a bounded stop with FreeSWITCH down');
});
