/**
 * Fits the simulated switch's cost model (src/testing/cost-model.ts) to the committed real
 * FreeSWITCH measurements (bench/results/realfs/calibration/*.json, made by calibrate.ts), on a
 * stated subset, and checks it on the rest:
 * - FIT SET: closed-loop, one connection. The unhandled CUSTOM event at three head sizes gives
 *   the cost per head byte and per command (a straight line through CPU per event); the
 *   one-connection rate splits the per-command part between the connection thread (1 / rate,
 *   the thread is the bottleneck) and the event-dispatch thread (the rest); each handled shape's
 *   CPU above that line is its handler's cost.
 * - CHECK SET: everything else: two connections, paced rates (CPU per event), and the rate of
 *   replicated registrations through the bridge on the rig (e2e JSON, bench --freeswitch-...).
 * Shared by bench/realfs/fit.ts (prints the fit) and test/budget/cost-model.test.ts (checks it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandCostUs, dispatchCostUs, MEASURED_COST_MODEL, type CostModel, type EventKind } from '../src/testing/cost-model.js';
import { benchEvent, injectedSendevent, sendeventCommand, type ShapeName } from '../src/benchmark/realfs/event-shapes.js';

/** dist/testkit/realfs-calibration.js -> the repo root is two levels up. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const CALIBRATION_DIR = resolve(REPO_ROOT, 'bench/results/realfs/calibration');
export const E2E_DIR = resolve(REPO_ROOT, 'bench/results/realfs');

export interface CalibrationCase {
  shape: ShapeName;
  /** Extra bytes of padding header (custom only: to vary the head size). */
  padBytes: number;
  /** custom only: keep only this many of its own headers (a small head); absent = all. */
  keepHeaders?: number;
  connections: number;
  /** null = closed loop. */
  rate: number | null;
}

export interface CalibrationRow extends CalibrationCase {
  headBytes: number;
  bodyBytes: number;
  sent: number;
  answered: number;
  refused: number;
  seconds: number;
  answeredPerSec: number;
  /** FreeSWITCH CPU from the first write to the last answer, and until its CPU went quiet after. */
  cpuMsAtLastAnswer: number;
  cpuMsSettled: number;
  cpuMsPerEvent: number;
  /** cpuMsAtLastAnswer / wall ms: cores FreeSWITCH kept busy. */
  coresBusy: number;
  loadavg1: number;
}

/** Bytes of the head FreeSWITCH reads one by one when the bridge injects event `n` of a shape (lean or not). */
export function injectedHeadBytes(shape: ShapeName, lean: boolean, ctx = { run: 'r', domain: 'fs-bench.invalid', profile: 'internal' }, n = 12345): number {
  return injectedSendevent(benchEvent(shape, ctx, n), 'fs-a', lean).indexOf('\n\n') + 2;
}

export const KIND_OF_SHAPE: Record<CalibrationRow['shape'], EventKind> = { register: 'register', presence: 'presence', mwi: 'mwi', custom: 'other' };

export function loadCalibrationRows(files?: string[]): CalibrationRow[] {
  const paths = files ?? readdirSync(CALIBRATION_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => resolve(CALIBRATION_DIR, f));
  return paths.flatMap((p) => (JSON.parse(readFileSync(p, 'utf8')) as { rows: CalibrationRow[] }).rows);
}

export const isFitRow = (r: CalibrationRow): boolean => r.connections === 1 && r.rate === null;

const mean = (xs: number[]): number => xs.reduce((a, x) => a + x, 0) / xs.length;

/** Least squares y = a + b x. */
function line(points: [number, number][]): { a: number; b: number } {
  const mx = mean(points.map((p) => p[0]));
  const my = mean(points.map((p) => p[1]));
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const b = sxx === 0 ? 0 : sxy / sxx;
  return { a: my - b * mx, b };
}

export interface Fit {
  model: CostModel;
  /** Per-command µs of an unhandled event (read + fire), from the line. */
  unhandledBaseUs: number;
}

export function fitCostModel(rows: CalibrationRow[]): Fit {
  const fit = rows.filter(isFitRow);
  const custom = fit.filter((r) => r.shape === 'custom');
  if (custom.length < 2) throw new Error('fit: need the unhandled CUSTOM event at two head sizes or more');
  const { a, b } = line(custom.map((r) => [r.headBytes, r.cpuMsPerEvent * 1000]));
  // The one-connection thread is the bottleneck of a closed loop: its cost per command is 1 / rate.
  const threadUs = mean(custom.map((r) => 1e6 / r.answeredPerSec - r.headBytes * b));
  const perCommandUs = Math.max(0, Math.min(a, threadUs));
  const firedEventUs = Math.max(0, a - perCommandUs);
  const handler = (shape: CalibrationRow['shape']): number => {
    const rs = fit.filter((r) => r.shape === shape);
    if (rs.length === 0) return 0;
    return Math.max(0, mean(rs.map((r) => r.cpuMsPerEvent * 1000 - (a + b * r.headBytes))));
  };
  const r1 = (x: number): number => Math.round(x * 10) / 10;
  const model: CostModel = {
    ...MEASURED_COST_MODEL,
    perHeaderByteUs: Math.round(b * 1000) / 1000,
    perCommandUs: r1(perCommandUs),
    firedEventUs: r1(firedEventUs),
    registerHandlerUs: r1(handler('register')),
    presenceHandlerUs: r1(handler('presence')),
    mwiHandlerUs: r1(handler('mwi')),
  };
  return { model, unhandledBaseUs: a };
}

/** The model's FreeSWITCH CPU per event (µs) for a measured row's command. */
export function predictedCpuUs(m: CostModel, r: CalibrationRow): number {
  return commandCostUs(m, r.headBytes, r.bodyBytes) + dispatchCostUs(m, KIND_OF_SHAPE[r.shape]);
}

/** What bench --freeswitch-a/-b wrote (bench/results/realfs/bench-*.json): the parts the check reads. */
export interface E2eTrial {
  rate: number;
  sent: number;
  arrived: number;
  pass: boolean;
  seconds: number;
  cpuMs: { a: number | null; b: number | null; bridges: number | null; bench: number };
}
export interface E2eReport {
  shape: string;
  results: { system: string; scenario: string; skipped: string | null; sustainedRate: number; failedAt: number | null; trials: E2eTrial[] }[];
}

export function loadBenchReports(): { file: string; report: E2eReport }[] {
  return readdirSync(E2E_DIR)
    .filter((f) => f.startsWith('bench-') && f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, report: JSON.parse(readFileSync(resolve(E2E_DIR, f), 'utf8')) as E2eReport }));
}

export interface E2ePrediction {
  /** The saturated trial: the highest offered rate tried. */
  offered: number;
  measuredPerSec: number;
  predictedPerSec: number;
  /** Cores the whole chain (both switches, both bridges, the benchmark) got in that trial: an input (the machine is shared). */
  coresGot: number;
  /** Model CPU µs per event in switch A and B, and the measured bridges + benchmark. */
  costUs: { a: number; b: number; others: number };
  limitedBy: 'cores' | 'injector connections' | 'dispatch thread' | 'firing connections';
}

/**
 * The model's rate of replicated registrations through the bridges (e2e scenario), at the
 * trial that saturated: the least of what the cores the chain got hold at the model's CPU per
 * event in A (the firing sendevent) and B (the lean injected sendevent and mod_sofia's handler)
 * plus the bridges' and the benchmark's measured CPU, and the thread limits of the model.
 */
export function predictE2e(m: CostModel, trial: E2eTrial, heads: { firing: number; injected: number }, connections: { firing: number; injectors: number }): E2ePrediction {
  const { a, b, bridges, bench } = trial.cpuMs;
  if (a === null || b === null || bridges === null) throw new Error('predictE2e: the trial lacks a CPU figure (switches not local?)');
  const coresGot = (a + b + bridges + bench) / (trial.seconds * 1000);
  const readA = commandCostUs(m, heads.firing, 0);
  const readB = commandCostUs(m, heads.injected, 0);
  const costUs = { a: readA + dispatchCostUs(m, 'other'), b: readB + dispatchCostUs(m, 'register'), others: ((bridges + bench) * 1000) / trial.arrived };
  const limits: [E2ePrediction['limitedBy'], number][] = [
    ['cores', (coresGot * 1e6) / (costUs.a + costUs.b + costUs.others)],
    ['injector connections', (connections.injectors * 1e6) / readB],
    ['firing connections', (connections.firing * 1e6) / readA],
    ['dispatch thread', 1e6 / dispatchCostUs(m, 'register')],
  ];
  const [limitedBy, predictedPerSec] = limits.reduce((x, y) => (y[1] < x[1] ? y : x));
  return { offered: trial.rate, measuredPerSec: trial.arrived / trial.seconds, predictedPerSec, coresGot, costUs, limitedBy };
}

/**
 * The README's calibration block (npm run bench:docs): the fitted model, how it does on the rows
 * it was not fitted on, and its prediction of the registration rate through the bridges, all
 * computed here from the committed files, never typed.
 */
export function calibrationSummary(calibrationFiles: readonly string[], benchFiles: readonly { path: string; json: unknown }[]): string {
  const rows = loadCalibrationRows(calibrationFiles.map((f) => resolve(REPO_ROOT, f)));
  const { model } = fitCostModel(rows);
  const f1 = (x: number): string => x.toFixed(1);
  const params = [
    `| per head byte (connection thread) | ${model.perHeaderByteUs.toFixed(2)} µs |`,
    `| per command besides its bytes (connection thread) | ${f1(model.perCommandUs)} µs |`,
    `| per fired event (the one event-dispatch thread) | ${f1(model.firedEventUs)} µs |`,
    `| mod_sofia's handler: registration / presence / MWI (dispatch thread) | ${[model.registerHandlerUs, model.presenceHandlerUs, model.mwiHandlerUs].map((u) => (u / 1000).toFixed(2)).join(' / ')} ms |`,
  ];
  const checks = rows
    .filter((r) => !isFitRow(r))
    .map((r) => {
      const p = predictedCpuUs(model, r) / 1000;
      return `| ${r.shape}${r.padBytes ? `+${r.padBytes} B` : ''}, ${r.connections} connection${r.connections > 1 ? 's' : ''}, ${r.rate === null ? 'closed loop' : `${r.rate}/s`} | ${r.cpuMsPerEvent.toFixed(2)} ms | ${p.toFixed(2)} ms | ${(((p - r.cpuMsPerEvent) / r.cpuMsPerEvent) * 100).toFixed(0)}% |`;
    });
  const ctx = { run: 'r', domain: 'fs-bench.invalid', profile: 'internal' };
  const sample = benchEvent('register', ctx, 12345);
  const heads = { firing: sendeventCommand(sample).length, injected: injectedHeadBytes('register', true, ctx) };
  const e2e = benchFiles.flatMap(({ path, json }) => {
    const report = json as E2eReport;
    const bridge = report.results.find((r) => r.system === 'bridge' && r.scenario === 'e2e' && r.skipped === null);
    if (report.shape !== 'register' || bridge === undefined) return [];
    const saturated = bridge.trials.reduce((x, t) => (t.rate > x.rate ? t : x));
    const p = predictE2e(model, saturated, heads, { firing: 2, injectors: 2 });
    return [`| \`${path}\`, e2e at ${p.offered}/s offered | ${f1(p.measuredPerSec)}/s | ${f1(p.predictedPerSec)}/s (${p.limitedBy}; the chain got ${p.coresGot.toFixed(2)} cores) | ${(((p.predictedPerSec - p.measuredPerSec) / p.measuredPerSec) * 100).toFixed(0)}% |`];
  });
  // The least of: 2 cores for everything, the 2 connection threads' reading, the one dispatch thread.
  const free = (kind: EventKind, headBytes: number): string => {
    const read = commandCostUs(model, headBytes, 0);
    const dispatch = dispatchCostUs(model, kind);
    return Math.round(Math.min((2 * 1e6) / (read + dispatch), (2 * 1e6) / read, 1e6 / dispatch)).toLocaleString('en-US');
  };
  const presenceHead = injectedHeadBytes('presence', true, ctx);
  const mwiHead = injectedHeadBytes('mwi', true, ctx);
  return [
    `Fitted on the ${rows.filter(isFitRow).length} closed-loop one-connection rows of ${calibrationFiles.map((f) => `\`${f}\``).join(', ')}:`,
    '',
    '| FreeSWITCH CPU | fitted |',
    '|---|---|',
    ...params,
    '',
    'Checked on the rows it was not fitted on (FreeSWITCH CPU per event):',
    '',
    '| row | measured | model | error |',
    '|---|---|---|---|',
    ...checks,
    '',
    'The rate of replicated registrations through the bridges on the rig (one sendevent per event), given the CPU the busy machine gave the chain:',
    '',
    '| run | measured | model | error |',
    '|---|---|---|---|',
    ...e2e,
    '',
    `With 2 cores to itself and 2 injector connections (one sendevent per event, lean), the model's ceiling: registrations ${free('register', heads.injected)}/s, presence ${free('presence', presenceHead)}/s, MWI ${free('mwi', mwiHead)}/s.`,
  ].join('\n');
}
