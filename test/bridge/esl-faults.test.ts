/**
 * Event-socket faults seen from the running bridge (issues #15 items 6 and 8, #18 item 6):
 * /healthz names a stuck injector, a fatal error is logged once, and a loaded
 * mod_event_multicast is detected on every connect.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeSide, startPair, waitFor } from '../../testkit/bridge-harness.js';
import { httpGet } from '../../testkit/http-get.js';

test('FreeSWITCH stops answering sendevents: /healthz turns 503 naming it, the events are fired once it answers again', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { b: { flags: { 'esl-reply-timeout': '1', 'status-listen': '127.0.0.1:0' } } });
  const health = () => httpGet(`http://${b.br.statusAddress}/healthz`);
  assert.deepEqual(await health(), { code: 200, body: 'ok\n' });
  b.fs.setFault({ kind: 'stall-replies' });
  a.fireMarker('stuck-1');
  await waitFor('a reply timeout on B', () => (b.eslStatus().injector as unknown as { replyTimeouts: number }).replyTimeouts >= 1, 10_000, () => b.eslStatus());
  const sick = await health();
  assert.equal(sick.code, 503);
  assert.match(sick.body, /^injector#\d: no reply to sendevent for 1 s(; reconnecting)? \(1 sendevents waiting\)\n$/);
  assert.ok(b.logs.find(/sent no reply to sendevent for 1 s; closing the event-socket connection/), 'logged');
  const status = b.br.statusJson() as { health: string[] };
  assert.equal(status.health.length, 1);

  b.fs.setFault(null);
  await b.waitMarker('stuck-1', 10_000);
  assert.equal(b.firedOrig('CUSTOM', 'sofia::register').filter((f) => f.get('Orig-Marker') === 'stuck-1').length, 1, 'fired once');
  const deadline = Date.now() + 5_000;
  let last = await health();
  while (last.code !== 200 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    last = await health();
  }
  assert.deepEqual(last, { code: 200, body: 'ok\n' }, 'healthy again');
});

test('a wrong ESL password is logged once in all (one fatal line, no error line repeating it)', { timeout: 20_000 }, async (t) => {
  const side = await BridgeSide.start(
    t,
    { switchname: 'fs-a', fsPassword: 'right-one', noWaitReady: true, flags: { 'esl-password': 'wrong-one', injectors: '2' } },
    { params: { address: '127.0.0.2', port: '42998', bindings: 'HEARTBEAT' }, flags: { 'source-address': '127.0.0.1', workers: '0' } },
  );
  await waitFor('onFatal', () => side.fatals.length > 0, 5_000);
  await waitFor('all connections closed', () => side.fs.connectionCount() === 0, 5_000);
  const lines = side.logs.lines.filter((l) => /rejected the event-socket password/.test(String(l.msg)));
  assert.equal(lines.length, 1, JSON.stringify(lines));
  assert.equal(lines[0]!['level'], 60);
});

test('mod_event_multicast loaded in FreeSWITCH: warned on start and on every reconnect, shown in /status; asked with api like the address probes', { timeout: 30_000 }, async (t) => {
  const side = await BridgeSide.start(
    t,
    { switchname: 'fs-a', fsLoadedModules: ['mod_event_socket', 'mod_sofia', 'mod_event_multicast'] },
    { params: { address: '127.0.0.2', port: '42997', bindings: 'HEARTBEAT' }, flags: { 'source-address': '127.0.0.1', workers: '0' } },
  );
  const loaded = () => (side.br.statusJson() as { freeswitch: { modEventMulticastLoaded: boolean | null } }).freeswitch.modEventMulticastLoaded;
  await waitFor('the module seen as loaded', () => loaded() === true);
  const warning = await waitFor('the warning', () => side.logs.find(/mod_event_multicast is loaded in FreeSWITCH/));
  assert.match(String(warning['msg']), /every event goes out twice.*unload mod_event_multicast.*modules\.conf\.xml/);
  assert.equal(warning['level'], 40);

  // Unloaded meanwhile: the next connection finds out and says so.
  const asked: string[] = [];
  side.fs.on('command', (c: { command: string }) => {
    if (c.command.includes('module_exists')) asked.push(c.command);
  });
  side.fs.loadedModules.delete('mod_event_multicast');
  side.fs.dropConnections();
  await waitFor('asked again after the reconnect', () => asked.length >= 1, 10_000);
  await waitFor('seen as unloaded', () => loaded() === false, 10_000);
  assert.deepEqual(asked, ['api module_exists mod_event_multicast']);
  assert.ok(side.logs.find(/mod_event_multicast is no longer loaded/));
});

test('mod_event_multicast not loaded: no warning, /status says false', { timeout: 20_000 }, async (t) => {
  const side = await BridgeSide.start(
    t,
    { switchname: 'fs-a' },
    { params: { address: '127.0.0.2', port: '42996', bindings: 'HEARTBEAT' }, flags: { 'source-address': '127.0.0.1', workers: '0' } },
  );
  await waitFor('checked', () => (side.br.statusJson() as { freeswitch: { modEventMulticastLoaded: boolean | null } }).freeswitch.modEventMulticastLoaded === false);
  assert.equal(side.logs.find(/mod_event_multicast is loaded/), undefined);
});
