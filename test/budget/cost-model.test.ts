/**
 * The simulated FreeSWITCH's cost model (src/testing/cost-model.ts) against the committed real
 * FreeSWITCH measurements (bench/results/realfs/: calibration/*.json by bench/realfs/calibrate.ts,
 * bench-*.json by `fs-event-multicast bench --freeswitch-a/-b`), not against its own numbers:
 * - its constants are what bench/realfs/fit.ts fits on the FIT SET (closed loop, 1 connection);
 * - on the CHECK SET (2 connections, paced rates) it predicts FreeSWITCH's CPU per event;
 * - it predicts the rate of replicated registrations through the bridges on the rig within 25%.
 * The simulator's own mechanics (charging by bytes, effect after the CPU time, the dispatch
 * thread) are checked in virtual time or from the switch's own account, never the wall clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  commandCostUs, CpuScheduler, dispatchCostUs, eventKind, MEASURED_COST_MODEL, parseCostModelFlag, resolveCostModel, sustainedCommandRate, type SchedulerClock,
} from '../../src/testing/cost-model.js';
import { FakeFreeSwitch } from '../../src/testing/fake-freeswitch.js';
import { benchEvent, injectedSendevent, sendeventCommand } from '../../src/benchmark/realfs/event-shapes.js';
import { fitCostModel, isFitRow, loadBenchReports, loadCalibrationRows, predictE2e, predictedCpuUs } from '../../testkit/realfs-calibration.js';
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

/**
 * Replicated registrations completed in one virtual second: `connections` always-busy connection
 * threads (closed loop, as a pipelining injector) feeding FreeSWITCH's one dispatch thread.
 */
function virtualRegistrationRate(connections: number, readUs: number, dispatchUs: number): number {
  const clock = new VirtualClock();
  let completed = 0;
  type Job = 'read' | 'dispatch';
  let dispatchLane: ReturnType<CpuScheduler<Job>['lane']>;
  const sched: CpuScheduler<Job> = new CpuScheduler<Job>(MEASURED_COST_MODEL, (lane, job) => {
    if (job === 'dispatch') {
      completed++;
      return;
    }
    sched.submit(dispatchLane, 'dispatch', dispatchUs);
    sched.submit(lane, 'read', readUs);
  }, clock);
  dispatchLane = sched.lane(false);
  for (let c = 0; c < connections; c++) {
    const lane = sched.lane();
    for (let k = 0; k < 4; k++) sched.submit(lane, 'read', readUs);
  }
  clock.run(1_000_000);
  sched.stop();
  return completed;
}

const FIT = fitCostModel(loadCalibrationRows());
const CTX = { run: 'r', domain: 'fs-bench.invalid', profile: 'internal' };
const headOf = (b: Buffer): number => b.indexOf('\n\n') + 2;

test('the model is the fit of the committed real-FreeSWITCH calibration (closed loop, 1 connection)', () => {
  const m = MEASURED_COST_MODEL;
  for (const key of ['perHeaderByteUs', 'perCommandUs', 'firedEventUs', 'registerHandlerUs', 'presenceHandlerUs', 'mwiHandlerUs'] as const) {
    assert.ok(Math.abs(FIT.model[key] - m[key]) <= Math.max(0.01, Math.abs(m[key]) * 0.005), `${key}: model ${m[key]}, fit of the measurements ${FIT.model[key]} (run node dist/bench/realfs/fit.js)`);
  }
});

test('check set (rows not fitted on: 2 connections, paced rates): FreeSWITCH CPU per event within 25%', () => {
  const rows = loadCalibrationRows().filter((r) => !isFitRow(r));
  assert.ok(rows.length >= 6, 'the calibration has a check set');
  const off = rows
    .map((r) => ({ r, predicted: predictedCpuUs(MEASURED_COST_MODEL, r) / 1000 }))
    .filter(({ r, predicted }) => Math.abs(predicted - r.cpuMsPerEvent) > r.cpuMsPerEvent * 0.25)
    .map(({ r, predicted }) => `${r.shape} conn ${r.connections} ${r.rate ?? 'closed'}: measured ${r.cpuMsPerEvent} ms, model ${predicted.toFixed(3)} ms`);
  assert.deepEqual(off, []);
});

test('the replicated registration rate through the bridges on the rig (bench --freeswitch-a/-b): the model predicts it within 25%', () => {
  const runs = loadBenchReports().filter(({ report }) => report.shape === 'register');
  assert.ok(runs.length >= 1, 'a committed bench run with registrations');
  const heads = { firing: sendeventCommand(benchEvent('register', CTX, 12345)).length, injected: headOf(injectedSendevent(benchEvent('register', CTX, 12345), 'fs-a', true)) };
  for (const { file, report } of runs) {
    const bridge = report.results.find((r) => r.system === 'bridge' && r.scenario === 'e2e' && r.skipped === null)!;
    const saturated = bridge.trials.reduce((x, t) => (t.rate > x.rate ? t : x));
    const p = predictE2e(MEASURED_COST_MODEL, saturated, heads, { firing: 2, injectors: 2 });
    const detail = `${file}: offered ${p.offered}/s, measured ${p.measuredPerSec.toFixed(0)}/s, model ${p.predictedPerSec.toFixed(0)}/s (${p.limitedBy}; the chain got ${p.coresGot.toFixed(2)} cores)`;
    assert.ok(Math.abs(p.predictedPerSec - p.measuredPerSec) <= p.measuredPerSec * 0.25, detail);
    // The switch B part of the prediction is the model's; its CPU per event was also measured there.
    const measuredB = (saturated.cpuMs.b! * 1000) / saturated.arrived;
    assert.ok(Math.abs(p.costUs.b - measuredB) <= measuredB * 0.25, `switch B CPU per registration: measured ${(measuredB / 1000).toFixed(2)} ms, model ${(p.costUs.b / 1000).toFixed(2)} ms`);
  }
});

test('the simulator in virtual time holds the closed-form rate: 2 injector connections of registrations', () => {
  const m = MEASURED_COST_MODEL;
  const head = headOf(injectedSendevent(benchEvent('register', CTX, 1), 'fs-a', true));
  const readUs = commandCostUs(m, head, 0);
  const dispatchUs = dispatchCostUs(m, 'register');
  const simulated = virtualRegistrationRate(2, readUs, dispatchUs);
  const closed = sustainedCommandRate(m, { headBytes: head, bodyBytes: 0, kind: 'register', connections: 2 });
  assert.ok(Math.abs(simulated - closed) <= closed * 0.1, `virtual time ${simulated}/s, closed form ${closed.toFixed(0)}/s`);
  const one = virtualRegistrationRate(1, readUs, dispatchUs);
  assert.ok(one < simulated, `1 connection (${one}/s) is slower than 2 (${simulated}/s)`);
});

test('event kinds: what mod_sofia does with a replicated event decides its dispatch cost', () => {
  const kind = (shape: 'register' | 'presence' | 'mwi' | 'custom'): string => {
    const cmd = injectedSendevent(benchEvent(shape, CTX, 1), 'fs-a').toString('latin1');
    const lines = cmd.slice(cmd.indexOf('\n') + 1, cmd.indexOf('\n\n')).split('\n');
    return eventKind('CUSTOM', lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)] as const));
  };
  assert.deepEqual([kind('register'), kind('presence'), kind('mwi'), kind('custom')], ['register', 'presence', 'mwi', 'other']);
  assert.equal(eventKind('CUSTOM', [['Event-Subclass', 'sofia::register']]), 'other', 'not replicated: mod_sofia does not handle it');
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
  const firing = dispatchCostUs(MEASURED_COST_MODEL, 'other'); // the fired event on the dispatch thread
  assert.ok(within(full, commandCostUs(MEASURED_COST_MODEL, 1200, 0) + firing, 0.05), `1200-byte head: ${full.toFixed(0)} µs charged`);
  assert.ok(half - firing < (full - firing) * 0.6, `600-byte heads ${half.toFixed(0)} µs against 1200-byte ${full.toFixed(0)} µs`);
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
