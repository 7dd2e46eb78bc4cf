/**
 * The suite: which configurations run in quick and full mode, in what order, and the report.
 * Every bridge configuration gets a fresh bridge process (its own CPU and peak RSS).
 */
import { BRIDGE_NODE_FLAGS } from '../../../src/cli/node-flags.js';
import { eventShapes } from '../../../testkit/event-shapes.js';
import { machineInfo } from '../../../src/benchmark/machine.js';
import { addRatios, SCHEMA_VERSION, type BenchReport, type BenchResult, type ScenarioName } from '../../../src/benchmark/schema.js';
import { Progress, type BridgeConfig, type Plan } from './common.js';
import { SUSTAINED_RULE } from '../../../src/benchmark/sustained.js';
import { runE2e } from './e2e.js';
import { runEgress } from './egress.js';
import { runIngress } from './ingress.js';
import { ingressFsConfigs, runIngressFs } from './ingress-fs.js';
import { runCodec, runRawUdp } from './reference.js';

export interface SuiteOptions {
  quick: boolean;
  progress: boolean;
  /** Bridge processes run with node --cpu-prof into this directory. */
  profileDir: string | null;
  faithfulSink: boolean;
  /** Only these scenarios (references always run when a ratio needs them). */
  only: ScenarioName[] | null;
  /** Benchmark-only extra CPU per event in the bridges under test, a fraction of their measured cost (ci-gate --handicap). */
  handicap?: number;
}

export const METHOD =
  'Each bridge under test runs in its own process (Bridge.start, pool workers inside it), so CPU µs/event (process.cpuUsage, all threads) and RSS ' +
  '(peak resident set, getrusage) are its own; load generators (simulated FreeSWITCH, UDP sender/receiver, sendevent sink) are separate processes ' +
  'on the same machine, all on loopback. "events/s (0 loss)" is the highest offered rate at which every event arrived, found by doubling then ' +
  'bisecting in log space to a bracket 3% wide, the answer confirmed by a second pass; sustained means ' +
  `${SUSTAINED_RULE}. ` +
  'cost_ratio: the bridge CPU µs per event over backlogs of 1250 events (queued while the bridge is stopped), divided by a reference (event-shaped parsing, encoding and table lookups, CPU µs ' +
  'per unit) run in the bridge process between the backlogs; median of 12, after 4 warm-up backlogs. Saturation is what got through a flood. Latency: events stamped with the monotonic clock at the simulated ' +
  'switch A, read at the sink behind bridge B (HDR histogram).';

const SMALL = 0;
const MEDIUM = 1;
const LARGE = 2;

/** The quick suite (and the gate) measures what users run by default: workers auto, PSK and plain. */
const QUICK_CONFIGS: BridgeConfig[] = [
  { psk: true, workers: 'auto', batch: 64, shape: MEDIUM },
  { psk: false, workers: 'auto', batch: 64, shape: MEDIUM },
];

function bridgeConfigs(quick: boolean): BridgeConfig[] {
  if (quick) return QUICK_CONFIGS;
  return [
    { psk: true, workers: 0, batch: 64, shape: MEDIUM },
    { psk: true, workers: 1, batch: 64, shape: MEDIUM },
    { psk: true, workers: 2, batch: 64, shape: MEDIUM },
    { psk: true, workers: 1, batch: 16, shape: MEDIUM },
    { psk: true, workers: 1, batch: 64, shape: SMALL },
    { psk: true, workers: 1, batch: 64, shape: LARGE },
    { psk: false, workers: 1, batch: 64, shape: MEDIUM },
  ];
}

export function planFor(o: SuiteOptions): Plan {
  const progress = new Progress(o.progress);
  // The bridge runs with the flags of the fs-event-multicast command (its shebang).
  const bridgeExecArgv = [...BRIDGE_NODE_FLAGS, ...(o.profileDir === null ? [] : ['--cpu-prof', '--cpu-prof-dir', o.profileDir])];
  const common = { precision: 0.03, costBurst: 1250, costSteps: 12, handicap: o.handicap ?? 0, faithfulSink: o.faithfulSink, bridgeExecArgv, progress };
  return o.quick
    ? { mode: 'quick', stepSeconds: 1, floodSeconds: 1, maxTrials: 20, searchMaxSeconds: 60, latencySeconds: 2, overload: false, ...common }
    : { mode: 'full', stepSeconds: 1.5, floodSeconds: 2, maxTrials: 24, searchMaxSeconds: 180, latencySeconds: 4, overload: true, ...common };
}

export async function runSuite(o: SuiteOptions): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const plan = planFor(o);
  const wants = (s: ScenarioName): boolean => o.only === null || o.only.includes(s);
  const results: BenchResult[] = [];
  const pskDatagramBytes = eventShapes()[MEDIUM]!.bytes + 64;

  results.push(await runRawUdp(plan, pskDatagramBytes, o.quick ? 2 : 3));
  results.push(...(await runCodec(plan, o.quick ? 5 : 20)));
  for (const c of bridgeConfigs(o.quick)) {
    if (wants('egress')) results.push(await runEgress(plan, c));
    if (wants('ingress')) results.push(await runIngress(plan, c));
  }
  if (wants('e2e')) {
    if (o.quick) for (const c of QUICK_CONFIGS) results.push(...(await runE2e(plan, c, { latencyRates: [10_000], search: true })));
    else {
      results.push(...(await runE2e(plan, { psk: true, workers: 1, batch: 64, shape: MEDIUM }, { latencyRates: [1_000, 10_000], search: true })));
      results.push(...(await runE2e(plan, { psk: true, workers: 0, batch: 64, shape: MEDIUM }, { latencyRates: [1_000, 10_000], search: false })));
      results.push(...(await runE2e(plan, { psk: false, workers: 1, batch: 64, shape: MEDIUM }, { latencyRates: [10_000], search: false })));
    }
  }
  // Into a FreeSWITCH-like sink (FreeSWITCH's event-socket cost model): what a real switch takes.
  if (wants('ingress-fs')) for (const c of ingressFsConfigs(o.quick)) results.push(...(await runIngressFs(plan, c)));
  addRatios(results);
  const method = `${METHOD}${o.faithfulSink ? ' Sink: the faithful simulated FreeSWITCH.' : ' Sink: a lean counting event socket (the faithful simulator re-fires every event and would be the bottleneck).'}`;
  return { schema_version: SCHEMA_VERSION, machine: machineInfo(), started_at: startedAt, finished_at: new Date().toISOString(), mode: plan.mode, method, results };
}
