/** Fifo: order kept through pushes, shifts, takes and put-backs, across its internal compaction. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fifo } from '../../src/util/fifo.js';

test('items come out in the order they went in, across many compactions', () => {
  const q = new Fifo<number>();
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 3000; i++) q.push(next++);
    const out = round % 2 === 0 ? q.take(2500) : Array.from({ length: 2500 }, () => q.shift()!);
    for (const v of out) assert.equal(v, expect++);
    assert.equal(q.length, next - expect);
  }
  assert.deepEqual([...q].slice(0, 3), [expect, expect + 1, expect + 2]);
  assert.equal(q.peek(), expect);
});

test('shift and peek on an empty queue give undefined; clear counts; unshiftAll puts items back in front, in order', () => {
  const q = new Fifo<string>();
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
  q.push('c');
  q.push('d');
  q.unshiftAll(['a', 'b']);
  assert.deepEqual(q.take(10), ['a', 'b', 'c', 'd']);
  q.push('x');
  assert.equal(q.clear(), 1);
  assert.equal(q.length, 0);
});
