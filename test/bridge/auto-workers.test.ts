import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoWorkers } from '../../src/bridge/bridge.js';

test('workers=auto: none on two cores or fewer (measured best there), else all but two cores, at most 8', () => {
  assert.deepEqual([1, 2, 3, 4, 8, 16, 64].map((c) => autoWorkers(c)), [0, 0, 1, 2, 6, 8, 8]);
});
