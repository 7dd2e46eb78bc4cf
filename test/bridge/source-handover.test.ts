/**
 * A reload's switch from the old event subscription to the new one (src/bridge/source-handover.ts):
 * every event passed on once, in FreeSWITCH's order, whichever socket delivers first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SourceHandover } from '../../src/bridge/source-handover.js';
import type { EslEventSource } from '../../src/esl/event-source.js';

function source(): EslEventSource & { closed: boolean } {
  const s = { closed: false, close: async () => void (s.closed = true) };
  return s as unknown as EslEventSource & { closed: boolean };
}

const events = (from: number, to: number): Buffer[] =>
  Array.from({ length: to - from + 1 }, (_, i) => Buffer.from(`Event-Name: CUSTOM\nEvent-Sequence: ${from + i}\n\n`, 'latin1'));

function handover() {
  const old = source();
  const next = source();
  const passed: number[] = [];
  const done: string[] = [];
  const h = new SourceHandover(old, next, {
    passOn: (texts) => passed.push(...texts.map((t) => Number(/Event-Sequence: (\d+)/.exec(t.toString('latin1'))![1]))),
    done: (_n, how) => done.push(how),
  });
  h.nextSubscribed();
  return { h, old, next, passed, done };
}

test('the streams meet: the old stream up to the new one\'s first event, the new one from it on', () => {
  const { h, old, next, passed, done } = handover();
  h.onEvents(old, events(1, 5));
  h.onEvents(next, events(6, 8));
  h.onEvents(old, events(6, 9)); // the old socket reaches the switch point: it ends there
  h.onEvents(next, events(9, 10)); // after the handover the bridge reads `next` itself: ignored here
  assert.deepEqual(passed, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(done, ['streams met']);
  assert.ok(old.closed && !next.closed);
});

test('the old socket delivers events the new one has too, before the new one delivers its first: each passed on once', () => {
  const { h, old, next, passed, done } = handover();
  h.onEvents(old, events(1, 10));
  h.onEvents(old, events(11, 20)); // also on the new socket, not yet read there
  h.onEvents(next, events(11, 20)); // the new stream's first delivery starts below what went out
  h.onEvents(next, events(21, 25));
  h.onEvents(old, events(21, 22)); // reaches the switch point
  assert.deepEqual(passed, Array.from({ length: 25 }, (_, i) => i + 1), 'none twice, none lost, in order');
  assert.deepEqual(done, ['streams met']);
});

test('a new binding\'s event only the new stream carries is not dropped with the duplicates', () => {
  const { h, old, next, passed } = handover();
  h.onEvents(old, events(1, 4)); // old bindings: sequences 1..4 (5 is an event only the new bindings take)
  h.onEvents(old, events(6, 6));
  h.onEvents(next, events(5, 7));
  h.onEvents(old, events(7, 7));
  assert.deepEqual([...passed].sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7], 'every event once');
});

test('the deadline ends a handover whose old stream went quiet, and passes on what the new one buffered', async () => {
  const { h, old, next, passed, done } = handover();
  h.onEvents(old, events(1, 3));
  h.onEvents(next, events(4, 6));
  h.complete('deadline');
  assert.deepEqual(passed, [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(done, ['deadline']);
  h.onEvents(old, events(7, 8));
  assert.deepEqual(passed, [1, 2, 3, 4, 5, 6], 'nothing after the handover ended');
});

test('the old stream idle, the new one carrying an event only its bindings take: passed on at the deadline', () => {
  const { h, next, passed, done } = handover();
  h.onEvents(next, events(7, 7));
  h.complete('deadline');
  assert.deepEqual(passed, [7]);
  assert.deepEqual(done, ['deadline']);
});
