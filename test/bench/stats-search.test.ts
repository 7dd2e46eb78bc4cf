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

/** A deterministic noisy system: capacity `capacity`, and trials listed in `flukes` (by index) give the wrong answer. */
const noisy = (capacity: number, flukes: Set<number>) => {
  const tried: number[] = [];
  return {
    tried,
    trial: async (rate: number) => {
      const i = tried.push(rate) - 1;
      const truth = rate <= capacity;
      return { pass: flukes.has(i) ? !truth : truth };
    },
  };
};

const PRECISE = { start: 20_000, floor: 1000, ceiling: 1e6, growth: 2, precision: 0.03, confirmations: 1, maxTrials: 30 } as const;

test('the search brackets the answer to within 3% and confirms it, for capacities across the range', async () => {
  for (const capacity of [1_500, 7_321, 20_000, 47_500, 81_234, 99_999, 333_333]) {
    const s = system(capacity);
    const r = await searchSustainedRate(s.trial, PRECISE);
    assert.equal(r.stop, 'converged', `capacity ${capacity}`);
    assert.ok(r.converged);
    assert.ok(r.rate <= capacity, `${r.rate} <= ${capacity}`);
    assert.ok(r.bracket.hi !== null && r.bracket.hi > capacity, `hi ${r.bracket.hi} fails, so above ${capacity}`);
    assert.ok(r.relativeWidth !== null && r.relativeWidth <= 0.03, `bracket [${r.bracket.lo}, ${r.bracket.hi}] within 3%`);
    assert.equal(r.passesAtRate, 2, 'the answer passed twice (one confirmation)');
    assert.ok(s.tried.length <= 16, `${s.tried.length} trials for capacity ${capacity}`);
  }
});

test('a lucky pass above the capacity is not kept once a lower rate fails', async () => {
  // Capacity 50k; the trial at 80k (index 2) passes by luck. The search may climb, but every later
  // failure at or below a lucky pass discards it: the answer stays at or below the capacity.
  const s = noisy(50_000, new Set([2]));
  const r = await searchSustainedRate(s.trial, PRECISE);
  assert.equal(s.tried[2], 80_000);
  assert.ok(r.rate <= 50_000 && r.rate >= 50_000 / 1.03, `answer ${r.rate}`);
  assert.ok(r.bracket.hi !== null && r.bracket.hi > 50_000);
});

test('a confirmation that fails makes the answer the new upper bound and the search goes on below it', async () => {
  const s = system(60_000);
  const clean = await searchSustainedRate(s.trial, PRECISE);
  const confirmIndex = clean.steps.length - 1; // the last trial of a clean search is the confirmation
  assert.equal(clean.steps[confirmIndex]!.rate, clean.rate);
  const n = noisy(60_000, new Set([confirmIndex]));
  const r = await searchSustainedRate(n.trial, PRECISE);
  assert.equal(r.stop, 'converged');
  assert.ok(r.rate < clean.rate, `after the failed confirmation of ${clean.rate} the answer ${r.rate} is lower`);
  assert.ok(r.bracket.hi !== null && r.bracket.hi <= clean.rate);
  assert.ok(r.relativeWidth! <= 0.03);
  assert.equal(r.passesAtRate, 2);
});

test('a system that fails at random never gets an answer above its capacity, and the trial budget holds', async () => {
  let seed = 12345;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let run = 0; run < 50; run++) {
    let trials = 0;
    const r = await searchSustainedRate(
      async (rate: number) => {
        trials++;
        // Below capacity a step fails 10% of the time (a disturbance); above it always fails.
        return { pass: rate <= 70_000 && random() > 0.1 };
      },
      { ...PRECISE, maxTrials: 14 },
    );
    assert.ok(trials <= 14);
    assert.ok(r.rate <= 70_000, `run ${run}: ${r.rate}`);
    if (r.converged) assert.ok(r.relativeWidth! <= 0.03);
    else assert.equal(r.stop, 'trials');
  }
});

test('the search stops on its time budget, with the bracket it has', async () => {
  let clock = 0;
  const s = system(55_000);
  const r = await searchSustainedRate(
    async (rate) => {
      clock += 1500; // each trial takes 1.5 s
      return s.trial(rate);
    },
    { ...PRECISE, maxSeconds: 6, now: () => clock },
  );
  assert.equal(r.stop, 'time');
  assert.equal(s.tried.length, 4);
  assert.equal(r.converged, false);
  assert.equal(r.rate, 40_000);
  assert.equal(r.bracket.hi, 56_569); // 20k, 40k pass; 80k and then sqrt(40k·80k) fail
  assert.equal(r.seconds, 6);
});

test('the trial budget stops an unconverged search and says so', async () => {
  const s = system(55_000);
  const r = await searchSustainedRate(s.trial, { ...PRECISE, maxTrials: 5 });
  assert.equal(s.tried.length, 5);
  assert.equal(r.stop, 'trials');
  assert.equal(r.converged, false);
  assert.ok(r.rate <= 55_000);
});
