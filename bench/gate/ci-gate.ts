/**
 * CI performance gate: runs the quick suite (or reads a result file) and compares it with the
 * committed baseline, bench/gate/baseline.json (a run set of several quick runs on the CI machine).
 *
 *   node dist/bench/gate/ci-gate.js [--baseline bench/gate/baseline.json] [--max-regression 25%]
 *        [--max-cost-increase 12%] [--repeat N] [--json OUT.json] [--results IN.json] [--handicap 15%]
 *
 * It runs the default configuration (workers auto), PSK and plain, egress, ingress and e2e.
 * --handicap makes the bridges under test do that fraction more CPU work per event (benchmark
 * only, bench/system/load/handicap.ts): the way to prove the gate catches a real slowdown.
 *
 * Exit 0: no figure moved by more than its allowed change and the baseline's noise band;
 * 1: a regression (or a scenario that failed to produce its figure); 2: usage error.
 * The default threshold is chosen from measured run-to-run spread (see the README section).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { compareRuns, formatComparison, parsePercent, type CompareOptions } from '../../src/benchmark/compare.js';
import { GATE_DEFAULT_MAX_COST_INCREASE, GATE_DEFAULT_MAX_REGRESSION, GATE_DEFAULT_NOISE_FLOOR } from '../../src/benchmark/gate-rules.js';
import { readRuns, SCHEMA_VERSION, type BenchReport, type ScenarioName } from '../../src/benchmark/schema.js';
import { runSuite } from '../system/scenarios/suite.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
/** The bridge scenarios the gate runs (the default configuration: workers auto, PSK and plain). */
const GATED_SCENARIOS: ScenarioName[] = ['egress', 'ingress', 'e2e'];
const USAGE =
  'usage: node dist/bench/gate/ci-gate.js [--baseline FILE] [--max-regression 25%] [--max-cost-increase 12%] [--noise-floor 3%] [--repeat N] [--json OUT.json] [--results IN.json] [--handicap 15%]';

async function main(): Promise<number> {
  let values;
  let opts: CompareOptions;
  let repeat: number;
  let handicap: number;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        baseline: { type: 'string', default: join(REPO_ROOT, 'bench/gate/baseline.json') },
        'max-regression': { type: 'string', default: GATE_DEFAULT_MAX_REGRESSION },
        'max-cost-increase': { type: 'string', default: GATE_DEFAULT_MAX_COST_INCREASE },
        'noise-floor': { type: 'string', default: GATE_DEFAULT_NOISE_FLOOR },
        repeat: { type: 'string', default: '1' },
        json: { type: 'string', default: join(REPO_ROOT, 'bench/results/ci-gate.json') },
        results: { type: 'string' },
        handicap: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
    opts = {
      maxRegression: parsePercent(values['max-regression']!, '--max-regression'),
      maxCostIncrease: parsePercent(values['max-cost-increase']!, '--max-cost-increase'),
      noiseFloor: parsePercent(values['noise-floor']!, '--noise-floor'),
    };
    handicap = values.handicap === undefined ? 0 : parsePercent(values.handicap, '--handicap');
    if (handicap > 0 && values.results !== undefined) throw new RangeError('--handicap applies to a run, not to --results');
    repeat = Number(values.repeat);
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 10) throw new RangeError(`--repeat must be 1..10, got ${JSON.stringify(values.repeat)}`);
  } catch (e) {
    process.stderr.write(`ci-gate: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  let base: BenchReport[];
  try {
    base = readRuns(JSON.parse(readFileSync(values.baseline!, 'utf8')), `baseline ${values.baseline}`);
  } catch (e) {
    process.stderr.write(`ci-gate: cannot use the baseline: ${(e as Error).message}\n`);
    return 2;
  }
  let runs: BenchReport[];
  if (values.results !== undefined) {
    runs = readRuns(JSON.parse(readFileSync(values.results, 'utf8')), values.results);
  } else {
    runs = [];
    if (handicap > 0) process.stdout.write(`HANDICAP: the bridges under test do ${(handicap * 100).toFixed(0)}% more CPU work per event (benchmark-only; this run must fail)\n`);
    for (let i = 0; i < repeat; i++) runs.push(await runSuite({ quick: true, progress: true, profileDir: null, faithfulSink: false, only: GATED_SCENARIOS, handicap }));
    mkdirSync(dirname(resolve(values.json!)), { recursive: true });
    writeFileSync(values.json!, `${JSON.stringify(runs.length === 1 ? runs[0] : { schema_version: SCHEMA_VERSION, kind: 'run-set', runs }, null, 2)}\n`);
  }
  const cores = new Set([...base, ...runs].map((r) => r.machine.cores));
  if (cores.size > 1) process.stdout.write(`note: baseline and this run have different core counts (${[...cores].join(', ')}); ratios shift with cores\n`);
  const c = compareRuns(base, runs, opts);
  process.stdout.write(`${formatComparison(c, opts)}\n`);
  return c.regressions > 0 ? 1 : 0;
}

process.exitCode = await main();
