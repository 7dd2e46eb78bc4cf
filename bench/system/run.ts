/**
 * The benchmark suite: `npm run bench` (full, several minutes) or `npm run bench -- --quick`
 * (under a minute). Progress on stderr; the Markdown table on stdout; files:
 *   --json FILE  --md FILE  --svg FILE   (defaults: bench/results/bench-<mode>.{json,md,svg})
 *   --out-dir DIR         where default-named files go (default bench/results, git-ignored)
 *   --repeat N            run the suite N times; the JSON is then a run set (for a baseline)
 *   --only egress,ingress,e2e   limit the bridge scenarios (references always run)
 *   --profile             bridge processes run with node --cpu-prof (profiles in OUT_DIR/profiles)
 *   --faithful-sink       sendevents go to the faithful simulated FreeSWITCH instead of the lean sink
 *   --no-progress
 * Loopback only; every load step is bounded in count and time; every child process is ours and
 * is stopped (or killed by pid) at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownReport } from '../../src/benchmark/report-markdown.js';
import { SCHEMA_VERSION, type BenchReport, type BenchRunSet, type ScenarioName } from '../../src/benchmark/schema.js';
import { svgReport } from '../../src/benchmark/report-svg.js';
import { runSuite, type SuiteOptions } from './scenarios/suite.js';

const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const USAGE = 'usage: npm run bench -- [--quick] [--repeat N] [--json FILE] [--md FILE] [--svg FILE] [--out-dir DIR] [--only egress,ingress,e2e,ingress-fs] [--profile] [--faithful-sink] [--no-progress]';
const BRIDGE_SCENARIOS: ScenarioName[] = ['egress', 'ingress', 'e2e', 'ingress-fs'];

export interface RunOptions {
  suite: SuiteOptions;
  repeat: number;
  json: string;
  md: string;
  svg: string;
}

export function parseRunOptions(argv: string[]): RunOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      repeat: { type: 'string', default: '1' },
      json: { type: 'string' },
      md: { type: 'string' },
      svg: { type: 'string' },
      'out-dir': { type: 'string' },
      only: { type: 'string' },
      profile: { type: 'boolean', default: false },
      'faithful-sink': { type: 'boolean', default: false },
      'no-progress': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) throw new RangeError(`--repeat must be a whole number from 1 to 20, got ${JSON.stringify(values.repeat)}`);
  let only: ScenarioName[] | null = null;
  if (values.only !== undefined) {
    only = values.only.split(',').map((s) => s.trim()) as ScenarioName[];
    const bad = only.filter((s) => !BRIDGE_SCENARIOS.includes(s));
    if (bad.length > 0 || only.length === 0) throw new RangeError(`--only takes a comma-separated list of ${BRIDGE_SCENARIOS.join(', ')}; got ${JSON.stringify(values.only)}`);
  }
  const outDir = resolve(values['out-dir'] ?? join(REPO_ROOT, 'bench/results'));
  const mode = values.quick ? 'quick' : 'full';
  for (const f of ['json', 'md', 'svg'] as const) {
    if (values[f] !== undefined && values[f]!.length === 0) throw new RangeError(`--${f} needs a file name`);
  }
  return {
    suite: {
      quick: values.quick === true,
      progress: values['no-progress'] !== true,
      profileDir: values.profile ? join(outDir, 'profiles') : null,
      faithfulSink: values['faithful-sink'] === true,
      only,
    },
    repeat,
    json: resolve(values.json ?? join(outDir, `bench-${mode}.json`)),
    md: resolve(values.md ?? join(outDir, `bench-${mode}.md`)),
    svg: resolve(values.svg ?? join(outDir, `bench-${mode}.svg`)),
  };
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

async function main(): Promise<number> {
  let o: RunOptions;
  try {
    o = parseRunOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (o.suite.profileDir !== null) mkdirSync(o.suite.profileDir, { recursive: true });
  const runs: BenchReport[] = [];
  for (let i = 0; i < o.repeat; i++) {
    if (o.repeat > 1) process.stderr.write(`--- run ${i + 1} of ${o.repeat}\n`);
    runs.push(await runSuite(o.suite));
  }
  const last = runs[runs.length - 1]!;
  const json: BenchReport | BenchRunSet = runs.length === 1 ? last : { schema_version: SCHEMA_VERSION, kind: 'run-set', runs };
  write(o.json, `${JSON.stringify(json, null, 2)}\n`);
  const md = markdownReport(last);
  write(o.md, `${md}\n`);
  write(o.svg, svgReport(last));
  process.stdout.write(`${md}\n`);
  process.stderr.write(`written: ${o.json}, ${o.md}, ${o.svg}${o.suite.profileDir !== null ? `; profiles in ${o.suite.profileDir}` : ''}\n`);
  const failed = last.results.filter((r) => r.notes.some((n) => n.startsWith('failed:')));
  return failed.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
