/**
 * The compact wire format (docs/compact-wire.md): the same sendevent command as the legacy path
 * for every captured event, authentication of every byte, wrong keys, replays, loss / reorder /
 * duplicate counts, fragments lost or reordered, and the legacy captures on the same receiver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, fixtureDir, manifest, prng, receivedTests, PSK } from '../../testkit/fixtures.js';
import { decodeDatagram, buildSendevent, packetFacts } from '../../src/wire/ingress.js';
import { orderKeyOf } from '../../src/wire/order-key.js';
import { supersedeTagOf } from '../../src/wire/supersede-key.js';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { packBatch } from '../../src/pool/batch.js';
import { COMPACT_FRAGMENT, createCodecState, DELIVERED, runEgress, runIngress, type CodecSettings } from '../../src/pool/tasks.js';
import { parseBindings } from '../../src/config/bindings.js';
import { CompactSealer } from '../../src/wire/compact/egress.js';
import { CompactOpener, messageToCommand, type MessageOutcome } from '../../src/wire/compact/ingress.js';
import { CompactReceiver } from '../../src/wire/compact/receiver.js';
import { compactIngressItem, sealEventText } from '../../src/wire/compact/pool-glue.js';
import { COMPACT_MARKER, HEADER_BYTES, isCompactDatagram, MIN_DATAGRAM, TAG_BYTES } from '../../src/wire/compact/format.js';
import { DROP_REASONS } from '../../src/wire/types.js';

const ALL = { ownName: 'fs-receiver', allows: () => true };
const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000;

function sealer(over: Partial<ConstructorParameters<typeof CompactSealer>[0]> = {}): CompactSealer {
  return new CompactSealer({ psk: PSK, nowSeconds: () => NOW_S, ...over });
}

/** Opens datagrams as a receiver does (pool + main thread) and returns the outcome of the one message they carry. */
function receive(datagrams: Buffer[], receiver = new CompactReceiver(), opener = new CompactOpener(PSK)): MessageOutcome {
  let result: MessageOutcome | null = null;
  for (const d of datagrams) {
    const item = compactIngressItem(opener, d, ALL);
    assert.equal(item.kind, 'opened', item.kind === 'drop' ? item.detail : '');
    if (item.kind !== 'opened') continue;
    const r = receiver.receive(item.info, NOW_MS);
    if (r.kind === 'single') {
      result = item.command !== null
        ? { ok: true, command: item.command, sender: item.sender, heartbeat: item.heartbeat, orderKey: item.orderKey, supersede: item.supersede }
        : { ok: false, reason: item.drop!.reason, detail: item.drop!.detail, sender: item.sender, heartbeat: item.heartbeat };
    } else if (r.kind === 'complete') result = messageToCommand(r.payload, r.flags, ALL);
    else assert.equal(r.kind, 'pending');
  }
  assert.ok(result !== null, 'no message came out');
  return result;
}

const plainEntries = manifest().filter((e) => e.mode === 'plain');

test('every captured event gives the same sendevent command, order key and supersede key through the compact format as through the legacy one', () => {
  const s = sealer();
  let fragmented = 0;
  let superseding = 0;
  for (const e of plainEntries) {
    const legacy = decodeDatagram(fixture(e.datagram), { cipher: null });
    assert.ok(legacy.ok, e.id);
    const sealed = s.sealScanned(legacy.value.scan);
    assert.ok(sealed.ok, `${e.id}: ${sealed.ok ? '' : sealed.why}`);
    if (sealed.datagrams.length > 1) fragmented++;
    for (const d of sealed.datagrams) assert.ok(d.length <= 1400, `${e.id}: datagram of ${d.length} bytes`);
    const out = receive(sealed.datagrams);
    assert.ok(out.ok, `${e.id}: ${out.ok ? '' : out.detail}`);
    assert.deepEqual(out.command.toString('latin1'), buildSendevent(legacy.value.scan).toString('latin1'), e.id);
    // Under overload it waits as the legacy one would: same connection, same state it may replace.
    const facts = packetFacts(legacy.value.scan);
    assert.equal(out.orderKey, orderKeyOf(legacy.value.scan, facts.eventName), e.id);
    assert.deepEqual(out.supersede, supersedeTagOf(legacy.value.scan, facts.eventName, facts.subclass), e.id);
    if (out.supersede !== null) superseding++;
  }
  assert.ok(superseding >= 5, `only ${superseding} captures carry a supersede key (registrations, presence, MWI)`);
  assert.ok(plainEntries.length >= 79);
  assert.ok(fragmented >= 5, `only ${fragmented} events needed fragments`);
});

test('egress from event-socket text: the compact message carries what the legacy datagram carries (sender stamped once)', () => {
  const line = multicastSenderLine('fs-a');
  const s = sealer();
  const scratch = { buf: Buffer.alloc(16) };
  let n = 0;
  for (const e of plainEntries) {
    if (e.esl_body === null) continue;
    const text = fixture(e.esl_body);
    const legacy = decodeDatagram(frameDatagram(text, { senderLine: line, cipher: null }), { cipher: null });
    assert.ok(legacy.ok);
    const sealed = sealEventText(s, text, line, scratch);
    assert.ok(sealed.ok, e.id);
    const out = receive(sealed.datagrams);
    assert.ok(out.ok, e.id);
    assert.equal(out.sender, 'fs-a');
    assert.equal(out.command.toString('latin1'), buildSendevent(legacy.value.scan).toString('latin1'), e.id);
    n++;
  }
  assert.ok(n >= 70, `compared ${n}`);
});

test('no legacy datagram (C module captures, plain and PSK, sent and received) starts with a compact marker byte', () => {
  const files = [
    ...fixtureDir('plain/datagrams').map((f) => `plain/datagrams/${f}`),
    ...fixtureDir('psk/datagrams').map((f) => `psk/datagrams/${f}`),
    ...receivedTests().flatMap((t) => (t.sent === null ? [] : [`received/${t.sent}`])),
  ];
  assert.ok(files.length >= 190, `${files.length} files`);
  for (const f of files) {
    const d = fixture(f);
    assert.ok(!isCompactDatagram(d), `${f} starts with 0x${d[0]!.toString(16)}`);
    assert.ok(d[0]! < 0x80, `${f}: first byte 0x${d[0]!.toString(16)} is not ASCII`);
  }
  assert.equal(COMPACT_MARKER, 0xf1);
});

test('changing any single byte of a compact datagram gets it rejected', () => {
  const e = plainEntries.find((x) => x.event_name === 'HEARTBEAT')!;
  const legacy = decodeDatagram(fixture(e.datagram), { cipher: null });
  assert.ok(legacy.ok);
  const sealed = sealer({ compressAbove: 0 }).sealScanned(legacy.value.scan);
  assert.ok(sealed.ok);
  const [d] = sealed.datagrams;
  assert.equal(sealed.datagrams.length, 1);
  const opener = new CompactOpener(PSK);
  assert.equal(opener.open(d!).ok, true);
  const random = prng(6);
  for (let i = 0; i < d!.length; i++) {
    for (const flip of [0x01, 0x80, 1 + Math.floor(random() * 255)]) {
      const bad = Buffer.from(d!);
      bad[i]! ^= flip;
      const r = opener.open(bad);
      assert.equal(r.ok, false, `byte ${i} ^ 0x${flip.toString(16)} accepted`);
    }
  }
  // Cut short or extended: rejected too.
  assert.equal(opener.open(d!.subarray(0, d!.length - 1)).ok, false);
  assert.equal(opener.open(Buffer.concat([d!, Buffer.from([0])])).ok, false);
  assert.equal(opener.open(d!.subarray(0, MIN_DATAGRAM - 1)).ok, false);
});

test('a wrong PSK is rejected as undecryptable; a receiver without a PSK says so', () => {
  const sealed = sealer().seal(Buffer.from('Event-Name: HEARTBEAT\nMulticast-Sender: fs-a\n\n'));
  assert.ok(sealed.ok);
  const wrong = compactIngressItem(new CompactOpener('NotClueCon'), sealed.datagrams[0]!, ALL);
  assert.deepEqual(wrong.kind === 'drop' && wrong.reason, 'undecryptable');
  const none = compactIngressItem(null, sealed.datagrams[0]!, ALL);
  assert.deepEqual(none.kind === 'drop' && none.reason, 'encrypted-packet-no-psk');
  // Another version of the format: refused before any crypto.
  const v2 = Buffer.from(sealed.datagrams[0]!);
  v2[0] = 0xf2;
  const r = new CompactOpener(PSK).open(v2);
  assert.ok(!r.ok && /version 2/.test(r.detail));
});

test('a replayed datagram is rejected, whichever order; a restarted sender (new instance id) is not a replay', () => {
  const text = Buffer.from('Event-Name: CUSTOM\nEvent-Subclass: sofia::register\nMulticast-Sender: fs-a\n\n');
  const s = sealer();
  const a = s.seal(text);
  const b = s.seal(text);
  assert.ok(a.ok && b.ok);
  const receiver = new CompactReceiver();
  const opener = new CompactOpener(PSK);
  const info = (d: Buffer) => {
    const it = compactIngressItem(opener, d, ALL);
    assert.equal(it.kind, 'opened');
    return it.kind === 'opened' ? it.info : assert.fail();
  };
  assert.equal(receiver.receive(info(b.datagrams[0]!), NOW_MS).kind, 'single');
  assert.equal(receiver.receive(info(a.datagrams[0]!), NOW_MS).kind, 'single'); // late, not a replay
  assert.equal(receiver.receive(info(a.datagrams[0]!), NOW_MS).kind, 'replay');
  assert.equal(receiver.receive(info(b.datagrams[0]!), NOW_MS).kind, 'replay');
  const restarted = sealer().seal(text); // a new process: new random id, seq from 0 again
  assert.ok(restarted.ok);
  assert.equal(receiver.receive(info(restarted.datagrams[0]!), NOW_MS).kind, 'single');
  assert.deepEqual(receiver.stats().replays, { duplicate: 2, tooOld: 0, stale: 0 });
  // An unknown sender whose datagram is stamped long ago (a capture replayed after we forgot it) is refused.
  const old = new CompactSealer({ psk: PSK, nowSeconds: () => NOW_S - 3600 }).seal(text);
  assert.ok(old.ok);
  assert.equal(receiver.receive(info(old.datagrams[0]!), NOW_MS).kind, 'replay');
  assert.equal(receiver.stats().replays.stale, 1);
});

test('sequence numbers give per-sender loss, reorder and duplicate counts', () => {
  const receiver = new CompactReceiver();
  const base = { flags: 0, sender: '00112233aabbccdd', time: NOW_S, index: 0, count: 1, chunk: null };
  // 0..19 sent; 3, 4 and 10 lost; 7 arrives after 9; 12 twice; 2000 jumps ahead; then 5 is too old to judge.
  const order = [0, 1, 2, 5, 6, 8, 9, 7, 11, 12, 12, 13, 14, 15, 16, 17, 18, 19];
  const kinds = order.map((seq) => receiver.receive({ ...base, seq }, NOW_MS).kind);
  assert.equal(kinds.filter((k) => k === 'replay').length, 1);
  let [s] = receiver.stats().senders;
  assert.deepEqual(
    { received: s!.received, lost: s!.lost, reordered: s!.reordered, duplicates: s!.duplicates, highestSeq: s!.highestSeq },
    { received: 17, lost: 3, reordered: 1, duplicates: 1, highestSeq: 19 },
  );
  assert.equal(receiver.receive({ ...base, seq: 2000 }, NOW_MS).kind, 'single');
  assert.equal(receiver.receive({ ...base, seq: 5 }, NOW_MS).kind, 'replay');
  [s] = receiver.stats().senders;
  assert.equal(s!.tooOld, 1);
  assert.equal(s!.lost, 3 + (2000 - 20));
  receiver.named(base.sender, 'fs-a');
  assert.equal(receiver.tracker.byName().get('fs-a')!.duplicates, 1);
});

/** A ~20 KB event (the crafted big20k capture): several fragments at a 1400-byte limit, even compressed. */
function bigEvent(): { datagrams: Buffer[]; command: string } {
  const e = plainEntries.find((x) => x.fixture_kind === 'big20k')!;
  const legacy = decodeDatagram(fixture(e.datagram), { cipher: null });
  assert.ok(legacy.ok);
  const sealed = sealer({ compressAbove: 0 }).sealScanned(legacy.value.scan);
  assert.ok(sealed.ok);
  assert.ok(sealed.datagrams.length >= 10, `${sealed.datagrams.length} fragments`);
  return { datagrams: sealed.datagrams, command: buildSendevent(legacy.value.scan).toString('latin1') };
}

test('fragments arriving in any order are reassembled into the same event', () => {
  const { datagrams, command } = bigEvent();
  const random = prng(42);
  for (let round = 0; round < 5; round++) {
    const shuffled = [...datagrams].sort(() => random() - 0.5);
    const out = receive(shuffled);
    assert.ok(out.ok);
    assert.equal(out.command.toString('latin1'), command);
  }
});

test('a message with a lost fragment times out, is counted, and frees its memory', () => {
  const { datagrams } = bigEvent();
  const receiver = new CompactReceiver({ reassembly: { timeoutMs: 2000 } });
  const opener = new CompactOpener(PSK);
  for (const d of datagrams.slice(1)) {
    const it = compactIngressItem(opener, d, ALL);
    assert.ok(it.kind === 'opened');
    assert.equal(receiver.receive(it.info, NOW_MS).kind, 'pending');
  }
  assert.equal(receiver.stats().reassembly.pending, 1);
  assert.ok(receiver.stats().reassembly.pendingBytes > 10_000);
  assert.equal(receiver.expire(NOW_MS + 1999), 0);
  assert.equal(receiver.expire(NOW_MS + 2000), 1);
  assert.deepEqual(
    { ...receiver.stats().reassembly },
    { pending: 0, pendingBytes: 0, completed: 0, timedOut: 1, evicted: 0, inconsistent: 0 },
  );
  // The late first fragment starts a new partial message that can never complete: no event.
  const late = compactIngressItem(opener, datagrams[0]!, ALL);
  assert.ok(late.kind === 'opened');
  assert.equal(receiver.receive(late.info, NOW_MS + 2500).kind, 'pending');
});

test('reassembly memory is bounded: the oldest partial message is dropped and counted', () => {
  const receiver = new CompactReceiver({ reassembly: { maxMessages: 2 } });
  const mk = (sender: string, seq: number) => ({ flags: 0, sender, seq, time: NOW_S, index: 0, count: 3, chunk: Buffer.alloc(100) });
  for (const s of ['0000000000000001', '0000000000000002', '0000000000000003']) assert.equal(receiver.receive(mk(s, 0), NOW_MS).kind, 'pending');
  assert.equal(receiver.stats().reassembly.pending, 2);
  assert.equal(receiver.stats().reassembly.evicted, 1);
});

// ---------------------------------------------------------------------------------------------
// Through the pool's task functions, as workers run them

const settings = (compact: CodecSettings['compact']): CodecSettings => ({
  psk: PSK,
  bindings: parseBindings('ALL'),
  ingressBindings: parseBindings('ALL'),
  maxDatagram: 65507,
  limits: { maxHeaders: 10_000, maxHeaderBytes: 65507 },
  compact,
});

test('one receiver takes the C module PSK captures and compact datagrams on the same port, mixed in one batch', () => {
  const cipher = new PskCipher(PSK);
  const pskEntries = manifest().filter((e) => e.mode === 'psk' && e.datagram_len < 1300).slice(0, 20);
  const compactText = Buffer.from('Event-Name: CUSTOM\nEvent-Subclass: sofia::register\nMulticast-Sender: fs-c\nfrom-user: 1001\nfrom-host: example.test\ncall-id: abc\nexpires: 60\n\n');
  const s = sealer();
  const sealed = s.seal(compactText);
  assert.ok(sealed.ok);
  const items: Buffer[] = [];
  for (const e of pskEntries) items.push(fixture(e.datagram), sealed.datagrams[0]!);
  const state = createCodecState(settings(null));
  const r = runIngress(state, { kind: 'ingress', ...packBatch(items), ownName: 'fs-receiver' });
  for (let i = 0; i < items.length; i++) {
    assert.equal(r.drop[i], DELIVERED, `item ${i}: ${DROP_REASONS[r.drop[i]!] ?? ''} ${r.details.join('; ')}`);
    const start = i === 0 ? 0 : r.ends[i - 1]!;
    const cmd = Buffer.from(r.buf, start, r.ends[i]! - start).toString('latin1');
    if (i % 2 === 0) {
      const legacy = decodeDatagram(items[i]!, { cipher });
      assert.ok(legacy.ok);
      assert.equal(cmd, buildSendevent(legacy.value.scan).toString('latin1'));
      assert.equal(r.compact?.[i] ?? null, null);
    } else {
      assert.match(cmd, /Orig-Multicast-Sender: fs-c\n/);
      assert.equal(r.compact?.[i]?.sender, s.sender, 'the header goes to the main thread for the replay window');
      assert.equal(r.orderKeys?.[i], 'u:1001@example.test', 'a compact registration keeps its user\'s connection');
      assert.deepEqual(r.supersede?.[i], { key: 'r:4:1001@12:example.test/abc', expiresS: 60 }, 'and may be superseded like a legacy one');
    }
  }
});

test('egress tasks build legacy and/or compact datagrams per the destinations; ingress tasks hand fragments on', () => {
  // ~6 KB of random hex: does not compress below one fragment.
  const random = prng(7);
  const vars = Array.from({ length: 60 }, (_, i) => `variable_x_${i}: ${Array.from({ length: 80 }, () => Math.floor(random() * 16).toString(16)).join('')}\n`);
  const text = Buffer.from(`Event-Name: CHANNEL_ANSWER\nFreeSWITCH-Switchname: fs-a\n${vars.join('')}\n`);
  const small = Buffer.from('Event-Name: HEARTBEAT\nFreeSWITCH-Switchname: fs-a\n\n');
  const task = { kind: 'egress' as const, ...packBatch([small, text]), switchname: 'fs-a' };
  const both = runEgress(createCodecState(settings({ send: true, legacy: true, fragmentBytes: 1400, compressAbove: 512 })), { ...task, ...packBatch([small, text]) });
  assert.ok(both.ends[0]! > 0 && both.ends[1]! > both.ends[0]!, 'legacy datagrams built');
  assert.equal(both.compact!.perEvent[0], 1);
  assert.ok(both.compact!.perEvent[1]! > 1);
  const compactOnly = runEgress(createCodecState(settings({ send: true, legacy: false, fragmentBytes: 1400, compressAbove: 512 })), { ...task, ...packBatch([small, text]) });
  assert.equal(compactOnly.ends[1], 0, 'no legacy bytes');
  assert.deepEqual([...compactOnly.outcome], [0, 0]);
  const legacyOnly = runEgress(createCodecState(settings(null)), { ...task, ...packBatch([small, text]) });
  assert.equal(legacyOnly.compact, undefined);

  // The compact datagrams into an ingress task: the one-datagram message is decoded, the fragments are handed on.
  const c = compactOnly.compact!;
  const datagrams: Buffer[] = [];
  for (let k = 0; k < c.ends.length; k++) {
    const start = k === 0 ? 0 : c.ends[k - 1]!;
    datagrams.push(Buffer.from(c.buf.slice(start, c.ends[k]!)));
  }
  const r = runIngress(createCodecState(settings(null)), { kind: 'ingress', ...packBatch(datagrams), ownName: 'fs-receiver' });
  assert.equal(r.drop[0], DELIVERED);
  for (let k = 1; k < datagrams.length; k++) {
    assert.equal(r.drop[k], COMPACT_FRAGMENT);
    assert.ok(r.compact![k]!.chunk !== null);
  }
  // Our own compact datagrams come back as own-packet.
  const own = runIngress(createCodecState(settings(null)), { kind: 'ingress', ...packBatch(datagrams.slice(0, 1)), ownName: 'fs-a' });
  assert.equal(DROP_REASONS[own.drop[0]!], 'own-packet');
});

test('the compact datagram layout: marker, header of 20 bytes, 16-byte tag, at most fragment-size bytes', () => {
  const s = sealer({ fragmentBytes: 300, compressAbove: 0 });
  const text = Buffer.from(`Event-Name: CUSTOM\nMulticast-Sender: fs-a\nX-Big: ${'y'.repeat(1000)}\n\n`);
  const sealed = s.seal(text);
  assert.ok(sealed.ok);
  assert.ok(sealed.datagrams.length >= 4);
  sealed.datagrams.forEach((d, i) => {
    assert.equal(d[0], 0xf1);
    assert.equal(d[18], i);
    assert.equal(d[19], sealed.datagrams.length);
    assert.equal(d.readUInt32BE(10), i, 'consecutive sequence numbers');
    assert.equal(d.toString('hex', 2, 10), s.sender);
    assert.ok(d.length <= 300 && d.length > HEADER_BYTES + TAG_BYTES);
  });
  const out = receive(sealed.datagrams);
  assert.ok(out.ok);
  assert.match(out.command.toString('latin1'), /Orig-X-Big: y{1000}\n/);
});
