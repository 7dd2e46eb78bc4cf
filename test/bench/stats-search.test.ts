/** Benchmark statistics and the search for the highest rate that loses nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, percentile, relativeHalfRange, relativeMad } from '../../src/benchmark/stats.js';
import { searchSustainedRate } from '../../src/benchmark/search.js';

test('median of odd and even counts, unsorted input left untouched', () => {
  const v = [5, 1, 3];
  assert.equal(median(v), 3);
  assert.deepEqual(v, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
});

test('nearest-rank percentiles', () => {
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(v, 50), 50);
  assert.equal(percentile(v, 99), 99);
  assert.equal(percentile(v, 100), 100);
  assert.equal(percentile([7], 99.9), 7);
  assert.throws(() => percentile(v, 101), RangeError);
});

test('relative MAD: one wild run barely moves it, unlike the range', () => {
  assert.equal(relativeMad([90, 100, 110]), 0.1);
  assert.equal(relativeMad([100, 100, 101, 99, 20]), 0.01);
  assert.ok(relativeHalfRange([100, 100, 101, 99, 20]) > 0.4);
  assert.equal(relativeMad([5]), 0);
});

test('relative half range: the spread of runs around their median', () => {
  assert.equal(relativeHalfRange([90, 100, 110]), 0.1);
  assert.equal(relativeHalfRange([100]), 0);
});

/** A system that loses nothing up to `capacity` events/s. */
const system = (capacity: number) => {
  const tried: number[] = [];
  return { tried, trial: async (rate: number) => (tried.push(rate), { pass: rate <= capacity }) };
};

test('the search brackets the capacity and narrows it to the precision', async () => {
  const s = system(93_000);
  const r = await searchSustainedRate(s.trial, { start: 20_000, floor: 1000, ceiling: 1e6, growth: 2, precision: 0.05, maxTrials: 20 });
  assert.ok(r.rate <= 93_000, `${r.rate} passes only if <= capacity`);
  assert.ok(r.rate >= 93_000 / 1.05, `${r.rate} within 5% of the capacity`);
  assert.ok(r.failedAt !== null && r.failedAt > 93_000);
  assert.deepEqual(s.tried.slice(0, 4), [20_000, 40_000, 80_000, 160_000]);
});

test('the search goes down when the first rate already loses events', async () => {
  const s = system(7_000);
  const r = await searchSustainedRate(s.trial, { start: 20_000, floor: 1000, ceiling: 1e6, growth: 2, precision: 0.05, maxTrials: 20 });
  assert.deepEqual(s.tried.slice(0, 3), [20_000, 10_000, 5_000]);
  assert.ok(r.rate >= 7_000 / 1.05 && r.rate <= 7_000);
});

test('the search reports 0 when even the floor loses events, and stops there', async () => {
  const s = system(10);
  const r = await searchSustainedRate(s.trial, { start: 4000, floor: 1000, ceiling: 1e6, maxTrials: 20 });
  assert.equal(r.rate, 0);
  assert.equal(s.tried[s.tried.length - 1], 1000);
});

test('the search never exceeds its trial budget or its ceiling', async () => {
  const s = system(1e9);
  await searchSustainedRate(s.trial, { start: 20_000, floor: 1000, ceiling: 100_000, growth: 2, maxTrials: 3 });
  assert.equal(s.tried.length, 3);
  assert.ok(s.tried.every((x) => x <= 100_000));
  const all = system(1e9);
  const capped = await searchSustainedRate(all.trial, { start: 20_000, floor: 1000, ceiling: 100_000, growth: 2, maxTrials: 10 });
  assert.equal(capped.rate, 100_000);
  assert.equal(capped.failedAt, null);
});

test('bad search options are refused', async () => {
  await assert.rejects(searchSustainedRate(async () => ({ pass: true }), { start: 1, floor: 0, ceiling: 1, maxTrials: 1 }), /floor/);
  await assert.rejects(searchSustainedRate(async () => ({ pass: true }), { start: 1, floor: 1, ceiling: 2, growth: 1, maxTrials: 1 }), /growth/);
});
