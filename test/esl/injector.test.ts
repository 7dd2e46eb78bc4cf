import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReceivedSendevent } from '../../src/testing/fake-freeswitch.js';
import { SendeventInjector, type SendeventInjectorOptions } from '../../src/esl/injector.js';
import { injectorOnSimulatedSwitch, sleep, waitFor } from './helpers.js';

function sendevent(sender: string, seq: number, body?: string): Buffer {
  const head = `sendevent CUSTOM\nEvent-Subclass: multicast::event\nOrig-Multicast-Sender: ${sender}\nX-Seq: ${seq}\n`;
  if (body === undefined) return Buffer.from(head + '\n', 'latin1');
  const bytes = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`${head}content-length: ${bytes.length}\n\n`, 'latin1'), bytes]);
}

function header(ev: ReceivedSendevent, name: string): string | undefined {
  return ev.headers.find(([k]) => k === name)?.[1];
}

function setup(t: { after(fn: () => Promise<void>): void }, overrides: Partial<SendeventInjectorOptions> = {}) {
  return injectorOnSimulatedSwitch(t, { injector: overrides });
}

/** Sender names that land on connection 0 and on connection 1. */
function sendersOnBoth(injector: SendeventInjector, perConnection: number): string[] {
  const picked: string[][] = [[], []];
  for (let i = 0; picked.some((p) => p.length < perConnection); i++) {
    const name = `fs-node-${i}`;
    const lane = picked[injector.connectionIndexOf(name)]!;
    if (lane.length < perConnection) lane.push(name);
  }
  return picked.flat();
}

test('delivers every sendevent, in order per sender, across 2 pipelined connections', async (t) => {
  const { fs, injector } = await setup(t);
  await waitFor(() => injector.stats().connected, 'both connections up');
  const senders = sendersOnBoth(injector, 2);
  const perSender = 150;
  for (let i = 0; i < perSender; i++) {
    for (const s of senders) injector.send(s, sendevent(s, i, i % 10 === 0 ? `body ${i} of ${s}\n` : undefined));
  }
  const total = senders.length * perSender;
  await waitFor(() => injector.stats().delivered === total, `${total} delivered`, 15_000);
  assert.equal(fs.sendevents.length, total);
  const connectionsUsed = new Set<number>();
  for (const s of senders) {
    const mine = fs.sendevents.filter((ev) => header(ev, 'Orig-Multicast-Sender') === s);
    assert.deepEqual(
      mine.map((ev) => Number(header(ev, 'X-Seq'))),
      Array.from({ length: perSender }, (_, i) => i),
      `order of ${s}`,
    );
    const ids = new Set(mine.map((ev) => ev.connectionId));
    assert.equal(ids.size, 1, `${s} always uses one connection`);
    connectionsUsed.add([...ids][0]!);
    assert.equal(mine[10]!.body?.toString('utf8'), `body 10 of ${s}\n`);
    assert.deepEqual(mine[10]!.raw, sendevent(s, 10, `body 10 of ${s}\n`), 'command bytes arrive unchanged');
  }
  assert.equal(connectionsUsed.size, 2, 'both connections carried traffic');
  const stats = injector.stats();
  assert.equal(stats.repliesOk, total);
  assert.equal(stats.repliesErr, 0);
  assert.equal(stats.inFlight, 0);
  assert.equal(stats.queued, 0);
  assert.equal(stats.droppedOldest, 0);
  assert.equal(stats.perConnection.length, 2);
});

test('pipelines: many commands are written before their replies arrive', async (t) => {
  const { injector } = await setup(t, { connections: 1, maxInFlight: 32 });
  await waitFor(() => injector.stats().connected, 'connected');
  for (let i = 0; i < 100; i++) injector.send('fs-x', sendevent('fs-x', i));
  const right = injector.stats();
  assert.equal(right.inFlight, 32, 'a full window written at once');
  assert.equal(right.queued, 68);
  await waitFor(() => injector.stats().delivered === 100, '100 delivered');
});

test('while FreeSWITCH is stopped the bounded queue drops the oldest, counts them, and sends the rest after restart', async (t) => {
  const { fs, injector, logger } = await setup(t, { connections: 1, maxQueuedEvents: 10 });
  await waitFor(() => injector.stats().connected, 'connected');
  await fs.stop();
  await waitFor(() => !injector.stats().connected, 'noticed FreeSWITCH down');
  for (let i = 0; i < 25; i++) injector.send('fs-x', sendevent('fs-x', i));
  let stats = injector.stats();
  assert.equal(stats.droppedOldest, 15);
  assert.equal(stats.queued, 10);
  const warning = logger.lines.find((l) => l.level === 'warn' && /dropping the oldest/.test(l.message));
  assert.ok(warning, 'a warning about the drops');
  assert.match(String(warning.fields['cause']), /not connected/);
  assert.equal(logger.lines.filter((l) => /dropping the oldest/.test(l.message)).length, 1, 'rate-limited: one warning for 15 drops');
  await fs.restart();
  await waitFor(() => injector.stats().delivered === 10, 'the kept 10 delivered after restart', 5000);
  assert.deepEqual(
    fs.sendevents.map((ev) => Number(header(ev, 'X-Seq'))),
    [15, 16, 17, 18, 19, 20, 21, 22, 23, 24],
  );
  stats = injector.stats();
  assert.equal(stats.reconnects, 1);
  assert.equal(stats.queued, 0);
});

test('the byte bound drops the oldest too, and a command larger than the queue is refused', async (t) => {
  const { fs, injector } = await setup(t, { connections: 1, maxQueuedBytes: 1000 });
  await waitFor(() => injector.stats().connected, 'connected');
  await fs.stop();
  await waitFor(() => !injector.stats().connected, 'down');
  const one = sendevent('fs-x', 0, 'x'.repeat(300));
  for (let i = 0; i < 5; i++) injector.send('fs-x', sendevent('fs-x', i, 'x'.repeat(300)));
  const stats = injector.stats();
  assert.equal(stats.queued, Math.floor(1000 / one.length));
  assert.equal(stats.droppedOldest, 5 - stats.queued);
  assert.ok(stats.queuedBytes <= 1000);
  injector.send('fs-x', Buffer.alloc(2000, 0x41));
  assert.equal(injector.stats().droppedRefused, 1);
});

test('commands unanswered when the connection drops are sent again after the reconnect', async (t) => {
  const { fs, injector } = await setup(t, { connections: 1 });
  await waitFor(() => injector.stats().connected, 'connected');
  for (let i = 0; i < 300; i++) injector.send('fs-x', sendevent('fs-x', i));
  fs.dropConnections();
  await waitFor(() => injector.stats().reconnects === 1, 'reconnected');
  await waitFor(() => injector.stats().queued === 0 && injector.stats().inFlight === 0, 'drained', 10_000);
  assert.ok(injector.stats().requeued > 0, 'the drop caught commands in flight');
  const seqs = fs.sendevents.map((ev) => Number(header(ev, 'X-Seq')));
  // At-least-once: every event arrived; a command fired just before the cut may repeat once.
  assert.deepEqual([...new Set(seqs)].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i));
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i]! < seqs[i - 1]!) assert.ok(seqs[i - 1]! - seqs[i]! < 64, 'a resend only rewinds within the in-flight window');
  }
});

test('an -ERR reply is counted and the reply stream stays in step', async (t) => {
  const { fs, injector, logger } = await setup(t, { connections: 1 });
  await waitFor(() => injector.stats().connected, 'connected');
  injector.send('fs-x', sendevent('fs-x', 0));
  injector.send('fs-x', Buffer.from('frobnicate now\n\n'));
  injector.send('fs-x', sendevent('fs-x', 1));
  await waitFor(() => injector.stats().inFlight === 0 && injector.stats().queued === 0, 'all answered');
  const stats = injector.stats();
  assert.equal(stats.repliesErr, 1);
  assert.equal(stats.repliesOk, 2);
  assert.equal(stats.delivered, 2);
  assert.deepEqual(
    fs.sendevents.map((ev) => header(ev, 'X-Seq')),
    ['0', '1'],
  );
  assert.ok(logger.lines.some((l) => l.level === 'warn' && /did not accept a sendevent/.test(l.message)));
});

test('a wrong password is fatal once for all connections, with no reconnect loop', async (t) => {
  const { fs, injector, fatals } = await setup(t, { password: 'wrong-one' });
  await waitFor(() => fatals.length === 1, 'fatal error');
  let connections = 0;
  fs.on('connection', () => connections++);
  await sleep(300);
  assert.equal(connections, 0);
  assert.equal(fatals.length, 1);
  assert.equal(fatals[0]!.reason, 'auth-rejected');
  assert.ok(!fatals[0]!.message.includes('wrong-one'));
  assert.equal(injector.stats().connected, false);
});

test('close() drains what is queued within the bound and refuses later sends', async (t) => {
  const { fs, injector } = await setup(t, { connections: 2 });
  await waitFor(() => injector.stats().connected, 'connected');
  for (let i = 0; i < 40; i++) injector.send('fs-x', sendevent('fs-x', i));
  const final = await injector.close(5000);
  assert.equal(final.delivered, 40);
  assert.equal(fs.sendevents.length, 40);
  injector.send('fs-x', sendevent('fs-x', 99));
  assert.equal(injector.stats().droppedRefused, 1);
});
