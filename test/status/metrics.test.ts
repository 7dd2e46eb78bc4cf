/**
 * `/metrics` is Prometheus text exposition that Prometheus' own checker accepts (promtool, from
 * Debian's `prometheus` package), with the bridge's counters, drops by reason, gauges and
 * histograms, from a running bridge with traffic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { startPair, waitFor } from '../../testkit/bridge-harness.js';
import { httpGet } from '../../testkit/http-get.js';

function promtoolCheck(text: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(text);
  });
}

test('/metrics from a bridge with traffic: promtool check metrics accepts it; counters, drops by reason, gauges and histograms are there', { timeout: 30_000 }, async (t) => {
  const { a, b } = await startPair(t, { a: { flags: { 'status-listen': '127.0.0.1:0' } }, b: { flags: { 'status-listen': '127.0.0.1:0' } } });
  a.fs.fireHeartbeat();
  for (let i = 0; i < 200; i++) a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['N', String(i)]] });
  await waitFor('200 registrations fired on B', () => b.counters.ingress.fired >= 201, 10_000);
  const m = await httpGet(`http://${b.br.statusAddress}/metrics`);
  assert.equal(m.code, 200);
  const value = (line: RegExp) => {
    const hit = m.body.split('\n').find((l) => line.test(l));
    assert.ok(hit, `a line matching ${line}`);
    return Number(hit.split(' ').at(-1));
  };
  assert.ok(value(/^fsem_ingress_fired_total /) >= 201);
  assert.ok(value(/^fsem_ingress_datagrams_total /) >= 201);
  assert.equal(value(/^fsem_ingress_dropped_total\{reason="missing-magic"\} /), 0);
  assert.equal(value(/^fsem_peers\{state="up"\} /), 1);
  assert.ok(value(/^fsem_sendevent_replies_total\{result="ok"\} /) >= 201);
  // Handed to the injector (201 and the peerup) and, by reason, not delivered: none here (no overload, no keys).
  assert.ok(value(/^fsem_sendevent_offered_total /) >= 202);
  for (const reason of ['superseded', 'expired', 'dropped-oldest', 'dropped-too-old', 'refused', 'abandoned']) {
    assert.equal(value(new RegExp(`^fsem_sendevent_not_delivered_total\\{reason="${reason}"\\} `)), 0, reason);
  }
  assert.ok(value(/^fsem_batch_size_count\{direction="ingress"\} /) >= 1);
  assert.match(m.body, /^# TYPE fsem_egress_latency_seconds histogram$/m);
  assert.match(m.body, /^# TYPE fsem_ingress_latency_seconds histogram$/m);
  // One datagram in 64 is sampled, from its arrival to FreeSWITCH's +OK for its sendevent.
  assert.match(m.body, /^fsem_ingress_latency_seconds_count [1-9]\d*$/m);
  assert.match(m.body, /^process_cpu_seconds_total /m);
  // A's egress side: one event in 64 is sampled for the latency histogram.
  const am = await httpGet(`http://${a.br.statusAddress}/metrics`);
  assert.match(am.body, /^fsem_egress_latency_seconds_count [1-9]\d*$/m);
  assert.match(am.body, /^fsem_egress_events_total [1-9]\d*$/m);

  if (spawnSync('promtool', ['--version']).error !== undefined) {
    if (process.env.FSEM_ALLOW_SKIP_PROMTOOL === '1') return t.skip('promtool is not installed (Debian package prometheus); skipped because FSEM_ALLOW_SKIP_PROMTOOL=1');
    throw new Error('promtool is not installed: `apt-get install --no-install-recommends prometheus` (npm test installs it when run as root), or set FSEM_ALLOW_SKIP_PROMTOOL=1');
  }
  const check = await promtoolCheck(m.body);
  assert.equal(check.code, 0, check.out);
});

