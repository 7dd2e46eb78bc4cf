/**
 * One validated, deeply frozen configuration from FreeSWITCH's `event_multicast.conf.xml`
 * (read unchanged), the bridge's extra params in the same `<settings>`, environment variables
 * for the secrets and command-line flags. Precedence: flag > environment > file > default.
 * Reload builds a new Config and swaps it in; `contentHash` tells whether the file changed.
 */
import { PARAM_SPECS } from './params.js';
import { redactUrlCredentials, scrubSecrets } from './redact.js';
import { readSources, type LoadConfigInput } from './sources.js';
import { ConfigError, type Config, type ValueSource } from './types.js';
import { validateConfig } from './validator.js';

export { parseRunFlags, type RunFlags } from './flags.js';
export { Secret } from './secret.js';
export type { LoadConfigInput } from './sources.js';
export { classifyAddress } from './validator.js';
export * from './types.js';

export interface LoadedConfig {
  config: Config;
  warnings: string[];
  /** Worth knowing but not a problem: logged at info. */
  notices: string[];
  /** Where each param's value came from, by canonical key (every param of PARAM_SPECS). */
  sources: Readonly<Record<string, ValueSource>>;
}

/** Loads (sources.ts), validates (validator.ts), scrubs every message of secrets, and freezes. */
export function loadConfig(input: LoadConfigInput): LoadedConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const notices: string[] = [];
  const src = readSources(input, problems, warnings);
  const config = validateConfig(src, input.env, problems, warnings, notices);
  const safe = (messages: string[]): string[] => messages.map((m) => scrubSecrets(redactUrlCredentials(m), src.secrets));
  if (problems.length > 0) throw new ConfigError(safe(problems));
  const sources = Object.fromEntries(PARAM_SPECS.map((p) => [p.key, src.raw(p.key)?.origin ?? 'default'])) as Record<string, ValueSource>;
  return { config: deepFreeze(config), warnings: safe(warnings), notices: safe(notices), sources: Object.freeze(sources) };
}

/**
 * The "Configured peers" lines of the C module's `multicast_peers`, without the leading tab:
 * `IPv4 multicast: 225.1.1.1`.
 */
export function describeDestinations(config: Pick<Config, 'destinations'> & Partial<Pick<Config, 'compactDestinations'>>): string[] {
  const compact = (config.compactDestinations ?? []).map((d) => `${d.label}: ${d.address} (compact)`);
  return [...config.destinations.map((d) => `${d.label}: ${d.address}`), ...compact];
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
