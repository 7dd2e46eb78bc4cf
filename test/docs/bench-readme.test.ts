/** The README's benchmark figures are the committed results, generated (npm run bench:docs), never typed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BENCH_END, BENCH_START, benchmarkChart, benchmarkTables, withBenchmarkSection } from '../../src/benchmark/readme-figures.js';
import { readRuns } from '../../src/benchmark/schema.js';
import { NORMAL, report } from '../bench/fixtures.js';
import { batchCpuTable, realfsEnd, realfsStart, withRealfsBlocks } from '../../src/benchmark/realfs/readme-tables.js';
import { readRealfsFile, REALFS_BLOCKS } from '../../testkit/readme-blocks.js';

const RESULTS = 'bench/gate/baseline.json';
const committed = () => ({ file: RESULTS, runs: readRuns(JSON.parse(readFileSync(RESULTS, 'utf8')), RESULTS) });

test('the README benchmark section is the one generated from the committed results (npm run bench:docs)', () => {
  const readme = readFileSync('README.md', 'utf8');
  assert.equal(withBenchmarkSection(readme, committed()), readme, `README.md disagrees with ${RESULTS}: run npm run bench:docs`);
});

test('the committed chart is the one generated from the committed results', () => {
  assert.equal(readFileSync('bench/results/readme/chart.svg', 'utf8'), benchmarkChart(committed()), 'run npm run bench:docs');
});

test('the section changes when a committed figure changes (a typed figure cannot survive regeneration)', () => {
  const a = report(NORMAL);
  const b = report({ ...NORMAL, egress: 12_345 });
  const ta = benchmarkTables({ file: 'x.json', runs: [a] });
  const tb = benchmarkTables({ file: 'x.json', runs: [b] });
  assert.match(ta, /\| egress, events\/s sustained \| 80\.0k \|/);
  assert.match(tb, /\| egress, events\/s sustained \| 12\.3k \|/);
  const readme = `intro\n${BENCH_START}\n| egress | 999k typed by hand |\n${BENCH_END}\nrest\n`;
  const out = withBenchmarkSection(readme, { file: 'x.json', runs: [b] });
  assert.doesNotMatch(out, /typed by hand/);
  assert.ok(out.startsWith('intro\n') && out.endsWith(`${BENCH_END}\nrest\n`));
  assert.throws(() => withBenchmarkSection('no markers', { file: 'x.json', runs: [a] }), /markers/);
});

test('medians and the runs\' range: three runs give the middle figure and the spread', () => {
  const runs = [70_000, 80_000, 90_000].map((e) => report({ ...NORMAL, egress: e }));
  assert.match(benchmarkTables({ file: 'x.json', runs }), /\| egress, events\/s sustained \| 80\.0k \(70\.0k–90\.0k\) \|/);
});

test('the README real-FreeSWITCH tables are the ones generated from bench/results/realfs (npm run bench:docs)', () => {
  const readme = readFileSync('README.md', 'utf8');
  assert.equal(withRealfsBlocks(readme, REALFS_BLOCKS, readRealfsFile), readme, 'README.md disagrees with bench/results/realfs: run npm run bench:docs');
});

test('a real-FreeSWITCH block follows its file: a changed figure changes the table, a typed one is replaced', () => {
  const run = (cpu: number) => ({ mode: 'batch', offeredPerSec: 1000, sent: 10, delivered: 10, fsCpuMsPerEvent: cpu, latencyMs: { p50: 12, p99: 1500 }, injector: { eventsPerBatch: 5 } });
  const file = (cpu: number) => ({ path: 'x.json', json: { shape: 'mwi', machine: '2 cores', runs: [run(cpu)] } });
  assert.match(batchCpuTable([file(1.234)]), /\| batches \(5\.0 events each\) \| 1,000 \| 1\.23 ms \| 10 of 10 \| 12 ms \/ 1\.50 s \|/);
  assert.match(batchCpuTable([file(0.5)]), /\| 0\.50 ms \|/);
  const block = { name: 'x', files: [{ path: 'x.json' }], render: batchCpuTable };
  const readme = `a\n${realfsStart('x')}\n| typed by hand |\n${realfsEnd('x')}\nb\n`;
  const out = withRealfsBlocks(readme, [block], () => file(2).json);
  assert.doesNotMatch(out, /typed by hand/);
  assert.match(out, /2\.00 ms/);
  assert.ok(out.startsWith('a\n') && out.endsWith(`${realfsEnd('x')}\nb\n`));
  assert.throws(() => withRealfsBlocks('no markers', [block], () => file(2).json), /markers of the generated block "x"/);
  assert.throws(() => batchCpuTable([{ path: 'bad.json', json: { runs: 3 } }]), /bad\.json runs: not a list/);
});
