/**
 * Peer tracking of a running bridge (spec §6): a HEARTBEAT from A makes B fire
 * `multicast::peerup` after the HEARTBEAT's own `multicast::event`; silence past the timeout
 * (B's clock driven by the test) fires `multicast::peerdown`; `peers` shows it, in process and
 * through the status endpoint with the real `fs-event-multicast peers` command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli, startPair, waitFor } from '../../testkit/bridge-harness.js';

test('HEARTBEAT from A: peerup after the multicast::event, peers UP; silence: peerdown with Lastseen in epoch seconds, peers DOWN; back: peerup with Lastseen', { timeout: 30_000 }, async (t) => {
  let clock = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
  const startedAt = clock;
  const { a, b } = await startPair(t, {
    b: { now: () => clock, flags: { 'status-listen': '127.0.0.1:0', injectors: '2' } },
  });
  assert.match(b.br.peersText(), /No multicast peers seen/);

  a.fs.fireHeartbeat();
  const [up] = await b.waitFired('peerup', 1, () => true, 5_000, 'multicast::peerup');
  assert.deepEqual(up!.headers, [
    ['Event-Subclass', 'multicast::peerup'],
    ['Peer', 'fs-a'],
    ['Lastseen', 'Never'],
  ]);
  const events = b.fs.sendevents.map((s) => s.headers.find(([n]) => n === 'Event-Subclass')?.[1]);
  const heartbeatAt = b.fs.sendevents.findIndex((s) => s.headers.some(([n, v]) => n === 'Orig-Event-Name' && v === 'HEARTBEAT'));
  const peerupAt = events.indexOf('multicast::peerup');
  assert.ok(heartbeatAt >= 0, 'the HEARTBEAT itself was fired as a multicast::event');
  assert.ok(heartbeatAt < peerupAt, `multicast::event (#${heartbeatAt}) before peerup (#${peerupAt}), as the C module fires them`);
  assert.equal(b.counters.peers.up, 1);
  assert.match(b.br.peersText(), /^Module state: Active\n\nConfigured peers:\n\tIPv4 unicast: 127\.0\.0\.1\n\n\nPeer fs-a UP; last seen 0 seconds ago\n$/);

  // A second HEARTBEAT while up: no second peerup.
  clock += 20_000;
  a.fs.fireHeartbeat();
  a.fireMarker('hb2');
  await b.waitMarker('hb2');
  await waitFor('second HEARTBEAT fired on B', () => b.firedOrig('HEARTBEAT').length === 2);
  assert.equal(b.fired('multicast::peerup').length, 1);
  const lastSighting = clock;

  // Through the status endpoint, with the real CLI.
  const status = b.br.statusAddress;
  assert.ok(status !== null && /^127\.0\.0\.1:\d+$/.test(status), `status endpoint at ${String(status)}`);
  const text = await runCli(t, ['peers', '--status', status]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Peer fs-a UP; last seen 0 seconds ago/);
  const json = await runCli(t, ['peers', '--status', status, '--json']);
  assert.equal(json.code, 0, json.stderr);
  // The C module's view (per-transport and compact details are checked in their own tests).
  const { state, configured, peers } = JSON.parse(json.stdout) as Record<string, unknown>;
  assert.deepEqual({ state, configured, peers }, {
    state: 'Active',
    configured: [{ kind: 'IPv4 unicast', address: '127.0.0.1' }],
    peers: [{ name: 'fs-a', up: true, lastSeen: Math.floor(lastSighting / 1000), secondsAgo: 0 }],
  });

  // Silence just under the timeout: still up.
  clock = lastSighting + 60_000;
  b.br.expirePeers();
  assert.equal(b.fired('multicast::peerdown').length, 0);
  // Past it: down.
  clock = lastSighting + 60_001;
  b.br.expirePeers();
  const [down] = await b.waitFired('peerdown', 1, () => true, 5_000, 'multicast::peerdown');
  assert.deepEqual(down!.headers, [
    ['Event-Subclass', 'multicast::peerdown'],
    ['Peer', 'fs-a'],
    ['Lastseen', String(Math.floor(lastSighting / 1000))],
  ]);
  b.br.expirePeers();
  assert.equal(b.counters.peers.down, 1, 'a peer goes down once');
  assert.match(b.br.peersText(), /Peer fs-a DOWN; last seen 60 seconds ago/);
  const downText = await runCli(t, ['peers', '--status', status]);
  assert.match(downText.stdout, /Peer fs-a DOWN; last seen 60 seconds ago/);
  const downJson = JSON.parse((await runCli(t, ['peers', '--status', status, '--json'])).stdout) as { peers: { up: boolean; secondsAgo: number }[] };
  assert.deepEqual(downJson.peers.map((p) => [p.up, p.secondsAgo]), [[false, 60]]);

  // Back again: peerup whose Lastseen is the previous sighting.
  clock += 5_000;
  a.fs.fireHeartbeat();
  const ups = await b.waitFired('second peerup', 2, () => true, 5_000, 'multicast::peerup');
  assert.equal(ups[1]!.get('Lastseen'), String(Math.floor(lastSighting / 1000)));
  assert.ok(startedAt < lastSighting);
  assert.match(b.br.peersText(), /Peer fs-a UP; last seen 0 seconds ago/);
  // B's clock only drives peers: A saw no peer (B sent no HEARTBEAT).
  assert.match(a.br.peersText(), /No multicast peers seen/);
});

test('peers command: an unreachable status endpoint is a clear error, exit 1', { timeout: 15_000 }, async (t) => {
  const r = await runCli(t, ['peers', '--status', '127.0.0.1:1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot reach the bridge's status endpoint at 127\.0\.0\.1:1: ECONNREFUSED/);
});

// The C module fires a peer's peerup right after that HEARTBEAT's multicast::event. With several
// event-socket connections, that holds only if both go through the same one (the sender's):
// a backlog of the sender's events must not let the peerup overtake its HEARTBEAT.
for (const sender of ['fs-a', 'fs1', 'fs2', 'box-7']) {
  test(`peerup of ${sender} is fired after its HEARTBEAT even behind a backlog of its events (2 injectors)`, { timeout: 20_000 }, async (t) => {
    const { a, b } = await startPair(t, { a: { switchname: sender }, b: { switchname: 'fs-peer-b' }, flags: { injectors: '2', workers: '0' } });
    for (let i = 0; i < 300; i++) a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Backlog', String(i)]] });
    a.fs.fireHeartbeat();
    await b.waitFired('peerup', 1, () => true, 10_000, 'multicast::peerup');
    await b.waitFired('HEARTBEAT', 1, (f) => f.get('Orig-Event-Name') === 'HEARTBEAT');
    const order = b.fs.sendevents.map((s) => s.headers.find(([n]) => n === 'Orig-Event-Name')?.[1] ?? s.headers.find(([n]) => n === 'Event-Subclass')?.[1]);
    const hb = order.indexOf('HEARTBEAT');
    const up = order.indexOf('multicast::peerup');
    assert.ok(hb >= 0 && hb < up, `HEARTBEAT at #${hb}, peerup at #${up}`);
    assert.equal(b.fired('multicast::peerup')[0]!.get('Peer'), sender);
  });
}
