/**
 * `npm run bench:docs`: regenerates the README's benchmark figures (between the bench:start and
 * bench:end markers) and bench/results/readme/chart.svg from the committed result file
 * (README_RESULTS), and the real-FreeSWITCH tables (between the realfs:NAME markers) from the
 * files in bench/results/realfs that REALFS_BLOCKS names. `--check` only says whether they agree
 * (exit 1 if not).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { benchmarkChart, withBenchmarkSection } from '../src/benchmark/readme-figures.js';
import { readRuns } from '../src/benchmark/schema.js';
import { readRealfsFile, REALFS_BLOCKS } from '../testkit/readme-blocks.js';
import { withRealfsBlocks } from '../src/benchmark/realfs/readme-tables.js';

/** The result file behind the README's figures: the gate's baseline run set (committed). */
export const README_RESULTS = 'bench/gate/baseline.json';
export const README_CHART = 'bench/results/readme/chart.svg';

const src = { file: README_RESULTS, runs: readRuns(JSON.parse(readFileSync(README_RESULTS, 'utf8')), README_RESULTS) };
const readme = readFileSync('README.md', 'utf8');
const nextReadme = withRealfsBlocks(withBenchmarkSection(readme, src), REALFS_BLOCKS, readRealfsFile);
const chart = benchmarkChart(src);
let currentChart = '';
try {
  currentChart = readFileSync(README_CHART, 'utf8');
} catch {
  // missing: regenerated below (or reported by --check)
}
if (process.argv.includes('--check')) {
  if (nextReadme !== readme || chart !== currentChart) {
    process.stderr.write(`README.md or ${README_CHART} is out of date with ${README_RESULTS} or bench/results/realfs: run npm run bench:docs\n`);
    process.exitCode = 1;
  }
} else {
  if (nextReadme !== readme) writeFileSync('README.md', nextReadme);
  if (chart !== currentChart) writeFileSync(README_CHART, chart);
  process.stdout.write(`README.md and ${README_CHART} regenerated from ${README_RESULTS} and bench/results/realfs\n`);
}
