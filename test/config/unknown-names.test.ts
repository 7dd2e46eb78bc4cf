/**
 * Issue 15.9: a misspelt parameter, flag or environment variable is an error naming the closest
 * known one. Before, `<param name="pks" ...>` was a warning and the bridge ran unencrypted.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseRunFlags } from '../../src/config/config.js';
import { closestNames, editDistance } from '../../src/config/suggest.js';
import { moduleXml, runCli } from '../../testkit/bridge-harness.js';

const SECRET = 'Typo-Psk-Secret-41';

function configFile(t: TestContext, params: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsem-typo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'event_multicast.conf.xml');
  writeFileSync(file, moduleXml(params));
  return file;
}

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.problems;
  }
  assert.fail('accepted');
}

const BASE = { address: '127.0.0.9', port: '4242', bindings: 'HEARTBEAT' };

test('<param name="pks"> is an error naming the file, the line and "psk"; its value is not shown', (t) => {
  // moduleXml writes the params from line 3 on: pks is the fourth param, line 6.
  const file = configFile(t, { ...BASE, pks: SECRET });
  const p = problems(() => loadConfig({ file, flags: {}, env: {} }));
  assert.deepEqual(p, [`unknown parameter "pks" in ${file} line 6 — did you mean "psk"?`]);
  assert.ok(!p.join('\n').includes(SECRET));
});

test('the C module spellings and typos of the bridge params get the right suggestion', () => {
  const cases: Array<[string, string]> = [
    ['source_adress', '"source_address"'],
    ['Source-Addres-IPv6', '"source_address_ipv6"'],
    ['bindigns', '"bindings"'],
    ['ESL_PASWORD', '"esl-password"'],
    ['esl-pass', '"esl-password"'],
    ['nats-server', '"nats-servers"'],
    ['peer-timeout-seconds', '"peer-timeout"'],
    ['password', '"esl-password" or "nats-password"'],
  ];
  for (const [typo, wanted] of cases) {
    const p = problems(() => loadConfig({ xmlText: moduleXml({ ...BASE, [typo]: 'x' }), flags: {}, env: {} }));
    assert.equal(p.length, 1, typo);
    assert.match(p[0]!, new RegExp(`^unknown parameter "${typo}" in configuration line 6 — did you mean ${wanted}\\?$`), typo);
  }
  // Nothing close: no guess, a pointer to the list instead.
  const far = problems(() => loadConfig({ xmlText: moduleXml({ ...BASE, frobnicate: 'x' }), flags: {}, env: {} }));
  assert.deepEqual(far, [`unknown parameter "frobnicate" in configuration line 6; it is not a parameter of mod_event_multicast nor of this bridge (see 'fs-event-multicast run --help')`]);
});

test('every problem is reported at once, and a name with control bytes is escaped', () => {
  const p = problems(() => loadConfig({ xmlText: moduleXml({ ...BASE, pks: 'a', 'ttl\u001b': '1', port: 'x' }), flags: {}, env: {} }));
  assert.equal(p.length, 3, JSON.stringify(p));
  assert.ok(p.some((m) => m === 'unknown parameter "ttl\\x1b" in configuration line 7 — did you mean "ttl"?'));
  assert.ok(p.every((m) => !m.includes('\u001b')));
});

test('a misspelt flag: parseRunFlags and loadConfig both name the closest flag, never the value', () => {
  const r = parseRunFlags(['--config', 'f.xml', '--pks', SECRET, '--esl_hots', 'h']);
  assert.deepEqual(r.errors, ['unknown flag --pks — did you mean --psk?', 'unknown flag --esl_hots — did you mean --esl-host?']);
  const p = problems(() => loadConfig({ xmlText: moduleXml(BASE), flags: { pks: SECRET }, env: {} }));
  assert.deepEqual(p, ['unknown flag --pks — did you mean --psk?']);
});

test('a misspelt FS_EVENT_MULTICAST_ variable is an error naming the one meant; its value (a secret) is not shown', () => {
  const p = problems(() => loadConfig({ xmlText: moduleXml(BASE), flags: {}, env: { FS_EVENT_MULTICAST_PKS: SECRET, FS_EVENT_MULTICAST_NATS_PASS: SECRET, HOME: '/root' } }));
  assert.deepEqual(p, [
    'unknown environment variable FS_EVENT_MULTICAST_NATS_PASS — did you mean FS_EVENT_MULTICAST_NATS_PASSWORD?',
    'unknown environment variable FS_EVENT_MULTICAST_PKS — did you mean FS_EVENT_MULTICAST_PSK?',
  ]);
  // The right names load.
  const ok = loadConfig({ xmlText: moduleXml(BASE), flags: {}, env: { FS_EVENT_MULTICAST_PSK: SECRET, FS_EVENT_MULTICAST_ESL_PASSWORD: 'pw-12345' } });
  assert.equal(ok.config.psk?.reveal(), SECRET);
});

test('run with <param name="pks">: exit 1 and the message, instead of running unencrypted', { timeout: 15_000 }, async (t) => {
  const file = configFile(t, { ...BASE, pks: SECRET, 'status-listen': 'off' });
  const r = await runCli(t, ['run', '--config', file]);
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stderr.includes(`unknown parameter "pks" in ${file} line 6 — did you mean "psk"?`), r.stderr);
  assert.ok(!(r.stderr + r.stdout).includes(SECRET));
});

test('edit distance counts a swap of neighbours as one edit; closestNames keeps only plausible typos', () => {
  assert.equal(editDistance('pks', 'psk'), 1);
  assert.equal(editDistance('ttl', 'ttl'), 0);
  assert.equal(editDistance('', 'abc'), 3);
  assert.deepEqual(closestNames('pks', ['psk', 'port', 'ttl']), ['psk']);
  assert.deepEqual(closestNames('zzzzzz', ['psk', 'port', 'ttl']), []);
  assert.deepEqual(closestNames('', ['psk']), []);
});
