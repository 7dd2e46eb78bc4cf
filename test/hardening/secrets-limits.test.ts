/**
 * Secrets (PSK, event-socket password) never reach logs, /status, error texts or `ps`; the
 * limits on received events are params that take effect on a running bridge; the status
 * endpoint is on loopback unless told otherwise; the UDP send queue is bounded.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { sendQueueFull, DEFAULT_SEND_QUEUE_LIMITS } from '../../src/transport/udp/send-queue.js';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { MAGIC, PLAIN_TRAILING_ZEROS } from '../../src/wire/magic.js';
import { BridgeSide, moduleXml, spawnCli, startPair, waitFor, withTimeout } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';
import { httpGet } from '../../testkit/http-get.js';

const PSK_SECRET = 'Tr0ub4dor-psk-7f3a';
const ESL_SECRET = 'esl-pw-Secret-77q';

function assertNoSecret(where: string, text: string): void {
  for (const s of [PSK_SECRET, ESL_SECRET]) {
    assert.ok(!text.includes(s), `${where} holds a secret`);
    // Nor an obvious encoding of it.
    assert.ok(!text.includes(Buffer.from(s).toString('base64')) && !text.includes(Buffer.from(s).toString('hex')), `${where} holds an encoded secret`);
  }
}

test('with a PSK and an ESL password, no log line, /status, /peers, error or warning ever holds them, through traffic, drops and reloads', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, {
    params: { psk: PSK_SECRET, 'esl-password': ESL_SECRET },
    a: { fsPassword: ESL_SECRET },
    b: { fsPassword: ESL_SECRET, flags: { 'status-listen': '127.0.0.1:0' } },
  });
  a.fireMarker('secret-1');
  await b.waitMarker('secret-1');
  // Drops that are logged: a packet encrypted with another key, a plain packet.
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => sock.close());
  const port = Number(b.params.port);
  const plain = Buffer.concat([Buffer.from('Event-Name: CUSTOM\nX: 1\n\n'), MAGIC, Buffer.alloc(PLAIN_TRAILING_ZEROS)]);
  for (const d of [plain, Buffer.alloc(300, 0x41)]) await new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r()));
  await waitFor('the drops counted', () => b.counters.ingress.dropped['plain-packet-psk-expected'] >= 1);
  // A rejected reload (bad value next to the secrets) and an applied one.
  b.params = { ...b.params, port: 'not-a-port' };
  await b.br.reload('test');
  b.params = { ...b.params, port: String(port), 'peer-timeout': '30' };
  await b.br.reload('test');
  assert.equal(b.counters.reloads.rejected, 1);
  assert.equal(b.counters.reloads.applied, 1);
  // The status endpoint over HTTP.
  const address = b.br.statusAddress!;
  assert.match(address, /^127\.0\.0\.1:\d+$/);
  for (const path of ['/status', '/metrics', '/peers', '/peers.json', '/healthz']) {
    const r = await httpGet(`http://${address}${path}`);
    assert.equal(r.code, 200, path);
    assertNoSecret(path, r.body);
  }
  assertNoSecret('statusJson', JSON.stringify(b.br.statusJson()));
  await b.close();
  await a.close();
  assertNoSecret('logs of A', a.logs.text);
  assertNoSecret('logs of B', b.logs.text);
  assert.ok(b.logs.text.includes('configuration reload failed'), 'the rejected reload was logged');
  // Errors from a configuration holding the secrets.
  try {
    loadConfig({ xmlText: moduleXml({ address: '127.0.0.1', port: 'x', psk: PSK_SECRET, 'esl-password': ESL_SECRET, ttl: PSK_SECRET, 'max-headers': '0' }), flags: { psk: PSK_SECRET }, env: {} });
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assertNoSecret('ConfigError', e.message + String(e.stack));
  }
  const { warnings } = loadConfig({ xmlText: moduleXml({ address: '127.0.0.1', port: '1', psk: `${PSK_SECRET}\${x}`, 'esl-password': ESL_SECRET }), flags: { 'esl-password': ESL_SECRET }, env: {} });
  assert.ok(warnings.some((w) => /esl-password was given as a command-line flag/.test(w)));
  assertNoSecret('warnings', warnings.join('\n'));
});

function configFile(t: TestContext, params: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsem-hard-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'event_multicast.conf.xml');
  writeFileSync(file, moduleXml(params));
  return file;
}

test('ps: secrets from the environment are not on the command line; a secret given as a flag is warned about and still not logged', { timeout: 30_000 }, async (t) => {
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-ps', password: ESL_SECRET });
  t.after(() => fs.stop());
  const port = await freeUdpPort('127.0.0.2');
  const file = configFile(t, { address: '127.0.0.2', port: String(port), bindings: 'HEARTBEAT', 'source-address': '127.0.0.1', 'status-listen': 'off', workers: '0', 'esl-port': String(fs.port) });

  const viaEnv = spawnCli(t, ['run', '--config', file], { FS_EVENT_MULTICAST_PSK: PSK_SECRET, FS_EVENT_MULTICAST_ESL_PASSWORD: ESL_SECRET });
  await waitFor('bridge started (env secrets)', () => viaEnv.stderr().includes('"bridge started"'), 10_000, () => viaEnv.stderr());
  await waitFor('connected with the password from the environment', () => fs.connectionCount() >= 2, 10_000);
  const cmdline = readFileSync(`/proc/${viaEnv.pid}/cmdline`, 'latin1');
  assertNoSecret('the command line (ps)', cmdline);
  viaEnv.signal('SIGTERM');
  assert.equal(await withTimeout(viaEnv.exited, 10_000, 'exit'), 0);
  assertNoSecret('stderr (env secrets)', viaEnv.stderr() + viaEnv.stdout());

  const viaFlag = spawnCli(t, ['run', '--config', file, '--psk', PSK_SECRET], { FS_EVENT_MULTICAST_ESL_PASSWORD: ESL_SECRET });
  await waitFor('bridge started (flag secret)', () => viaFlag.stderr().includes('"bridge started"'), 10_000, () => viaFlag.stderr());
  assert.match(viaFlag.stderr(), /psk was given as a command-line flag: other local users can read it with ps/);
  viaFlag.signal('SIGTERM');
  assert.equal(await withTimeout(viaFlag.exited, 10_000, 'exit'), 0);
  assertNoSecret('stderr (flag secret)', viaFlag.stderr() + viaFlag.stdout());
});

test('the status endpoint listens on 127.0.0.1:8088 by default (loopback only)', () => {
  const { config } = loadConfig({ xmlText: moduleXml({ address: '127.0.0.1', port: '4242' }), flags: {}, env: {} });
  assert.deepEqual(config.statusListen, { kind: 'tcp', host: '127.0.0.1', port: 8088 });
});

test('limits are params: defaults, and on a running bridge max-headers / max-header-bytes drop with their reason; a reload raises them', { timeout: 20_000 }, async (t) => {
  const { config } = loadConfig({ xmlText: moduleXml({ address: '127.0.0.1', port: '4242' }), flags: {}, env: {} });
  assert.deepEqual([config.maxHeaders, config.maxHeaderBytes, config.replayWindowSeconds, config.maxEventAgeSeconds], [10_000, 65_507, 300, 0]);

  const port = await freeUdpPort('127.0.0.2');
  const b = await BridgeSide.start(t, { switchname: 'fs-b' }, {
    params: { address: '127.0.0.1', port: String(port), bindings: 'HEARTBEAT', 'max-headers': '20', 'max-header-bytes': '100' },
    flags: { 'source-address': '127.0.0.2', workers: '1' },
  });
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  t.after(() => sock.close());
  const packet = (headers: number, valueBytes: number) => {
    const lines = ['Event-Name: CUSTOM', 'Event-Subclass: sofia::register', `Big: ${'v'.repeat(valueBytes)}`];
    while (lines.length < headers - 1) lines.push(`H${lines.length}: x`);
    lines.push('Multicast-Sender: fs-a');
    return Buffer.concat([Buffer.from(lines.join('\n') + '\n\n'), MAGIC, Buffer.alloc(PLAIN_TRAILING_ZEROS)]);
  };
  const send = (d: Buffer) => new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r()));
  await send(packet(20, 10)); // at the limits: fired
  await send(packet(21, 10)); // one header too many
  await send(packet(5, 95)); // "Big: " + 95 = 100 bytes: fired
  await send(packet(5, 96)); // 101 bytes
  await waitFor('4 datagrams handled', () => b.counters.ingress.fired + b.counters.ingress.dropped['too-many-headers'] + b.counters.ingress.dropped['header-too-large'] === 4, 5_000, () => b.counters.ingress);
  assert.equal(b.counters.ingress.fired, 2);
  assert.equal(b.counters.ingress.dropped['too-many-headers'], 1);
  assert.equal(b.counters.ingress.dropped['header-too-large'], 1);
  b.params = { ...b.params, 'max-headers': '100', 'max-header-bytes': '1000' };
  await b.br.reload('test');
  await send(packet(21, 96));
  await waitFor('fired after the reload', () => b.counters.ingress.fired === 3, 5_000, () => b.counters.ingress);
});

test('the UDP send queue bound: a socket whose queue is at the count or byte limit is full', () => {
  const probe = (count: number, bytes: number) => ({ getSendQueueCount: () => count, getSendQueueSize: () => bytes });
  assert.equal(sendQueueFull(probe(0, 0)), false);
  assert.equal(sendQueueFull(probe(DEFAULT_SEND_QUEUE_LIMITS.maxCount - 1, DEFAULT_SEND_QUEUE_LIMITS.maxBytes - 1)), false);
  assert.equal(sendQueueFull(probe(DEFAULT_SEND_QUEUE_LIMITS.maxCount, 0)), true);
  assert.equal(sendQueueFull(probe(0, DEFAULT_SEND_QUEUE_LIMITS.maxBytes)), true);
  assert.equal(sendQueueFull(probe(3, 10), { maxCount: 3, maxBytes: 100 }), true);
});
