/** The real-FreeSWITCH benchmark's report as text: bridge and C module side by side. */
import type { RealBenchReport, SystemResult } from './real-bench.js';

function cell(x: number | null | undefined, unit = ''): string {
  return x === null || x === undefined ? '-' : `${x}${unit}`;
}

function column(r: SystemResult | undefined): string[] {
  if (r === undefined) return Array(8).fill('-') as string[];
  if (r.skipped !== null) return [`not measured: ${r.skipped}`, '', '', '', '', '', '', ''];
  const t = r.atSustained;
  const bracket = r.failedAt === null ? `>= ${r.sustainedRate} (every rate tried passed)` : `${r.sustainedRate} .. ${r.failedAt}`;
  return [
    `${r.sustainedRate}/s${r.stopped === null ? '' : ` (stopped: ${r.stopped})`}`,
    bracket,
    cell(t?.p50Ms, ' ms'),
    cell(t?.p99Ms, ' ms'),
    cell(t?.maxMs, ' ms'),
    cell(t?.cpuMsPerEventB, ' ms'),
    cell(t?.cpuMsPerEventA, ' ms'),
    cell(t?.cpuMsPerEventBridges, ' ms'),
  ];
}

export function formatRealBenchReport(rep: RealBenchReport): string {
  const rows = [
    'sustained rate (0 loss, p99 within bound)',
    'bracket (passed .. failed), events/s',
    'p50 latency at that rate',
    'p99 latency',
    'max latency',
    'switch B CPU per event',
    'switch A CPU per event',
    "bridges' CPU per event (both)",
  ];
  const lines = [`fs-event-multicast bench: shape ${rep.shape}, ${rep.psk ? 'PSK' : 'plain'} bridges, ${rep.stepSeconds} s per rate, p99 bound ${rep.p99BoundMs} ms (run ${rep.run})`];
  for (const scenario of [...new Set(rep.results.map((r) => r.scenario))]) {
    const bridge = rep.results.find((r) => r.system === 'bridge' && r.scenario === scenario);
    const c = rep.results.find((r) => r.system === 'c-module' && r.scenario === scenario);
    const bc = column(bridge);
    const cc = column(c);
    const w = Math.max(...rows.map((x) => x.length));
    const bw = Math.max(6, ...bc.map((x) => x.length));
    lines.push('', `${scenario === 'e2e' ? 'e2e: fired in A, replicated, counted in B' : "ingress: datagrams straight to B's receiving side, counted in B"}`);
    lines.push(`${''.padEnd(w)}  ${'bridge'.padEnd(bw)}  mod_event_multicast`, ...rows.map((label, i) => `${label.padEnd(w)}  ${bc[i]!.padEnd(bw)}  ${cc[i]}`));
    if (bridge !== undefined && c !== undefined && c.skipped === null && c.sustainedRate > 0 && bridge.sustainedRate > 0) {
      lines.push(`bridge / C module sustained rate: ${(bridge.sustainedRate / c.sustainedRate).toFixed(2)}x`);
    }
  }
  lines.push('');
  if (rep.freeswitchPids.a === null || rep.freeswitchPids.b === null) {
    lines.push('CPU per event: only for a switch on this machine (its process found by its event-socket port)');
  } else {
    lines.push('CPU per event = FreeSWITCH utime+stime over the events that arrived (robust to other load; rates are not)');
  }
  lines.push('what was done to the switches:', ...rep.cleanup.map((x) => `  ${x}`));
  return `${lines.join('\n')}\n`;
}
