/**
 * The injector against a FreeSWITCH-like sink (the simulated switch's cost model): when
 * FreeSWITCH cannot keep up, the queue stays within its bound, the OLDEST commands are dropped
 * and counted, the warning names the cause, and the newest are the ones delivered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { SendeventInjector } from '../../src/esl/injector.js';
import { captureLogger, waitFor } from './helpers.js';

function command(seq: number): Buffer {
  return Buffer.from(`sendevent CUSTOM\nEvent-Subclass: multicast::event\nX-Seq: ${seq}\n\n`, 'latin1');
}

test('FreeSWITCH slower than the offered load: bounded queue, oldest dropped and counted, a warning that names the cause', { timeout: 20_000 }, async (t) => {
  // ~60 bytes x 100 µs = ~6 ms per command: ~160/s on one connection.
  const fs = await FakeFreeSwitch.start({ costModel: { perHeaderByteUs: 100 } });
  const logger = captureLogger();
  const injector = new SendeventInjector({ host: fs.host, port: fs.port, password: 'ClueCon', logger, connections: 1, maxQueuedEvents: 20, maxInFlight: 4 });
  t.after(async () => {
    await injector.close(0);
    await fs.stop();
  });
  injector.start();
  await waitFor(() => injector.stats().connected, 'connected');
  const n = 300;
  for (let i = 0; i < n; i++) injector.send('fs-a', command(i));
  const s = injector.stats();
  assert.ok(s.queued <= 20, `queue within its bound: ${s.queued}`);
  assert.equal(s.droppedOldest, n - s.queued - s.inFlight, 'every command not queued or written was dropped, and counted');
  const warning = logger.lines.find((l) => l.level === 'warn' && l.message === 'sendevent queue full; dropping the oldest');
  assert.ok(warning, logger.text());
  assert.match(String(warning.fields.cause), /FreeSWITCH is not keeping up: \d+ sendevents await its replies\. It reads each command's headers one byte at a time/);
  assert.match(String(warning.fields.cause), /ingress-bindings.*lean-sendevent.*injectors/);
  await waitFor(() => injector.stats().delivered === n - s.droppedOldest, 'the rest delivered', 10_000);
  const seqs = fs.sendevents.map((e) => Number(e.headers.find(([k]) => k === 'X-Seq')![1]));
  assert.deepEqual(seqs.slice(-20), Array.from({ length: 20 }, (_, i) => n - 20 + i), 'the newest 20 were kept, in order');
  assert.equal(logger.lines.filter((l) => l.message === 'sendevent queue full; dropping the oldest').length, 1, 'one warning per interval, not one per drop');
});

test('connections: 1..64 accepted (as the injectors setting), 0 and 65 refused precisely', () => {
  const opts = { host: '127.0.0.1', port: 1, password: 'x', logger: captureLogger() };
  assert.doesNotThrow(() => new SendeventInjector({ ...opts, connections: 64 }));
  assert.throws(() => new SendeventInjector({ ...opts, connections: 65 }), /option 'connections' must be 1\.\.64, got 65/);
  assert.throws(() => new SendeventInjector({ ...opts, connections: 0 }), /connections/);
});
