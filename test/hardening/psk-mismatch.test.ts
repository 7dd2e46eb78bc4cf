/**
 * "Failed to find start of magic string" (issue #18, item 4): a peer with another PSK, a plain
 * peer at a PSK bridge and a PSK peer at a plain bridge are each named once, by address, in the
 * guide's words and ours; never with the key; bounded in addresses and in lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mismatchKindOf, PskMismatchReport } from '../../src/bridge/psk-mismatch.js';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { CompactSealer } from '../../src/wire/compact/egress.js';
import { BridgeSide, waitFor } from '../../testkit/bridge-harness.js';
import { fixture, manifest, PSK } from '../../testkit/fixtures.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

const OTHER_KEY = 'not-the-cluster-key-42';
const TEXT = Buffer.from('Event-Name: CUSTOM\nEvent-Subclass: sofia%3A%3Aregister\nMarker: m\n\n', 'latin1');

test('mismatchKindOf: which drops mean "no shared PSK", in PSK mode and in plain mode', () => {
  assert.equal(mismatchKindOf('undecryptable', true), 'wrong-psk');
  assert.equal(mismatchKindOf('missing-magic', true), 'wrong-psk');
  assert.equal(mismatchKindOf('truncated-magic', true), 'wrong-psk');
  assert.equal(mismatchKindOf('plain-packet-psk-expected', true), 'plain-at-psk-bridge');
  assert.equal(mismatchKindOf('encrypted-packet-no-psk', false), 'encrypted-at-plain-bridge');
  assert.equal(mismatchKindOf('missing-magic', false), null, 'a plain packet without MAGIC at a plain bridge is just malformed');
  assert.equal(mismatchKindOf('replay', true), null);
  assert.equal(mismatchKindOf('too-short', true), null);
});

test('PskMismatchReport: one line per address, again after 10 minutes with the count; the table and the first lines a minute are bounded', () => {
  const r = new PskMismatchReport({ maxAddresses: 3, maxNewPerMinute: 2 });
  const first = r.note('10.0.0.7', 'wrong-psk', 'undecryptable', 0);
  assert.equal(first?.message, 'packets from 10.0.0.7 cannot be decrypted with this PSK ("Failed to find start of magic string" in the C module): the peer uses another PSK; give both the same psk');
  for (let i = 1; i < 50; i++) assert.equal(r.note('10.0.0.7', 'wrong-psk', 'undecryptable', i * 1000), null);
  const again = r.note('10.0.0.7', 'wrong-psk', 'undecryptable', 600_000);
  assert.deepEqual(again?.fields, { peer: '10.0.0.7', kind: 'wrong-psk', reason: 'undecryptable', packets: 51, newSinceLastLine: 50 });

  assert.ok(r.note('10.0.0.8', 'plain-at-psk-bridge', 'plain-packet-psk-expected', 600_001) !== null);
  assert.ok(r.note('10.0.0.9', 'wrong-psk', 'undecryptable', 600_002) !== null);
  assert.equal(r.note('10.0.0.10', 'wrong-psk', 'undecryptable', 600_003), null, 'a third new address in one minute waits');
  assert.equal(r.suppressed, 1);
  assert.equal(r.evicted, 1, 'the table holds 3: the least recently seen address (10.0.0.7) was forgotten');
  assert.ok(r.note('10.0.0.10', 'wrong-psk', 'undecryptable', 661_000) !== null, 'and is logged in the next minute');
  assert.equal(r.note('10.0.0.10', 'wrong-psk', 'undecryptable', 661_001), null);
  assert.equal(r.stats().addresses, 3);
  assert.deepEqual(r.list().map((e) => e.address), ['10.0.0.10', '10.0.0.9', '10.0.0.8']);
});

/** A bridge on 127.0.0.2 (params given), and a sender bound to `from`. */
async function bridgeAndSender(t: Parameters<typeof BridgeSide.start>[0], params: Record<string, string>) {
  const port = await freeUdpPort('127.0.0.2');
  const b = await BridgeSide.start(
    t,
    { switchname: 'fs-b' },
    { params: { address: '127.0.0.1', port: String(port), bindings: 'HEARTBEAT', ...params }, flags: { 'source-address': '127.0.0.2', workers: '1' } },
  );
  const senders: dgram.Socket[] = [];
  if ('after' in t) t.after(() => senders.forEach((s) => s.close()));
  const from = async (address: string) => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, address, r));
    senders.push(sock);
    return (d: Buffer) => new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r()));
  };
  return { b, from };
}

test('a PSK bridge names the peer with another PSK and the plain peer, once each, without the key', { timeout: 30_000 }, async (t) => {
  const { b, from } = await bridgeAndSender(t, { psk: PSK, 'replay-state-file': 'off' });
  const wrongKeyPeer = await from('127.0.0.7');
  const plainPeer = await from('127.0.0.8');
  const compactWrongKey = await from('127.0.0.9');
  const otherCipher = new PskCipher(OTHER_KEY);
  for (let i = 0; i < 5; i++) await wrongKeyPeer(frameDatagram(TEXT, { senderLine: multicastSenderLine('fs-x'), cipher: otherCipher }));
  const plain = fixture(manifest().find((e) => e.mode === 'plain' && e.subclass === 'sofia::register')!.datagram);
  for (let i = 0; i < 5; i++) await plainPeer(plain);
  const sealed = new CompactSealer({ psk: OTHER_KEY }).seal(Buffer.from('Event-Name: HEARTBEAT\nMulticast-Sender: fs-y\n\n', 'latin1'));
  assert.ok(sealed.ok);
  await compactWrongKey(sealed.datagrams[0]!);
  await waitFor('every drop counted', () => {
    const d = b.counters.ingress.dropped;
    return d.undecryptable + d['missing-magic'] + d['truncated-magic'] === 6 && d['plain-packet-psk-expected'] === 5;
  }, 5_000, () => b.counters.ingress.dropped);

  const wrong = b.logs.lines.filter((l) => /^packets from 127\.0\.0\.7 /.test(String(l['msg'])));
  assert.equal(wrong.length, 1, 'once for 5 packets');
  assert.equal(wrong[0]!['msg'], 'packets from 127.0.0.7 cannot be decrypted with this PSK ("Failed to find start of magic string" in the C module): the peer uses another PSK; give both the same psk');
  assert.equal(wrong[0]!['level'], 40);
  const plainLines = b.logs.lines.filter((l) => /^packets from 127\.0\.0\.8 /.test(String(l['msg'])));
  assert.equal(plainLines.length, 1);
  assert.match(String(plainLines[0]!['msg']), /are not encrypted, but this bridge has a psk \("Failed to find start of magic string" in the C module\): the peer has no psk/);
  assert.ok(b.logs.find(/^packets from 127\.0\.0\.9 cannot be decrypted with this PSK/), 'compact packets with another key too');
  assert.ok(!b.logs.text.includes(OTHER_KEY) && !b.logs.text.includes(PSK), 'no key in any log line');
  const status = b.br.statusJson() as { pskMismatch: { addresses: number; recent: { address: string; count: number }[] } };
  assert.equal(status.pskMismatch.addresses, 3);
  assert.equal(status.pskMismatch.recent.find((e) => e.address === '127.0.0.7')?.count, 5);
});

test('a plain bridge names the peer that sends PSK-encrypted packets', { timeout: 30_000 }, async (t) => {
  const { b, from } = await bridgeAndSender(t, {});
  const pskPeer = await from('127.0.0.9');
  const d = fixture(manifest().find((e) => e.mode === 'psk' && e.subclass === 'sofia::register')!.datagram);
  for (let i = 0; i < 3; i++) await pskPeer(d);
  await waitFor('drops counted', () => b.counters.ingress.dropped['encrypted-packet-no-psk'] === 3, 5_000, () => b.counters.ingress.dropped);
  const lines = b.logs.lines.filter((l) => /^packets from 127\.0\.0\.9 /.test(String(l['msg'])));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!['msg'], 'packets from 127.0.0.9 are PSK-encrypted, but this bridge has no psk ("Failed to find start of magic string" in the C module): set the peer\'s psk here too, or remove it there');
});
