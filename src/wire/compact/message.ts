/**
 * The message inside compact datagrams: one event as msgpack,
 *
 *   [ [name0, value0, name1, value1, ...], body ]
 *
 * names: str (header names as FreeSWITCH writes them, tokens); values: str, or bin when the
 * bytes are not UTF-8, URL-DECODED; body: str or bin, or nil when the event has none. The
 * headers are every header line of the legacy packet text in order, `Multicast-Sender` and the
 * serializer's `Content-Length` framing line included, so a receiver rebuilds the exact text the
 * legacy path scans and fires the same `sendevent` command for it.
 */
import { isUtf8 } from 'node:buffer';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { scanHeaders, type HeaderSpans, type ScanLimits, DEFAULT_SCAN_LIMITS } from '../header-scan.js';
import type { Decoded } from '../types.js';
import { urlDecodeBytes } from '../url.js';
import { FLAG_DEFLATE } from './format.js';

/** Plain msgpack: no records, no extensions, so any msgpack library reads and writes it. */
const packr = new Packr({ useRecords: false, moreTypes: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/** Largest message payload a receiver inflates to (a bound on a decompression bomb from a key holder). */
export const MAX_MESSAGE_BYTES = 1 << 20;

/** The msgpack message of a scanned event text (the legacy packet's text: sender line in, no MAGIC). */
export function encodeMessage(scan: HeaderSpans): Buffer {
  const { spans, count } = scan;
  const text = asBuffer(scan.text);
  const flat: (string | Buffer)[] = new Array<string | Buffer>(count * 2);
  for (let i = 0; i < count; i++) {
    const k = i * 4;
    const vs = spans[k + 2]!;
    const ve = spans[k + 3]!;
    flat[i * 2] = text.toString('latin1', spans[k]!, spans[k + 1]!);
    // Most values are plain ASCII (FreeSWITCH %-encodes every other byte): taken as they are.
    flat[i * 2 + 1] = isPlainAscii(text, vs, ve) ? text.toString('latin1', vs, ve) : bytesOrString(urlDecodeBytes(text, vs, ve));
  }
  const hasBody = scan.framingIndex >= 0 || scan.bodyEnd > scan.bodyStart;
  const body = hasBody ? bytesOrString(Buffer.from(text.buffer, text.byteOffset + scan.bodyStart, scan.bodyEnd - scan.bodyStart)) : null;
  return packr.pack([flat, body]);
}

/** Compresses when the payload is larger than `above` bytes (0 = never) and compression pays. */
export function maybeCompress(payload: Buffer, above: number): { flags: number; payload: Buffer } {
  if (above <= 0 || payload.length <= above) return { flags: 0, payload };
  // A 4 KB window: the same ratio as 32 KB on event text (messages are a few KB), less zlib setup.
  const z = deflateRawSync(payload, { level: 6, windowBits: 12 });
  return z.length < payload.length ? { flags: FLAG_DEFLATE, payload: z } : { flags: 0, payload };
}

export function decompress(payload: Buffer, flags: number): Decoded<Buffer> {
  if ((flags & FLAG_DEFLATE) === 0) return { ok: true, value: payload };
  try {
    return { ok: true, value: inflateRawSync(payload, { maxOutputLength: MAX_MESSAGE_BYTES }) };
  } catch (e) {
    return { ok: false, reason: 'malformed-header', detail: `compact: cannot inflate the message (${(e as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}

/**
 * The event text a message stands for, scanned: `Name: value` lines with each value written so
 * that URL-decoding it gives the message's bytes back (only `%`, control bytes and a leading
 * space are %-escaped), then the empty line and the body.
 */
export function decodeMessage(payload: Uint8Array, limits: ScanLimits = DEFAULT_SCAN_LIMITS): Decoded<HeaderSpans> {
  let msg: unknown;
  try {
    msg = unpackr.unpack(payload);
  } catch (e) {
    return bad(`not msgpack (${(e as Error).message.slice(0, 60)})`);
  }
  if (!Array.isArray(msg) || msg.length !== 2 || !Array.isArray(msg[0])) return bad('not [headers, body]');
  const flat = msg[0] as unknown[];
  const body = msg[1] as unknown;
  if (flat.length % 2 !== 0) return bad('an odd number of header names and values');
  if (flat.length / 2 > limits.maxHeaders) return { ok: false, reason: 'too-many-headers', detail: `more than ${limits.maxHeaders} headers` };
  if (body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) return bad('body is not str, bin or nil');
  const w = new TextWriter(256 + flat.length * 24);
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    if (typeof name !== 'string' || !isToken(name)) return { ok: false, reason: 'malformed-header', detail: `compact: header ${i / 2 + 1}: name is not a token` };
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) return bad(`header ${i / 2 + 1}: value is not str or bin`);
    w.latin1(name);
    w.latin1(': ');
    w.value(value);
    w.byte(0x0a);
  }
  w.byte(0x0a);
  if (body !== null) w.raw(body as string | Uint8Array);
  const text = w.result();
  return scanHeaders(text, 0, text.length, limits);
}

function bad(detail: string): { ok: false; reason: 'malformed-header'; detail: string } {
  return { ok: false, reason: 'malformed-header', detail: `compact: ${detail}` };
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}

/** No `%` (nothing to decode) and no byte >= 0x80 (latin1 and UTF-8 read it the same). */
function isPlainAscii(t: Buffer, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    const b = t[i]!;
    if (b === 0x25 || b >= 0x80) return false;
  }
  return true;
}

function bytesOrString(b: Buffer): string | Buffer {
  return isUtf8(b) ? b.toString('utf8') : Buffer.from(b); // a copy: b may view the caller's text
}

/** Printable ASCII without ':' — what a header name may be (as header-scan demands). */
function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x3a) return false;
  }
  return true;
}

const HEX = '0123456789ABCDEF';

/** Printable ASCII without `%` and not starting with a space: needs no escaping. */
function isSafeText(s: string): boolean {
  if (s.length > 0 && s.charCodeAt(0) === 0x20) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x25) return false;
  }
  return true;
}

/** A growable byte buffer for rebuilding event text. */
class TextWriter {
  private buf: Buffer;
  private o = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private room(n: number): void {
    if (this.o + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + n));
    this.buf.copy(next, 0, 0, this.o);
    this.buf = next;
  }
  byte(b: number): void {
    this.room(1);
    this.buf[this.o++] = b;
  }
  latin1(s: string): void {
    this.room(s.length);
    this.o += this.buf.write(s, this.o, 'latin1');
  }
  raw(v: string | Uint8Array): void {
    if (typeof v === 'string') {
      this.room(v.length * 3);
      this.o += this.buf.write(v, this.o, 'utf8');
    } else {
      this.room(v.length);
      this.buf.set(v, this.o);
      this.o += v.length;
    }
  }
  /** A value as bytes that URL-decode back to it and that header-scan reads as one whole value. */
  value(v: string | Uint8Array): void {
    if (typeof v === 'string' && isSafeText(v)) {
      this.latin1(v); // printable ASCII: written as is
      return;
    }
    const start = this.o;
    this.raw(v);
    let needs = this.buf[start] === 0x20;
    for (let i = start; i < this.o && !needs; i++) {
      const b = this.buf[i]!;
      if (b < 0x20 || b === 0x7f || b === 0x25) needs = true;
    }
    if (!needs) return;
    const bytes = Buffer.from(this.buf.subarray(start, this.o));
    this.o = start;
    this.room(bytes.length * 3);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b < 0x20 || b === 0x7f || b === 0x25 || (i === 0 && b === 0x20)) {
        this.buf[this.o++] = 0x25;
        this.buf[this.o++] = HEX.charCodeAt(b >> 4);
        this.buf[this.o++] = HEX.charCodeAt(b & 15);
      } else this.buf[this.o++] = b;
    }
  }
  result(): Buffer {
    return this.buf.subarray(0, this.o);
  }
}
