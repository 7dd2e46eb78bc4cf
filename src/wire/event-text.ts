/**
 * The plain-text event of FreeSWITCH's serializer (switch_event_serialize with encoding on),
 * spec §3, as a value model: used by tests, the CLI and the simulated FreeSWITCH. The hot paths
 * work on bytes (see header-scan.ts, egress.ts, ingress.ts) and never build these objects.
 */
import { scanHeaders, type ScanLimits, DEFAULT_SCAN_LIMITS } from './header-scan.js';
import type { Decoded, EventData, Header } from './types.js';
import { urlDecodeBytes, urlEncode } from './url.js';

/** Serializes headers (values URL-encoded, empty as `_undef_`) and an optional body with its Content-Length line. */
export function serializeEvent(event: EventData): Buffer {
  let head = '';
  for (const [name, value] of event.headers) head += `${name}: ${urlEncode(value)}\n`;
  const headBytes = Buffer.from(head, 'latin1'); // encoded values and token names are ASCII
  if (event.body === null || event.body.length === 0) return Buffer.concat([headBytes, NEWLINE]);
  const body = Buffer.from(event.body, 'utf8');
  return Buffer.concat([headBytes, Buffer.from(`Content-Length: ${body.length}\n\n`, 'latin1'), body]);
}

const NEWLINE = Buffer.from('\n', 'latin1');

/**
 * Parses plain event text into headers (values URL-decoded to UTF-8 strings) and body.
 * The serializer's `Content-Length` framing line is not a header of the event; it gives the body.
 */
export function parseEventText(text: Uint8Array, limits: ScanLimits = DEFAULT_SCAN_LIMITS): Decoded<EventData> {
  const scanned = scanHeaders(text, 0, text.length, limits);
  if (!scanned.ok) return scanned;
  const scan = scanned.value;
  const headers: Header[] = [];
  for (let i = 0; i < scan.count; i++) {
    if (i === scan.framingIndex) continue;
    const k = i * 4;
    const name = Buffer.from(text.buffer, text.byteOffset + scan.spans[k]!, scan.spans[k + 1]! - scan.spans[k]!).toString('latin1');
    const value = urlDecodeBytes(text, scan.spans[k + 2]!, scan.spans[k + 3]!).toString('utf8');
    headers.push([name, value]);
  }
  const body =
    scan.bodyEnd > scan.bodyStart
      ? Buffer.from(text.buffer, text.byteOffset + scan.bodyStart, scan.bodyEnd - scan.bodyStart).toString('utf8')
      : null;
  return { ok: true, value: { headers, body } };
}

/** The first value of a header, compared case-insensitively as FreeSWITCH's switch_event_get_header does. */
export function headerValue(event: EventData, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of event.headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}
