/**
 * Replay protection across restarts (issue #15, item 5): the state file, written safely, that
 * makes a packet captured before a restart a replay after it (legacy PSK and compact), a
 * sender's own restart that is not one, and max-event-age on future-dated and undated events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBindings } from '../../src/config/bindings.js';
import { packBatch } from '../../src/pool/batch.js';
import { createCodecState, DELIVERED, runIngress } from '../../src/pool/tasks.js';
import { DEFAULT_SCAN_LIMITS } from '../../src/wire/header-scan.js';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { eventAgeVerdict, ReplayGuard } from '../../src/wire/replay.js';
import { decodeReplayState, encodeReplayState, type ReplayState } from '../../src/wire/replay-state.js';
import { SenderTracker } from '../../src/wire/compact/seq-window.js';
import { CompactSealer } from '../../src/wire/compact/egress.js';
import { messageToCommand } from '../../src/wire/compact/ingress.js';
import { openDatagram, deriveCompactKey } from '../../src/wire/compact/format.js';
import { DROP_REASONS } from '../../src/wire/types.js';
import { BridgeSide, waitFor } from '../../testkit/bridge-harness.js';
import { fixture, manifest, PSK } from '../../testkit/fixtures.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

const register = manifest().find((e) => e.mode === 'psk' && e.subclass === 'sofia::register')!;

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsem-replay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An event text with this Event-Date-Timestamp (µs), or none. */
function eventText(marker: string, timestampUs: number | null): Buffer {
  const ts = timestampUs === null ? '' : `Event-Date-Timestamp: ${timestampUs}\n`;
  return Buffer.from(`Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\n${ts}Marker: ${marker}\n\n`, 'latin1');
}

function pskDatagram(marker: string, timestampUs: number | null): Buffer {
  return frameDatagram(eventText(marker, timestampUs), { senderLine: multicastSenderLine('fs-a'), cipher: new PskCipher(PSK) });
}

// ---- the pieces -----------------------------------------------------------------------------

test('replay state bytes: round trip of every key byte and compact window; damage, truncation and foreign files are refused', () => {
  const keys = Array.from({ length: 300 }, (_, i) => Buffer.from(Array.from({ length: 16 }, (_, j) => (i * 16 + j) % 256)).toString('latin1'));
  const bits = new Uint8Array(128).map((_, i) => (i * 37) % 256);
  const state: ReplayState = {
    savedAtMs: 1_700_000_000_123,
    legacy: { windowMs: 300_000, turnedAtMs: 1_700_000_000_000, current: keys.slice(0, 200), previous: keys.slice(200) },
    compact: [{ sender: '0123456789abcdef', name: 'fs-a', top: 41, bits, lastSeenMs: 1_700_000_000_100, latestTime: 1_700_000_000 }],
  };
  const bytes = encodeReplayState(state);
  assert.ok(bytes.length < 300 * 16 + 1024, `compact: ${bytes.length} bytes`);
  const back = decodeReplayState(bytes);
  assert.ok(back.ok, JSON.stringify(back));
  assert.deepEqual(back.state, state);

  const flipped = Buffer.from(bytes);
  flipped[100] ^= 1;
  assert.deepEqual(decodeReplayState(flipped), { ok: false, why: 'checksum mismatch (damaged or cut short)' });
  assert.equal(decodeReplayState(bytes.subarray(0, bytes.length - 1)).ok, false);
  assert.match((decodeReplayState(Buffer.from('{"savedAtMs":1}')) as { why: string }).why, /not a replay state file/);
  assert.equal(decodeReplayState(encodeReplayState({ savedAtMs: 5, legacy: null, compact: [] })).ok, true);
});

test('ReplayGuard snapshot/restore: what was seen before a restart is a replay after it, until its window has passed', () => {
  const before = new ReplayGuard({ windowMs: 1000 });
  assert.equal(before.seen('k1', 0), false);
  assert.equal(before.seen('k2', 900), false);
  const after = new ReplayGuard({ windowMs: 1000 });
  assert.equal(after.restore(before.snapshot(), 950), 2);
  assert.equal(after.seen('k1', 960), true);
  assert.equal(after.seen('k2', 1500), true);
  const late = new ReplayGuard({ windowMs: 1000 });
  assert.equal(late.restore(before.snapshot(), 5000), 0, 'two windows later nothing is left to remember');
  assert.equal(late.seen('k1', 5000), false);
});

test('SenderTracker snapshot/restore: a saved window refuses duplicates after a restart; a new instance (the sender restarted) is let in; silent old instances are not saved', () => {
  const now = 1_700_000_000_000;
  const t1 = new SenderTracker();
  for (let s = 0; s < 5; s++) assert.equal(t1.accept('aaaaaaaaaaaaaaaa', s, now / 1000, now), 'new');
  t1.accept('bbbbbbbbbbbbbbbb', 0, now / 1000 - 2000, now - 2000_000);
  const saved = t1.snapshot(now);
  assert.deepEqual(saved.map((s) => s.sender), ['aaaaaaaaaaaaaaaa'], 'an instance silent for 2000 s is left out (its captures are stale anyway)');
  const t2 = new SenderTracker();
  assert.equal(t2.restore(saved), 1);
  assert.equal(t2.accept('aaaaaaaaaaaaaaaa', 3, now / 1000, now + 1000), 'duplicate');
  assert.equal(t2.accept('aaaaaaaaaaaaaaaa', 5, now / 1000, now + 1000), 'new');
  assert.equal(t2.accept('cccccccccccccccc', 0, now / 1000 + 1, now + 1000), 'new', 'the sender restarted: a new instance, numbered from 0 again');
  assert.equal(t2.list().find((s) => s.sender === 'aaaaaaaaaaaaaaaa')!.lost, 0, 'nothing counted as lost across the restart');
});

test('eventAgeVerdict: stale, future beyond the skew, undated (drop or accept), and off', () => {
  const now = 1_700_000_000_000;
  const limit = { maxAgeMs: 300_000, maxSkewMs: 60_000, undated: 'drop' as const };
  assert.equal(eventAgeVerdict((now - 301_000) * 1000, now, limit), 'stale');
  assert.equal(eventAgeVerdict((now - 299_000) * 1000, now, limit), 'ok');
  assert.equal(eventAgeVerdict((now + 59_000) * 1000, now, limit), 'ok', 'inside the clock-skew allowance');
  assert.equal(eventAgeVerdict((now + 61_000) * 1000, now, limit), 'future');
  assert.equal(eventAgeVerdict(null, now, limit), 'undated');
  assert.equal(eventAgeVerdict(null, now, { ...limit, undated: 'accept' }), 'ok');
  assert.equal(eventAgeVerdict(null, now, { ...limit, maxAgeMs: 0 }), 'ok', 'max-event-age off: no check at all');
  assert.equal(eventAgeVerdict((now + 3_600_000) * 1000, now, { ...limit, maxAgeMs: 0 }), 'ok');
});

test('runIngress with max-event-age: future-dated and undated PSK events are dropped with their own reasons; fresh ones pass', () => {
  const now = Date.now();
  const state = createCodecState({
    psk: PSK,
    bindings: parseBindings(''),
    ingressBindings: parseBindings('ALL'),
    maxDatagram: 65507,
    limits: DEFAULT_SCAN_LIMITS,
    maxEventAgeMs: 300_000,
    maxClockSkewMs: 60_000,
  });
  const b = packBatch([pskDatagram('future', (now + 3_600_000) * 1000), pskDatagram('undated', null), pskDatagram('fresh', now * 1000)]);
  const r = runIngress(state, { kind: 'ingress', ...b, ownName: 'fs-b' });
  assert.deepEqual([...r.drop].map((d) => (d === DELIVERED ? 'delivered' : DROP_REASONS[d])), ['future-dated', 'no-timestamp', 'delivered']);
  assert.match(r.details.join('\n'), /future-dated: Event-Date-Timestamp more than 60 s ahead of this clock \(max-clock-skew\)/);
  assert.match(r.details.join('\n'), /no-timestamp: no Event-Date-Timestamp/);
  assert.equal(r.replayKeys?.[0], null, 'a dropped packet is not remembered');
});

test('compact messages get the same max-event-age verdicts', () => {
  const now = Date.now();
  const sealer = new CompactSealer({ psk: PSK });
  const key = deriveCompactKey(PSK);
  const decode = (text: Buffer) => {
    const sealed = sealer.seal(Buffer.concat([text.subarray(0, text.length - 1), Buffer.from('Multicast-Sender: fs-a\n\n')]));
    assert.ok(sealed.ok);
    const opened = openDatagram(key, sealed.datagrams[0]!);
    assert.ok(opened.ok);
    return messageToCommand(opened.value.chunk, opened.value.header.flags, {
      ownName: 'fs-b',
      allows: () => true,
      age: { maxAgeMs: 300_000, maxSkewMs: 60_000, undated: 'drop' },
      nowMs: now,
    });
  };
  const future = decode(eventText('f', (now + 3_600_000) * 1000));
  assert.equal(future.ok ? 'ok' : future.reason, 'future-dated');
  const undated = decode(eventText('u', null));
  assert.equal(undated.ok ? 'ok' : undated.reason, 'no-timestamp');
  assert.equal(decode(eventText('ok', now * 1000)).ok, true);
});

// ---- a running bridge, restarted ------------------------------------------------------------

interface Box {
  b: BridgeSide;
  send(d: Buffer): Promise<void>;
}

/** Bridge B (PSK ClueCon) on 127.0.0.2 with these params, and a raw UDP socket to throw datagrams at it. */
async function bridgeB(t: Parameters<typeof BridgeSide.start>[0], params: Record<string, string>, saveEveryMs?: number): Promise<Box> {
  const port = await freeUdpPort('127.0.0.2');
  const b = await BridgeSide.start(
    t,
    { switchname: 'fs-b', ...(saveEveryMs !== undefined ? { replaySaveIntervalMs: saveEveryMs } : {}) },
    { params: { address: '127.0.0.1', port: String(port), bindings: 'HEARTBEAT', psk: PSK, ...params }, flags: { 'source-address': '127.0.0.2', workers: '0' } },
  );
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  if ('after' in t) t.after(() => sock.close());
  return { b, send: (d: Buffer) => new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r())) };
}

interface ReplayStateStatus {
  replayState: { file: string | null; saves: number; loaded: { keys: number; senders: number } | null };
}

test('a captured PSK packet fired before a restart is dropped as replay after it (state file), and the file is written safely', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'replay-state');
  const d = fixture(register.datagram);
  const first = await bridgeB(t, { 'replay-state-file': file });
  await first.send(d);
  await first.b.waitFired('the captured register', 1, (f) => f.get('Orig-Event-Subclass') === 'sofia::register');
  await first.b.close(); // a normal stop writes the state

  assert.deepEqual(readdirSync(dir), ['replay-state'], 'no temporary file left behind');
  assert.equal(statSync(file).mode & 0o777, 0o600, 'readable by the bridge only');

  const second = await bridgeB(t, { 'replay-state-file': file });
  const status = second.b.br.statusJson() as ReplayStateStatus;
  assert.equal(status.replayState.loaded?.keys, 1);
  assert.ok(second.b.logs.find(/replay state taken over from the last run/));
  await second.send(d);
  await waitFor('the replay counted', () => second.b.counters.ingress.dropped.replay === 1, 5_000, () => second.b.counters.ingress);
  assert.equal(second.b.counters.ingress.fired, 0, 'not fired again');
});

test('without a state file the same packet is fired again after a restart (the limitation the file removes), and the bridge says so at start', { timeout: 30_000 }, async (t) => {
  const d = fixture(register.datagram);
  const first = await bridgeB(t, {});
  assert.ok(first.b.logs.find(/replay protection is kept in memory only/), 'warned at start');
  await first.send(d);
  await first.b.waitFired('the register', 1);
  await first.b.close();
  const second = await bridgeB(t, {});
  await second.send(d);
  await second.b.waitFired('the same register again', 1);
  assert.equal(second.b.counters.ingress.dropped.replay, 0);
});

test('compact: a captured datagram is a replay after the receiver restarts; a restarted sender (new instance, numbered from 0) is not', { timeout: 30_000 }, async (t) => {
  const file = join(tempDir(t), 'replay-state');
  const text = Buffer.from(`Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\nEvent-Date-Timestamp: ${Date.now() * 1000}\nMarker: c1\nMulticast-Sender: fs-a\n\n`, 'latin1');
  const sealedBefore = new CompactSealer({ psk: PSK }).seal(text);
  assert.ok(sealedBefore.ok);
  const captured = sealedBefore.datagrams[0]!;

  const first = await bridgeB(t, { 'replay-state-file': file });
  await first.send(captured);
  await first.b.waitFired('the compact event', 1, (f) => f.get('Orig-Marker') === 'c1');
  await first.b.close();

  const second = await bridgeB(t, { 'replay-state-file': file });
  assert.equal((second.b.br.statusJson() as ReplayStateStatus).replayState.loaded?.senders, 1);
  await second.send(captured);
  await waitFor('the compact replay counted', () => second.b.counters.ingress.dropped.replay === 1, 5_000, () => second.b.counters.ingress);
  // The sender restarts too: a fresh instance id, sequence numbers from 0 again.
  const sealedAfter = new CompactSealer({ psk: PSK }).seal(Buffer.from(text.toString('latin1').replace('Marker: c1', 'Marker: c2'), 'latin1'));
  assert.ok(sealedAfter.ok);
  await second.send(sealedAfter.datagrams[0]!);
  await second.b.waitFired('the restarted sender\'s event', 1, (f) => f.get('Orig-Marker') === 'c2');
  assert.equal(second.b.fired().filter((f) => f.get('Orig-Marker') === 'c1').length, 0);
});

test('the state is also written while running, so a crash loses at most the last few seconds of it', { timeout: 30_000 }, async (t) => {
  const file = join(tempDir(t), 'replay-state');
  const d = fixture(register.datagram);
  const running = await bridgeB(t, { 'replay-state-file': file }, 50);
  await running.send(d);
  await running.b.waitFired('the register', 1);
  await waitFor('a periodic write after the packet', () => {
    const s = (running.b.br.statusJson() as ReplayStateStatus).replayState;
    return s.saves >= 2;
  });
  // A second bridge reads the file as a restart after a crash would (the first never stopped).
  const afterCrash = await bridgeB(t, { 'replay-state-file': file });
  await afterCrash.send(d);
  await waitFor('the replay counted', () => afterCrash.b.counters.ingress.dropped.replay === 1, 5_000, () => afterCrash.b.counters.ingress);
});

test('a damaged state file is reported and replaced; a file that cannot be written stops the start with a clear message', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'replay-state');
  writeFileSync(file, 'FEMRPLY1 this is not what the bridge wrote');
  const box = await bridgeB(t, { 'replay-state-file': file });
  const warning = box.b.logs.find(/replay state file not used/);
  assert.ok(warning, 'warned');
  assert.match(String(warning['why']), /checksum mismatch|not a replay state file/);
  assert.equal(decodeReplayState(readFileSync(file)).ok, true, 'a good file written in its place');

  await assert.rejects(
    bridgeB(t, { 'replay-state-file': join(dir, 'missing-dir', 'replay-state') }),
    /replay-state-file .*missing-dir\/replay-state: cannot write it: ENOENT \(no such directory\)/,
  );
});

test('max-event-age on a bridge: a future-dated and an undated packet are dropped and counted; with max-event-age-undated accept the undated one is fired', { timeout: 30_000 }, async (t) => {
  const strict = await bridgeB(t, { 'max-event-age': '300', 'replay-state-file': 'off' });
  await strict.send(pskDatagram('future', (Date.now() + 3_600_000) * 1000));
  await strict.send(pskDatagram('undated', null));
  await strict.send(pskDatagram('fresh', Date.now() * 1000));
  await strict.b.waitFired('the fresh one', 1, (f) => f.get('Orig-Marker') === 'fresh');
  await waitFor('both drops counted', () => strict.b.counters.ingress.dropped['future-dated'] === 1 && strict.b.counters.ingress.dropped['no-timestamp'] === 1, 5_000, () => strict.b.counters.ingress);
  assert.equal(strict.b.fired().length, 1);
  assert.equal(strict.b.logs.find(/replay protection is kept in memory only/), undefined, 'replay-state-file off: chosen, not warned about');

  const lenient = await bridgeB(t, { 'max-event-age': '300', 'max-event-age-undated': 'accept', 'max-clock-skew': '7200' });
  await lenient.send(pskDatagram('undated', null));
  await lenient.send(pskDatagram('future', (Date.now() + 3_600_000) * 1000));
  await lenient.b.waitFired('both', 2);
});
