/**
 * JetStream state: registrations and presence are also kept in a stream with a bounded age,
 * so a satellite that was offline catches up on start (the stream replayed through ingress)
 * instead of waiting for phones to re-register. Other events stay live only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { waitFor, type BridgeSide } from '../../testkit/bridge-harness.js';
import { natsStats, requireNatsServer, startNats, startNatsSide, waitNatsReady } from '../../testkit/nats-server.js';

const STATE = {
  'nats-subject-prefix': 'fsem.site9',
  'nats-state': 'yes',
  'nats-state-max-age': '600',
  bindings: 'HEARTBEAT PRESENCE_IN CUSTOM sofia::register sofia::unregister fixture::live',
};

test('a satellite started after the registrations catches up from the stream: it fires them at once, in order; live-only events are not replayed', { timeout: 40_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin, { jetstream: true });
  const hq = await startNatsSide(t, nats.urls, { switchname: 'fs-hq', params: { ...STATE, psk: 'state-Key-1' } });
  await waitNatsReady(hq);

  for (let i = 0; i < 5; i++) hq.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', `10${i}`]] });
  hq.fs.fire({ name: 'CUSTOM', subclass: 'sofia::unregister', headers: [['from-user', '100']] });
  hq.fs.fire({ name: 'PRESENCE_IN', headers: [['from', '101@example.test'], ['status', 'Available']] });
  hq.fs.fire({ name: 'CUSTOM', subclass: 'fixture::live', headers: [['kind', 'not-state']] });
  const nc = await connect({ servers: nats.urls[0]! });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  // Wait until the stream holds the 7 state events (published without an ack).
  for (let i = 0; i < 200 && (await jsm.streams.info('FSEM_STATE_fsem_site9')).state.messages < 7; i++) await new Promise((r) => setTimeout(r, 20));
  const info = await jsm.streams.info('FSEM_STATE_fsem_site9');
  assert.equal(info.state.messages, 7, 'the 7 state events are in the stream, the live one is not');
  assert.deepEqual(info.config.subjects, ['fsem.site9.state.>']);
  assert.equal(info.config.max_age, 600 * 1e9, 'max age from nats-state-max-age (ns)');
  assert.equal(natsStats(hq).transport.statePublished, 7);
  assert.equal(natsStats(hq).transport.published, 8);

  // The satellite starts now: nobody re-registers, yet it knows.
  // One injector connection: FreeSWITCH then sees the stream's order across users too (with more, order is kept per user).
  const sat = await startNatsSide(t, nats.urls, { switchname: 'fs-sat', params: { ...STATE, psk: 'state-Key-1' }, flags: { injectors: '1' } });
  await waitNatsReady(sat);
  const regs = await sat.waitFired('caught-up registrations', 5, (f) => f.get('Orig-Event-Subclass') === 'sofia::register', 10_000);
  assert.deepEqual(regs.map((f) => f.get('Orig-from-user')), ['100', '101', '102', '103', '104'], 'in the order they happened');
  await sat.waitFired('caught-up unregister', 1, (f) => f.get('Orig-Event-Subclass') === 'sofia::unregister', 5_000);
  await sat.waitFired('caught-up presence', 1, (f) => f.get('Orig-Event-Name') === 'PRESENCE_IN', 5_000);
  // The unregister came after the registrations (a later register of 100 would win, an older one must not).
  const order = sat.fired().map((f) => `${f.get('Orig-Event-Subclass') ?? f.get('Orig-Event-Name')}:${f.get('Orig-from-user') ?? ''}`);
  assert.ok(order.indexOf('sofia::unregister:100') > order.indexOf('sofia::register:100'));
  assert.equal(sat.fired().filter((f) => f.get('Orig-Event-Subclass') === 'fixture::live').length, 0, 'live-only events are not replayed');
  const catchUp = natsStats(sat).transport.catchUp;
  assert.equal(catchUp.state, 'done');
  assert.equal(catchUp.read, 7);
  assert.equal(catchUp.delivered, 7);
  assert.ok(sat.logs.find(/caught up from the NATS state stream/));

  // Live still works after the catch-up.
  hq.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', '199']] });
  await sat.waitFired('live register', 1, (f) => f.get('Orig-from-user') === '199', 10_000);
});

test('a restarted bridge is not given its own old state back from the stream', { timeout: 40_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin, { jetstream: true });
  const a1 = await startNatsSide(t, nats.urls, { switchname: 'fs-a', params: STATE });
  const b = await startNatsSide(t, nats.urls, { switchname: 'fs-b', params: STATE });
  await waitNatsReady(a1);
  await waitNatsReady(b);
  a1.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', 'own-1']] });
  b.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', 'other-1']] });
  await b.waitFired('A\'s register', 1, (f) => f.get('Orig-from-user') === 'own-1', 10_000);
  await a1.waitFired('B\'s register', 1, (f) => f.get('Orig-from-user') === 'other-1', 10_000);
  await a1.close();

  const a2 = await startNatsSide(t, nats.urls, { switchname: 'fs-a', params: STATE });
  await waitNatsReady(a2);
  await a2.waitFired('B\'s register replayed', 1, (f) => f.get('Orig-from-user') === 'other-1', 10_000);
  const c = natsStats(a2).transport.catchUp;
  assert.equal(c.read, 2);
  assert.equal(c.delivered, 1, 'its own message is skipped by subject');
  assert.equal(a2.fired().filter((f) => f.get('Orig-from-user') === 'own-1').length, 0);
});

test('the stream is brought in line with the configuration: another max age updates it, keeping its messages and settings', { timeout: 40_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin, { jetstream: true });
  const streamAction = (side: BridgeSide) => side.logs.lines.find((l) => l['msg'] === 'NATS JetStream state stream ready')?.['action'];
  const a = await startNatsSide(t, nats.urls, { switchname: 'fs-a', params: STATE });
  await waitNatsReady(a);
  await waitFor('A created the stream', () => streamAction(a) !== undefined, 10_000);
  assert.equal(streamAction(a), 'created');
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', 'kept-1']] });
  a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', 'kept-2']] });
  const nc = await connect({ servers: nats.urls[0]! });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  // Published without an ack: wait until the stream holds both.
  for (let i = 0; i < 200 && (await jsm.streams.info('FSEM_STATE_fsem_site9')).state.messages < 2; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await jsm.streams.info('FSEM_STATE_fsem_site9')).state.messages, 2);

  const b = await startNatsSide(t, nats.urls, { switchname: 'fs-b', params: { ...STATE, 'nats-state-max-age': '300' } });
  await waitNatsReady(b);
  await waitFor('B updated the stream', () => streamAction(b) !== undefined, 10_000);
  assert.equal(streamAction(b), 'updated');
  const info = await jsm.streams.info('FSEM_STATE_fsem_site9');
  assert.equal(info.config.max_age, 300 * 1e9);
  assert.deepEqual(info.config.subjects, ['fsem.site9.state.>']);
  assert.equal(info.config.storage, 'file', 'the rest of the configuration is kept');
  assert.equal(info.config.discard, 'old');
  assert.equal(info.state.messages, 2, 'and so are the messages');
  await waitFor('B caught up', () => natsStats(b).transport.catchUp.state === 'done', 10_000, () => natsStats(b).transport);
  assert.equal(natsStats(b).transport.catchUp.delivered, 2);

  const c = await startNatsSide(t, nats.urls, { switchname: 'fs-c', params: { ...STATE, 'nats-state-max-age': '300' } });
  await waitNatsReady(c);
  await waitFor('C checked the stream', () => streamAction(c) !== undefined, 10_000);
  assert.equal(streamAction(c), 'unchanged');
});

test('nats-state on a server without JetStream: the bridge runs live, and says the catch-up failed and why', { timeout: 30_000 }, async (t) => {
  const bin = requireNatsServer(t);
  if (bin === null) return;
  const nats = await startNats(t, bin);
  const a = await startNatsSide(t, nats.urls, { switchname: 'fs-a', params: STATE });
  const b = await startNatsSide(t, nats.urls, { switchname: 'fs-b', params: STATE });
  await waitFor('catch-up failed', () => natsStats(a).transport.catchUp.state === 'failed', 10_000, () => natsStats(a).transport);
  assert.match(natsStats(a).transport.catchUp.error ?? '', /^cannot create or update the JetStream stream FSEM_STATE_fsem_site9: JETSTREAM_NOT_ENABLED: jetstream is not enabled \(no responders: '\$JS\.API\.INFO'\)$/);
  assert.ok(a.logs.find(/state catch-up failed/));
  a.fireMarker('live-anyway');
  await b.waitMarker('live-anyway', 10_000);
});
