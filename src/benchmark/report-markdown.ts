/** The result file as a Markdown table, one row per result, with the run's facts above it. */
import type { BenchReport, BenchResult } from './schema.js';

const fmt = (v: number | null, digits = 0): string => (v === null ? '–' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const pct = (v: number | null): string => (v === null ? '–' : `${(v * 100).toFixed(1)}%`);
const ratio = (v: number | null): string => (v === null ? '–' : `${v.toFixed(2)}×`);

export function markdownReport(report: BenchReport): string {
  const m = report.machine;
  const head = [
    `## fs-event-multicast benchmark (${report.mode})`,
    '',
    `${m.model}, ${m.cores} cores, node ${m.node}; started ${report.started_at}; schema ${report.schema_version}.`,
    '',
    report.method,
    '',
  ];
  const columns = [
    'scenario', 'dir', 'psk', 'bytes', 'workers', 'batch', 'events/s (0 loss)', 'saturation ev/s', 'loss at saturation',
    'loss at 2×', 'latency @ rate', 'p50 ms', 'p99 ms', 'p99.9 ms', 'CPU µs/ev', 'RSS MB', 'RSS 2× / flood MB', '× raw UDP', '× codec', '× per-cipher',
  ];
  const lines = [`| ${columns.join(' | ')} |`, `|${columns.map((_, i) => (i < 3 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of report.results) lines.push(`| ${row(r).join(' | ')} |`);
  const notes = report.results
    .filter((r) => r.notes.length > 0 && r.scenario !== 'codec' && r.scenario !== 'baseline-percipher')
    .map((r) => `- ${r.scenario} ${r.direction} ${r.psk ? 'psk' : 'plain'} ${r.event_bytes} B w${r.workers} b${r.batch ?? '-'}${r.latency_rate !== null ? ` @${r.latency_rate}/s` : ''}: ${r.notes.join('; ')}`);
  return [...head, ...lines, '', ...(notes.length > 0 ? ['Notes:', '', ...notes, ''] : [])].join('\n');
}

function row(r: BenchResult): string[] {
  return [
    r.scenario,
    r.direction,
    r.psk ? 'yes' : 'no',
    String(r.event_bytes),
    String(r.workers),
    r.batch === null ? '–' : String(r.batch),
    fmt(r.events_per_sec),
    fmt(r.saturation_events_per_sec),
    pct(r.loss_at_saturation),
    pct(r.overload_loss),
    r.latency_rate === null ? '–' : `${fmt(r.latency_rate)}/s`,
    fmt(r.p50_ms, 2),
    fmt(r.p99_ms, 2),
    fmt(r.p999_ms, 2),
    fmt(r.cpu_us_per_event, 1),
    fmt(r.rss_mb, 0),
    r.overload_rss_mb === null && r.flood_rss_mb === null ? '–' : `${fmt(r.overload_rss_mb, 0)} / ${fmt(r.flood_rss_mb, 0)}`,
    ratio(r.ratio_to_raw_udp),
    ratio(r.ratio_to_codec),
    ratio(r.ratio_to_percipher),
  ];
}
