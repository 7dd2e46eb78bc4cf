/**
 * What a parameter is (ParamSpec) and how one raw text becomes a value. Every integer and yes/no
 * param, whichever area it belongs to (core, compact, NATS), is read by these same readers from
 * its own spec entry: one place says a param's range and default, and a bad value gets the same
 * message shape everywhere, without the value when the param is redacted.
 */

export interface ParamSpec {
  /** Canonical key: lower case, words joined by `-`. */
  readonly key: string;
  /** How the name is written in FreeSWITCH's file and in messages. */
  readonly display: string;
  /** Read by the C module too (false: the bridge's own extra param). */
  readonly module: boolean;
  /** Never shown in messages; may also come from `env`. */
  readonly secret: boolean;
  /** Its value is never quoted in a message nor shown by `check`: every secret, and who logs in (nats-user). */
  readonly redacted: boolean;
  /** Environment variable that may give it (beats the file, loses to a flag). */
  readonly env?: string;
  /** Default, as text for the docs ('' = none). */
  readonly defaultText: string;
  /** An integer param: [min, max, default]; validation and the docs read it from here. */
  readonly integer?: readonly [number, number, number];
  readonly help: string;
}

export type ParamSpecInput = Omit<ParamSpec, 'secret' | 'module' | 'redacted' | 'defaultText'> & Partial<Pick<ParamSpec, 'secret' | 'module' | 'redacted' | 'defaultText'>>;

/** A spec with the usual flags off; an integer param's default text is its default (written once). */
export const spec = (s: ParamSpecInput): ParamSpec =>
  Object.freeze({ secret: false, module: false, redacted: s.secret === true, defaultText: s.integer === undefined ? '' : String(s.integer[2]), ...s });

/** FreeSWITCH's switch_true() words (numbers are handled by each reader). */
export const TRUE_WORDS: ReadonlySet<string> = new Set(['yes', 'on', 'true', 't', 'enabled', 'active', 'allow']);
export const FALSE_WORDS: ReadonlySet<string> = new Set(['no', 'off', 'false', 'f', 'disabled', 'inactive', 'deny', '']);
const INTEGER = /^\d+$/;

/** `display 'value': problem`, or `display: problem` when the param is redacted. */
export function badValue(s: Pick<ParamSpec, 'display' | 'redacted'>, value: string, problem: string): string {
  return `${s.display}${s.redacted ? '' : ` '${value}'`}: ${problem}`;
}

/** An integer param within its spec's range; unset gives its default; a bad value a problem (and the default, so every problem is found in one pass). */
export function readInteger(s: ParamSpec, text: string | null, problems: string[]): number {
  if (s.integer === undefined) throw new Error(`internal: param ${s.key} is not an integer param`);
  const [min, max, fallback] = s.integer;
  if (text === null) return fallback;
  const t = text.trim();
  if (INTEGER.test(t) && Number(t) >= min && Number(t) <= max) return Number(t);
  problems.push(badValue(s, text, `allowed: an integer ${min}..${max} (default ${fallback})`));
  return fallback;
}

/** A yes/no param of the bridge's own: a switch_true() word, 1 or 0; any other word is an error. */
export function readYesNo(s: ParamSpec, text: string | null, fallback: boolean, problems: string[]): boolean {
  if (text === null) return fallback;
  const t = text.trim().toLowerCase();
  if (TRUE_WORDS.has(t) || t === '1') return true;
  if (FALSE_WORDS.has(t) || t === '0') return false;
  problems.push(badValue(s, text, 'not a yes/no word; allowed: yes, no, true, false, on, off'));
  return fallback;
}
