import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BRIDGE_NODE_FLAGS } from '../../src/cli/node-flags.js';

test('the fs-event-multicast shebang carries exactly the Node flags the benchmark runs the bridge with', () => {
  const first = readFileSync(new URL('../../src/cli/main.js', import.meta.url), 'utf8').split('\n')[0]!;
  assert.equal(first, `#!/usr/bin/env -S node ${BRIDGE_NODE_FLAGS.join(' ')}`);
});
