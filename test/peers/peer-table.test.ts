import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerTable, multicastPeersText } from '../../src/peers/peer-table.js';
import { buildCustomSendevent } from '../../src/wire/ingress.js';
import { readCommands } from '../../testkit/esl-command-reader.js';
import { fixture } from '../../testkit/fixtures.js';
import { parseEventText } from '../../src/wire/event-text.js';

test('a first HEARTBEAT gives peerup with Lastseen Never; a second gives nothing', () => {
  const t = new PeerTable(60_000);
  assert.deepEqual(t.sighted('fs-b', 1_000_000), { kind: 'peerup', peer: 'fs-b', lastseen: 'Never' });
  assert.equal(t.sighted('fs-b', 1_005_000), null);
});

test('silence longer than the timeout gives peerdown with the last sighting; the next HEARTBEAT gives peerup again', () => {
  const t = new PeerTable(60_000);
  t.sighted('fs-b', 1_000_000);
  assert.deepEqual(t.expire(1_060_000), [], 'exactly 60 s is not more than 60 s');
  assert.deepEqual(t.expire(1_060_001), [{ kind: 'peerdown', peer: 'fs-b', lastseen: '1000' }]);
  assert.deepEqual(t.expire(1_200_000), [], 'a down peer is not reported twice');
  assert.deepEqual(t.sighted('fs-b', 1_300_000), { kind: 'peerup', peer: 'fs-b', lastseen: '1000' });
});

test('multicast_peers text matches the C module', () => {
  const t = new PeerTable(60_000);
  assert.equal(
    multicastPeersText(true, ['IPv4 multicast: 225.1.1.1'], [], 0),
    'Module state: Active\n\nConfigured peers:\n\tIPv4 multicast: 225.1.1.1\n\n\nNo multicast peers seen\n',
  );
  t.sighted('fs-b', 100_000);
  t.sighted('fs-c', 10_000);
  t.expire(100_000);
  assert.equal(
    multicastPeersText(true, ['IPv4 multicast: 225.1.1.1'], t.list(), 103_000),
    'Module state: Active\n\nConfigured peers:\n\tIPv4 multicast: 225.1.1.1\n\n\nPeer fs-b UP; last seen 3 seconds ago\nPeer fs-c DOWN; last seen 93 seconds ago\n',
  );
});

test('peerup command carries Peer and Lastseen like the event the C module fires', () => {
  const cmd = buildCustomSendevent('multicast::peerup', [
    ['Peer', 'peer-x'],
    ['Lastseen', 'Never'],
  ]);
  const [one] = readCommands(cmd);
  assert.equal(one?.commandLine, 'sendevent CUSTOM');
  const real = parseEventText(fixture('received/received-006.fired-2.txt'));
  assert.ok(real.ok);
  const wanted = real.value.headers.filter(([n]) => ['Event-Subclass', 'Peer', 'Lastseen'].includes(n));
  assert.deepEqual(one?.headers, wanted);
});

test('a peer name holding CR/LF cannot inject a command', () => {
  const cmd = buildCustomSendevent('multicast::peerup', [['Peer', 'x\n\napi system reboot']]);
  assert.equal(readCommands(cmd).length, 1);
  assert.throws(() => buildCustomSendevent('multicast::peerup', [['Bad Name', 'x']]), /not a token/);
});

test('the table is bounded: past max-peers a new name is refused while every peer is up, and takes the place of the peer down longest', () => {
  const t = new PeerTable(60_000, { maxPeers: 3 });
  for (const n of ['p1', 'p2', 'p3']) assert.equal(t.sighted(n, 1_000)?.kind, 'peerup');
  assert.deepEqual(t.sighted('p4', 2_000), { kind: 'refused', reason: 'table-full' });
  assert.equal(t.sighted('p1', 30_000), null, 'a known peer is never refused');
  // p2 and p3 go down (p1 was seen later); p2 went down first in table order.
  assert.deepEqual(t.expire(61_001).map((c) => c.peer), ['p2', 'p3']);
  assert.equal(t.sighted('p4', 61_002)?.kind, 'peerup', 'a down peer makes room');
  assert.equal(t.sighted('p5', 61_003)?.kind, 'peerup');
  assert.deepEqual(t.sighted('p6', 61_004), { kind: 'refused', reason: 'table-full' });
  assert.deepEqual(t.list().map((p) => p.name).sort(), ['p1', 'p4', 'p5']);
  assert.deepEqual(t.stats(), { size: 3, maxPeers: 3, refusedTableFull: 2, refusedNameTooLong: 0, evicted: 2, forgotten: 0 });
  // An evicted peer that comes back is new again: Lastseen Never.
  t.expire(200_000);
  assert.deepEqual(t.sighted('p2', 200_001), { kind: 'peerup', peer: 'p2', lastseen: 'Never' });
});

test('names longer than 255 bytes (UTF-8) are refused; 255 bytes is accepted', () => {
  const t = new PeerTable(60_000);
  assert.equal(t.sighted('a'.repeat(255), 1)?.kind, 'peerup');
  assert.deepEqual(t.sighted('a'.repeat(256), 1), { kind: 'refused', reason: 'name-too-long' });
  assert.deepEqual(t.sighted('é'.repeat(128), 1), { kind: 'refused', reason: 'name-too-long' }, '128 × 2 bytes');
  assert.deepEqual(t.sighted('x'.repeat(60_000), 1), { kind: 'refused', reason: 'name-too-long' });
  assert.equal(t.stats().refusedNameTooLong, 3);
  assert.equal(t.stats().size, 1);
});

test('a peer down for longer than the retention is forgotten and counted', () => {
  const t = new PeerTable(1_000, { retentionMs: 10_000 });
  t.sighted('gone', 0);
  t.sighted('back', 0);
  t.expire(1_001);
  t.sighted('back', 5_000);
  t.expire(11_000);
  assert.equal(t.list().length, 2, 'down 10 s after its timeout: still listed');
  t.expire(11_001);
  assert.deepEqual(t.list().map((p) => p.name), ['back']);
  assert.equal(t.stats().forgotten, 1);
});

test('setLimits keeps the peers and evicts down ones while over a smaller size', () => {
  const t = new PeerTable(1_000, { maxPeers: 4 });
  for (const n of ['a', 'b', 'c', 'd']) t.sighted(n, 0);
  t.sighted('c', 5_000);
  t.sighted('d', 5_000);
  t.expire(5_000); // a and b down
  t.setLimits(2_000, 3);
  assert.deepEqual(t.list().map((p) => p.name), ['b', 'c', 'd']);
  t.setLimits(2_000, 1);
  assert.deepEqual(t.list().map((p) => p.name), ['c', 'd'], 'peers that are up are kept; newcomers are refused');
  assert.deepEqual(t.sighted('e', 5_001), { kind: 'refused', reason: 'table-full' });
  assert.equal(t.expire(7_001).length, 2, 'the new timeout applies');
});

test('multicast_peers text escapes control characters in names: no ESC/BEL reaches the terminal, no line is forged', () => {
  const t = new PeerTable(60_000);
  t.sighted('evil\x1b]0;owned\x07\nPeer trusted-hub-1 UP; last seen 0 seconds ago', 1_000);
  const text = multicastPeersText(true, ['IPv4 unicast: 127.0.0.1'], t.list(), 1_000);
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(text), JSON.stringify(text));
  const peerLines = text.split('\n').filter((l) => l.startsWith('Peer '));
  assert.deepEqual(peerLines, ['Peer evil\\x1B]0;owned\\x07\\x0APeer trusted-hub-1 UP; last seen 0 seconds ago UP; last seen 0 seconds ago']);
});
