/**
 * Issue 15.10: `fs-event-multicast check --config FILE [flags] [--json]` validates without
 * starting anything, lists where traffic goes (non-loopback destinations marked), every value in
 * use with its source (file, flag, env, default), secrets redacted; exit 0 valid, 1 invalid.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { effectiveSettings } from '../../src/config/describe.js';
import { PARAM_SPECS } from '../../src/config/params.js';
import { moduleXml, runCli } from '../../testkit/bridge-harness.js';

const PSK = 'Check-Psk-Secret-8c';
const ESL_PW = 'Check-Esl-Pw-31';
const NATS_PW = 'Check-Nats-Pw-77';

function configFile(t: TestContext, params: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsem-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'event_multicast.conf.xml');
  writeFileSync(file, moduleXml(params));
  return file;
}

function assertNoSecret(text: string): void {
  for (const s of [PSK, ESL_PW, NATS_PW, 'natsuser']) assert.ok(!text.includes(s), `a secret in: ${text}`);
}

const PARAMS = {
  address: '225.1.1.1, 10.0.0.7, 127.0.0.9',
  port: '4242',
  bindings: 'HEARTBEAT PRESENCE_IN',
  'esl-password': ESL_PW,
  'nats-servers': 'nats://127.0.0.1:4222',
  'nats-user': 'natsuser',
};

test('check, text: valid, where traffic goes (non-loopback marked), each value with its source, secrets redacted', { timeout: 15_000 }, async (t) => {
  const file = configFile(t, PARAMS);
  const r = await runCli(t, ['check', '--config', file, '--esl-host', '127.0.0.1', '--ttl', '4'], 10_000, {
    FS_EVENT_MULTICAST_PSK: PSK,
    FS_EVENT_MULTICAST_NATS_PASSWORD: NATS_PW,
  });
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.ok(out.startsWith(`fs-event-multicast check: ${file} is valid\n`), out);
  const line = (re: RegExp) => out.split('\n').find((l) => re.test(l)) ?? assert.fail(`no line ${re} in:\n${out}`);
  assert.match(line(/^ {2}send .*225\.1\.1\.1:4242/), /UDP IPv4 multicast, legacy format \(psk\) +225\.1\.1\.1:4242 +NOT loopback: multicast, leaves this host \(ttl 4\)$/);
  assert.match(line(/^ {2}send .*10\.0\.0\.7:4242/), /NOT loopback: leaves this host$/);
  assert.match(line(/^ {2}send .*127\.0\.0\.9:4242/), /loopback: this host only$/);
  assert.match(line(/^ {2}receive .*0\.0\.0\.0:4242/), /all interfaces: reachable from the network$/);
  assert.match(line(/^ {2}connect .*NATS server/), /nats:\/\/127\.0\.0\.1:4222 +loopback: this host only$/);
  assert.match(line(/^ {2}connect .*event socket/), /127\.0\.0\.1:8021 +loopback: this host only$/);
  assert.match(line(/^ {2}listen .*status endpoint/), /127\.0\.0\.1:8088 +loopback: this host only$/);
  assert.match(out, /^Where traffic goes \(3 of 7 reach beyond this host\):$/m);
  // Settings: param, source, value.
  assert.match(line(/^ {2}address /), /^ {2}address +file +225\.1\.1\.1, 10\.0\.0\.7, 127\.0\.0\.9$/);
  assert.match(line(/^ {2}ttl /), /^ {2}ttl +flag +4$/);
  assert.match(line(/^ {2}esl-host /), /^ {2}esl-host +flag +127\.0\.0\.1$/);
  assert.match(line(/^ {2}psk /), /^ {2}psk +env +\[redacted\]$/);
  assert.match(line(/^ {2}esl-password /), /^ {2}esl-password +file +\[redacted\]$/);
  assert.match(line(/^ {2}nats-user /), /^ {2}nats-user +file +\[redacted\]$/);
  assert.match(line(/^ {2}nats-password /), /^ {2}nats-password +env +\[redacted\]$/);
  assert.match(line(/^ {2}replay-window /), /^ {2}replay-window +default +300$/);
  for (const p of PARAM_SPECS) line(new RegExp(`^ {2}${p.display} +(file|flag|env|default) `));
  assertNoSecret(r.stdout + r.stderr);
});

test('check --json: the same as one object', { timeout: 15_000 }, async (t) => {
  const file = configFile(t, PARAMS);
  const r = await runCli(t, ['check', '--json', '--config', file], 10_000, { FS_EVENT_MULTICAST_PSK: PSK, FS_EVENT_MULTICAST_NATS_PASSWORD: NATS_PW });
  assert.equal(r.code, 0, r.stderr);
  assertNoSecret(r.stdout + r.stderr);
  const j = JSON.parse(r.stdout) as {
    valid: boolean;
    file: string;
    errors: string[];
    settings: Array<{ param: string; value: string; source: string }>;
    traffic: Array<{ direction: string; target: string; leavesHost: boolean }>;
  };
  assert.equal(j.valid, true);
  assert.equal(j.file, file);
  assert.deepEqual(j.errors, []);
  assert.deepEqual(j.settings.find((s) => s.param === 'psk'), { param: 'psk', value: '[redacted]', source: 'env' });
  assert.deepEqual(j.settings.find((s) => s.param === 'port'), { param: 'port', value: '4242', source: 'file' });
  assert.equal(j.settings.length, PARAM_SPECS.length);
  const to = (target: string) => j.traffic.find((x) => x.direction === 'send' && x.target === target);
  assert.equal(to('10.0.0.7:4242')?.leavesHost, true);
  assert.equal(to('225.1.1.1:4242')?.leavesHost, true);
  assert.equal(to('127.0.0.9:4242')?.leavesHost, false);
});

test('check on an invalid configuration: exit 1 with every error (file, flag, env), no secret; --json says valid false', { timeout: 15_000 }, async (t) => {
  const file = configFile(t, { address: PARAMS.address, port: 'x', bindings: 'HEARTBEAT', 'esl-password': ESL_PW, 'nats-servers': `nats://natsuser:${NATS_PW}@127.0.0.1:4222`, pks: PSK });
  const args = ['check', '--config', file, '--esl-hots', '127.0.0.1'];
  const env = { FS_EVENT_MULTICAST_PKS: PSK };
  const r = await runCli(t, args, 10_000, env);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^fs-event-multicast check: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is NOT valid \\(5 errors\\):\n`));
  for (const m of [
    '  - unknown flag --esl-hots — did you mean --esl-host?',
    '  - unknown environment variable FS_EVENT_MULTICAST_PKS — did you mean FS_EVENT_MULTICAST_PSK?',
    `  - unknown parameter "pks" in ${file} line 8 — did you mean "psk"?`,
    "  - port 'x': not a port number; allowed: 1..65535",
    '  - nats-servers: credentials in the URL (a user or password before the host) are not allowed',
  ]) {
    assert.ok(r.stderr.includes(m), `missing ${m} in:\n${r.stderr}`);
  }
  assertNoSecret(r.stdout + r.stderr);
  const j = await runCli(t, [...args, '--json'], 10_000, env);
  assert.equal(j.code, 1);
  const parsed = JSON.parse(j.stdout) as { valid: boolean; errors: string[]; settings: unknown[] };
  assert.equal(parsed.valid, false);
  assert.equal(parsed.errors.length, 5);
  assert.deepEqual(parsed.settings, []);
  assertNoSecret(j.stdout + j.stderr);
});

test('check starts nothing: no connection to the event socket, no bind of the UDP port or the status port', { timeout: 15_000 }, async (t) => {
  // Taken, exclusively, by this test: a bridge that bound or connected would fail or be seen.
  let connections = 0;
  const esl = await listen(t, createServer((s) => (connections++, s.destroy())));
  const statusTaken = await listen(t, createServer((s) => s.destroy()));
  const udp = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => udp.close(() => r())));
  const file = configFile(t, {
    address: '127.0.0.9',
    port: String(udp.address().port),
    'source-address': '127.0.0.1',
    bindings: 'HEARTBEAT',
    'esl-port': String(esl),
    'status-listen': `127.0.0.1:${statusTaken}`,
  });
  const r = await runCli(t, ['check', '--config', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /is valid/);
  assert.equal(connections, 0);
});

test('check: help, and usage errors', { timeout: 15_000 }, async (t) => {
  const top = await runCli(t, ['--help']);
  assert.match(top.stdout, /^ {2}check +validate a configuration without starting anything/m);
  const help = await runCli(t, ['check', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: fs-event-multicast check --config FILE \[--param value \.\.\.\] \[--json\]/);
  const missing = await runCli(t, ['check']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /check: --config FILE is required/);
});

test('check escapes control bytes from the file; every param has a value shown (a secret only as [redacted])', (t) => {
  const file = configFile(t, { address: '127.0.0.9', port: '4242', bindings: 'HEARTBEAT CUSTOM evil\u001b[2Jname' });
  return runCli(t, ['check', '--config', file]).then((r) => {
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('\u001b'));
    assert.ok(r.stdout.includes('evil\\x1b[2Jname'));
    // Token credentials too: every secret param, set, shows [redacted].
    const { config, sources } = loadConfig({
      xmlText: moduleXml({ address: '127.0.0.9', port: '4242', psk: PSK, 'esl-password': ESL_PW, 'nats-servers': 'nats://127.0.0.1:4222', 'nats-token': NATS_PW }),
      flags: {},
      env: {},
    });
    const rows = effectiveSettings(config, sources);
    assert.equal(rows.length, PARAM_SPECS.length);
    assert.ok(rows.every((row) => !row.value.startsWith('(not shown')), JSON.stringify(rows));
    for (const p of PARAM_SPECS.filter((s) => s.redacted)) {
      const row = rows.find((x) => x.param === p.display)!;
      assert.ok(['[redacted]', '(none)'].includes(row.value), `${p.display}: ${row.value}`);
    }
    assertNoSecret(JSON.stringify(rows));
  });
});

async function listen(t: TestContext, server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  assert.ok(a !== null && typeof a === 'object');
  return a.port;
}
