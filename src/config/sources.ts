/**
 * Loading: where each param's raw text comes from. Precedence: flag > environment > file > default.
 * The file is FreeSWITCH's event_multicast.conf.xml, read unchanged (of a repeated param the last
 * wins, as in FreeSWITCH). Unknown names are problems, not ignored as the C module does: a
 * misspelt psk would run unencrypted. Every value that is or may be a secret is collected, so
 * every message can be scrubbed of it at the end. Nothing is validated here (validator.ts).
 */
import { readFileSync } from 'node:fs';
import { CONFIG_FLAG } from './flags.js';
import { ENV_PREFIX, PARAM_SPECS, canonicalKey, findParam, nearestParams, paramSpec, unknownEnvProblems, unknownParamProblem } from './params.js';
import { didYouMean } from './suggest.js';
import { ConfigError } from './types.js';
import { readModuleXml, XmlConfigError } from './xml.js';

export interface LoadConfigInput {
  /** Path of the XML file. Defaults to the `config` flag. */
  file?: string;
  /** XML text to use instead of reading `file` (`file` then only names it in messages). */
  xmlText?: string;
  flags: Record<string, string | undefined>;
  env: Record<string, string | undefined>;
}

export type Origin = 'flag' | 'env' | 'file';
export interface RawValue {
  readonly value: string;
  readonly origin: Origin;
}

export interface RawSources {
  /** The file read, or null. */
  file: string | null;
  /** Its text (or the given XML text), or null when there is none. */
  text: string | null;
  /** A param's raw text and where it came from, by canonical key; null when unset. */
  raw(key: string): RawValue | null;
  /** Every value that is or may be a secret. */
  secrets: string[];
}

/** Reads flags, environment and file; problems and warnings are pushed (a file that cannot be read or parsed throws). */
export function readSources(input: LoadConfigInput, problems: string[], warnings: string[]): RawSources {
  // Every value that is or may be a secret, to scrub out of every message at the end.
  const secrets: string[] = [];

  const flags = canonicalFlags(input.flags, problems, secrets);
  problems.push(...unknownEnvProblems(input.env));
  for (const [name, value] of Object.entries(input.env)) {
    if (value !== undefined && name.toUpperCase().startsWith(ENV_PREFIX)) secrets.push(value);
  }
  const file = input.file ?? flags.get(CONFIG_FLAG) ?? null;
  let text = input.xmlText ?? null;
  if (text === null && file !== null) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new ConfigError([`cannot read configuration file ${file}: ${code}`]);
    }
  }

  const fileValues = new Map<string, string>();
  if (text !== null) {
    let xml;
    try {
      xml = readModuleXml(text, file ?? 'configuration');
    } catch (e) {
      if (e instanceof XmlConfigError) throw new ConfigError([e.message]);
      throw e;
    }
    warnings.push(...xml.warnings);
    problems.push(...xml.problems);
    const seen = new Map<string, number>();
    for (const { name, value, line } of xml.params) {
      const spec = findParam(name);
      if (spec === undefined) {
        // The C module ignores it; a misspelt psk would then run unencrypted.
        problems.push(unknownParamProblem(name, file ?? 'configuration', line));
        if (nearestParams(name).some((n) => findParam(n)?.secret === true)) secrets.push(value);
        continue;
      }
      if (spec.secret) secrets.push(value);
      seen.set(spec.key, (seen.get(spec.key) ?? 0) + 1);
      fileValues.set(spec.key, value); // the last one wins, as in the C module
    }
    for (const [key, count] of seen) {
      if (count > 1) warnings.push(`param ${paramSpec(key).display} is set ${count} times; the last value is used (as FreeSWITCH does)`);
    }
  }

  const raw = (key: string): RawValue | null => {
    const spec = paramSpec(key);
    const flag = flags.get(key);
    if (flag !== undefined) return { value: flag, origin: 'flag' };
    if (spec.env !== undefined) {
      const v = input.env[spec.env];
      if (v !== undefined && v !== '') return { value: v, origin: 'env' };
    }
    const v = fileValues.get(key);
    return v === undefined ? null : { value: v, origin: 'file' };
  };

  for (const spec of PARAM_SPECS) {
    const r = raw(spec.key);
    if (r === null) continue;
    if (r.value.includes('${')) {
      warnings.push(
        `${spec.display}${spec.redacted ? '' : ` '${r.value}'`} uses a FreeSWITCH variable (\${...} or $\${...}); ` +
          'the bridge does not expand them: write the value itself',
      );
    }
    if (spec.secret && r.origin === 'flag') {
      warnings.push(
        `${spec.display} was given as a command-line flag: other local users can read it with ps; ` +
          `use the environment variable ${spec.env} instead (e.g. a systemd EnvironmentFile)`,
      );
    }
  }

  return { file, text, raw, secrets };
}

function canonicalFlags(flags: Record<string, string | undefined>, problems: string[], secrets: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const key = canonicalKey(name);
    if (key !== CONFIG_FLAG && findParam(key) === undefined) {
      const near = nearestParams(key);
      if (near.some((n) => findParam(n)?.secret === true)) secrets.push(value);
      problems.push(`unknown flag --${name}${didYouMean(near.map((n) => `--${canonicalKey(n)}`))}`);
      continue;
    }
    if (findParam(key)?.secret === true) secrets.push(value);
    out.set(key, value);
  }
  return out;
}

