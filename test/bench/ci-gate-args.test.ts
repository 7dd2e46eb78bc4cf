/** ci-gate's arguments: --handicap and --max-cost-increase are checked before anything runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const gate = (...args: string[]) => spawnSync(process.execPath, ['dist/bench/gate/ci-gate.js', ...args], { encoding: 'utf8', timeout: 30_000 });

test('ci-gate refuses a handicap that is not a percentage, or one given with --results (nothing to handicap)', () => {
  const bad = gate('--handicap', 'lots');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--handicap must be a percentage such as 10%/);
  const withResults = gate('--handicap', '15%', '--results', 'bench/gate/baseline.json');
  assert.equal(withResults.status, 2);
  assert.match(withResults.stderr, /--handicap applies to a run, not to --results/);
  const cost = gate('--max-cost-increase', '150%');
  assert.equal(cost.status, 2);
  assert.match(cost.stderr, /--max-cost-increase must be from 0% to below 100%/);
});
