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
  precision: number;
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
  workers: number;
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
  await p.request(
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
    20_000,
  );
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
  return `${scenario} ${c.psk ? 'psk' : 'plain'} ${bytes}B w${c.workers} b${c.batch}`;
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
  const arrivedAtEnd = await arrived();
  const landed = await settleAt(arrived, r.sent);
  const elapsedSeconds = Math.max(0.001, (landed.lastChangeMs - t0) / 1000);
  return { asked, sent: r.sent, seconds: r.seconds, arrivedAtEnd, arrived: landed.value, elapsedSeconds };
}

export interface Rig {
  label: string;
  /** Offers `rate` events/s for `seconds` (rate null = as fast as it goes); counts what arrived after in-flight work landed. */
  offer(rate: number | null, seconds: number): Promise<Offered>;
  bridgeUsage(): Promise<BridgeUsage>;
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
  /** Where loss happened, for the notes. */
  where: string;
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
  const trial = async (rate: number): Promise<TrialRecord> => {
    const before = await rig.bridgeUsage();
    const o = await rig.offer(rate, plan.stepSeconds);
    const after = await rig.bridgeUsage();
    const pass = o.asked !== null && o.sent >= o.asked && o.arrived >= o.sent;
    const why = o.asked !== null && o.sent < o.asked ? `load offered only ${o.sent} of ${o.asked} in time (${o.where})` : `${o.sent - o.arrived} lost (${o.where})`;
    plan.progress.line(label, `${kilo(rate)}/s -> ${pass ? 'no loss' : why}`);
    return { pass, offered: o, cpuUs: after.cpuUs - before.cpuUs, ...(pass ? {} : { why }) };
  };
  const search = await searchSustainedRate(trial, {
    start: 20_000,
    floor: 1000,
    ceiling: 1_000_000,
    growth: 2,
    maxTrials: plan.maxTrials,
    precision: plan.precision,
  });
  result.events_per_sec = search.rate;
  const best = search.steps.find((s) => s.rate === search.rate && s.outcome.pass);
  if (best) result.cpu_us_per_event = round(best.outcome.cpuUs / best.outcome.offered.sent, 2);
  if (search.failedAt !== null) {
    const failed = search.steps.find((s) => s.rate === search.failedAt)!.outcome as TrialRecord & { why?: string };
    result.notes.push(`first loss at ${search.failedAt}/s: ${failed.why ?? '?'}`);
  }
  plan.progress.line(label, `sustained ${kilo(search.rate)}/s with 0 loss`);

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
