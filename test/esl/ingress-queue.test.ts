/**
 * The overload-aware injector queue as a pure data structure: replacement in place, urgent
 * first, expiry and age at the head, count/byte bounds, requeue at the front; every command
 * that goes in comes out, or is counted by why it did not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngressQueue, type IngressQueueLimits, type QueuedCommand } from '../../src/esl/ingress-queue.js';

const ROOMY: IngressQueueLimits = { maxCount: 1000, maxBytes: 1 << 20, maxAgeMs: 0 };

function makeQueue(limits: Partial<IngressQueueLimits> = {}) {
  const clock = { now: 0 };
  const queue = new IngressQueue({ ...ROOMY, ...limits }, () => clock.now);
  const cmd = (text: string, o: { key?: string; urgent?: boolean; expiresInMs?: number } = {}): QueuedCommand => ({
    command: Buffer.from(text),
    key: o.key ?? null,
    urgent: o.urgent ?? false,
    queuedAtMs: clock.now,
    expiresAtMs: o.expiresInMs === undefined ? Infinity : clock.now + o.expiresInMs,
  });
  const drain = (): string[] => queue.takeUpTo(Infinity).map((e) => e.command.toString());
  return { queue, clock, cmd, drain };
}

test('without keys it is a FIFO, and bytes follow what is queued', () => {
  const { queue, cmd, drain } = makeQueue();
  for (const t of ['a', 'bb', 'ccc']) queue.push(cmd(t));
  assert.equal(queue.length, 3);
  assert.equal(queue.bytes, 6);
  assert.equal(queue.peek()!.command.toString(), 'a');
  assert.equal(queue.shift()!.command.toString(), 'a');
  assert.equal(queue.bytes, 5);
  assert.deepEqual(drain(), ['bb', 'ccc']);
  assert.equal(queue.bytes, 0);
  assert.equal(queue.shift(), undefined);
});

test('a newer command with the same key replaces the queued one in place: its position, the new text, counted superseded', () => {
  const { queue, cmd, drain } = makeQueue();
  queue.push(cmd('register u1', { key: 'u1' }));
  queue.push(cmd('register u2', { key: 'u2' }));
  queue.push(cmd('other'));
  assert.equal(queue.push(cmd('unregister u1 (longer)', { key: 'u1' })), 'superseded');
  assert.equal(queue.push(cmd('register u3', { key: 'u3' })), 'queued');
  assert.equal(queue.length, 4);
  assert.equal(queue.bytes, 'unregister u1 (longer)register u2otherregister u3'.length);
  assert.deepEqual(drain(), ['unregister u1 (longer)', 'register u2', 'other', 'register u3']);
  assert.equal(queue.counters.superseded, 1);
  // Once taken, a key is free again: the next one queues behind.
  queue.push(cmd('register u1 again', { key: 'u1' }));
  assert.equal(queue.counters.superseded, 1);
  assert.deepEqual(drain(), ['register u1 again']);
});

test('urgent commands go before every non-urgent one, in their own order', () => {
  const { queue, cmd, drain } = makeQueue();
  for (let i = 0; i < 5; i++) queue.push(cmd(`reg${i}`, { key: `u${i}` }));
  queue.push(cmd('HEARTBEAT', { urgent: true }));
  queue.push(cmd('peerup', { urgent: true }));
  assert.deepEqual(drain(), ['HEARTBEAT', 'peerup', 'reg0', 'reg1', 'reg2', 'reg3', 'reg4']);
});

test('a registration that reaches the head after its expiry is discarded, counted expired; one in time is kept', () => {
  const { queue, clock, cmd, drain } = makeQueue();
  queue.push(cmd('short', { key: 'a', expiresInMs: 1000 }));
  queue.push(cmd('long', { key: 'b', expiresInMs: 60_000 }));
  queue.push(cmd('no expiry'));
  clock.now = 1000;
  assert.deepEqual(drain(), ['long', 'no expiry']);
  assert.equal(queue.counters.expired, 1);
  assert.equal(queue.bytes, 0);
});

test('a replacement carries the newer expiry: a fresh re-register saves the slot of an expired one', () => {
  const { queue, clock, cmd, drain } = makeQueue();
  queue.push(cmd('reg 1s', { key: 'a', expiresInMs: 1000 }));
  clock.now = 900;
  queue.push(cmd('reg 60s', { key: 'a', expiresInMs: 60_000 }));
  clock.now = 5000;
  assert.deepEqual(drain(), ['reg 60s']);
  assert.deepEqual(queue.counters, { superseded: 1, expired: 0, droppedTooOld: 0, droppedOldest: 0 });
});

test('the age bound discards what waited longer than maxAgeMs, counted droppedTooOld; 0 means no age bound', () => {
  const aged = makeQueue({ maxAgeMs: 100 });
  aged.queue.push(aged.cmd('old'));
  aged.clock.now = 50;
  aged.queue.push(aged.cmd('young'));
  aged.clock.now = 101;
  assert.deepEqual(aged.drain(), ['young']);
  assert.equal(aged.queue.counters.droppedTooOld, 1);

  const unbounded = makeQueue({ maxAgeMs: 0 });
  unbounded.queue.push(unbounded.cmd('old'));
  unbounded.clock.now = 1e9;
  assert.deepEqual(unbounded.drain(), ['old']);
});

test('count and byte bounds drop the oldest non-urgent commands first, counted droppedOldest', () => {
  const byCount = makeQueue({ maxCount: 3 });
  byCount.queue.push(byCount.cmd('HB', { urgent: true }));
  for (const t of ['a', 'b', 'c']) byCount.queue.push(byCount.cmd(t, { key: t }));
  assert.equal(byCount.queue.counters.droppedOldest, 1);
  assert.deepEqual(byCount.drain(), ['HB', 'b', 'c'], 'the oldest registration went, the urgent one stayed');

  const byBytes = makeQueue({ maxBytes: 10 });
  byBytes.queue.push(byBytes.cmd('aaaa', { key: 'a' }));
  byBytes.queue.push(byBytes.cmd('bbbb'));
  byBytes.queue.push(byBytes.cmd('aaaaaaa', { key: 'a' })); // the replacement grows the bytes past the bound
  assert.equal(byBytes.queue.counters.droppedOldest, 1);
  assert.deepEqual(byBytes.drain(), ['bbbb']);
  // The dropped key is free: a new one queues, it does not "replace" a ghost.
  byBytes.queue.push(byBytes.cmd('a2', { key: 'a' }));
  assert.equal(byBytes.queue.counters.superseded, 1);
  assert.deepEqual(byBytes.drain(), ['a2']);
});

test('prependFront puts taken commands back at the front in order; one whose key a newer queued command holds is superseded', () => {
  const { queue, cmd, drain } = makeQueue();
  for (const k of ['a', 'b', 'c']) queue.push(cmd(`${k}1`, { key: k }));
  queue.push(cmd('HB1', { urgent: true }));
  const taken = queue.takeUpTo(3); // HB1, a1, b1: written, then the connection drops
  assert.deepEqual(taken.map((e) => e.command.toString()), ['HB1', 'a1', 'b1']);
  queue.push(cmd('a2', { key: 'a' })); // arrived while a1 was unanswered
  queue.push(cmd('d1', { key: 'd' }));
  queue.prependFront(taken);
  assert.equal(queue.counters.superseded, 1, 'a1 is not put back: a2 is newer');
  // b1 is back and holds its key again: a newer b replaces it in place.
  queue.push(cmd('b2', { key: 'b' }));
  assert.equal(queue.counters.superseded, 2);
  assert.deepEqual(drain(), ['HB1', 'b2', 'c1', 'a2', 'd1']);
});

test('accounting: everything pushed is taken or counted, under a random mix of keys, urgency, expiry, age and bounds', () => {
  const { queue, clock, cmd } = makeQueue({ maxCount: 50, maxBytes: 2000, maxAgeMs: 60 });
  let seed = 0x9e3779b9;
  const rnd = (n: number) => {
    // xorshift32: seeded, so a failure repeats
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  let pushed = 0;
  let taken = 0;
  const lastTakenPerKey = new Map<string, number>();
  for (let step = 0; step < 20_000; step++) {
    clock.now += rnd(3);
    const overloaded = step % 4000 < 2000; // phases: pushes outpace takes, then the other way round
    if (rnd(overloaded ? 10 : 2) > 0) {
      const key = rnd(4) === 0 ? undefined : `k${rnd(30)}`;
      const seq = pushed++;
      queue.push(cmd(`${key ?? '-'}:${seq}`, { key, urgent: rnd(20) === 0 && key === undefined, expiresInMs: rnd(5) === 0 ? rnd(500) : undefined }));
    } else {
      for (const e of queue.takeUpTo(1 + rnd(3))) {
        taken++;
        const [key, seq] = e.command.toString().split(':');
        if (key !== '-') {
          const before = lastTakenPerKey.get(key!) ?? -1;
          assert.ok(Number(seq) > before, `per key, what comes out is newer than what came out before (${key}: ${seq} after ${before})`);
          lastTakenPerKey.set(key!, Number(seq));
        }
      }
    }
  }
  const c = queue.counters;
  assert.ok(c.superseded > 0 && c.expired > 0 && c.droppedOldest > 0 && c.droppedTooOld > 0, JSON.stringify(c));
  assert.equal(pushed, taken + queue.length + c.superseded + c.expired + c.droppedOldest + c.droppedTooOld, JSON.stringify({ pushed, taken, left: queue.length, ...c }));
  queue.takeUpTo(Infinity);
  assert.equal(queue.length, 0);
  assert.equal(queue.bytes, 0, 'the byte count follows every replacement, drop and take');
});
