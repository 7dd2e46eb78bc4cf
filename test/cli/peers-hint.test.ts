/**
 * Issue 18.1, the other end: `fs-event-multicast peers` on a bridge that never saw a peer says
 * so with the likely causes (peers not sending HEARTBEAT, PSK mismatch, ports), the most likely
 * first from the bridge's own counters; stdout stays the C module's text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { NO_PEERS_LINE, noPeersHint } from '../../src/cli/no-peers-hint.js';
import { MAGIC, PLAIN_TRAILING_ZEROS } from '../../src/wire/magic.js';
import { BridgeSide, runCli, waitFor } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

const CAUSE = { heartbeat: /do not send HEARTBEAT/, psk: /PSK mismatch/, ports: /ports and addresses/ };

function causesInOrder(hint: string): string[] {
  return hint
    .split('\n')
    .filter((l) => l.startsWith('  - '))
    .map((l) => Object.entries(CAUSE).find(([, re]) => re.test(l))?.[0] ?? '?');
}

test('noPeersHint: null with peers; otherwise the three causes, ordered by what the counters show', () => {
  assert.equal(noPeersHint('Module state: Active\n\nConfigured peers:\n\n\nPeer fs-b UP; last seen 1 seconds ago\n', null), null);
  const empty = `Module state: Active\n\nConfigured peers:\n\tIPv4 unicast: 127.0.0.2\n\n\n${NO_PEERS_LINE}\n`;
  const counters = (datagrams: number, dropped: Record<string, number>) => ({ counters: { ingress: { datagrams, dropped } } });
  assert.deepEqual(causesInOrder(noPeersHint(empty, null)!), ['heartbeat', 'psk', 'ports']);
  assert.deepEqual(causesInOrder(noPeersHint(empty, counters(0, {}))!), ['ports', 'heartbeat', 'psk']);
  assert.deepEqual(causesInOrder(noPeersHint(empty, counters(12, { undecryptable: 3 }))!), ['psk', 'heartbeat', 'ports']);
  assert.deepEqual(causesInOrder(noPeersHint(empty, counters(12, { filtered: 12 }))!), ['heartbeat', 'psk', 'ports']);
  assert.deepEqual(causesInOrder(noPeersHint(empty, 'not an object')!), ['heartbeat', 'psk', 'ports']);
  assert.match(noPeersHint(empty, null)!, /^No peer has been seen since this bridge started\. Likely causes, the most likely first:\n/);
  assert.match(noPeersHint(empty, null)!, /"HEARTBEAT RE_SCHEDULE PRESENCE_IN CUSTOM sofia::register"/);
});

test('peers against a real bridge that never saw a peer: the C module text on stdout, the causes on stderr; a PSK mismatch comes first once seen', { timeout: 30_000 }, async (t) => {
  const port = await freeUdpPort('127.0.0.2');
  const b = await BridgeSide.start(t, { switchname: 'fs-lonely' }, {
    params: { address: '127.0.0.1', port: String(port), bindings: 'HEARTBEAT', psk: 'lonely-key' },
    flags: { 'source-address': '127.0.0.2', workers: '0', 'status-listen': '127.0.0.1:0' },
  });
  const status = b.br.statusAddress!;
  const first = await runCli(t, ['peers', '--status', status]);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.stdout.includes(NO_PEERS_LINE), first.stdout);
  assert.ok(!first.stdout.includes('Likely causes'), 'stdout stays the C module text');
  assert.deepEqual(causesInOrder(first.stderr), ['ports', 'heartbeat', 'psk'], first.stderr);

  // A plain packet at a PSK bridge: counted as a PSK mismatch, which then leads the list.
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => sock.close(() => r())));
  const plain = Buffer.concat([Buffer.from('Event-Name: HEARTBEAT\nMulticast-Sender: fs-other\n\n'), MAGIC, Buffer.alloc(PLAIN_TRAILING_ZEROS)]);
  await new Promise<void>((r) => sock.send(plain, port, '127.0.0.2', () => r()));
  await waitFor('the drop counted', () => b.counters.ingress.dropped['plain-packet-psk-expected'] >= 1);
  const second = await runCli(t, ['peers', '--status', status]);
  assert.deepEqual(causesInOrder(second.stderr), ['psk', 'heartbeat', 'ports'], second.stderr);
  // JSON stays machine output only.
  const json = await runCli(t, ['peers', '--json', '--status', status]);
  assert.equal(json.stderr, '');
  await b.close();
});
