/**
 * The benchmark's result file, version 1. Consumers (bench compare, CI pipelines, capacity
 * planning) read these names: add fields freely, but rename or change meaning only with a new
 * schema_version.
 */
import type { MachineInfo } from './machine.js';

export const SCHEMA_VERSION = 1;

export type ScenarioName = 'raw-udp' | 'codec' | 'baseline-percipher' | 'egress' | 'ingress' | 'e2e' | 'ingress-fs';
export type Direction = 'egress' | 'ingress' | 'both';

export interface BenchResult {
  scenario: ScenarioName;
  /** egress/ingress for codec rows and the bridge rows; e2e is both; raw-udp is the transport alone. */
  direction: Direction;
  psk: boolean;
  /** Event text size (the UDP payload size for raw-udp). */
  event_bytes: number;
  /** Worker threads of the bridge's pool (codec rows: 0, single thread). */
  workers: number;
  /** Items per worker batch (null where no pool is involved). */
  batch: number | null;
  /** Highest offered rate that lost nothing (bridge rows); plain throughput for reference rows. */
  events_per_sec: number | null;
  /**
   * The search's final bracket: bracket_low passed (and was confirmed), bracket_high failed;
   * events_per_sec = bracket_low. search_converged: the bracket reached the search's precision.
   */
  bracket_low: number | null;
  bracket_high: number | null;
  search_trials: number | null;
  search_converged: boolean | null;
  /**
   * CPU cost: bursts of cost_burst events offered flat out (nothing lost); the bridge's CPU µs
   * per event (median over bursts), the reference's CPU µs per 1000 iterations of a counted
   * loop run in the bridge process between the bursts, and the median of each burst's cost
   * divided by the references either side of it (cost_ratio, the gate's CPU figure).
   */
  cost_burst: number | null;
  cost_cpu_us_per_event: number | null;
  reference_cpu_us: number | null;
  cost_ratio: number | null;
  /** Benchmark-only handicap (a fraction of the measured per-event cost), null when off. */
  handicap: number | null;
  handicap_us_per_event: number | null;
  /** What got through when offered more than it can take (events/s arriving), and what was lost. */
  saturation_events_per_sec: number | null;
  loss_at_saturation: number | null;
  /** One step at twice events_per_sec: the share lost and the bridge's peak RSS by then. */
  overload_loss: number | null;
  overload_rss_mb: number | null;
  /** The bridge's peak RSS after the flood. */
  flood_rss_mb: number | null;
  /** Latency at `latency_rate` events/s (e2e rows), HDR histogram. */
  latency_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  p999_ms: number | null;
  /** Bridge process CPU time (all threads) per event at the sustained rate. */
  cpu_us_per_event: number | null;
  /** Peak RSS of the bridge process at full load (after the search, before any overload). */
  rss_mb: number | null;
  /** events_per_sec divided by the same run's references (null where not applicable). */
  ratio_to_raw_udp: number | null;
  ratio_to_codec: number | null;
  ratio_to_percipher: number | null;
  /** Free-form facts for people: where loss happened, what limited it. */
  notes: string[];
}

export interface BenchReport {
  schema_version: typeof SCHEMA_VERSION;
  machine: MachineInfo;
  started_at: string;
  finished_at: string;
  mode: 'quick' | 'full';
  /** How the bridge under test was run, so readers know what the CPU and RSS figures cover. */
  method: string;
  results: BenchResult[];
}

/** Several runs of the same suite (a committed baseline): compare takes medians over them. */
export interface BenchRunSet {
  schema_version: typeof SCHEMA_VERSION;
  kind: 'run-set';
  runs: BenchReport[];
}

export function emptyResult(r: Pick<BenchResult, 'scenario' | 'direction' | 'psk' | 'event_bytes' | 'workers' | 'batch'>): BenchResult {
  return {
    ...r,
    events_per_sec: null,
    bracket_low: null,
    bracket_high: null,
    search_trials: null,
    search_converged: null,
    cost_burst: null,
    cost_cpu_us_per_event: null,
    reference_cpu_us: null,
    cost_ratio: null,
    handicap: null,
    handicap_us_per_event: null,
    saturation_events_per_sec: null,
    loss_at_saturation: null,
    overload_loss: null,
    overload_rss_mb: null,
    flood_rss_mb: null,
    latency_rate: null,
    p50_ms: null,
    p99_ms: null,
    p999_ms: null,
    cpu_us_per_event: null,
    rss_mb: null,
    ratio_to_raw_udp: null,
    ratio_to_codec: null,
    ratio_to_percipher: null,
    notes: [],
  };
}

/** Identifies one measured configuration across runs. */
export function resultKey(r: Pick<BenchResult, 'scenario' | 'direction' | 'psk' | 'event_bytes' | 'workers' | 'batch'>): string {
  return `${r.scenario}/${r.direction}/${r.psk ? 'psk' : 'plain'}/${r.event_bytes}B/w${r.workers}/b${r.batch ?? '-'}`;
}

/** Fills the ratio fields of the bridge and codec rows from the reference rows of the same run. */
export function addRatios(results: BenchResult[]): void {
  const raw = results.find((r) => r.scenario === 'raw-udp')?.events_per_sec ?? null;
  const find = (scenario: ScenarioName, direction: Direction, psk: boolean, bytes: number): number | null =>
    results.find((r) => r.scenario === scenario && r.direction === direction && r.psk === psk && r.event_bytes === bytes)?.events_per_sec ?? null;
  const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : round(a / b, 4));
  for (const r of results) {
    if (r.scenario === 'raw-udp' || r.scenario === 'baseline-percipher') continue;
    r.ratio_to_raw_udp = ratio(r.events_per_sec, raw);
    if (r.scenario === 'e2e') {
      // The slower of the two codec directions bounds a full trip.
      const e = find('codec', 'egress', r.psk, r.event_bytes);
      const i = find('codec', 'ingress', r.psk, r.event_bytes);
      r.ratio_to_codec = ratio(r.events_per_sec, e === null || i === null ? null : Math.min(e, i));
      const pe = find('baseline-percipher', 'egress', true, r.event_bytes);
      const pi = find('baseline-percipher', 'ingress', true, r.event_bytes);
      r.ratio_to_percipher = r.psk && pe !== null && pi !== null ? ratio(r.events_per_sec, Math.min(pe, pi)) : null;
      continue;
    }
    if (r.scenario !== 'codec') r.ratio_to_codec = ratio(r.events_per_sec, find('codec', r.direction, r.psk, r.event_bytes));
    r.ratio_to_percipher = r.psk ? ratio(r.events_per_sec, find('baseline-percipher', r.direction, true, r.event_bytes)) : null;
  }
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Accepts a single report or a run set; throws a precise error on anything else. */
export function readRuns(json: unknown, what: string): BenchReport[] {
  if (json === null || typeof json !== 'object') throw new Error(`${what}: not a JSON object`);
  const o = json as Record<string, unknown>;
  if (o['schema_version'] !== SCHEMA_VERSION) {
    throw new Error(`${what}: schema_version ${JSON.stringify(o['schema_version'])} is not supported (this build reads ${SCHEMA_VERSION})`);
  }
  if (o['kind'] === 'run-set') {
    const runs = o['runs'];
    if (!Array.isArray(runs) || runs.length === 0) throw new Error(`${what}: a run set needs a non-empty "runs" array`);
    return runs.map((r, i) => checkReport(r, `${what} run ${i + 1}`));
  }
  return [checkReport(o, what)];
}

function checkReport(json: unknown, what: string): BenchReport {
  const o = json as Record<string, unknown>;
  if (o === null || typeof o !== 'object' || !Array.isArray(o['results'])) throw new Error(`${what}: no "results" array`);
  for (const [i, r] of (o['results'] as unknown[]).entries()) {
    const x = r as Record<string, unknown>;
    for (const f of ['scenario', 'psk', 'event_bytes', 'workers', 'events_per_sec']) {
      if (!(f in x)) throw new Error(`${what}: result ${i + 1} lacks "${f}"`);
    }
  }
  return o as unknown as BenchReport;
}
