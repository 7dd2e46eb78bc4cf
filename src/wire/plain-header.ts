/**
 * Header lookups in `event plain` text (FreeSWITCH's serialized event: `Name: url-encoded value`
 * lines, a blank line, then an optional body), without parsing the whole event.
 */
const LF = 0x0a;
const EVENT_SEQUENCE = Buffer.from('Event-Sequence: ', 'latin1');

/** The raw (still URL-encoded) value of the header whose line starts with `prefix` ("Name: "), or null. */
export function plainHeaderValue(text: Buffer, prefix: Buffer, headerEnd = headerSectionEnd(text)): Buffer | null {
  let at = text.indexOf(prefix);
  while (at > 0 && text[at - 1] !== LF) at = text.indexOf(prefix, at + 1);
  if (at < 0 || at >= headerEnd) return null;
  const start = at + prefix.length;
  let end = text.indexOf(LF, start);
  if (end < 0) end = text.length;
  return text.subarray(start, end);
}

/** Where the header section ends (the blank line), or the text's length. */
export function headerSectionEnd(text: Buffer): number {
  const blank = text.indexOf('\n\n');
  return blank < 0 ? text.length : blank + 1;
}

/**
 * FreeSWITCH's `Event-Sequence`: one counter for the whole switch, so it orders events across
 * event-socket connections. null when absent or not a number.
 */
export function eventSequenceOf(text: Buffer): number | null {
  const raw = plainHeaderValue(text, EVENT_SEQUENCE);
  if (raw === null || raw.length === 0 || raw.length > 15) return null;
  let n = 0;
  for (const c of raw) {
    if (c < 0x30 || c > 0x39) return null;
    n = n * 10 + (c - 0x30);
  }
  return n;
}
