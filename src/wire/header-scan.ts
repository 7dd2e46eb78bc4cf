/**
 * Splits FreeSWITCH's plain event text (spec §3) into header spans and a body, without
 * creating strings: the ingress hot path rewrites straight from these offsets.
 *
 * Rules, chosen to read what the sender meant (spec §5 lists where the C module does not):
 * - a header line is `Name:value` up to `\n` (a `\r` before it is dropped, so CRLF text works);
 *   spaces after the `:` are skipped, as FreeSWITCH does;
 * - the header section ends at the first empty line (or at the end of the text);
 * - when the LAST header is `Content-Length: N` (the serializer's framing line), the body is the
 *   next N bytes; bytes after an empty line with no such header are taken as the body too;
 * - a name must be a token (printable ASCII, no space or `:`), else the packet is malformed:
 *   such a name can never be written safely into an event-socket command.
 */
import type { Decoded } from './types.js';
import { urlDecodeBytes } from './url.js';

export interface ScanLimits {
  /** Most header lines accepted in one event. */
  maxHeaders: number;
  /** Longest single header line accepted, in bytes. */
  maxHeaderBytes: number;
}

export const DEFAULT_SCAN_LIMITS: ScanLimits = Object.freeze({ maxHeaders: 10000, maxHeaderBytes: 1 << 20 });

/** Header offsets into the scanned text; 4 numbers per header: nameStart, nameEnd, valueStart, valueEnd. */
export interface HeaderSpans {
  readonly text: Uint8Array;
  readonly count: number;
  readonly spans: Int32Array;
  /** Index of the serializer's `Content-Length` framing header, or -1. */
  readonly framingIndex: number;
  /** Body bounds in `text`; bodyStart === bodyEnd means no body. */
  readonly bodyStart: number;
  readonly bodyEnd: number;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const CONTENT_LENGTH = Buffer.from('Content-Length', 'latin1');

/** 1 for bytes allowed in a header name. */
const NAME_BYTE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0x21; b <= 0x7e; b++) t[b] = 1;
  t[COLON] = 0;
  return t;
})();

/** Scans `text[start, end)`. Never throws; a bad line is a `malformed-header` drop. */
export function scanHeaders(
  text: Uint8Array,
  start = 0,
  end = text.length,
  limits: ScanLimits = DEFAULT_SCAN_LIMITS,
): Decoded<HeaderSpans> {
  let spans = new Int32Array(64 * 4);
  let count = 0;
  let pos = start;
  let bodyFrom = end; // where the text after the header section starts

  while (pos < end) {
    let eol = text.indexOf(LF, pos);
    if (eol < 0 || eol >= end) eol = end;
    let lineEnd = eol;
    if (lineEnd > pos && text[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd === pos) {
      // The empty line that ends the header section.
      bodyFrom = eol + 1;
      break;
    }
    if (lineEnd - pos > limits.maxHeaderBytes) {
      return drop('header-too-large', `header line ${count + 1} is ${lineEnd - pos} bytes (limit ${limits.maxHeaderBytes})`);
    }
    if (count >= limits.maxHeaders) {
      return drop('too-many-headers', `more than ${limits.maxHeaders} header lines`);
    }
    let colon = pos;
    while (colon < lineEnd && text[colon] !== COLON) {
      if (NAME_BYTE[text[colon]!] === 0) {
        return drop('malformed-header', `header line ${count + 1}: byte 0x${text[colon]!.toString(16).padStart(2, '0')} in a header name`);
      }
      colon++;
    }
    if (colon === lineEnd) return drop('malformed-header', `header line ${count + 1} has no ':'`);
    if (colon === pos) return drop('malformed-header', `header line ${count + 1} has an empty name`);
    let valueStart = colon + 1;
    while (valueStart < lineEnd && text[valueStart] === SPACE) valueStart++;
    if ((count + 1) * 4 > spans.length) {
      const grown = new Int32Array(spans.length * 2);
      grown.set(spans);
      spans = grown;
    }
    const k = count * 4;
    spans[k] = pos;
    spans[k + 1] = colon;
    spans[k + 2] = valueStart;
    spans[k + 3] = lineEnd;
    count++;
    pos = eol + 1;
  }

  let framingIndex = -1;
  let bodyStart = bodyFrom;
  let bodyEnd = end;
  if (count > 0 && isContentLength(text, spans, count - 1)) {
    framingIndex = count - 1;
    const k = framingIndex * 4;
    const declared = parseDecimal(text, spans[k + 2]!, spans[k + 3]!);
    if (declared < 0) return drop('bad-content-length', 'Content-Length is not a decimal number');
    if (declared > end - bodyFrom) {
      return drop('bad-content-length', `Content-Length ${declared} but ${Math.max(0, end - bodyFrom)} body bytes present`);
    }
    bodyEnd = bodyFrom + declared;
  }
  if (bodyStart > bodyEnd) bodyStart = bodyEnd;
  return { ok: true, value: { text, count, spans, framingIndex, bodyStart, bodyEnd } };
}

function isContentLength(text: Uint8Array, spans: Int32Array, i: number): boolean {
  const s = spans[i * 4]!;
  const e = spans[i * 4 + 1]!;
  if (e - s !== CONTENT_LENGTH.length) return false;
  for (let j = 0; j < CONTENT_LENGTH.length; j++) if (text[s + j] !== CONTENT_LENGTH[j]) return false;
  return true;
}

/** A non-negative decimal of at most 9 digits, or -1. */
function parseDecimal(text: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 9) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const d = text[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Index of the first header named `name` (exact bytes), or -1. */
export function findHeader(scan: HeaderSpans, name: Uint8Array): number {
  const { text, spans, count } = scan;
  outer: for (let i = 0; i < count; i++) {
    const s = spans[i * 4]!;
    if (spans[i * 4 + 1]! - s !== name.length) continue;
    for (let j = 0; j < name.length; j++) if (text[s + j] !== name[j]) continue outer;
    return i;
  }
  return -1;
}

/** Index of the first header whose name equals `name` ignoring ASCII case, or -1. */
export function findHeaderIgnoreCase(scan: HeaderSpans, lowerName: Uint8Array): number {
  const { text, spans, count } = scan;
  outer: for (let i = 0; i < count; i++) {
    const s = spans[i * 4]!;
    if (spans[i * 4 + 1]! - s !== lowerName.length) continue;
    for (let j = 0; j < lowerName.length; j++) {
      const c = text[s + j]!;
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lowerName[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function drop(reason: 'malformed-header' | 'bad-content-length' | 'too-many-headers' | 'header-too-large', detail: string): Decoded<never> {
  return { ok: false, reason, detail };
}

/** The URL-decoded value of the first header named `lowerName` (any case), '' when empty, or null when absent. */
export function decodedHeader(scan: HeaderSpans, lowerName: Buffer): string | null {
  const i = findHeaderIgnoreCase(scan, lowerName);
  if (i < 0) return null;
  return urlDecodeBytes(scan.text, scan.spans[i * 4 + 2]!, scan.spans[i * 4 + 3]!).toString('utf8');
}
