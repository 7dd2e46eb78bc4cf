/**
 * `fs-event-multicast check --config FILE [--param value ...] [--json]`: reads the configuration
 * exactly as `run` does (file, flags, environment) and starts nothing — no socket, no
 * connection. Prints where traffic will go, every param's value in use with its source (secrets
 * redacted) and the warnings; exit 0 when valid, 1 with the errors when not.
 */
import { ConfigError, loadConfig, parseRunFlags, type LoadedConfig } from '../config/config.js';
import { effectiveSettings, trafficTargets, type SettingRow, type TrafficRow } from '../config/describe.js';
import { UsageError, type Io } from './codec-commands.js';

export const CHECK_USAGE = `usage: fs-event-multicast check --config FILE [--param value ...] [--json]
  Validates the configuration as 'run' would read it (the same file, flags and FS_EVENT_MULTICAST_*
  environment) without starting anything: no socket is opened, nothing is sent or connected.
  Prints where traffic will go (what leaves this host is marked NOT loopback), the value in use of
  every param and where it came from (file, flag, env, default; secrets as [redacted]), and the
  warnings. Exit 0: valid; 1: invalid, with every error. --json: the same as one JSON object.`;

export interface CheckReport {
  readonly valid: boolean;
  readonly file: string | null;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  readonly notices: readonly string[];
  readonly traffic: readonly TrafficRow[];
  readonly settings: readonly SettingRow[];
}

export function checkCommand(argv: string[], io: Io): number {
  const json = argv.includes('--json');
  const parsed = parseRunFlags(argv.filter((a) => a !== '--json'));
  if (parsed.help) {
    io.stdout(CHECK_USAGE + '\n');
    return 0;
  }
  if (parsed.flags['config'] === undefined) throw new UsageError('check: --config FILE is required (your event_multicast.conf.xml)', CHECK_USAGE);
  const report = checkReport(parsed.errors, () => loadConfig({ flags: parsed.flags, env: io.env }), parsed.flags['config']);
  if (json) io.stdout(`${jsonText(report)}\n`);
  else if (report.valid) io.stdout(reportText(report));
  else io.stderr(reportText(report));
  return report.valid ? 0 : 1;
}

/** Flag errors and the load's problems together, so that one run shows every mistake. */
export function checkReport(flagErrors: readonly string[], load: () => LoadedConfig, file: string): CheckReport {
  let loaded: LoadedConfig | null = null;
  let problems: readonly string[] = [];
  try {
    loaded = load();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems = e.problems;
  }
  const errors = [...flagErrors, ...problems];
  if (loaded === null || errors.length > 0) {
    return { valid: false, file, errors, warnings: loaded?.warnings ?? [], notices: loaded?.notices ?? [], traffic: [], settings: [] };
  }
  return {
    valid: true,
    file: loaded.config.file ?? file,
    errors: [],
    warnings: loaded.warnings,
    notices: loaded.notices,
    traffic: trafficTargets(loaded.config),
    settings: effectiveSettings(loaded.config, loaded.sources),
  };
}

export function reportText(r: CheckReport): string {
  const out: string[] = [];
  if (!r.valid) {
    out.push(`fs-event-multicast check: ${r.file ?? 'the configuration'} is NOT valid (${r.errors.length} error${r.errors.length === 1 ? '' : 's'}):`);
    for (const e of r.errors) out.push(`  - ${e}`);
  } else {
    out.push(`fs-event-multicast check: ${r.file ?? 'the configuration'} is valid`);
    const leaving = r.traffic.filter((t) => t.leavesHost).length;
    out.push('', `Where traffic goes (${leaving} of ${r.traffic.length} reach beyond this host):`);
    out.push(...table(r.traffic.map((t) => [t.direction, t.what, t.target, t.scope])));
    out.push('', 'Settings (where each value came from, and the value in use):');
    out.push(...table(r.settings.map((s) => [s.param, s.source, s.value])));
  }
  if (r.warnings.length > 0) {
    out.push('', `Warnings (${r.warnings.length}):`);
    for (const w of r.warnings) out.push(`  - ${w}`);
  }
  if (r.notices.length > 0) {
    out.push('', 'Notes:');
    for (const n of r.notices) out.push(`  - ${n}`);
  }
  return out.map(printable).join('\n') + '\n';
}

/** JSON with the C1 control characters escaped too (JSON.stringify leaves them raw). */
export function jsonText(r: CheckReport): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(r, null, 2).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Columns padded to the widest cell (the last column is not padded). */
function table(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`);
}

/** Values come from the file: no control byte (a line break included) reaches the terminal raw. */
function printable(line: string): string {
  // eslint-disable-next-line no-control-regex
  return line.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
