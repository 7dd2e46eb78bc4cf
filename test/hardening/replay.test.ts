/**
 * Replay protection (wire/replay.ts): what identifies a PSK packet, the bounded time window, the
 * optional Event-Date-Timestamp age limit, and a real captured packet replayed to a running bridge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { parseBindings } from '../../src/config/bindings.js';
import { packBatch } from '../../src/pool/batch.js';
import { createCodecState, DELIVERED, runIngress } from '../../src/pool/tasks.js';
import { DEFAULT_SCAN_LIMITS } from '../../src/wire/header-scan.js';
import { decodeDatagram } from '../../src/wire/ingress.js';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { isStale, replayKeyOf, ReplayGuard } from '../../src/wire/replay.js';
import { DROP_REASONS } from '../../src/wire/types.js';
import { BridgeSide, waitFor } from '../../testkit/bridge-harness.js';
import { fixture, manifest, PSK } from '../../testkit/fixtures.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

const cipher = new PskCipher(PSK);
const register = manifest().find((e) => e.mode === 'psk' && e.subclass === 'sofia::register')!;

/** The captured datagram with one byte of its UUID text changed (position 8..35 is not the IV). */
function withUuidByte(d: Buffer, at: number, char: string): Buffer {
  const c = Buffer.from(d);
  c[at] = char.charCodeAt(0) === c[at] ? char.charCodeAt(0) ^ 1 : char.charCodeAt(0);
  return c;
}

test('a PSK packet edited where decryption does not look (UUID after the IV, zero padding) still decodes, and keeps its replay key', () => {
  const d = fixture(register.datagram);
  const key = replayKeyOf(d);
  assert.ok(key !== null && key.length === 16);
  for (const edited of [withUuidByte(d, 20, 'f'), withUuidByte(d, 35, '0'), (() => { const c = Buffer.from(d); c[100] = 0x41; return c; })()]) {
    assert.notDeepEqual(edited, d);
    assert.equal(decodeDatagram(edited, { cipher }).ok, true, 'the edit does not stop it decoding');
    assert.equal(replayKeyOf(edited), key, 'so the key cannot be the UUID: it is the ciphertext tail');
  }
});

test('a PSK packet with a changed IV decodes to a changed first header, with the same replay key', () => {
  const d = fixture(register.datagram);
  const c = Buffer.from(d);
  c[0] ^= 0x20; // flips the case bit of the first plaintext byte: "Event-Name" -> "event-Name"
  const r = decodeDatagram(c, { cipher });
  assert.ok(r.ok, 'still decodes');
  assert.equal(Buffer.from(r.value.scan.text.subarray(0, 10)).toString('latin1'), 'event-Name');
  assert.equal(replayKeyOf(c), replayKeyOf(d));
});

test('changing one of the last two ciphertext blocks makes the packet undecodable (the key is bound by padding and MAGIC)', () => {
  const d = fixture(register.datagram);
  for (let back = 1; back <= 16; back++) {
    for (const bit of [0x01, 0x80]) {
      const c = Buffer.from(d);
      c[c.length - back] ^= bit;
      assert.equal(decodeDatagram(c, { cipher }).ok, false, `byte -${back} bit ${bit}`);
    }
  }
});

test('every packet our egress frames has a different key, even for the same event text', () => {
  const text = Buffer.from('Event-Name: CUSTOM\nEvent-Subclass: x%3A%3Ay\n\n', 'latin1');
  const keys = new Set<string>();
  for (let i = 0; i < 2000; i++) keys.add(replayKeyOf(frameDatagram(text, { senderLine: multicastSenderLine('fs-a'), cipher }))!);
  assert.equal(keys.size, 2000);
});

test('ReplayGuard: a repeat within the window is a replay; after two windows it is forgotten; memory bounded', () => {
  const g = new ReplayGuard({ windowMs: 1000, maxKeys: 100 });
  assert.equal(g.seen('a', 0), false);
  assert.equal(g.seen('a', 10), true);
  assert.equal(g.seen('b', 999), false);
  assert.equal(g.seen('a', 1500), true, 'kept at least one window after it was first seen');
  assert.equal(g.seen('b', 1998), true, 'b: still inside its window');
  assert.equal(g.seen('a', 4000), false, 'long after: forgotten (and remembered again)');
  assert.deepEqual({ ...g.stats(), keys: undefined }, { checked: 6, replays: 3, keys: undefined, earlyTurns: 0 });

  const small = new ReplayGuard({ windowMs: 60_000, maxKeys: 100 });
  for (let i = 0; i < 10_000; i++) assert.equal(small.seen(`k${i}`, i), false);
  assert.ok(small.stats().keys <= 100, `bounded: ${small.stats().keys} keys`);
  assert.ok(small.stats().earlyTurns > 0, 'the early turns are counted');
  assert.equal(small.seen('k9999', 10_000), true, 'the newest are still caught');
  assert.throws(() => new ReplayGuard({ windowMs: 0 }), /windowMs must be > 0/);
});

test('isStale: only events older than the limit; no timestamp, future timestamps and limit 0 pass', () => {
  const now = 1_700_000_000_000;
  assert.equal(isStale((now - 301_000) * 1000, now, 300_000), true);
  assert.equal(isStale((now - 299_000) * 1000, now, 300_000), false);
  assert.equal(isStale((now + 60_000) * 1000, now, 300_000), false);
  assert.equal(isStale(null, now, 300_000), false);
  assert.equal(isStale(0, now, 0), false);
});

test('runIngress: with max-event-age an old captured event is dropped as replay; without, it is fired; keys only for PSK', () => {
  const base = { psk: PSK, bindings: parseBindings(''), ingressBindings: parseBindings('ALL'), maxDatagram: 65507, limits: DEFAULT_SCAN_LIMITS };
  const datagram = fixture(register.datagram); // captured long ago: its Event-Date-Timestamp is old
  const run = (maxEventAgeMs: number) => {
    const b = packBatch([datagram]);
    return runIngress(createCodecState({ ...base, maxEventAgeMs }), { kind: 'ingress', ...b, ownName: 'fs-b' });
  };
  const aged = run(300_000);
  assert.equal(DROP_REASONS[aged.drop[0]!], 'replay');
  assert.match(aged.details[0]!, /older than 300 s/);
  assert.equal(aged.replayKeys?.[0], null, 'a dropped packet is not remembered');
  const fresh = run(0);
  assert.equal(fresh.drop[0], DELIVERED);
  assert.equal(fresh.replayKeys?.[0], replayKeyOf(datagram));
  const plainEntry = manifest().find((e) => e.mode === 'plain' && e.subclass === 'sofia::register')!;
  const b = packBatch([fixture(plainEntry.datagram)]);
  const plain = runIngress(createCodecState({ ...base, psk: null }), { kind: 'ingress', ...b, ownName: 'fs-b' });
  assert.equal(plain.drop[0], DELIVERED);
  assert.equal(plain.replayKeys?.[0], null, 'plain packets carry nothing to key on');
});

/** A bridge B (PSK ClueCon unless params say otherwise) on 127.0.0.2, and a raw UDP socket to throw datagrams at it. */
async function bridgeB(t: Parameters<typeof BridgeSide.start>[0], params: Record<string, string>, now?: () => number) {
  const port = await freeUdpPort('127.0.0.2');
  const b = await BridgeSide.start(
    t,
    { switchname: 'fs-b', ...(now !== undefined ? { now } : {}) },
    { params: { address: '127.0.0.1', port: String(port), bindings: 'HEARTBEAT', ...params }, flags: { 'source-address': '127.0.0.2', workers: '2' } },
  );
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  if ('after' in t) t.after(() => sock.close());
  const send = (d: Buffer) => new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r()));
  return { b, send };
}

test('a captured PSK packet replayed to a running bridge is dropped and counted as replay, also when edited to dodge a UUID check', { timeout: 20_000 }, async (t) => {
  let clock = Date.now();
  const { b, send } = await bridgeB(t, { psk: PSK, 'replay-window': '60' }, () => clock);
  const d = fixture(register.datagram);
  await send(d);
  await b.waitFired('the captured sofia::register', 1, (f) => f.get('Orig-Event-Subclass') === 'sofia::register');
  // The same bytes again, the UUID edited after the IV, the IV edited: every one a replay.
  const ivEdited = Buffer.from(d);
  ivEdited[0] ^= 0x20;
  for (const again of [d, d, withUuidByte(d, 30, 'a'), ivEdited]) await send(again);
  await waitFor('4 replays counted', () => b.counters.ingress.dropped.replay === 4, 5_000, () => b.counters.ingress);
  assert.equal(b.counters.ingress.fired, 1, 'fired once');
  const status = b.br.statusJson() as { replay: { replays: number; keys: number } };
  assert.equal(status.replay.replays, 4);
  // After the window (two turns of the clock) the packet is new again: replay memory is bounded in time.
  clock += 121_000;
  await send(d);
  await waitFor('fired again after the window', () => b.counters.ingress.fired === 2, 5_000, () => b.counters.ingress);
});

test('plain mode: a repeated plain packet is fired again (nothing on the wire tells a replay apart)', { timeout: 20_000 }, async (t) => {
  const { b, send } = await bridgeB(t, {});
  const e = manifest().find((x) => x.mode === 'plain' && x.subclass === 'sofia::register')!;
  const d = fixture(e.datagram);
  await send(d);
  await send(d);
  await b.waitFired('both copies', 2, (f) => f.get('Orig-Event-Subclass') === 'sofia::register');
  assert.equal(b.counters.ingress.dropped.replay, 0);
  assert.equal((b.br.statusJson() as { replay: unknown }).replay, null, 'no replay guard in plain mode');
});

test('max-event-age on a bridge: an old capture is dropped as replay and logged as too old', { timeout: 20_000 }, async (t) => {
  const { b, send } = await bridgeB(t, { psk: PSK, 'max-event-age': '300' });
  await send(fixture(register.datagram));
  await waitFor('the old event dropped', () => b.counters.ingress.dropped.replay === 1, 5_000, () => b.counters.ingress);
  assert.equal(b.counters.ingress.fired, 0);
  await waitFor('a log saying why', () => b.logs.find(/dropped received packets/));
  assert.match(JSON.stringify(b.logs.find(/dropped received packets/)), /older than 300 s/);
});
