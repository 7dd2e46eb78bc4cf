import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/util/token-bucket.js';

test('token bucket: a burst at once, then the rate; time going back gives nothing', () => {
  const b = new TokenBucket(20, 5, 1_000);
  const takes = (n: number, now: number) => Array.from({ length: n }, () => b.take(now)).filter(Boolean).length;
  assert.equal(takes(10, 1_000), 5);
  assert.equal(takes(10, 1_100), 2, '100 ms at 20/s');
  assert.equal(takes(10, 1_000), 0, 'a clock going back refills nothing');
  assert.equal(takes(100, 60_000), 5, 'never more than the burst');
  assert.throws(() => new TokenBucket(0, 5, 0), RangeError);
});
