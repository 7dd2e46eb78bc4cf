import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerTable, multicastPeersText } from '../../src/peers/peer-table.js';
import { buildCustomSendevent } from '../../src/wire/ingress.js';
import { readCommands } from '../support/esl-command-reader.js';
import { fixture } from '../support/fixtures.js';
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
