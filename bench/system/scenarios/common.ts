/**
 * What the bridge scenarios share: the suite's plan, the bridge process's configuration, load
 * process helpers, waiting for in-flight events to land, and progress lines on stderr.
 * Addresses: the bridge under test binds 127.0.0.2, its peer side (receiver, bridge B) 127.0.0.3,
 * one UDP port picked at random per configuration. Loopback only.
 */
import { LoadProcess, type ProcessUsage } from '../load/control.js';
import type { Counters } from '../../../src/status/counters.js';
import { round, type BenchResult } from '../../../src/benchmark/schema.js';
import { searchSustainedRate } from '../../../src/benchmark/search.js';
import { median } from '../../../src/benchmark/stats.js';
import { judgeTrial } from '../../../src/benchmark/sustained.js';
import { autoWorkers } from '../../../src/bridge/bridge.js';

/** A benchmark key, not a secret (the captures' PSK). */
export const BENCH_PSK = 'ClueCon';
export const BRIDGE_ADDRESS = '127.0.0.2';
export const PEER_ADDRESS = '127.0.0.3';
export const BINDINGS = 'MESSAGE_WAITING CHANNEL_ANSWER CUSTOM sofia::register';

export interface Plan {
  mode: 'quick' | 'full';
  /** Seconds per search trial. */
  stepSeconds: number;
  /** Seconds of flood. */
  floodSeconds: number;
  /** Trials per search (after the flood). */
  maxTrials: number;
  /** Relative width of the search's final bracket. */
  precision: number;
  /** Wall-clock budget of one search. */
  searchMaxSeconds: number;
  /** CPU-cost bursts (events each, how many), interleaved with reference readings. */
  costBurst: number;
  costSteps: number;
  /** Benchmark-only extra CPU per event in the bridge under test, a fraction of its measured cost (0 = off). */
  handicap: number;
  /** Seconds per latency measurement. */
  latencySeconds: number;
  /** Run the 2x-overload step and re-measure peak RSS in a fresh bridge process (full mode). */
  overload: boolean;
  /** Sink for sendevents: the faithful simulated FreeSWITCH (slow, like the real one) instead of the lean counter. */
  faithfulSink: boolean;
  /** Extra node flags for bridge processes (e.g. --cpu-prof). */
  bridgeExecArgv: string[];
  progress: Progress;
}

export interface BridgeConfig {
  psk: boolean;
  /** 'auto' = the product's default (autoWorkers: 0 on two cores). */
  workers: number | 'auto';
  batch: number;
  /** Event size index into eventShapes(). */
  shape: number;
}

export interface LaneUsage {
  queued: number;
  inFlight: number;
  droppedQueueFull: number;
}

export interface BridgeUsage extends ProcessUsage {
  counters: Counters;
  pool: { egress: LaneUsage; ingress: LaneUsage };
  udp: unknown;
  esl: { injector?: { droppedOldest?: number } };
}

/** Pool queue drops between two usage readings, one direction. */
export function poolDrops(before: BridgeUsage, after: BridgeUsage, d: 'egress' | 'ingress'): number {
  return after.pool[d].droppedQueueFull - before.pool[d].droppedQueueFull;
}

export function bridgeXml(bindAddress: string, destination: string, port: number): string {
  return `<configuration name="event_multicast.conf" description="Multicast Event">
  <settings>
    <param name="address" value="${destination}"/>
    <param name="port" value="${port}"/>
    <param name="source_address" value="${bindAddress}"/>
    <param name="bindings" value="${BINDINGS}"/>
    <param name="ttl" value="1"/>
  </settings>
</configuration>`;
}

export async function startBridge(
  plan: Plan,
  name: string,
  c: BridgeConfig,
  net: { bind: string; destination: string; port: number; eslPort: number },
  extraFlags: Record<string, string> = {},
): Promise<LoadProcess> {
  const p = LoadProcess.spawn(name, 'bridge-proc', { execArgv: plan.bridgeExecArgv });
  // A start that fails or times out must not leave the process behind: the caller never gets it
  // to close, and its open IPC channel would keep the whole run alive until its lifetime cap.
  const started = p.request(
    'start',
    {
      xml: bridgeXml(net.bind, net.destination, net.port),
      flags: {
        'esl-port': String(net.eslPort),
        workers: String(c.workers),
        'batch-size': String(c.batch),
        'status-listen': 'off',
        'log-level': 'warn',
        switchname: name,
        ...extraFlags,
      },
      psk: c.psk ? BENCH_PSK : null,
    },
    // A start took over 20 s on a 2-core box at load average 20 (the gate then lost the figure).
    60_000,
  );
  try {
    await started;
  } catch (e) {
    await p.close().catch(() => undefined);
    throw e;
  }
  return p;
}

export function randomPort(): number {
  return 20_000 + Math.floor(Math.random() * 40_000);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `read` until it reaches `target`, or stops changing for `quietMs`, or `maxMs` passes.
 * Returns the last value: in-flight events get their chance to land before loss is counted.
 */
export async function settle(read: () => Promise<number>, target: number, quietMs = 250, maxMs = 3000): Promise<number> {
  return (await settleAt(read, target, quietMs, maxMs)).value;
}

/** settle(), also telling when (performance.now() ms) the count last grew. */
export async function settleAt(read: () => Promise<number>, target: number, quietMs = 250, maxMs = 3000): Promise<{ value: number; lastChangeMs: number }> {
  const start = Date.now();
  let last = await read();
  let changedAt = Date.now();
  let lastChangeMs = performance.now();
  while (last < target && Date.now() - start < maxMs) {
    await sleep(25);
    const v = await read();
    if (v !== last) {
      last = v;
      changedAt = Date.now();
      lastChangeMs = performance.now();
    } else if (Date.now() - changedAt >= quietMs) break;
  }
  return { value: last, lastChangeMs };
}

/** Closes every process, never throwing (cleanup path). */
export async function closeAll(processes: (LoadProcess | null)[]): Promise<void> {
  // In order: the bridge first, so it does not see its switch go away and reconnect.
  for (const p of processes) if (p !== null) await p.close().catch(() => undefined);
}

export class Progress {
  private readonly t0 = Date.now();
  constructor(private readonly enabled: boolean) {}
  line(label: string, message: string): void {
    if (!this.enabled) return;
    const s = ((Date.now() - this.t0) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${s}s] ${label}: ${message}\n`);
  }
}

export function kilo(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n));
}

export function describeConfig(scenario: string, c: BridgeConfig, bytes: number): string {
  return `${scenario} ${c.psk ? 'psk' : 'plain'} ${bytes}B w${c.workers === 'auto' ? `auto(${autoWorkers()})` : c.workers} b${c.batch}`;
}

/** The worker count a configuration runs with (what the result rows record). */
export function resolvedWorkers(c: BridgeConfig): number {
  return c.workers === 'auto' ? autoWorkers() : c.workers;
}

export function lossOf(sent: number, arrived: number): number {
  return sent === 0 ? 0 : Math.max(0, (sent - arrived) / sent);
}

/** One bridge configuration wired to its load processes, as the throughput procedure drives it. */
/** What the lean sink (esl-sink) and the simulated switch report about the sendevents they got. */
export interface SinkReply {
  sendevents: number;
  stamped: number;
  p50_ms: number | null;
  p99_ms: number | null;
  p999_ms: number | null;
  max_ms: number | null;
}

/**
 * One trial of a rig: `load` offers `rate` events/s for `seconds` (null = a flood) through its
 * `request` command, then the arrivals are read until they settle. The caller adds `where`.
 */
export async function offerAndSettle(
  load: LoadProcess,
  request: string,
  extra: Record<string, unknown>,
  rate: number | null,
  seconds: number,
  arrived: () => Promise<number>,
): Promise<Omit<Offered, 'where'>> {
  const t0 = performance.now();
  const asked = rate === null ? null : Math.round(rate * seconds);
  const r = await load.request<{ sent: number; seconds: number }>(
    request,
    { ...extra, count: asked ?? 50_000_000, ...(rate !== null ? { rate } : {}), maxSeconds: rate === null ? seconds : seconds * 1.2 + 0.3 },
    (seconds + 15) * 1000,
  );
  const offerEnd = performance.now();
  const arrivedAtEnd = await arrived();
  const landed = await settleAt(arrived, r.sent);
  const elapsedSeconds = Math.max(0.001, (landed.lastChangeMs - t0) / 1000);
  const drainSeconds = Math.max(0, (landed.lastChangeMs - offerEnd) / 1000);
  return { asked, sent: r.sent, seconds: r.seconds, arrivedAtEnd, arrived: landed.value, elapsedSeconds, drainSeconds };
}

export interface Rig {
  label: string;
  /** Offers `rate` events/s for `seconds` (rate null = as fast as it goes); counts what arrived after in-flight work landed. */
  offer(rate: number | null, seconds: number): Promise<Offered>;
  bridgeUsage(): Promise<BridgeUsage>;
  /** The bridge processes under test, in the order events pass them (e2e: A then B). */
  bridges(): LoadProcess[];
  /** Has the load generator send `count` events flat out into the first bridge's socket, without waiting for arrivals; returns how many it sent. */
  queue(count: number): Promise<number>;
  /** A fresh bridge process (same configuration): peak RSS starts again from zero. */
  restartBridge(): Promise<void>;
}

export interface Offered {
  /** Events the rate asked for (null for a flood). */
  asked: number | null;
  sent: number;
  seconds: number;
  /** Arrived by the time the load generator finished. */
  arrivedAtEnd: number;
  /** Arrived after in-flight events landed. */
  arrived: number;
  /** From the first event offered until the last one landed. */
  elapsedSeconds: number;
  /** From the end of the offering until the last event landed: the backlog the step left. */
  drainSeconds: number;
  /**
   * Events the bridge under test itself carried through (egress: datagrams it sent; ingress:
   * datagrams it read); CPU per event divides by this (the receiver's own socket may drop some).
   */
  handled?: number;
  /** Where loss happened, for the notes. */
  where: string;
}

/**
 * Bridge CPU µs per event over one backlog: the bridge processes are stopped (SIGSTOP) while
 * the load generator queues `costBurst` events in their sockets, then resumed one after the
 * other (e2e: A works through its backlog into B's socket before B resumes). Each bridge thus
 * works through a full backlog in full batches, whatever pace the (equally busy) load generator
 * and the scheduler would have set: at a fixed rate, or a burst the generator trickles out, the
 * batch sizes follow the machine's load and the CPU per event varied 2-3x on a busy box.
 */
async function burstCost(plan: Plan, rig: Rig): Promise<number> {
  const bridges = rig.bridges();
  const before = await Promise.all(bridges.map((b) => b.request<BridgeUsage>('usage')));
  for (const b of bridges) b.pause(true);
  let queued: number;
  try {
    queued = await rig.queue(plan.costBurst);
  } catch (e) {
    for (const b of bridges) b.pause(false);
    throw e;
  }
  let expected = queued;
  let cpuUs = 0;
  for (const [i, b] of bridges.entries()) {
    b.pause(false);
    const handled = async (): Promise<number> => carried((await b.request<BridgeUsage>('usage')).counters) - carried(before[i]!.counters);
    const got = await settle(handled, expected, 300, 10_000);
    cpuUs += (await b.request<BridgeUsage>('usage')).cpuUs - before[i]!.cpuUs;
    if (got < expected / 2 || got === 0) {
      for (const rest of bridges) rest.pause(false);
      throw new Error(`cost backlog of ${plan.costBurst}: bridge ${i + 1} of ${bridges.length} carried only ${got} of ${expected}`);
    }
    expected = got;
  }
  return cpuUs / expected;
}

/** Datagrams a bridge sent plus datagrams it read: one per event it carried, whichever way. */
function carried(c: BridgeUsage['counters']): number {
  return c.egress.datagrams + c.ingress.datagrams;
}

/** Backlogs measured and thrown away first: the first ones after start cost more (JIT, caches). */
const COST_WARMUP_BURSTS = 4;
/** Units of one reference reading (~0.1 s of CPU on a 2020s core). */
const REFERENCE_UNITS = 4000;

/** The reference's CPU µs per unit (reference-work.ts), in the first bridge process under test. */
async function referenceStep(rig: Rig): Promise<number> {
  const r = await rig.bridges()[0]!.request<{ units: number; cpuUs: number }>('reference', { units: REFERENCE_UNITS }, 30_000);
  return r.cpuUs / r.units;
}

/**
 * Cost bursts interleaved with reference readings (ref, burst, ref, burst, ..., ref): each
 * burst's CPU per event is divided by the mean of the references either side of it; the median
 * ratio is the figure (cost_ratio).
 */
async function measureCost(plan: Plan, rig: Rig, result: BenchResult): Promise<void> {
  if (plan.costSteps <= 0) return;
  await referenceStep(rig); // JIT warm-up of the loop
  // Warm-up bursts, not counted: the first ones after start cost more (JIT, caches).
  for (let i = 0; i < COST_WARMUP_BURSTS; i++) await burstCost(plan, rig);
  const refs = [await referenceStep(rig)];
  const costs: number[] = [];
  for (let i = 0; i < plan.costSteps; i++) {
    costs.push(await burstCost(plan, rig));
    refs.push(await referenceStep(rig));
  }
  const ratios = costs.map((c, i) => c / ((refs[i]! + refs[i + 1]!) / 2));
  result.cost_burst = plan.costBurst;
  result.cost_cpu_us_per_event = round(median(costs), 2);
  result.reference_cpu_us = round(median(refs), 4);
  result.cost_ratio = round(median(ratios), 3);
  result.notes.push(
    `cost: ${plan.costSteps} bursts of ${plan.costBurst} events: ${costs.map((c) => c.toFixed(1)).join(', ')} µs/event; ` +
      `reference ${refs.map((r) => r.toFixed(2)).join(', ')} µs per unit; ratios ${ratios.map((r) => r.toFixed(1)).join(', ')}`,
  );
  plan.progress.line(rig.label, `cost: ${result.cost_cpu_us_per_event} µs/event, ${result.cost_ratio}x reference (bursts ${costs.map((c) => c.toFixed(1)).join(', ')})`);
}

/** Measures the per-event cost unhandicapped, then makes every bridge process do `plan.handicap` of it more. */
async function applyHandicap(plan: Plan, rig: Rig, result: BenchResult): Promise<void> {
  // A restarted bridge process (full mode's RSS step) would come back without it.
  if (plan.overload) throw new Error('the handicap is for the quick suite (the gate) only');
  const samples: number[] = [];
  for (let i = 0; i < COST_WARMUP_BURSTS + 5; i++) samples.push(await burstCost(plan, rig));
  samples.splice(0, COST_WARMUP_BURSTS);
  const cost = median(samples);
  const bridges = rig.bridges();
  // Each event passes through every bridge process once (one datagram each): the extra work is split among them.
  const usPerDatagram = (plan.handicap * cost) / bridges.length;
  for (const b of bridges) await b.request('handicap', { usPerDatagram });
  result.handicap = plan.handicap;
  result.handicap_us_per_event = round(plan.handicap * cost, 2);
  result.notes.push(`HANDICAP: +${(plan.handicap * 100).toFixed(0)}% of the measured ${cost.toFixed(2)} µs/event (${usPerDatagram.toFixed(2)} µs per datagram in each of ${bridges.length} bridge process(es))`);
  plan.progress.line(rig.label, `handicap +${(plan.handicap * 100).toFixed(0)}%: ${result.handicap_us_per_event} µs/event`);
}

interface TrialRecord {
  pass: boolean;
  offered: Offered;
  cpuUs: number;
}

/**
 * The throughput procedure every bridge scenario runs:
 *   warm-up; search for the highest rate with 0 loss (peak RSS after it = RSS at full load);
 *   2x that rate for one step (loss and peak RSS under overload); a flood (what gets through
 *   and what is lost at saturation).
 */
export async function measureThroughput(plan: Plan, rig: Rig, result: BenchResult): Promise<void> {
  const { label } = rig;
  await rig.offer(10_000, 1);
  if (plan.handicap > 0) await applyHandicap(plan, rig, result);
  await measureCost(plan, rig, result);
  const trial = async (rate: number): Promise<TrialRecord> => {
    const before = await rig.bridgeUsage();
    const o = await rig.offer(rate, plan.stepSeconds);
    const after = await rig.bridgeUsage();
    const verdict = judgeTrial(o);
    plan.progress.line(label, `${kilo(rate)}/s -> ${verdict.pass ? 'sustained' : verdict.why}`);
    return { pass: verdict.pass, offered: o, cpuUs: after.cpuUs - before.cpuUs, ...(verdict.pass ? {} : { why: verdict.why }) };
  };
  const search = await searchSustainedRate(trial, {
    start: 20_000,
    floor: 1000,
    ceiling: 1_000_000,
    growth: 2,
    maxTrials: plan.maxTrials,
    maxSeconds: plan.searchMaxSeconds,
    precision: plan.precision,
    confirmations: 1,
  });
  result.events_per_sec = search.rate;
  result.bracket_low = search.bracket.lo;
  result.bracket_high = search.bracket.hi;
  result.search_trials = search.steps.length;
  result.search_converged = search.converged;
  const best = search.steps.filter((s) => s.rate === search.rate && s.outcome.pass).pop();
  if (best) result.cpu_us_per_event = round(best.outcome.cpuUs / best.outcome.offered.sent, 2);
  if (search.failedAt !== null) {
    const failed = search.steps.find((s) => s.rate === search.failedAt && !s.outcome.pass)!.outcome as TrialRecord & { why?: string };
    result.notes.push(`first failure at ${search.failedAt}/s: ${failed.why ?? '?'}`);
  }
  const width = search.relativeWidth === null ? 'open' : `${(search.relativeWidth * 100).toFixed(1)}%`;
  result.notes.push(`search: bracket [${search.bracket.lo}, ${search.bracket.hi ?? '–'}] (width ${width}), ${search.steps.length} trials, stopped: ${search.stop}`);
  plan.progress.line(label, `sustained ${kilo(search.rate)}/s (bracket ${search.bracket.lo}..${search.bracket.hi ?? '–'}, ${search.stop})`);

  if (!plan.overload) {
    result.rss_mb = round((await rig.bridgeUsage()).maxRssBytes / 2 ** 20, 1);
    result.notes.push('quick mode: RSS is the peak over the whole search, including the failed rates');
  } else {
    await measureRssAndOverload(plan, rig, result, search.rate);
  }
  const flood = await rig.offer(null, plan.floodSeconds);
  // What got through: counted until the last event landed (a bridge that stops reading while it
  // works, as with workers 0, delivers after the flood has ended).
  result.saturation_events_per_sec = Math.round(Math.max(flood.arrivedAtEnd / flood.seconds, flood.arrived / flood.elapsedSeconds));
  result.loss_at_saturation = round(lossOf(flood.sent, flood.arrived), 4);
  result.flood_rss_mb = round((await rig.bridgeUsage()).maxRssBytes / 2 ** 20, 1);
  result.notes.push(`flood: offered ${Math.round(flood.sent / flood.seconds)}/s, ${flood.where}`);
  plan.progress.line(
    label,
    `flood: offered ${kilo(flood.sent / flood.seconds)}/s, got through ${kilo(result.saturation_events_per_sec)}/s, loss ${(result.loss_at_saturation * 100).toFixed(2)}%, peak RSS ${result.flood_rss_mb} MB`,
  );
}

async function measureRssAndOverload(plan: Plan, rig: Rig, result: BenchResult, rate: number): Promise<void> {
  const { label } = rig;
  // The search tried rates above the answer (queues grew there): peak RSS at full load is read
  // from a fresh bridge process that ran warm-up plus one step at the sustained rate.
  await rig.restartBridge();
  const search = { rate };
  await rig.offer(10_000, 1);
  if (search.rate > 0) await rig.offer(search.rate, plan.stepSeconds);
  result.rss_mb = round((await rig.bridgeUsage()).maxRssBytes / 2 ** 20, 1);
  plan.progress.line(label, `peak RSS at ${kilo(search.rate)}/s: ${result.rss_mb} MB`);

  if (search.rate > 0) {
    const o = await rig.offer(search.rate * 2, plan.stepSeconds);
    const rss = round((await rig.bridgeUsage()).maxRssBytes / 2 ** 20, 1);
    result.overload_loss = round(lossOf(o.sent, o.arrived), 4);
    result.overload_rss_mb = rss;
    plan.progress.line(label, `2x overload (${kilo(search.rate * 2)}/s): offered ${kilo(o.sent / o.seconds)}/s, loss ${(result.overload_loss * 100).toFixed(2)}%, peak RSS ${rss} MB`);
  }
}
