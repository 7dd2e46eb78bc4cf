import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelayMs, resolveEndpoint, DEFAULT_BACKOFF } from '../../src/esl/options.js';
import { switchNameOf } from '../../src/esl/event-source.js';
import { fnv1a, SendeventInjector } from '../../src/esl/injector.js';
import { EslEventSource } from '../../src/esl/event-source.js';
import { captureLogger } from './helpers.js';
import { readCapture } from './fixtures.js';

const base = { host: '127.0.0.1', port: 8021, password: 'secret-pw', logger: captureLogger() };

test('backoff doubles from 100 ms, stays within [nominal/2, nominal] and is capped at 10 s', () => {
  for (let attempt = 0; attempt < 40; attempt++) {
    const nominal = Math.min(10_000, 100 * 2 ** attempt);
    assert.equal(backoffDelayMs(attempt, DEFAULT_BACKOFF, () => 0), Math.round(nominal / 2));
    assert.equal(backoffDelayMs(attempt, DEFAULT_BACKOFF, () => 0.999999), Math.round(nominal / 2 + (0.999999 * nominal) / 2));
  }
  assert.equal(backoffDelayMs(200, DEFAULT_BACKOFF, () => 1), 10_000);
});

test('endpoint options are validated with the option name and never echo the password', () => {
  assert.throws(() => resolveEndpoint({ ...base, host: '' }, 'X'), /X: option 'host'/);
  assert.throws(() => resolveEndpoint({ ...base, port: 70000 }, 'X'), /option 'port' must be an integer 1\.\.65535, got 70000/);
  assert.throws(() => resolveEndpoint({ ...base, password: '' }, 'X'), /option 'password'/);
  assert.throws(
    () => resolveEndpoint({ ...base, password: 'bad\npw' }, 'X'),
    (err: Error) => /line break/.test(err.message) && !err.message.includes('bad'),
  );
  assert.throws(() => resolveEndpoint({ ...base, backoff: { initialDelayMs: 500, maxDelayMs: 100 } }, 'X'), /maxDelayMs.*>=/);
  assert.throws(() => resolveEndpoint({ ...base, logger: {} as never }, 'X'), /option 'logger' must have a 'debug' method/);
});

test('a subscription with a line break is refused: it would smuggle a second command', () => {
  assert.throws(() => new EslEventSource({ ...base, subscription: 'HEARTBEAT\n\napi shutdown', onEvents: () => {} }), /single line/);
  assert.throws(() => new EslEventSource({ ...base, subscription: '  ', onEvents: () => {} }), /option 'subscription'/);
});

test('injector options are validated', () => {
  assert.throws(() => new SendeventInjector({ ...base, connections: 0 }), /option 'connections' must be a positive integer/);
  assert.throws(() => new SendeventInjector({ ...base, maxQueuedBytes: 1.5 }), /option 'maxQueuedBytes'/);
});

test('the switch name is read from an event text and URL-decoded', () => {
  const raw = readCapture('esl-session-sendevent-listener.raw');
  const text = raw.subarray(raw.indexOf('\n\nEvent-Subclass') + 2);
  // Orig-FreeSWITCH-Switchname (fs-test) comes first in that event; only the exact header counts.
  assert.equal(switchNameOf(text), 'fs-b');
  assert.equal(switchNameOf(Buffer.from('Event-Name: X\nFreeSWITCH-Switchname: fs%20one\n\n')), 'fs one');
  assert.equal(switchNameOf(Buffer.from('FreeSWITCH-Switchname: first\n')), 'first');
  assert.equal(switchNameOf(Buffer.from('Event-Name: HEARTBEAT\n\n')), undefined);
});

test('sender keys spread over the connections and always map the same way', () => {
  const counts = [0, 0];
  for (let i = 0; i < 1000; i++) counts[fnv1a(`fs-node-${i}`) % 2]!++;
  assert.ok(counts[0]! > 400 && counts[1]! > 400, `spread ${counts.join('/')}`);
  assert.equal(fnv1a('fs-a'), fnv1a('fs-a'));
  const injector = new SendeventInjector({ ...base, connections: 3 });
  assert.equal(injector.connectionIndexOf('fs-a'), fnv1a('fs-a') % 3);
});
