/**
 * Issue 18.1 and 18.2, at the moment they happen: the guide's example bindings (no HEARTBEAT,
 * `CUSTOM multicast::event`) give one warning naming the consequence and the fix and one info
 * notice, at start and again on every reload; the shipped examples give neither.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.js';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { moduleXml, spawnCli, waitFor, withTimeout } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';

const GUIDE_BINDINGS = 'PRESENCE_IN CUSTOM sofia::register CUSTOM multicast::event';
const HEARTBEAT_WARNING = /^bindings: peers will never see this box: HEARTBEAT is not in bindings .*add HEARTBEAT, and RE_SCHEDULE as the guide's users do/;
const MULTICAST_NOTICE = /^bindings: multicast::event in bindings is for reception in the guide; this bridge \(like the C module\) never sends multicast::\* events — it is ignored/;

test("loadConfig: the guide's bindings give the HEARTBEAT warning and the multicast::event notice, once each", () => {
  const { warnings, notices } = loadConfig({ xmlText: moduleXml({ address: '127.0.0.9', port: '4242', bindings: GUIDE_BINDINGS }), flags: {}, env: {} });
  assert.equal(warnings.filter((w) => HEARTBEAT_WARNING.test(w)).length, 1, JSON.stringify(warnings));
  assert.deepEqual(notices.filter((n) => MULTICAST_NOTICE.test(n)).length, 1, JSON.stringify(notices));
  assert.ok(!warnings.some((w) => w.includes('multicast::event')), 'the notice is not a warning');
  // With the fix applied: neither.
  const fixed = loadConfig({ xmlText: moduleXml({ address: '127.0.0.9', port: '4242', bindings: 'HEARTBEAT RE_SCHEDULE PRESENCE_IN CUSTOM sofia::register' }), flags: {}, env: {} });
  assert.deepEqual([fixed.warnings, fixed.notices], [[], []]);
  // The shipped examples: neither.
  const conf = new URL('../../../conf/', import.meta.url);
  for (const f of ['event_multicast.conf.xml', 'examples/hub.conf.xml', 'examples/satellite.conf.xml']) {
    const r = loadConfig({ file: fileURLToPath(new URL(f, conf)), flags: {}, env: { FS_EVENT_MULTICAST_PSK: 'cluster-key' } });
    assert.deepEqual([r.warnings, r.notices], [[], []], f);
  }
});

function logLines(stderr: string): Array<{ level: number; msg: string; esl?: string }> {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });
}

function configFile(t: TestContext, params: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsem-advice-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'event_multicast.conf.xml');
  writeFileSync(file, moduleXml(params));
  return file;
}

test('run: the warning (warn) and the notice (info) once at start, once more on a SIGHUP reload', { timeout: 30_000 }, async (t) => {
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-advice' });
  t.after(() => fs.stop());
  const port = await freeUdpPort('127.0.0.2');
  const file = configFile(t, {
    address: '127.0.0.2',
    port: String(port),
    bindings: GUIDE_BINDINGS,
    'source-address': '127.0.0.1',
    'status-listen': 'off',
    workers: '0',
    'esl-port': String(fs.port),
  });
  const run = spawnCli(t, ['run', '--config', file]);
  const count = (re: RegExp, level: number) => logLines(run.stderr()).filter((l) => l.level === level && re.test(l.msg)).length;
  // Connected to FreeSWITCH: past start, so the SIGHUP handler is installed (a SIGHUP before it
  // would end the process).
  await waitFor('the bridge connected', () => logLines(run.stderr()).some((l) => l.msg === 'connected to FreeSWITCH event socket' && l.esl === 'events'), 10_000, () => run.stderr());
  assert.equal(count(HEARTBEAT_WARNING, 40), 1, run.stderr());
  assert.equal(count(MULTICAST_NOTICE, 30), 1, run.stderr());

  run.signal('SIGHUP');
  await waitFor('the reload to log the advice again', () => count(HEARTBEAT_WARNING, 40) === 2 && count(MULTICAST_NOTICE, 30) === 2, 10_000, () => run.stderr());
  run.signal('SIGTERM');
  assert.equal(await withTimeout(run.exited, 10_000, 'exit after SIGTERM'), 0, run.stderr());
  assert.equal(count(HEARTBEAT_WARNING, 40), 2);
  assert.equal(count(MULTICAST_NOTICE, 30), 2);
});
