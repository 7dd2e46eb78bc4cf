/**
 * Command-line flags of `fs-event-multicast run`: `--config FILE` plus one flag per param
 * (`--esl-host H`, `--source-address A`, `--psk K`...), as `--name value` or `--name=value`.
 */
import { PARAM_SPECS, canonicalKey, findParam } from './params.js';
import { quoteName } from './redact.js';
import { closestNames, didYouMean } from './suggest.js';

export interface RunFlags {
  /** Canonical key (e.g. `esl-host`, `config`) to value; absent flags are absent. */
  readonly flags: Record<string, string | undefined>;
  /** One message per problem; the values of flags are never quoted (they may be secrets). */
  readonly errors: readonly string[];
  /** `--help` or `-h` was given. */
  readonly help: boolean;
}

export const CONFIG_FLAG = 'config';

export function knownFlagNames(): string[] {
  return [CONFIG_FLAG, ...PARAM_SPECS.map((p) => p.key)];
}

export function parseRunFlags(argv: readonly string[]): RunFlags {
  const flags: Record<string, string | undefined> = {};
  const errors: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      errors.push(`unexpected argument #${i + 1}: every setting is a flag of the form --name value (see --help)`);
      continue;
    }
    const eq = arg.indexOf('=');
    const rawName = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
      value = argv[++i];
    }
    const key = canonicalKey(rawName);
    const known = key === CONFIG_FLAG || findParam(key) !== undefined;
    if (!known) {
      errors.push(unknownFlagMessage(rawName));
      continue;
    }
    if (value === undefined) {
      errors.push(`flag --${rawName} needs a value (--${key} VALUE or --${key}=VALUE)`);
      continue;
    }
    if (flags[key] !== undefined) {
      errors.push(`flag --${key} given more than once`);
      continue;
    }
    flags[key] = value;
  }
  return { flags, errors, help };
}

/** `unknown flag --pks — did you mean --psk?`, or the list of flags when none is close. */
export function unknownFlagMessage(rawName: string): string {
  const shown = /^[\w.-]*$/.test(rawName) ? `--${rawName}` : `--${quoteName(rawName)}`;
  const near = closestNames(canonicalKey(rawName), knownFlagNames()).map((n) => `--${n}`);
  return `unknown flag ${shown}${didYouMean(near) || `; known flags: ${knownFlagNames().map((n) => `--${n}`).join(' ')}`}`;
}
