/**
 * `fs-event-multicast run --config FILE` as a real process beside a simulated FreeSWITCH:
 * starts, answers /healthz once connected, forwards events, drains and exits 0 on SIGTERM;
 * a bad file or a wrong ESL password ends it with exit 1 and a message that says why.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { decodeDatagram, originalEvent } from '../../src/wire/ingress.js';
import { spawn } from 'node:child_process';
import { CLI_MAIN, moduleXml, runCli, spawnCli, waitFor, withTimeout } from '../../testkit/bridge-harness.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';
import { httpGet } from '../../testkit/http-get.js';

function configFile(t: TestContext, params: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fsem-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'event_multicast.conf.xml');
  writeFileSync(file, moduleXml(params));
  return file;
}

async function fakeFs(t: TestContext, password?: string): Promise<FakeFreeSwitch> {
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-cli', ...(password !== undefined ? { password } : {}) });
  t.after(() => fs.stop());
  return fs;
}

/** The JSON log lines of a process's stderr. */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('run: starts, /healthz answers 200 once FreeSWITCH is connected, events are sent, SIGTERM drains and exits 0', { timeout: 30_000 }, async (t) => {
  const fs = await fakeFs(t);
  const port = await freeUdpPort('127.0.0.2');
  const capture = dgram.createSocket('udp4');
  const received: Buffer[] = [];
  capture.on('message', (m) => received.push(m));
  await new Promise<void>((r) => capture.bind(port, '127.0.0.2', () => r()));
  t.after(() => new Promise<void>((r) => capture.close(() => r())));

  const file = configFile(t, {
    address: '127.0.0.2',
    port: String(port),
    bindings: 'CUSTOM sofia::register',
    'source-address': '127.0.0.1',
    'status-listen': '127.0.0.1:0',
    workers: '1',
    'esl-port': String(fs.port),
  });
  const run = spawnCli(t, ['run', '--config', file]);
  const started = await waitFor('the bridge started log line', () => logLines(run.stderr()).find((l) => l.msg === 'bridge started'), 10_000, () => run.stderr());
  const status = String(started.status);
  assert.match(status, /^127\.0\.0\.1:\d+$/);
  const healthz = await pollHealthz(status);
  assert.deepEqual(healthz, { code: 200, body: 'ok\n' });

  fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['from-user', 'cli-1000']] });
  const datagram = await waitFor('a datagram from the bridge process', () => received[0], 5_000);
  const d = decodeDatagram(datagram, { cipher: null });
  assert.ok(d.ok);
  const ev = originalEvent(d.value.scan);
  assert.ok(ev.headers.some(([n, v]) => n === 'from-user' && v === 'cli-1000'));
  assert.deepEqual(ev.headers.at(-1), ['Multicast-Sender', 'fs-cli']);

  run.signal('SIGTERM');
  const code = await withTimeout(run.exited, 10_000, 'exit after SIGTERM');
  assert.equal(code, 0, run.stderr());
  const msgs = logLines(run.stderr()).map((l) => l.msg);
  assert.ok(msgs.includes('stopping: draining what is in flight'));
  assert.ok(msgs.includes('bridge stopped'));
  await waitFor('the bridge to leave FreeSWITCH', () => fs.connectionCount() === 0, 5_000);
});

async function pollHealthz(status: string): Promise<{ code: number; body: string }> {
  let last: { code: number; body: string } = { code: 0, body: '' };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    last = await httpGet(`http://${status}/healthz`).catch(() => ({ code: 0, body: '' }));
    if (last.code === 200) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  return last;
}

test('run: a bad configuration file exits 1 with a message naming the param', { timeout: 15_000 }, async (t) => {
  const file = configFile(t, { address: '127.0.0.2', port: 'forty-two', bindings: 'HEARTBEAT', 'status-listen': 'off' });
  const r = await runCli(t, ['run', '--config', file]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^fs-event-multicast run: port 'forty-two': not a port number; allowed: 1\.\.65535\n$/);
});

test('run: a missing configuration file exits 1 naming the file', { timeout: 15_000 }, async (t) => {
  const r = await runCli(t, ['run', '--config', '/nonexistent/event_multicast.conf.xml']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot read configuration file \/nonexistent\/event_multicast\.conf\.xml: ENOENT/);
});

test('run: a wrong ESL password exits 1 with a clear message, without retrying and without the password', { timeout: 20_000 }, async (t) => {
  const fs = await fakeFs(t, 'the-real-password');
  let connections = 0;
  fs.on('connection', () => connections++);
  const port = await freeUdpPort('127.0.0.1');
  const file = configFile(t, { address: '127.0.0.2', port: String(port), bindings: 'HEARTBEAT', 'source-address': '127.0.0.1', 'status-listen': 'off', workers: '0', 'esl-port': String(fs.port) });
  const r = await runCli(t, ['run', '--config', file], 15_000, { FS_EVENT_MULTICAST_ESL_PASSWORD: 'not-the-password' });
  assert.equal(r.code, 1, r.stderr);
  const fatal = logLines(r.stderr).find((l) => l.level === 60);
  assert.ok(fatal, `a fatal log line; stderr: ${r.stderr}`);
  assert.match(String(fatal.msg), /rejected the event-socket password .*check the ESL password setting — not retrying/);
  assert.ok(!r.stderr.includes('not-the-password') && !r.stderr.includes('the-real-password'), 'no password in the output');
  assert.ok(connections <= 3, `one attempt per connection (events + 2 injectors), got ${connections}`);
});

test('run: a SIGTERM the moment the bridge says it started still drains and exits 0 (the handlers are in place before the start ends)', { timeout: 40_000 }, async (t) => {
  const fs = await fakeFs(t);
  const port = await freeUdpPort('127.0.0.1');
  const file = configFile(t, { address: '127.0.0.2', port: String(port), bindings: 'HEARTBEAT', 'source-address': '127.0.0.1', 'status-listen': 'off', workers: '0', 'esl-port': String(fs.port) });
  for (let i = 0; i < 5; i++) {
    const child = spawn(process.execPath, [CLI_MAIN, 'run', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
    let stderr = '';
    let sent = false;
    const exited = new Promise<number | string>((resolve) => child.once('close', (code, sig) => resolve(code ?? sig ?? 'unknown')));
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      // Sent from the very callback that sees the line (not polled), so it lands right after it.
      if (!sent && stderr.includes('"bridge started"')) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    assert.equal(await withTimeout(exited, 15_000, `run ${i}: exit`), 0, stderr);
  }
});
