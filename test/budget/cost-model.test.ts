/**
 * The simulated FreeSWITCH's cost model (src/testing/cost-model.ts) against the figures measured
 * on a real FreeSWITCH 1.11.3-dev (2 cores): one connection ~740 sendevents/s of ~1.2 KB, two
 * ~1 470/s, four or eight ~750-800/s. The server runs in its own process (fake-freeswitch-main
 * --cost-model), so the test process's own load disturbs it little; the model runs in virtual
 * CPU time, so the rates hold on a loaded machine (±30% allowed, and the ratios asserted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { commandCostUs, commandsPerSecond, MEASURED_COST_MODEL, parseCostModelFlag, resolveCostModel } from '../../src/testing/cost-model.js';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { measureSendeventRate, sendeventOfHeadSize } from './sendevent-client.js';

const MAIN = fileURLToPath(new URL('../../src/testing/fake-freeswitch-main.js', import.meta.url));

async function startProcess(t: { after(fn: () => void): void }, costModel: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [MAIN, '--port', '0', '--cost-model', costModel], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => {
    child.stdin?.end();
    child.kill('SIGTERM');
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('fake-freeswitch-main did not print its ready line')), 10_000);
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
  });
  const ready = JSON.parse(line) as { port: number; costModel?: unknown };
  assert.ok(ready.costModel, 'the ready line shows the cost model in use');
  return { port: ready.port, child };
}

const within = (got: number, want: number, share: number): boolean => got >= want * (1 - share) && got <= want * (1 + share);

test('calibrated: ~1.2 KB sendevents, 1 connection ~740/s, 2 ~1470/s (>= 1.5x one), 4 slower than 2', { timeout: 30_000 }, async (t) => {
  const { port } = await startProcess(t, 'measured');
  const command = sendeventOfHeadSize(1200);
  const rate = async (connections: number) => (await measureSendeventRate(port, { connections, command, seconds: 0.8 })).perSecond;
  const one = await rate(1);
  const two = await rate(2);
  const four = await rate(4);
  assert.ok(within(one, 740, 0.3), `1 connection: ${one.toFixed(0)}/s, measured on FreeSWITCH ~740/s`);
  assert.ok(within(two, 1470, 0.3), `2 connections: ${two.toFixed(0)}/s, measured ~1470/s`);
  assert.ok(two >= one * 1.5, `2 connections (${two.toFixed(0)}/s) take at least 1.5x one (${one.toFixed(0)}/s)`);
  assert.ok(four < two * 0.8, `4 connections on 2 cores (${four.toFixed(0)}/s) are slower than 2 (${two.toFixed(0)}/s)`);
  assert.ok(within(four, 775, 0.3), `4 connections: ${four.toFixed(0)}/s, measured ~750-800/s`);
});

test('head bytes cost, body bytes nearly not: halving the head nearly doubles the rate; a 4 KB body changes little', { timeout: 30_000 }, async (t) => {
  const { port } = await startProcess(t, 'measured');
  const rate = async (command: Buffer) => (await measureSendeventRate(port, { connections: 1, command, seconds: 0.6 })).perSecond;
  const full = await rate(sendeventOfHeadSize(1200));
  const half = await rate(sendeventOfHeadSize(600));
  const head = sendeventOfHeadSize(1200);
  const body = Buffer.alloc(4096, 0x62);
  const withBody = Buffer.concat([head.subarray(0, head.length - 1), Buffer.from(`Content-Length: ${body.length}\n\n`, 'latin1'), body]);
  const bodied = await rate(withBody);
  assert.ok(half > full * 1.5, `600-byte heads ${half.toFixed(0)}/s against 1200-byte ${full.toFixed(0)}/s`);
  assert.ok(bodied > full * 0.85, `a 4 KB body: ${bodied.toFixed(0)}/s against ${full.toFixed(0)}/s without`);
});

test('a sendevent takes effect (reply, event fired) only after its simulated CPU time', async (t) => {
  const fs = await FakeFreeSwitch.start({ costModel: { perHeaderByteUs: 50, perCommandUs: 0 } });
  t.after(() => fs.stop());
  const { port } = fs;
  const command = sendeventOfHeadSize(400); // 400 bytes x 50 µs = 20 ms
  const t0 = performance.now();
  const r = await measureSendeventRate(port, { connections: 1, command, seconds: 0.3, warmupSeconds: 0, window: 1 });
  const elapsed = performance.now() - t0;
  // 300 ms at 20 ms a command: about 15, never more than the CPU time allows.
  assert.ok(r.replies <= Math.ceil(elapsed / 20) + 1, `${r.replies} replies in ${elapsed.toFixed(0)} ms`);
  assert.ok(r.replies >= 5, `${r.replies} replies`);
  assert.equal(fs.stats().sendevents, fs.sendeventCount);
  assert.ok((fs.stats().simulatedBusyUs ?? 0) >= r.replies * 20_000 * 0.9);
});

test('the model as numbers: commandCostUs and commandsPerSecond follow the measured figures', () => {
  const m = MEASURED_COST_MODEL;
  assert.equal(commandCostUs(m, 1200, 0), 1300);
  assert.ok(within(commandsPerSecond(m, 1200, 0, 1), 740, 0.1));
  assert.ok(within(commandsPerSecond(m, 1200, 0, 2), 1470, 0.1));
  assert.ok(within(commandsPerSecond(m, 1200, 0, 8), 775, 0.1));
});

test('--cost-model values: measured, name=value pairs (dashed or not), precise errors', () => {
  assert.deepEqual(parseCostModelFlag('measured'), MEASURED_COST_MODEL);
  assert.equal(parseCostModelFlag('cores=4,per-header-byte-us=1.5').cores, 4);
  assert.equal(parseCostModelFlag('cores=4,per-header-byte-us=1.5').perHeaderByteUs, 1.5);
  assert.equal(parseCostModelFlag('perCommandUs=0').perCommandUs, 0);
  assert.throws(() => parseCostModelFlag('speed=3'), /"speed=3" is not name=value with a name among perHeaderByteUs/);
  assert.throws(() => parseCostModelFlag('cores=x'), /cores needs a number/);
  assert.throws(() => parseCostModelFlag('cores=0'), /cost model option "cores" must be an integer 1\.\.1024 \(got 0\)/);
  assert.throws(() => resolveCostModel({ oversubscribedEfficiency: 1.5 }), /"oversubscribedEfficiency" must be a number in \(0, 1\]/);
});
