import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DbWriteQueue } from '../../src/location/db-write-queue.js';

test('db write queue: a burst of 1000 writes goes out in order, never more than the window at once', async () => {
  const sent: string[] = [];
  const pending: (() => void)[] = [];
  let inFlight = 0;
  let maxAtOnce = 0;
  const q = new DbWriteQueue((c) => {
    sent.push(c);
    maxAtOnce = Math.max(maxAtOnce, ++inFlight);
    return new Promise<void>((r) => pending.push(() => (inFlight--, r())));
  }, 8, 10_000);
  for (let i = 0; i < 1000; i++) assert.equal(q.push(`db insert/d/LOCATION_${i}/1.2.3.4`), true);
  assert.equal(sent.length, 8);
  assert.deepEqual(q.stats(), { queued: 992, inFlight: 8, droppedQueueFull: 0 });
  while (pending.length > 0) {
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(sent.length, 1000);
  assert.deepEqual(sent.slice(0, 3), ['db insert/d/LOCATION_0/1.2.3.4', 'db insert/d/LOCATION_1/1.2.3.4', 'db insert/d/LOCATION_2/1.2.3.4']);
  assert.deepEqual(sent, [...sent].sort((a, b) => Number(a.split('_')[1]!.split('/')[0]) - Number(b.split('_')[1]!.split('/')[0])));
  assert.ok(maxAtOnce <= 8, `at most 8 in flight, saw ${maxAtOnce}`);
  assert.deepEqual(q.stats(), { queued: 0, inFlight: 0, droppedQueueFull: 0 });
});

test('db write queue: bounded; past the limit a write is dropped and counted', () => {
  const q = new DbWriteQueue(() => new Promise<void>(() => {}), 1, 2);
  assert.equal(q.push('a'), true); // in flight
  assert.equal(q.push('b'), true);
  assert.equal(q.push('c'), true);
  assert.equal(q.push('d'), false);
  assert.deepEqual(q.stats(), { queued: 2, inFlight: 1, droppedQueueFull: 1 });
});
