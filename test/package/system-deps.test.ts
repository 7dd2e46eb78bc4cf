/**
 * `npm test` on a machine without the programs the tests run: it stops before any test with one
 * line naming every package to install (or the switch that skips those tests), instead of a
 * stack trace per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, ['scripts/ensure-system-deps.mjs'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', FSEM_SYSTEM_DEPS_PATH: '/nonexistent', FSEM_SYSTEM_DEPS_NO_INSTALL: '1', ...env } });

test('nothing installed and no way to install: exit 1 with one line naming the Debian packages and the skip switches', () => {
  const r = run({});
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^npm test needs nats-server and ip and chromium and promtool: install the Debian packages nats-server iproute2 chromium prometheus \(apt-get install nats-server iproute2 chromium prometheus\)/);
  assert.match(lines[0]!, /FSEM_ALLOW_SKIP_NATS=1/);
});

test('the skip switches are honoured: only what cannot be skipped is asked for', () => {
  const r = run({ FSEM_ALLOW_SKIP_NATS: '1', FSEM_ALLOW_SKIP_BROWSER: '1', FSEM_ALLOW_SKIP_PROMTOOL: '1' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^npm test needs ip: install the Debian package iproute2/);
});
