/**
 * The simulated FreeSWITCH's cost model (src/testing/cost-model.ts) against the figures it was
 * built from: one connection ~740 sendevents/s of ~1.2 KB, two ~1 470/s, four or eight
 * ~750-800/s. Rates are taken in virtual time and charges from the switch's own account, never
 * from the wall clock, so a loaded test machine cannot change the verdict.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandCostUs, commandsPerSecond, CpuScheduler, MEASURED_COST_MODEL, parseCostModelFlag, resolveCostModel, type SchedulerClock } from '../../src/testing/cost-model.js';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { measureSendeventRate, sendeventOfHeadSize } from './sendevent-client.js';

const within = (got: number, want: number, share: number): boolean => got >= want * (1 - share) && got <= want * (1 + share);

/** A clock the test moves by hand: the scheduler's rates, free of the test machine's load. */
class VirtualClock implements SchedulerClock {
  private us = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  nowUs(): number {
    return this.us;
  }
  setTimer(fn: () => void, ms: number): { cancel(): void } {
    const t = { at: this.us + ms * 1000, fn, live: true };
    this.timers.push(t);
    return { cancel: () => (t.live = false) };
  }
  /** Moves time forward to `untilUs`, firing timers in order. */
  run(untilUs: number): void {
    for (;;) {
      this.timers = this.timers.filter((t) => t.live);
      const next = this.timers.reduce<(typeof this.timers)[number] | null>((a, t) => (a === null || t.at < a.at ? t : a), null);
      if (next === null || next.at > untilUs) break;
      this.us = next.at;
      next.live = false;
      next.fn();
    }
    this.us = untilUs;
  }
}

/** Commands of `costUs` completed in one virtual second over `connections` always-busy connections. */
function virtualRate(connections: number, costUs: number): number {
  const clock = new VirtualClock();
  let completed = 0;
  const sched: CpuScheduler<number> = new CpuScheduler<number>(MEASURED_COST_MODEL, (lane) => {
    completed++;
    sched.submit(lane, 0, costUs); // keep the connection busy, as a pipelining client does
  }, clock);
  for (let c = 0; c < connections; c++) {
    const lane = sched.lane();
    for (let k = 0; k < 4; k++) sched.submit(lane, 0, costUs);
  }
  clock.run(1_000_000);
  sched.stop();
  return completed;
}

test('calibrated scheduler, in virtual time: ~1.2 KB sendevents, 1 connection ~740/s, 2 ~1470/s, 4 slower than 2', () => {
  const cost = commandCostUs(MEASURED_COST_MODEL, 1200, 0);
  const one = virtualRate(1, cost);
  const two = virtualRate(2, cost);
  const four = virtualRate(4, cost);
  assert.ok(within(one, 740, 0.1), `1 connection: ${one}/s, measured on FreeSWITCH ~740/s`);
  assert.ok(within(two, 1470, 0.1), `2 connections: ${two}/s, measured ~1470/s`);
  assert.ok(four < two * 0.8, `4 connections on 2 cores (${four}/s) are slower than 2 (${two}/s)`);
  assert.ok(within(four, 775, 0.1), `4 connections: ${four}/s, measured ~750-800/s`);
});

test('the simulated switch charges by the bytes it reads: head bytes cost, a 4 KB body nearly not', { timeout: 30_000 }, async (t) => {
  // CPU charged per command, read from the switch's own account (not from wall-clock rates).
  const charged = async (command: Buffer): Promise<number> => {
    const fs = await FakeFreeSwitch.start({ costModel: MEASURED_COST_MODEL });
    t.after(() => fs.stop());
    const r = await measureSendeventRate(fs.port, { connections: 1, command, seconds: 0.3, warmupSeconds: 0 });
    assert.ok(r.replies > 0);
    await waitIdle(fs);
    return (fs.stats().simulatedBusyUs ?? 0) / fs.sendeventCount;
  };
  const full = await charged(sendeventOfHeadSize(1200));
  const half = await charged(sendeventOfHeadSize(600));
  const head = sendeventOfHeadSize(1200);
  const body = Buffer.alloc(4096, 0x62);
  const withBody = Buffer.concat([head.subarray(0, head.length - 1), Buffer.from(`Content-Length: ${body.length}\n\n`, 'latin1'), body]);
  const bodied = await charged(withBody);
  assert.ok(within(full, commandCostUs(MEASURED_COST_MODEL, 1200, 0), 0.05), `1200-byte head: ${full.toFixed(0)} µs charged`);
  assert.ok(half < full * 0.6, `600-byte heads ${half.toFixed(0)} µs against 1200-byte ${full.toFixed(0)} µs`);
  assert.ok(bodied < full * 1.05 + 25, `a 4 KB body: ${bodied.toFixed(0)} µs against ${full.toFixed(0)} µs without`);
});

/** Until every command the switch took has been charged (the scheduler works in the background). */
async function waitIdle(fs: FakeFreeSwitch): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const busy = fs.stats().simulatedBusyUs ?? 0;
    await new Promise((r) => setTimeout(r, 20));
    if ((fs.stats().simulatedBusyUs ?? 0) === busy) return;
  }
}

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
