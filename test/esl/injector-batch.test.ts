/**
 * Batched injection against the simulated switch, which runs the fan-out the way the mod_lua
 * hook does (FakeFreeSwitchOptions.batchFanOut): detection, fallback, order, counters, and the
 * same events seen by a listener through both paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFreeSwitch, type FakeFreeSwitchOptions } from '../../src/testing/fake-freeswitch.js';
import { FLOW_WINDOW_BATCHES, SendeventInjector, type SendeventInjectorOptions } from '../../src/esl/injector.js';
import { batchCommand, encodeBatchBody, parseSendeventForBatch } from '../../src/esl/batch-command.js';
import { EslTestClient, header } from '../testing/esl-test-client.js';
import { firedEventDifferences, fixtureSendevents } from '../../testkit/batch-equality.js';
import { captureLogger, waitFor } from './helpers.js';

const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200 };

function sendevent(key: string, seq: number): Buffer {
  return Buffer.from(`sendevent CUSTOM\nEvent-Subclass: multicast::event\nMulticast: yes\nOrig-Key: ${key}\nOrig-Seq: ${seq}\n\n`, 'latin1');
}

async function setup(t: { after(fn: () => Promise<void>): void }, fsOptions: FakeFreeSwitchOptions, overrides: Partial<SendeventInjectorOptions> = {}) {
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-sim-b', ...fsOptions });
  const listener = await EslTestClient.ready(fs.port, 'event plain CUSTOM multicast::event');
  const logger = captureLogger();
  const apiLines: string[] = [];
  const injector = new SendeventInjector({
    host: fs.host,
    port: fs.port,
    password: 'ClueCon',
    logger,
    backoff: FAST_BACKOFF,
    batch: 'auto',
    batchMs: 2,
    onApiCommand: (line) => apiLines.push(line),
    ...overrides,
  });
  t.after(async () => {
    listener.close();
    await injector.close(100);
    await fs.stop();
  });
  injector.start();
  return { fs, injector, logger, listener, apiLines };
}

/** Orig-Key/Orig-Seq of each fired multicast::event, in arrival order. */
async function firedKeys(listener: EslTestClient, n: number): Promise<[string, number][]> {
  const msgs = await listener.take(n, 10_000);
  return msgs.map((m) => {
    const text = m.body!.toString('latin1');
    return [/\nOrig-Key: ([^\n]*)/.exec(text)![1]!, Number(/\nOrig-Seq: ([^\n]*)/.exec(text)![1])];
  });
}

test('with the hook: found at connect, events go out in batches over 2 connections, every one fired once, in order per key', async (t) => {
  const { fs, injector, logger, listener, apiLines } = await setup(t, { batchFanOut: true });
  await waitFor(() => injector.stats().connected && injector.fanOutState === 'present', 'connected, hook found');
  const keys = Array.from({ length: 40 }, (_, i) => `user${i}@example.com`);
  const perKey = 50;
  for (let i = 0; i < perKey; i++) for (const k of keys) injector.send(k, sendevent(k, i));
  const fired = await firedKeys(listener, keys.length * perKey);
  const next = new Map<string, number>();
  for (const [k, seq] of fired) {
    assert.equal(seq, next.get(k) ?? 0, `order of ${k}`);
    next.set(k, seq + 1);
  }
  assert.deepEqual([...next.values()], keys.map(() => perKey));
  await waitFor(() => injector.stats().delivered === keys.length * perKey, 'all acknowledged');
  const s = injector.stats();
  assert.equal(s.batchedEvents, keys.length * perKey);
  assert.ok(s.batches >= 2 && s.batches < s.batchedEvents / 4, `batches ${s.batches} for ${s.batchedEvents} events`);
  assert.equal(s.notBatchable, 0);
  assert.equal(s.fanOut, 'present');
  assert.ok(fs.sendeventCount <= s.batches + 2, `FreeSWITCH read ${fs.sendeventCount} commands, not one per event`);
  assert.equal(fs.batchStats.events, keys.length * perKey);
  assert.equal(logger.lines.filter((l) => /batch fan-out hook/.test(l.message)).length, 1, logger.text());
  assert.ok(apiLines.includes('module_exists mod_lua') && apiLines.includes('global_getvar fs_event_multicast_batch_probe'), 'api commands announced for the echo filter');
});

test('without mod_lua: one warning with how to install the hook, then one sendevent per event (no wait for a probe)', async (t) => {
  const { fs, injector, logger, listener } = await setup(t, {}, { connections: 2 });
  await waitFor(() => injector.stats().connected && injector.fanOutState === 'absent', 'connected, no hook');
  for (let i = 0; i < 20; i++) injector.send(`k${i % 3}`, sendevent(`k${i % 3}`, Math.floor(i / 3)));
  assert.equal((await firedKeys(listener, 20)).length, 20);
  const s = injector.stats();
  assert.equal(s.batches, 0);
  assert.equal(fs.sendeventCount, 20);
  const warnings = logger.lines.filter((l) => /no batch fan-out hook/.test(l.message));
  assert.equal(warnings.length, 1, logger.text());
  assert.equal(warnings[0]!.level, 'warn');
  assert.match(warnings[0]!.message, /fs_event_multicast_batch\.lua.*lua\.conf\.xml.*reload mod_lua/);
});

test('mod_lua loaded but no hook: the probe gives up after its timeout; inject-batch yes logs it as an error; nothing lost', async (t) => {
  const { injector, logger, listener } = await setup(t, { loadedModules: ['mod_lua', 'mod_commands'] }, { batch: 'yes', batchProbeTimeoutMs: 150 });
  await waitFor(() => injector.stats().connected && injector.fanOutState === 'absent', 'connected, no hook');
  for (let i = 0; i < 5; i++) injector.send('k', sendevent('k', i));
  assert.deepEqual(await firedKeys(listener, 5), [0, 1, 2, 3, 4].map((i) => ['k', i]));
  const lines = logger.lines.filter((l) => /no batch fan-out hook/.test(l.message));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]!.level, 'error');
});

test('inject-batch no: no probe, no batch', async (t) => {
  const { fs, injector, apiLines, listener } = await setup(t, { batchFanOut: true }, { batch: 'no' });
  await waitFor(() => injector.stats().connected, 'connected');
  injector.send('k', sendevent('k', 0));
  await firedKeys(listener, 1);
  assert.equal(injector.fanOutState, 'off');
  assert.deepEqual(apiLines, []);
  assert.equal(fs.batchStats.batches, 0);
});

test('a command a batch cannot reproduce goes alone, at its place; the rest still batch', async (t) => {
  const { injector, listener } = await setup(t, { batchFanOut: true }, { connections: 1 });
  await waitFor(() => injector.stats().connected && injector.fanOutState === 'present', 'hook found');
  injector.send('k', sendevent('k', 0));
  injector.send('k', Buffer.from('sendevent CUSTOM\nEvent-Subclass: multicast::event\nOrig-Key: k\nOrig-Seq: 1\nUnique-ID: abc\n\n', 'latin1'));
  injector.send('k', sendevent('k', 2));
  assert.deepEqual(await firedKeys(listener, 3), [['k', 0], ['k', 1], ['k', 2]]);
  assert.equal(injector.stats().notBatchable, 1);
});

test('connection lost with batches unanswered: their events are put back and fired after the reconnect (at-least-once)', async (t) => {
  const { fs, injector, listener } = await setup(t, { batchFanOut: true }, { connections: 1, replyTimeoutMs: 1500 } as Partial<SendeventInjectorOptions>);
  await waitFor(() => injector.stats().connected && injector.fanOutState === 'present', 'hook found');
  fs.setFault({ kind: 'stall-replies' });
  for (let i = 0; i < 10; i++) injector.send('k', sendevent('k', i));
  await waitFor(() => fs.stalledCommands > 0, 'batch written, unanswered');
  fs.setFault(null);
  await waitFor(() => injector.stats().delivered === 10, 'delivered after the reconnect', 10_000);
  assert.ok(injector.stats().requeued >= 1);
  const seqs = (await firedKeys(listener, 10)).map(([, s]) => s);
  assert.deepEqual(seqs, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

test('simulated switch: every captured event fired through a batch reaches a listener exactly as through its sendevent', async (t) => {
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-sim-b', batchFanOut: true });
  const listener = await EslTestClient.ready(fs.port, 'event plain CUSTOM multicast::event');
  const sender = await EslTestClient.ready(fs.port);
  t.after(async () => {
    listener.close();
    sender.close();
    await fs.stop();
  });
  const commands = fixtureSendevents();
  for (const { name, command } of commands) {
    sender.send(command);
    assert.match(header(await sender.next(), 'Reply-Text') ?? '', /^\+OK /);
    const viaSendevent = (await listener.next()).body!;
    const parsed = parseSendeventForBatch(command, crypto.randomUUID());
    assert.ok(parsed.ok, name);
    sender.send(batchCommand(encodeBatchBody([parsed.record])));
    assert.match(header(await sender.next(), 'Reply-Text') ?? '', /^\+OK /);
    const viaBatch = (await listener.next()).body!;
    assert.deepEqual(firedEventDifferences(viaSendevent, viaBatch), [], name);
  }
});

test('flow control: with a slow fan-out the backlog stays in the bridge (superseded there), FreeSWITCH holds at most FLOW_WINDOW_BATCHES batches not fanned out', async (t) => {
  // FreeSWITCH answers +OK when a batch is queued for its dispatch thread; here that thread takes 15 ms per batch.
  const { fs, injector, listener, apiLines } = await setup(t, { batchFanOut: true, batchFanOutDelayMs: 15 }, { connections: 1, batchMaxEvents: 16 });
  await waitFor(() => injector.stats().connected && injector.fanOutState === 'present', 'connected, hook found');
  const keys = Array.from({ length: 40 }, (_, i) => `user${i}@example.com`);
  const rounds = 25;
  for (let round = 0; round < rounds; round++) {
    const before = fs.sendeventCount;
    for (const k of keys) injector.send(k, sendevent(k, round), undefined, { supersedeKey: 'register' });
    // Offered faster than fanned out: the next round comes once the switch has read one more command.
    await waitFor(() => fs.sendeventCount > before, `a batch written after round ${round}`);
  }
  const offered = keys.length * rounds;
  await waitFor(() => {
    const s = injector.stats();
    return s.queued === 0 && s.inFlight === 0 && s.delivered + s.superseded === offered && fs.batchStats.pendingBatches === 0;
  }, 'everything fired or superseded, nothing left inside FreeSWITCH', 15_000);
  const s = injector.stats();
  assert.ok(fs.batchStats.maxPendingBatches <= FLOW_WINDOW_BATCHES, `FreeSWITCH held ${fs.batchStats.maxPendingBatches} batches not fanned out`);
  assert.ok(fs.batchStats.maxPendingEvents <= FLOW_WINDOW_BATCHES * 16, `FreeSWITCH held ${fs.batchStats.maxPendingEvents} events not fanned out`);
  assert.ok(s.superseded > offered / 4, `superseded in the bridge's queue: ${s.superseded} of ${offered}`);
  assert.ok(s.fanOutWaits > 0 && s.fanOutPolls > 0, `waited ${s.fanOutWaits} times, ${s.fanOutPolls} polls`);
  assert.equal(s.fanOutTimeouts, 0);
  assert.ok(apiLines.some((l) => l.startsWith('global_getvar fs_event_multicast_batch_done_')), 'polls announced for the echo filter');
  // Every key's latest state fired last, and nothing fired twice.
  const fired = await firedKeys(listener, fs.batchStats.events);
  assert.equal(fired.length, s.delivered);
  const last = new Map<string, number>();
  for (const [k, seq] of fired) {
    assert.ok(seq > (last.get(k) ?? -1), `order of ${k}`);
    last.set(k, seq);
  }
  assert.deepEqual([...last.entries()].map(([k, seq]) => [decodeURIComponent(k), seq]).sort(), keys.map((k) => [k, rounds - 1]).sort());
});

test('flow control: a hook that never reports its fan-out (older script) is waited for once, logged, then batches go on without it', async (t) => {
  const { fs, injector, logger, listener } = await setup(t, { batchFanOut: true }, { connections: 1, batchMaxEvents: 4, fanOutTimeoutMs: 50 });
  await waitFor(() => injector.stats().connected && injector.fanOutState === 'present', 'connected, hook found');
  // The older hook: fans out, reports nothing.
  const globals = fs.globals;
  const realSet = globals.set.bind(globals);
  globals.set = (name: string, value: string) => (name.startsWith('fs_event_multicast_batch_done_') ? globals : realSet(name, value));
  for (let i = 0; i < 40; i++) injector.send(`k${i}`, sendevent(`k${i}`, 0));
  await firedKeys(listener, 40);
  await waitFor(() => injector.stats().delivered === 40, 'all acknowledged');
  const s = injector.stats();
  assert.equal(s.fanOutTimeouts, 1);
  assert.equal(logger.lines.filter((l) => /does not report its fan-out/.test(l.message)).length, 1, logger.text());
});
