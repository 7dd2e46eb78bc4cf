/**
 * The README's table of the gate's proof (bench/gate/proof.sh: runs of the unchanged tree, each
 * expected to pass, and runs with --handicap 15%, each expected to fail), judged again here from
 * the committed result files with the gate's own rules (gate-rules.ts), so the table can only say
 * what the files and the rules say.
 */
import { compareRuns, type CompareOptions } from './compare.js';
import { gateOptions } from './gate-rules.js';
import type { BenchReport } from './schema.js';

export interface ProofRun {
  kind: 'plain' | 'handicap';
  run: number;
  /** ci-gate's exit code when the run was made. */
  exit: number;
  loadAverageBefore: string;
  report: BenchReport;
}

export interface ProofVerdict {
  run: ProofRun;
  /** Median change of the gated cost figures against the baseline (null: none to compare). */
  medianCostChange: number | null;
  regressions: number;
  /** What the gate's current rules say of the same files: 0 pass, 1 regression. */
  exitNow: 0 | 1;
  /** Expected: plain passes (0), handicap fails (1). */
  okAsRun: boolean;
  okNow: boolean;
}

export function judgeProof(baseline: BenchReport[], runs: readonly ProofRun[], opts: CompareOptions = gateOptions()): ProofVerdict[] {
  return runs.map((run) => {
    const c = compareRuns(baseline, [run.report], opts);
    const median = c.rows.find((r) => r.key === 'all' && r.metric.startsWith('cost_ratio (median'));
    const exitNow = c.regressions > 0 ? 1 : 0;
    const want = run.kind === 'plain' ? 0 : 1;
    return { run, medianCostChange: median?.change ?? null, regressions: c.regressions, exitNow, okAsRun: run.exit === want, okNow: exitNow === want };
  });
}

const pct = (v: number | null): string => (v === null ? '–' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);

/** The README's proof table: one row per run (its exit as run, and the current rules' verdict on its files), and the tallies. */
export function proofTable(dir: string, baselineRuns: number, verdicts: readonly ProofVerdict[]): string {
  const mark = (code: number, ok: boolean): string => `exit ${code}${ok ? '' : ' (**not as expected**)'}`;
  const rows = verdicts.map((v) => {
    const what = v.run.kind === 'plain' ? 'unchanged' : '`--handicap 15%`';
    const want = v.run.kind === 'plain' ? 'pass (exit 0)' : 'fail (exit 1)';
    return `| ${v.run.run} | ${what} | ${v.run.loadAverageBefore} | ${pct(v.medianCostChange)} | ${want} | ${mark(v.run.exit, v.okAsRun)} | ${mark(v.exitNow, v.okNow)} |`;
  });
  const tally = (ok: (v: ProofVerdict) => boolean): string => {
    const of = (kind: ProofRun['kind']) => verdicts.filter((v) => v.run.kind === kind);
    return `unchanged runs passed ${of('plain').filter(ok).length} of ${of('plain').length}, handicapped runs failed ${of('handicap').filter(ok).length} of ${of('handicap').length}`;
  };
  return [
    `From \`${dir}\` (judged against the ${baselineRuns}-run baseline kept there):`,
    '',
    '| run | tree | load average before | median cost change | expected | gate as run | gate now, same files |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `As run: ${tally((v) => v.okAsRun)}. With the gate's current rules: ${tally((v) => v.okNow)}.`,
  ].join('\n');
}
