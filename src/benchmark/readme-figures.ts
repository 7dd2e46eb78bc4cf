/**
 * The README's benchmark figures, generated from committed result files (never typed): a table
 * of the default configuration's figures (medians over the runs of a run set, with the spread
 * and the search's bracket), the reference figures, and a chart. `npm run bench:docs` writes
 * them between the markers; a test fails when the README and the committed results disagree.
 */
import type { BenchReport, BenchResult } from './schema.js';
import { renderSvg, type Panel } from './report-svg.js';
import { median } from './stats.js';

export const BENCH_START = '<!-- bench:start (generated from the committed results by npm run bench:docs; do not edit) -->';
export const BENCH_END = '<!-- bench:end -->';

export interface CommittedResults {
  /** Repository-relative path, printed beside the figures. */
  file: string;
  runs: BenchReport[];
}

type Row = Pick<BenchResult, 'scenario' | 'psk'>;

const SCENARIOS = ['egress', 'ingress', 'e2e'] as const;

const k = (v: number): string => (v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : v >= 1000 ? `${(v / 1000).toFixed(2)}k` : v.toFixed(0));
const num = (v: number | null, digits: number): string => (v === null ? '–' : v.toFixed(digits));

/** The runs' values of one figure of one configuration (nulls dropped). */
function values(runs: BenchReport[], row: Row, pick: (r: BenchResult) => number | null, latency: boolean): number[] {
  return runs
    .map((run) => run.results.find((r) => r.scenario === row.scenario && r.psk === row.psk && (r.latency_rate !== null) === latency))
    .map((r) => (r === undefined ? null : pick(r)))
    .filter((v): v is number => v !== null);
}

const med = (v: number[]): number | null => (v.length === 0 ? null : median(v));

function throughputCell(v: number[]): string {
  if (v.length === 0) return '–';
  const m = median(v);
  return v.length === 1 ? k(m) : `${k(m)} (${k(Math.min(...v))}–${k(Math.max(...v))})`;
}

/** The widest final bracket of the runs, relative to its low end. */
function widestBracket(runs: BenchReport[], row: Row): string {
  const widths = runs
    .map((run) => run.results.find((r) => r.scenario === row.scenario && r.psk === row.psk && r.latency_rate === null))
    .filter((r): r is BenchResult => r !== undefined && r.bracket_low !== null && r.bracket_low !== undefined && r.bracket_low > 0)
    .map((r) => (r.bracket_high === null || r.bracket_high === undefined ? null : (r.bracket_high - r.bracket_low!) / r.bracket_low!));
  if (widths.length === 0) return '–';
  if (widths.some((w) => w === null)) return 'open';
  return `${(Math.max(...(widths as number[])) * 100).toFixed(1)}%`;
}

function dateRange(runs: BenchReport[]): string {
  const days = [...new Set(runs.map((r) => r.started_at.slice(0, 10)))].sort();
  return days.length === 1 ? days[0]! : `${days[0]} to ${days[days.length - 1]}`;
}

export function benchmarkTables(src: CommittedResults): string {
  const { runs } = src;
  const m = runs[0]!.machine;
  const workers = runs[0]!.results.find((r) => r.scenario === 'egress')?.workers;
  const load = runs.map((r) => r.machine.load_average_1m).filter((v): v is number => typeof v === 'number');
  const lines: string[] = [
    `From \`${src.file}\`: ${runs.length} ${runs[0]!.mode} run(s), ${dateRange(runs)}, ${m.model}, ${m.cores} cores, node ${m.node}` +
      `${load.length > 0 ? `, load average at the start of each run ${load.map((v) => v.toFixed(1)).join(', ')}` : ''}. ` +
      `Default configuration (workers auto = ${workers ?? '?'} here, batch 64), ~1.3 KB events. Figures are medians over the runs; ` +
      'the range of the runs follows in brackets.',
    '',
    '| figure | PSK | plain |',
    '|---|---|---|',
  ];
  for (const s of SCENARIOS) {
    const cell = (psk: boolean): string => throughputCell(values(runs, { scenario: s, psk }, (r) => r.events_per_sec, false));
    lines.push(`| ${s}, events/s sustained | ${cell(true)} | ${cell(false)} |`);
  }
  for (const s of SCENARIOS) {
    const cell = (psk: boolean): string => widestBracket(runs, { scenario: s, psk });
    lines.push(`| ${s}, widest search bracket | ${cell(true)} | ${cell(false)} |`);
  }
  for (const s of SCENARIOS) {
    const cell = (psk: boolean): string => {
      const flags = values(runs, { scenario: s, psk }, (r) => (r.search_converged === null || r.search_converged === undefined ? null : r.search_converged ? 1 : 0), false);
      return flags.length === 0 ? '–' : `${flags.reduce((a, f) => a + f, 0)} of ${flags.length}`;
    };
    lines.push(`| ${s}, searches converged (bracket ≤ 3%, answer confirmed) | ${cell(true)} | ${cell(false)} |`);
  }
  for (const s of SCENARIOS) {
    const cell = (psk: boolean): string => {
      const cpu = med(values(runs, { scenario: s, psk }, (r) => r.cost_cpu_us_per_event ?? null, false));
      const ratio = med(values(runs, { scenario: s, psk }, (r) => r.cost_ratio ?? null, false));
      return cpu === null ? '–' : `${cpu.toFixed(1)} µs (${num(ratio, 1)}× reference)`;
    };
    lines.push(`| ${s}, bridge CPU per event${s === 'e2e' ? ' (bridge A + B)' : ''} | ${cell(true)} | ${cell(false)} |`);
  }
  const latencyRate = runs[0]!.results.find((r) => r.scenario === 'e2e' && r.latency_rate !== null)?.latency_rate ?? null;
  if (latencyRate !== null) {
    const cell = (psk: boolean): string => {
      const p50 = med(values(runs, { scenario: 'e2e', psk }, (r) => r.p50_ms, true));
      const p99 = med(values(runs, { scenario: 'e2e', psk }, (r) => r.p99_ms, true));
      return p50 === null ? '–' : `${num(p50, 2)} / ${num(p99, 2)} ms`;
    };
    lines.push(`| e2e latency at ${k(latencyRate)}/s, p50 / p99 | ${cell(true)} | ${cell(false)} |`);
  }
  for (const s of ['egress', 'ingress'] as const) {
    const cell = (psk: boolean): string => {
      const v = med(values(runs, { scenario: s, psk }, (r) => r.rss_mb, false));
      return v === null ? '–' : `${v.toFixed(0)} MB`;
    };
    lines.push(`| ${s}, peak RSS over the search | ${cell(true)} | ${cell(false)} |`);
  }
  const ref = (scenario: 'codec' | 'baseline-percipher', direction: 'egress' | 'ingress'): string => {
    const v = med(runs.map((run) => run.results.find((r) => r.scenario === scenario && r.direction === direction && r.psk && r.event_bytes > 1000)?.events_per_sec ?? null).filter((x): x is number => x !== null));
    return v === null ? '–' : `${k(v)}/s`;
  };
  lines.push(
    '',
    `References from the same runs (one thread, PSK, ~1.3 KB): the project's codec ${ref('codec', 'egress')} egress, ${ref('codec', 'ingress')} ingress; ` +
      `a new OpenSSL cipher per packet (the C module's design) ${ref('baseline-percipher', 'egress')} egress, ${ref('baseline-percipher', 'ingress')} ingress.`,
    '',
    '![events/s sustained, default configuration](bench/results/readme/chart.svg)',
  );
  return lines.join('\n');
}

export function withBenchmarkSection(readme: string, src: CommittedResults): string {
  const a = readme.indexOf(BENCH_START);
  const b = readme.indexOf(BENCH_END);
  if (a < 0 || b < a) throw new Error(`README: the markers ${BENCH_START} ... ${BENCH_END} are missing`);
  return `${readme.slice(0, a)}${BENCH_START}\n${benchmarkTables(src)}\n${readme.slice(b)}`;
}

/** The chart: events/s sustained per scenario, PSK and plain (medians over the runs). */
export function benchmarkChart(src: CommittedResults): string {
  const panel: Panel = {
    title: 'events/s sustained (median over runs)',
    unit: 'events/s',
    groups: SCENARIOS.map((s) => ({
      label: s,
      bars: [true, false].map((psk) => ({ label: psk ? 'PSK' : 'plain', value: med(values(src.runs, { scenario: s, psk }, (r) => r.events_per_sec, false)) })),
    })),
  };
  const costPanel: Panel = {
    title: 'bridge CPU µs per event (median)',
    unit: 'µs',
    groups: SCENARIOS.map((s) => ({
      label: s,
      bars: [true, false].map((psk) => {
        const v = med(values(src.runs, { scenario: s, psk }, (r) => r.cost_cpu_us_per_event ?? null, false));
        return { label: psk ? 'PSK' : 'plain', value: v === null ? null : Math.round(v * 10) / 10 };
      }),
    })),
  };
  const m = src.runs[0]!.machine;
  return renderSvg(`${src.file}: ${src.runs.length} run(s), ${m.cores} cores, node ${m.node}, default configuration`, [panel, costPanel]);
}
