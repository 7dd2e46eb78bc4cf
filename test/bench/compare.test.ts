/**
 * bench compare: machine-independent ratios, medians over runs, a noise band from their spread,
 * and exit statuses a CI pipeline can rely on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareCommand, compareRuns, parsePercent, type CompareIo } from '../../src/benchmark/compare.js';
import { SCHEMA_VERSION } from '../../src/benchmark/schema.js';
import { NORMAL, report, scaled } from './fixtures.js';

const OPTS = { maxRegression: 0.1, noiseFloor: 0.03 };

test('a 30% drop of bridge throughput is a regression', () => {
  const c = compareRuns([report(NORMAL)], [report(scaled(NORMAL, 0.7))], OPTS);
  assert.equal(c.regressions, 2);
  const egress = c.rows.find((r) => r.key.startsWith('egress/'))!;
  assert.equal(egress.verdict, 'regression');
  assert.ok(Math.abs(egress.change! + 0.3) < 1e-9);
});

test('a drop within the allowed regression passes', () => {
  const c = compareRuns([report(NORMAL)], [report(scaled(NORMAL, 0.93))], OPTS);
  assert.equal(c.regressions, 0);
  assert.equal(c.rows.find((r) => r.key.startsWith('egress/'))!.verdict, 'same');
});

test('a faster machine with the same code is no regression: ratios, not absolute figures, are compared', () => {
  const fast: typeof NORMAL = { ...scaled(NORMAL, 2), rawUdp: NORMAL.rawUdp * 2, codecEgress: NORMAL.codecEgress * 2, perCipherEgress: NORMAL.perCipherEgress * 2 };
  const slowBase = compareRuns([report(NORMAL)], [report(fast)], OPTS);
  assert.equal(slowBase.regressions, 0);
  for (const r of slowBase.rows.filter((x) => x.gated)) assert.ok(Math.abs(r.change!) < 1e-9, `${r.key} changed by ${r.change}`);
});

test('a slower codec is caught through the bridge figures; the codec micro-figure itself is printed, not gated', () => {
  const slowerCodec = { ...scaled(NORMAL, 0.6), codecEgress: NORMAL.codecEgress * 0.6 };
  const c = compareRuns([report(NORMAL)], [report(slowerCodec)], OPTS);
  const codec = c.rows.find((r) => r.key.startsWith('codec/egress/psk'))!;
  assert.equal(codec.metric, 'events_per_sec/per_cipher');
  assert.equal(codec.gated, false);
  assert.equal(codec.verdict, 'info');
  assert.equal(c.rows.find((r) => r.key.startsWith('egress/'))!.verdict, 'regression');
});

test('noise inside the band of the baseline runs passes even beyond max-regression', () => {
  // Baseline runs 80, 90, 100 (MAD 11%, band 22%): a new run at 82 is noise, not a regression.
  const base = [0.8, 0.9, 1.0].map((k) => report(scaled(NORMAL, k)));
  const c = compareRuns(base, [report(scaled(NORMAL, 0.82 / 0.9 * 0.9))], { maxRegression: 0.05, noiseFloor: 0.03 });
  const egress = c.rows.find((r) => r.key.startsWith('egress/'))!;
  assert.ok(egress.band > 0.2, `band ${egress.band}`);
  assert.equal(egress.verdict, 'same');
  assert.equal(c.regressions, 0);
});

test('one disturbed baseline run does not make the gate toothless', () => {
  const base = [1, 1.02, 0.98, 1.01, 0.3].map((k) => report(scaled(NORMAL, k)));
  const c = compareRuns(base, [report(scaled(NORMAL, 0.7))], OPTS);
  const egress = c.rows.find((r) => r.key.startsWith('egress/'))!;
  assert.ok(egress.band < 0.1, `band ${egress.band}`);
  assert.equal(egress.verdict, 'regression');
});

test('medians over runs: one bad run among three does not move the figure', () => {
  const next = [report(NORMAL), report(scaled(NORMAL, 0.5)), report(NORMAL)];
  const c = compareRuns([report(NORMAL)], next, OPTS);
  const egress = c.rows.find((r) => r.key.startsWith('egress/'))!;
  assert.equal(egress.nextRuns, 3);
  assert.ok(Math.abs(egress.change!) < 1e-9);
});

test('a figure the baseline has and the new run lacks (scenario failed) is a regression', () => {
  const c = compareRuns([report(NORMAL)], [report({ ...NORMAL, egress: null })], OPTS);
  assert.equal(c.rows.find((r) => r.key.startsWith('egress/'))!.verdict, 'missing');
  assert.equal(c.regressions, 1);
});

test('latency is reported but not gated', () => {
  const c = compareRuns([report(NORMAL)], [report({ ...NORMAL, p99: NORMAL.p99 * 10 })], OPTS);
  const lat = c.rows.find((r) => r.metric.startsWith('p99_ms'))!;
  assert.equal(lat.gated, false);
  assert.equal(lat.verdict, 'info');
  assert.equal(c.regressions, 0);
});

test('an improvement is reported as such and passes', () => {
  const c = compareRuns([report(NORMAL)], [report(scaled(NORMAL, 1.5))], OPTS);
  assert.equal(c.rows.find((r) => r.key.startsWith('ingress/'))!.verdict, 'improvement');
  assert.equal(c.regressions, 0);
});

test('percentages: 10%, 10 and 0.1 all mean a tenth; nonsense is a usage error', () => {
  assert.equal(parsePercent('10%', 'x'), 0.1);
  assert.equal(parsePercent('10', 'x'), 0.1);
  assert.equal(parsePercent('0.1', 'x'), 0.1);
  assert.throws(() => parsePercent('ten', '--max-regression'), /--max-regression must be a percentage/);
  assert.throws(() => parsePercent('150%', '--max-regression'), /below 100%/);
});

function io(files: Record<string, unknown>): CompareIo & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout(s: string) {
      o.out += s;
    },
    stderr(s: string) {
      o.err += s;
    },
    readFile(p: string) {
      if (!(p in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return typeof files[p] === 'string' ? (files[p] as string) : JSON.stringify(files[p]);
    },
  };
  return o;
}

test('the command exits 1 on a regression, 0 otherwise, and prints what changed', () => {
  const files = { 'base.json': report(NORMAL), 'same.json': report(NORMAL), 'slow.json': report(scaled(NORMAL, 0.7)) };
  const ok = io(files);
  assert.equal(compareCommand(['base.json', 'same.json'], ok), 0);
  assert.match(ok.out, /no regression/);
  const bad = io(files);
  assert.equal(compareCommand(['base.json', 'slow.json', '--max-regression', '20%'], bad), 1);
  assert.match(bad.out, /^REGRESSION +egress\/egress\/psk\/1327B\/w1\/b64 events_per_sec\/per_cipher .* -30\.0%/m);
});

test('the command reads run sets as well as single runs', () => {
  const set = { schema_version: SCHEMA_VERSION, kind: 'run-set', runs: [report(NORMAL), report(scaled(NORMAL, 0.95))] };
  const o = io({ 'set.json': set, 'one.json': report(NORMAL) });
  assert.equal(compareCommand(['set.json', 'one.json', '--json'], o), 0);
  const parsed = JSON.parse(o.out) as { rows: { baseRuns: number }[] };
  assert.ok(parsed.rows.some((r) => r.baseRuns === 2));
});

test('usage errors exit 2: missing files, wrong count, bad JSON, another schema version, bad option', () => {
  const files = { 'a.json': report(NORMAL), 'bad.json': '{not json', 'v9.json': { ...report(NORMAL), schema_version: 9 } };
  const cases: [string[], RegExp][] = [
    [['a.json'], /expected BASE.json and NEW.json/],
    [['a.json', 'missing.json'], /cannot read \(ENOENT\)/],
    [['a.json', 'bad.json'], /not JSON/],
    [['a.json', 'v9.json'], /schema_version 9 is not supported/],
    [['a.json', 'a.json', '--max-regression', 'lots'], /must be a percentage/],
    [['a.json', 'a.json', '--frobnicate'], /Unknown option/],
  ];
  for (const [argv, message] of cases) {
    const o = io(files);
    assert.equal(compareCommand(argv, o), 2, argv.join(' '));
    assert.match(o.err, message);
  }
});

/** The report with a CPU-cost figure on its egress and ingress rows (cost_ratio, lower is better). */
function withCost(r: ReturnType<typeof report>, egressCost: number, ingressCost = 3.0): ReturnType<typeof report> {
  for (const row of r.results) {
    if (row.scenario === 'egress') row.cost_ratio = egressCost;
    if (row.scenario === 'ingress') row.cost_ratio = ingressCost;
  }
  return r;
}

const GATE = { maxRegression: 0.25, maxCostIncrease: 0.08, noiseFloor: 0.03 };

test('a 15% rise of the CPU cost on every path fails the gate (the median of the cost figures) although throughput held', () => {
  const base = [3.6, 3.62, 3.58].map((k) => withCost(report(NORMAL), k, 3.0));
  const c = compareRuns(base, [withCost(report(NORMAL), 3.6 * 1.15, 3.0 * 1.15)], GATE);
  const overall = c.rows.find((r) => r.key === 'all')!;
  assert.match(overall.metric, /^cost_ratio \(median of \d+ figures\)$/);
  assert.equal(overall.verdict, 'regression');
  assert.ok(Math.abs(overall.change! - 0.15) < 0.01);
  const cost = c.rows.find((r) => r.key.startsWith('egress/') && r.metric === 'cost_ratio')!;
  assert.equal(cost.better, 'lower');
  assert.equal(cost.verdict, 'same', 'one figure alone is judged against 50%');
  assert.equal(c.rows.find((r) => r.key.startsWith('egress/') && r.metric !== 'cost_ratio')!.verdict, 'info', 'where a row has its cost, its rate is printed, not gated');
  assert.equal(c.regressions, 1);
});

test('a CPU-cost rise within the allowed increase passes; the throughput threshold does not apply to the median', () => {
  const base = [3.6, 3.62, 3.58].map((k) => withCost(report(NORMAL), k, 3.0));
  assert.equal(compareRuns(base, [withCost(report(NORMAL), 3.6 * 1.05, 3.0 * 1.05)], GATE).regressions, 0);
  // With only --max-regression (25%), a 15% rise everywhere would pass: the median's threshold is its own.
  assert.equal(compareRuns(base, [withCost(report(NORMAL), 3.6 * 1.15, 3.0 * 1.15)], { maxRegression: 0.25, noiseFloor: 0.03 }).regressions, 0);
});

test('one cost figure moving alone (noise on a shared machine) passes up to 50%; beyond it, it fails on its own', () => {
  const base = [3.6, 3.62, 3.58].map((k) => withCost(report(NORMAL), k, 3.0));
  assert.equal(compareRuns(base, [withCost(report(NORMAL), 3.6 * 1.44, 3.0)], { ...GATE, maxCostIncrease: 0.3 }).regressions, 0);
  const c = compareRuns(base, [withCost(report(NORMAL), 3.6 * 1.6, 3.0)], GATE);
  assert.equal(c.rows.find((r) => r.key.startsWith('egress/') && r.metric === 'cost_ratio')!.verdict, 'regression');
  assert.ok(c.regressions >= 1);
});

test('a cost figure the new run lacks (the scenario failed) fails; results without cost figures compare as before', () => {
  const base = [withCost(report(NORMAL), 3.6)];
  const c = compareRuns(base, [report(NORMAL)], GATE);
  assert.ok(c.rows.some((r) => r.metric === 'cost_ratio' && r.verdict === 'missing'));
  assert.equal(compareRuns([report(NORMAL)], [report(NORMAL)], GATE).rows.filter((r) => r.metric === 'cost_ratio').length, 0);
});

test('plain figures are divided by the per-cipher reference like PSK ones, never by raw UDP', () => {
  const plain = (f: typeof NORMAL, rawUdp: number) => {
    const r = report({ ...f, rawUdp });
    for (const row of r.results) if (row.scenario === 'egress') row.psk = false;
    return r;
  };
  // Raw UDP doubled (a flat-out UDP pair is that noisy) and the bridge's plain figure unchanged: same.
  const same = compareRuns([plain(NORMAL, 400_000)], [plain(NORMAL, 800_000)], GATE);
  const row = same.rows.find((r) => r.key.startsWith('egress/egress/plain'))!;
  assert.equal(row.metric, 'events_per_sec/per_cipher');
  assert.equal(row.change, 0);
  // The per-cipher reference ran 50% faster with the same plain figure: the bridge fell behind the machine.
  const fasterMachine = plain({ ...NORMAL, perCipherEgress: NORMAL.perCipherEgress * 1.5 }, 400_000);
  assert.equal(compareRuns([plain(NORMAL, 400_000)], [fasterMachine], GATE).rows.find((r) => r.key.startsWith('egress/egress/plain'))!.verdict, 'regression');
});
