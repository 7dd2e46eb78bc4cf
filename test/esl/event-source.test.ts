import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { EslEventSource, type EslEventSourceOptions } from '../../src/esl/event-source.js';
import { EslFatalError } from '../../src/esl/connection.js';
import { captureLogger, rawHeader, sleep, waitFor } from './helpers.js';

const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200 };

interface Harness {
  fs: FakeFreeSwitch;
  source: EslEventSource;
  texts: Buffer[];
  batches: number[];
  names: string[];
  changes: boolean[];
  fatals: EslFatalError[];
  logger: ReturnType<typeof captureLogger>;
}

async function harness(t: { after(fn: () => Promise<void>): void }, overrides: Partial<EslEventSourceOptions> = {}, fsOpts = {}): Promise<Harness> {
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-sim-a', ...fsOpts });
  const logger = captureLogger();
  const h: Harness = { fs, texts: [], batches: [], names: [], changes: [], fatals: [], logger, source: undefined as never };
  h.source = new EslEventSource({
    host: fs.host,
    port: fs.port,
    password: 'ClueCon',
    logger,
    backoff: FAST_BACKOFF,
    subscription: 'HEARTBEAT CUSTOM test::seq',
    onEvents: (texts) => {
      h.batches.push(texts.length);
      h.texts.push(...texts);
    },
    onSwitchName: (name) => h.names.push(name),
    onConnectionChange: (up) => h.changes.push(up),
    onFatal: (err) => h.fatals.push(err),
    ...overrides,
  });
  t.after(async () => {
    await h.source.close();
    await fs.stop();
  });
  h.source.start();
  return h;
}

function seqEvent(i: number): { name: string; subclass: string; headers: [string, string][] } {
  return { name: 'CUSTOM', subclass: 'test::seq', headers: [['Seq', String(i)]] };
}

test('events flow as raw texts, in order, batched per read, without the probe echo', async (t) => {
  const h = await harness(t);
  await waitFor(() => h.source.connected, 'subscribed');
  const n = 2000;
  for (let i = 0; i < n; i++) h.fs.fire(seqEvent(i));
  await waitFor(() => h.texts.length >= n, `${n} events`);
  await sleep(50);
  assert.equal(h.texts.length, n, 'exactly the fired events (no probe echo, nothing else)');
  assert.deepEqual(
    h.texts.map((text) => rawHeader(text, 'Seq')),
    Array.from({ length: n }, (_, i) => String(i)),
  );
  assert.ok(h.batches.length < n, `events arrive batched (${h.batches.length} batches for ${n} events)`);
  assert.equal(h.source.stats().eventsReceived, n + 1, 'the probe echo was received but filtered');
});

test('a fired event text is handed out byte for byte', async (t) => {
  const h = await harness(t);
  await waitFor(() => h.source.connected, 'subscribed');
  const sent = h.fs.fire(seqEvent(7));
  await waitFor(() => h.texts.length === 1, 'one event');
  assert.deepEqual(h.texts[0], sent);
});

test('events outside the subscription are not received', async (t) => {
  const h = await harness(t);
  await waitFor(() => h.source.connected, 'subscribed');
  h.fs.fire({ name: 'CUSTOM', subclass: 'other::thing' });
  h.fs.fire({ name: 'CHANNEL_CREATE' });
  h.fs.fireHeartbeat();
  await waitFor(() => h.texts.length >= 1, 'the heartbeat');
  await sleep(50);
  assert.equal(h.texts.length, 1);
  assert.equal(rawHeader(h.texts[0]!, 'Event-Name'), 'HEARTBEAT');
});

test('the switch name is learned at startup from the probe echo, before any ordinary event', async (t) => {
  const h = await harness(t);
  const name = await h.source.switchName;
  assert.equal(name, 'fs-sim-a');
  assert.deepEqual(h.names, ['fs-sim-a']);
  assert.equal(h.texts.length, 0, 'the probe echo is not passed on');
  const probe = h.fs.sendevents.find((s) => s.headers.some(([k, v]) => k === 'Event-Subclass' && v === 'fs_event_multicast::probe'));
  assert.ok(probe, 'a probe sendevent reached FreeSWITCH');
  assert.ok(h.logger.lines.some((l) => l.level === 'info' && /learned the FreeSWITCH switch name/.test(l.message)));
});

test('without the probe, the switch name comes from the first event', async (t) => {
  const h = await harness(t, { probeSwitchName: false });
  await waitFor(() => h.source.connected, 'subscribed');
  assert.equal(h.source.currentSwitchName, undefined);
  assert.equal(h.fs.sendevents.length, 0, 'no probe fired');
  h.fs.fireHeartbeat();
  assert.equal(await h.source.switchName, 'fs-sim-a');
  assert.equal(h.texts.length, 1, 'the event itself is still delivered');
});

test('after dropConnections() it reconnects, subscribes again and events flow', async (t) => {
  const h = await harness(t);
  await waitFor(() => h.source.connected, 'subscribed');
  h.fs.fire(seqEvent(1));
  await waitFor(() => h.texts.length === 1, 'first event');
  h.fs.dropConnections();
  await waitFor(() => h.changes.filter((up) => up).length === 2, 'reconnected');
  assert.deepEqual(h.changes, [true, false, true]);
  h.fs.fire(seqEvent(2));
  await waitFor(() => h.texts.length === 2, 'event after reconnect (needs the subscription again)');
  assert.equal(rawHeader(h.texts[1]!, 'Seq'), '2');
  assert.equal(h.source.stats().reconnects, 1);
  assert.ok(h.logger.lines.some((l) => l.level === 'warn' && /lost the FreeSWITCH event socket/.test(l.message)));
  assert.ok(h.logger.lines.some((l) => l.level === 'info' && /reconnected/.test(l.message)));
});

test('while FreeSWITCH is down it retries with backoff and resumes after restart()', async (t) => {
  const h = await harness(t);
  await waitFor(() => h.source.connected, 'subscribed');
  await h.fs.stop();
  await waitFor(() => !h.source.connected, 'noticed the loss');
  await sleep(400); // several failed attempts (20 ms .. 200 ms backoff)
  const failures = h.logger.lines.filter((l) => /retry|reconnecting/.test(l.message)).length;
  assert.ok(failures >= 3, `retried while down (${failures} log lines)`);
  assert.ok(failures < 40, `backoff bounds the retry rate (${failures} attempts in 400 ms)`);
  await h.fs.restart();
  await waitFor(() => h.source.connected, 'reconnected after restart', 3000);
  assert.deepEqual(h.changes, [true, false, true], 'one change per transition, not per failed attempt');
  h.fs.fire(seqEvent(9));
  await waitFor(() => h.texts.length === 1, 'event after restart');
  assert.equal(rawHeader(h.texts[0]!, 'Seq'), '9');
  assert.equal(h.fatals.length, 0);
});

test('a wrong password is a fatal error, reported once, with no reconnect loop', async (t) => {
  const h = await harness(t, { password: 'not-the-password' });
  await waitFor(() => h.fatals.length === 1, 'fatal error');
  let connections = 0;
  h.fs.on('connection', () => connections++);
  const err = h.fatals[0]!;
  assert.ok(err instanceof EslFatalError);
  assert.equal(err.reason, 'auth-rejected');
  assert.match(err.message, /rejected the event-socket password/);
  assert.ok(!err.message.includes('not-the-password'), 'password not in the message');
  assert.ok(!h.logger.text().includes('not-the-password'), 'password not in the logs');
  await assert.rejects(h.source.switchName, EslFatalError);
  await sleep(300); // backoff here is 20..200 ms: a retry loop would have reconnected by now
  assert.equal(connections, 0, 'no new connection after the fatal error');
  assert.equal(h.fatals.length, 1);
  assert.equal(h.source.connected, false);
});

test('a subscription FreeSWITCH refuses is fatal, not a retry loop', async (t) => {
  const h = await harness(t, { subscription: 'NOSUCHEVENT' });
  await waitFor(() => h.fatals.length === 1, 'fatal error');
  assert.equal(h.fatals[0]!.reason, 'setup-rejected');
  assert.match(h.fatals[0]!.message, /refused the subscription 'event plain NOSUCHEVENT' \(-ERR/);
  let connections = 0;
  h.fs.on('connection', () => connections++);
  await sleep(300);
  assert.equal(connections, 0);
});

test('api() returns the response text and does not disturb the event stream', async (t) => {
  const h = await harness(t);
  await waitFor(() => h.source.connected, 'subscribed');
  for (let i = 0; i < 50; i++) h.fs.fire(seqEvent(i));
  const [status] = await Promise.all([h.source.api('status')]);
  assert.equal(typeof status, 'string');
  assert.ok(status.length > 0);
  await waitFor(() => h.texts.length === 50, '50 events');
  assert.deepEqual(
    h.texts.map((x) => rawHeader(x, 'Seq')),
    Array.from({ length: 50 }, (_, i) => String(i)),
  );
  await assert.rejects(h.source.api('status\n\nexit'), /single line/);
});

test('close() stops for good: no reconnect afterwards', async (t) => {
  const h = await harness(t);
  await waitFor(() => h.source.connected, 'subscribed');
  await h.source.close();
  await sleep(100);
  assert.equal(h.fs.connectionCount(), 0);
  assert.equal(h.source.connected, false);
});
