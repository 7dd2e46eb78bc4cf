/**
 * The shipped systemd unit is valid for systemd itself (`systemd-analyze verify`) and keeps the
 * real-time priority the bridge needs beside a busy FreeSWITCH. Skipped, saying so, where
 * systemd-analyze is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REALTIME_POLICY } from '../../src/host/realtime.js';

const UNIT = resolve('conf/fs-event-multicast.service');
const CLI = resolve('dist/src/cli/main.js');

test('conf/fs-event-multicast.service passes systemd-analyze verify', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined) {
    t.skip('systemd-analyze is not installed (Debian package systemd): the unit was not verified');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'fsem-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // verify checks that ExecStart's program exists: point it at this checkout's CLI.
  const text = readFileSync(UNIT, 'utf8');
  assert.match(text, /^ExecStart=\/usr\/local\/bin\/fs-event-multicast run /m);
  const copy = join(dir, 'fs-event-multicast.service');
  writeFileSync(copy, text.replace(/^ExecStart=\/usr\/local\/bin\/fs-event-multicast/m, `ExecStart=${process.execPath} ${CLI}`));
  const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `systemd-analyze verify: ${r.stdout}${r.stderr}`);
  assert.equal(r.stderr.trim(), '', 'no warnings either');
});

test('the unit runs the bridge real-time at the lowest priority, the policy `run` switches itself to (realtime auto), and never forbids it', () => {
  const text = readFileSync(UNIT, 'utf8');
  assert.match(text, /^CPUSchedulingPolicy=rr$/m);
  assert.match(text, /^CPUSchedulingPriority=1$/m);
  assert.match(text, new RegExp(`^CPUSchedulingPolicy=${REALTIME_POLICY.policy}$`, 'm'));
  assert.match(text, new RegExp(`^CPUSchedulingPriority=${REALTIME_POLICY.priority}$`, 'm'));
  assert.match(text, /^CPUSchedulingResetOnFork=no$/m, 'threads started later inherit the policy (as chrt without --reset-on-fork)');
  assert.doesNotMatch(text, /^RestrictRealtime=yes$/m);
});
