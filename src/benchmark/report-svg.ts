/**
 * A hand-written SVG chart of a report (no dependencies): grouped bars, one panel each for
 *   events/s with 0 loss vs workers (~1.2 KB, PSK), events/s vs event size, and e2e latency
 *   percentiles per rate. Empty panels say so instead of disappearing.
 */
import type { BenchReport, BenchResult } from './schema.js';

export interface Bar {
  label: string;
  value: number | null;
}

export interface BarGroup {
  label: string;
  bars: Bar[];
}

export interface Panel {
  title: string;
  unit: string;
  groups: BarGroup[];
}

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2'];
const PANEL_W = 420;
const PANEL_H = 300;

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function short(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

export function renderPanel(p: Panel, x0: number, y0: number): string {
  const out: string[] = [`<g transform="translate(${x0},${y0})">`];
  out.push(`<text x="${PANEL_W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(p.title)}</text>`);
  const left = 60;
  const top = 34;
  const bottom = PANEL_H - 60;
  const width = PANEL_W - left - 10;
  const values = p.groups.flatMap((g) => g.bars.map((b) => b.value ?? 0));
  if (values.length === 0 || Math.max(...values) <= 0) {
    out.push(`<text x="${PANEL_W / 2}" y="${PANEL_H / 2}" text-anchor="middle" font-size="12" fill="#888">no data in this run</text></g>`);
    return out.join('');
  }
  const max = niceMax(Math.max(...values));
  const yOf = (v: number): number => bottom - ((bottom - top) * v) / max;
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    const y = yOf(v);
    out.push(`<line x1="${left}" x2="${left + width}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 4}" y="${y + 4}" text-anchor="end" font-size="10">${short(v)}</text>`);
  }
  out.push(`<text x="12" y="${(top + bottom) / 2}" font-size="10" transform="rotate(-90 12 ${(top + bottom) / 2})" text-anchor="middle">${escapeXml(p.unit)}</text>`);
  const gw = width / p.groups.length;
  const barLabels = new Map<string, number>();
  p.groups.forEach((g, gi) => {
    const bw = (gw * 0.8) / Math.max(1, g.bars.length);
    g.bars.forEach((b, bi) => {
      if (!barLabels.has(b.label)) barLabels.set(b.label, barLabels.size);
      const color = COLORS[barLabels.get(b.label)! % COLORS.length];
      const x = left + gi * gw + gw * 0.1 + bi * bw;
      if (b.value === null) {
        out.push(`<text x="${x + bw / 2}" y="${bottom - 4}" text-anchor="middle" font-size="9" fill="#888">n/a</text>`);
        return;
      }
      const y = yOf(b.value);
      out.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(bottom - y).toFixed(1)}" fill="${color}"><title>${escapeXml(`${g.label} ${b.label}: ${b.value}`)}</title></rect>`);
      out.push(`<text x="${(x + bw / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="9">${short(b.value)}</text>`);
    });
    out.push(`<text x="${left + gi * gw + gw / 2}" y="${bottom + 14}" text-anchor="middle" font-size="11">${escapeXml(g.label)}</text>`);
  });
  let lx = left;
  for (const [label, i] of barLabels) {
    out.push(`<rect x="${lx}" y="${PANEL_H - 30}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 14}" y="${PANEL_H - 21}" font-size="10">${escapeXml(label)}</text>`);
    lx += 24 + label.length * 6;
  }
  out.push('</g>');
  return out.join('');
}

export function renderSvg(title: string, panels: Panel[]): string {
  const w = PANEL_W * panels.length;
  const h = PANEL_H + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="18" font-size="12" fill="#444">${escapeXml(title)}</text>`,
    ...panels.map((p, i) => renderPanel(p, i * PANEL_W, 30)),
    '</svg>',
    '',
  ].join('\n');
}

const MEDIUM = 1200;

function closestSize(results: BenchResult[], target: number): number | null {
  const sizes = [...new Set(results.map((r) => r.event_bytes))];
  if (sizes.length === 0) return null;
  return sizes.reduce((a, b) => (Math.abs(b - target) < Math.abs(a - target) ? b : a));
}

/** The three panels of a report. */
export function reportPanels(report: BenchReport): Panel[] {
  const bridge = report.results.filter((r) => (r.scenario === 'egress' || r.scenario === 'ingress') && r.psk);
  const medium = closestSize(bridge, MEDIUM);
  const defaultBatch = 64;
  const byWorkers = [0, 1, 2, 3, 4]
    .map((w) => ({
      label: `workers ${w}`,
      bars: (['egress', 'ingress'] as const).map((d) => ({
        label: d,
        value: bridge.find((r) => r.scenario === d && r.workers === w && r.event_bytes === medium && r.batch === defaultBatch)?.events_per_sec ?? null,
      })),
    }))
    .filter((g) => g.bars.some((b) => b.value !== null));
  const sizes = [...new Set(bridge.map((r) => r.event_bytes))].sort((a, b) => a - b);
  const bySize = sizes.map((s) => ({
    label: `${s} B`,
    bars: (['egress', 'ingress'] as const).map((d) => {
      const rows = bridge.filter((r) => r.scenario === d && r.event_bytes === s && r.batch === defaultBatch && r.events_per_sec !== null);
      return { label: d, value: rows.length === 0 ? null : Math.max(...rows.map((r) => r.events_per_sec!)) };
    }),
  }));
  const latency = report.results
    .filter((r) => r.scenario === 'e2e' && r.latency_rate !== null)
    .map((r) => ({
      label: `${short(r.latency_rate!)}/s ${r.psk ? 'psk' : 'plain'} w${r.workers}`,
      bars: [
        { label: 'p50', value: r.p50_ms },
        { label: 'p99', value: r.p99_ms },
        { label: 'p99.9', value: r.p999_ms },
      ],
    }));
  return [
    { title: `events/s, 0 loss, vs workers (${medium ?? '?'} B, PSK)`, unit: 'events/s', groups: byWorkers },
    { title: 'events/s, 0 loss, vs event size (PSK, best workers)', unit: 'events/s', groups: bySize },
    { title: 'end-to-end latency (HDR)', unit: 'ms', groups: latency },
  ];
}

export function svgReport(report: BenchReport): string {
  const m = report.machine;
  return renderSvg(`fs-event-multicast ${report.mode} benchmark, ${m.model}, ${m.cores} cores, node ${m.node}, ${report.started_at}`, reportPanels(report));
}
