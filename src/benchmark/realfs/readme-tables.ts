/**
 * The README's real-FreeSWITCH figures, generated from the committed measurements in
 * bench/results/realfs/ (never typed): each block sits between `<!-- generated:NAME start … -->`
 * and `<!-- generated:NAME end -->` and is rendered from the files its block lists (or, for a
 * few blocks, from other committed results: see testkit/readme-blocks.ts). `npm run
 * bench:docs` writes them; a test fails when the README and the committed files disagree.
 *
 * The files are the drivers' own JSON (bench/realfs/*.ts, `fs-event-multicast bench
 * --freeswitch-…`). They are read defensively: a missing figure renders as "–", a file of the
 * wrong kind is an error naming the file.
 */

/** One committed result file, already parsed. */
export interface RealfsFile {
  /** Repository-relative path, printed under the table. */
  path: string;
  /** What distinguishes this file's rows from the others' in its block (e.g. "flow control"). */
  label?: string;
  json: unknown;
}

export interface RealfsBlock {
  name: string;
  /** The files behind the block (repository-relative), in the order the rows take. */
  files: readonly { path: string; label?: string }[];
  render: (files: readonly RealfsFile[]) => string;
}

// --- reading untyped JSON without `any` ---------------------------------------------------------

type Json = Record<string, unknown>;

function obj(v: unknown, what: string): Json {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TypeError(`${what}: not an object`);
  return v as Json;
}

function list(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new TypeError(`${what}: not a list`);
  return v;
}

function numOr(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function at(o: Json, path: string): unknown {
  let cur: unknown = o;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Json)[key];
  }
  return cur;
}

const n = (o: Json, path: string): number | null => numOr(at(o, path));

// --- formatting ---------------------------------------------------------------------------------

const thousands = (v: number): string => Math.round(v).toLocaleString('en-US');
const fixed = (v: number | null, digits: number): string => (v === null ? '–' : v.toFixed(digits));
/** A latency: ms below 1 s, seconds above. */
function latency(ms: number | null): string {
  if (ms === null) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function sources(files: readonly RealfsFile[]): string {
  return `Source: ${files.map((f) => `\`${f.path}\``).join(', ')}.`;
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

// --- batch-cpu.ts: FreeSWITCH CPU per event, sendevent vs batches vs the C module ---------------

interface CpuRun {
  mode: string;
  rate: number;
  sent: number;
  delivered: number;
  cpuMs: number | null;
  p50: number | null;
  p99: number | null;
  perBatch: number | null;
}

function cpuRuns(f: RealfsFile): { shape: string; load: string; runs: CpuRun[] } {
  const j = obj(f.json, f.path);
  const runs = list(j['runs'], `${f.path} runs`).map((r, i) => {
    const o = obj(r, `${f.path} runs[${i}]`);
    return {
      mode: String(o['mode']),
      rate: n(o, 'offeredPerSec') ?? 0,
      sent: n(o, 'sent') ?? 0,
      delivered: n(o, 'delivered') ?? 0,
      cpuMs: n(o, 'fsCpuMsPerEvent'),
      p50: n(o, 'latencyMs.p50'),
      p99: n(o, 'latencyMs.p99'),
      perBatch: n(o, 'injector.eventsPerBatch'),
    };
  });
  const shape = typeof j['shape'] === 'string' ? j['shape'] : 'register';
  return { shape, load: typeof j['machine'] === 'string' ? j['machine'] : '', runs };
}

const MODE_LABEL: Record<string, string> = { sendevent: 'one sendevent per event', batch: 'batches', 'c-module': 'C module (fs-a → fs-b)' };
const SHAPE_LABEL: Record<string, string> = { register: 'registration', presence: 'presence (PRESENCE_IN)', mwi: 'MWI (MESSAGE_WAITING)' };

function perBatchNote(runs: CpuRun[]): string {
  const sizes = runs.map((r) => r.perBatch).filter((v): v is number => v !== null);
  if (sizes.length === 0) return '';
  const lo = Math.min(...sizes);
  const hi = Math.max(...sizes);
  return ` (${lo === hi ? fixed(lo, 1) : `${fixed(lo, 1)}–${fixed(hi, 1)}`} events each)`;
}

/** The files' machine notes, the shared wording once and each file's load average in order. */
function machineNote(notes: string[]): string {
  const loads = notes.map((m) => /load average ([0-9.]+ at the start(?: and [0-9.]+ at the end)?)/.exec(m)?.[1] ?? null);
  if (loads.some((l) => l === null)) return `Machine: ${[...new Set(notes)].join('; ')}.`;
  const rest = [...new Set(notes.map((m) => m.replace(/, load average [0-9.]+ at the start(?: and [0-9.]+ at the end)?/, '')))];
  return `Machine: ${rest.join('; ')}; load average, file by file: ${loads.join('; ')}.`;
}

/** Rows of one batch-cpu file: one per (mode, rate), repetitions side by side. */
function cpuRows(f: RealfsFile, withShape: boolean, withLabel: boolean): string[][] {
  const { shape, runs } = cpuRuns(f);
  const groups = new Map<string, CpuRun[]>();
  for (const r of runs) {
    const key = `${r.mode} ${r.rate}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const first = g[0]!;
    const sent = g.reduce((a, r) => a + r.sent, 0);
    const delivered = g.reduce((a, r) => a + r.delivered, 0);
    const row = [
      `${MODE_LABEL[first.mode] ?? first.mode}${first.mode === 'batch' ? perBatchNote(g) : ''}`,
      thousands(first.rate),
      `${g.map((r) => fixed(r.cpuMs, 2)).join(' / ')} ms`,
      sent === 0 ? '–' : `${thousands(delivered)} of ${thousands(sent)}`,
      g.map((r) => `${latency(r.p50)} / ${latency(r.p99)}`).join('; '),
    ];
    return [...(withShape ? [SHAPE_LABEL[shape] ?? shape] : []), ...(withLabel ? [f.label ?? '–'] : []), ...row];
  });
}

/** FreeSWITCH CPU per replicated event by path (and by shape when the files differ in shape). */
export function batchCpuTable(files: readonly RealfsFile[]): string {
  const shapes = new Set(files.map((f) => cpuRuns(f).shape));
  const withShape = shapes.size > 1;
  const withLabel = files.some((f) => f.label !== undefined);
  const head = [...(withShape ? ['event'] : []), ...(withLabel ? ['variant'] : []), 'path', 'offered/s', 'FreeSWITCH CPU per event', 'delivered', 'p50 / p99 latency'];
  const rows = files.flatMap((f) => cpuRows(f, withShape, withLabel));
  const repeated = rows.length < files.reduce((a, f) => a + cpuRuns(f).runs.length, 0);
  return `${table(head, rows)}\n\n${repeated ? 'A row run more than once lists each run (CPU `a / b`, latency `p50 / p99; p50 / p99`). ' : ''}${sources(files)} ${machineNote(files.map((f) => cpuRuns(f).load))}`;
}

// --- overload.ts: a whole bridge under overload, final state on the switch -----------------------

function finalState(j: Json): string {
  const expected = n(j, 'finalState.expectedRegistered');
  const rows = n(j, 'finalState.rowsOnSwitch');
  const missing = n(j, 'finalState.missingCount') ?? 0;
  const stale = n(j, 'finalState.staleCount') ?? 0;
  if (expected === null || rows === null) return '–';
  if (missing === 0 && stale === 0) return `${thousands(rows)} of ${thousands(expected)}, none stale`;
  return `${thousands(missing)} missing, ${thousands(stale)} stale (of ${thousands(expected)})`;
}

/** Overload runs (bench/realfs/overload.ts), one row per file, labelled by the block. */
export function overloadTable(files: readonly RealfsFile[]): string {
  const rows = files.map((f) => {
    const j = obj(f.json, f.path);
    const offered = n(j, 'offeredPerS');
    const absorbed = n(j, 'absorbedPerS');
    const p50 = n(j, 'latencyMs.p50');
    const p99 = n(j, 'latencyMs.p99');
    return [
      thousands(offered ?? 0),
      f.label ?? '–',
      absorbed === null ? '–' : `${thousands(absorbed)}/s`,
      p50 === null && p99 === null ? '–' : `${latency(p50)} / ${latency(p99)}`,
      n(j, 'fsCpuMsPerDelivered') === null ? '–' : `${fixed(n(j, 'fsCpuMsPerDelivered'), 2)} ms`,
      thousands(n(j, 'injector.superseded') ?? 0),
      thousands(n(j, 'kernelRcvbufDrops') ?? 0),
      thousands(n(j, 'unexplained') ?? 0),
      `${fixed(n(j, 'drainSeconds'), 2)} s`,
      finalState(j),
    ];
  });
  return `${table(['offered/s', 'injection', 'absorbed during the offer', 'delivered p50 / p99', 'FreeSWITCH CPU per delivered', 'superseded', 'kernel drops', 'unexplained', 'drain after the offer', 'registrations on fs-b afterwards'], rows)}\n\n${sources(files)}`;
}

// --- fs-event-multicast bench --freeswitch-…: bridge vs the C module ----------------------------

interface BenchRow {
  system: string;
  scenario: string;
  rate: number | null;
  failedAt: number | null;
  p50: number | null;
  p99: number | null;
  cpuB: number | null;
  cpuA: number | null;
  skipped: string | null;
}

function benchRows(f: RealfsFile): { shape: string; rows: BenchRow[] } {
  const j = obj(f.json, f.path);
  const rows = list(j['results'], `${f.path} results`).map((r, i) => {
    const o = obj(r, `${f.path} results[${i}]`);
    return {
      system: String(o['system']),
      scenario: String(o['scenario']),
      rate: n(o, 'sustainedRate'),
      failedAt: n(o, 'failedAt'),
      p50: n(o, 'atSustained.p50Ms'),
      p99: n(o, 'atSustained.p99Ms'),
      cpuB: n(o, 'atSustained.cpuMsPerEventB'),
      cpuA: n(o, 'atSustained.cpuMsPerEventA'),
      skipped: typeof o['skipped'] === 'string' ? o['skipped'] : null,
    };
  });
  return { shape: typeof j['shape'] === 'string' ? j['shape'] : '?', rows };
}

function rateCell(r: BenchRow | undefined): string {
  if (r === undefined) return '–';
  if (r.skipped !== null) return `skipped: ${r.skipped}`;
  if (r.rate === null) return '–';
  return `${thousands(r.rate)}/s (${thousands(r.rate)} .. ${r.failedAt === null ? 'none failed' : thousands(r.failedAt)})`;
}

/** One table per file: bridge and C module side by side, per scenario. */
export function benchVersusModuleTable(files: readonly RealfsFile[]): string {
  const parts = files.map((f) => {
    const { shape, rows } = benchRows(f);
    const find = (system: string, scenario: string): BenchRow | undefined => rows.find((r) => r.system === system && r.scenario === scenario);
    const scenarios = [...new Set(rows.map((r) => r.scenario))];
    const body: string[][] = [];
    for (const s of scenarios) {
      const b = find('bridge', s);
      const c = find('c-module', s);
      const what = s === 'e2e' ? 'e2e' : 'ingress (datagrams straight to B)';
      body.push([`${what}: sustained (0 loss, p99 ≤ 1 s), bracket`, rateCell(b), rateCell(c)]);
      body.push([`${what}: p50 / p99 at that rate`, b ? `${latency(b.p50)} / ${latency(b.p99)}` : '–', c ? `${latency(c.p50)} / ${latency(c.p99)}` : '–']);
      body.push([`${what}: switch B CPU per replicated event`, b ? `${fixed(b.cpuB, 2)} ms` : '–', c ? `${fixed(c.cpuB, 2)} ms` : '–']);
      if (s === 'e2e') body.push(['e2e: switch A CPU per event fired by `sendevent`', b ? `${fixed(b.cpuA, 2)} ms` : '–', c ? `${fixed(c.cpuA, 2)} ms` : '–']);
    }
    return `${SHAPE_LABEL[shape] ?? shape}, \`${f.path}\`:\n\n${table(['', 'bridge', 'mod_event_multicast'], body)}`;
  });
  return parts.join('\n\n');
}

// --- rendering into the README ------------------------------------------------------------------

export const realfsStart = (name: string): string => `<!-- generated:${name} start (npm run bench:docs, from committed results; do not edit) -->`;
export const realfsEnd = (name: string): string => `<!-- generated:${name} end -->`;

/** The README with every block's section regenerated; throws when a block's markers are missing. */
export function withRealfsBlocks(readme: string, blocks: readonly RealfsBlock[], read: (path: string) => unknown): string {
  let out = readme;
  for (const b of blocks) {
    const start = realfsStart(b.name);
    const end = realfsEnd(b.name);
    const i = out.indexOf(start);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`README: the markers of the generated block "${b.name}" are missing or out of order`);
    const body = b.render(b.files.map((f) => ({ ...f, json: read(f.path) })));
    out = `${out.slice(0, i + start.length)}\n${body}\n${out.slice(j)}`;
  }
  return out;
}
