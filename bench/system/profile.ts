/**
 * Summarises V8 CPU profiles (node --cpu-prof, as `npm run bench -- --profile` writes them for
 * every bridge process and thread): self time by function and by area of the code, so a report
 * can say which resource runs out.
 *
 *   node dist/bench/system/profile.js FILE.cpuprofile... [--top 15]
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of samples that were not idle. */
  busyShare: number;
  byArea: { area: string; ms: number; share: number }[];
  byFunction: { fn: string; ms: number; share: number }[];
}

/** Which part of the system a frame belongs to. */
export function areaOf(fn: string, url: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'V8/native (program)';
  const m = /\/(src|bench)\/([a-z-]+)\//.exec(url);
  if (m !== null && !url.includes('node_modules')) return `${m[1]}/${m[2]}`;
  const mod = /node_modules\/([^/]+)/.exec(url);
  if (mod !== null) return `dep ${mod[1]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0]}`;
  return url === '' ? 'native' : 'other';
}

export function summarise(p: CpuProfile, top = 15): ProfileSummary {
  const totalHits = p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const totalMs = (p.endTime - p.startTime) / 1000;
  const msPerHit = totalHits === 0 ? 0 : totalMs / totalHits;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  let idle = 0;
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const area = areaOf(functionName, url);
    if (area === 'idle') idle += hits;
    areas.set(area, (areas.get(area) ?? 0) + hits);
    const fn = `${functionName || '(anonymous)'} ${url === '' ? '' : `${basename(url)}:${lineNumber + 1}`}`.trim();
    fns.set(fn, (fns.get(fn) ?? 0) + hits);
  }
  const rows = <K extends string>(m: Map<string, number>, k: K) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => ({ [k]: name, ms: Math.round(hits * msPerHit), share: totalHits === 0 ? 0 : hits / totalHits }) as { [P in K]: string } & { ms: number; share: number });
  return { totalMs: Math.round(totalMs), busyShare: totalHits === 0 ? 0 : 1 - idle / totalHits, byArea: rows(areas, 'area'), byFunction: rows(fns, 'fn') };
}

export function formatSummary(name: string, s: ProfileSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1).padStart(5)}%`;
  return [
    `${name}: ${s.totalMs} ms profiled, busy ${pct(s.busyShare).trim()}`,
    '  by area:',
    ...s.byArea.map((a) => `    ${pct(a.share)}  ${a.area}`),
    '  top functions (self time):',
    ...s.byFunction.map((f) => `    ${pct(f.share)}  ${f.fn}`),
  ].join('\n');
}

function main(argv: string[]): number {
  const files = argv.filter((a) => !a.startsWith('--'));
  const topAt = argv.indexOf('--top');
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 15;
  const list = files.filter((f, i) => !(topAt >= 0 && i === files.indexOf(argv[topAt + 1]!)));
  if (list.length === 0) {
    process.stderr.write('usage: node dist/bench/system/profile.js FILE.cpuprofile... [--top 15]\n');
    return 2;
  }
  for (const f of list) process.stdout.write(`${formatSummary(basename(f), summarise(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, top))}\n\n`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
