/**
 * Keeping secrets out of configuration messages: URL credentials (`nats://user:pw@host`), the
 * values of the secret params wherever they end up (a PSK pasted into `ttl` by mistake), and
 * operator-written names printed safely. Pure.
 */

export const REDACTED = '[redacted]';

/** Secrets this short are not scrubbed out of other text: they would mangle every message. */
const SHORTEST_SCRUBBED = 3;
/** Longest name quoted back in a message, in characters. */
const LONGEST_NAME_SHOWN = 64;

/**
 * `nats://user:pw@host` → `nats://[redacted]@host`; also `user:pw@host` with no scheme. The
 * user info runs to the last `@` of the entry, since a password may hold `@`, `/` or `:`.
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(/(^|[\s,'"(=])((?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?)[^\s,'"]*@/g, (_m, lead: string, scheme: string) => `${lead}${scheme}${REDACTED}@`);
}

/** Every occurrence of each secret (of 3 characters or more) in `text` replaced by [redacted]. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) {
    if (s.length >= SHORTEST_SCRUBBED) out = out.split(s).join(REDACTED);
  }
  return out;
}

/**
 * A name written by the operator, quoted for a message: control bytes, quotes and backslashes
 * escaped (nothing reaches the terminal raw), cut to 64 characters.
 */
export function quoteName(name: string): string {
  const cut = name.length > LONGEST_NAME_SHOWN ? `${name.slice(0, LONGEST_NAME_SHOWN)}…` : name;
  // eslint-disable-next-line no-control-regex
  const escaped = cut.replace(/[\\"\x00-\x1f\x7f-\x9f]/g, (c) => (c === '\\' || c === '"' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return `"${escaped}"`;
}
