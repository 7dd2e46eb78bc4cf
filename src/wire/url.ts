/**
 * FreeSWITCH's URL coding of header values (switch_url_encode / switch_url_decode), spec §3.
 * Works on bytes: a value is UTF-8 on the wire and every byte >= 0x80 is escaped on its own.
 */

const HEX_UPPER = '0123456789ABCDEF';

/** Bytes FreeSWITCH escapes besides controls and non-ASCII: `\r \n space # % & + : ; < = > ? @ [ \ ] ^ ` { | } "`. */
const UNSAFE_PRINTABLE = ' #%&+:;<=>?@[\\]^`{|}"';

/** 1 where a byte must be written as %XY. */
const MUST_ESCAPE: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) if (b < 0x20 || b > 0x7e) table[b] = 1;
  for (const ch of UNSAFE_PRINTABLE) table[ch.charCodeAt(0)] = 1;
  return table;
})();

/** -1 for a non-hex byte, else its value; `HEX_ANY` accepts both cases, `HEX_UPPER_ONLY` only A-F. */
export const HEX_ANY: Int8Array = hexTable(true);
const HEX_UPPER_ONLY: Int8Array = hexTable(false);

function hexTable(lowerToo: boolean): Int8Array {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) t[0x30 + i] = i;
  for (let i = 0; i < 6; i++) {
    t[0x41 + i] = 10 + i;
    if (lowerToo) t[0x61 + i] = 10 + i;
  }
  return t;
}

/** What FreeSWITCH writes for a header whose value is empty. */
export const UNDEF_VALUE = '_undef_';

/**
 * Encodes one value's bytes as FreeSWITCH does. A `%` already followed by two UPPER-case hex
 * digits is copied as is (no double encoding): `%3A` stays `%3A`, `%3a` becomes `%253a`.
 * Returns a latin1 string (every char is one byte, all ASCII).
 */
export function urlEncodeBytes(src: Uint8Array): string {
  if (src.length === 0) return UNDEF_VALUE;
  let out = '';
  let runStart = 0;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const b = src[i]!;
    if (MUST_ESCAPE[b] === 0) continue;
    if (b === 0x25 && i + 2 < n && HEX_UPPER_ONLY[src[i + 1]!]! >= 0 && HEX_UPPER_ONLY[src[i + 2]!]! >= 0) continue;
    if (i > runStart) out += latin1Slice(src, runStart, i);
    out += '%' + HEX_UPPER[b >> 4]! + HEX_UPPER[b & 15]!;
    runStart = i + 1;
  }
  if (runStart === 0) return latin1Slice(src, 0, n);
  if (runStart < n) out += latin1Slice(src, runStart, n);
  return out;
}

/** Encodes a JS string value (its UTF-8 bytes) as FreeSWITCH does. */
export function urlEncode(value: string): string {
  // Fast path: pure safe ASCII needs no byte conversion.
  let safe = value.length > 0;
  for (let i = 0; i < value.length && safe; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7e || MUST_ESCAPE[c] === 1) safe = false;
  }
  return safe ? value : urlEncodeBytes(Buffer.from(value, 'utf8'));
}

/**
 * Decodes `%XY` (either hex case) into bytes; a `%` not followed by two hex digits stays literal.
 * Returns a Buffer (the bytes a value really holds; may be invalid UTF-8).
 */
export function urlDecodeBytes(src: Uint8Array, start = 0, end = src.length): Buffer {
  let pct = -1;
  for (let i = start; i < end; i++) {
    if (src[i] === 0x25) {
      pct = i;
      break;
    }
  }
  if (pct < 0) return Buffer.from(src.buffer, src.byteOffset + start, end - start);
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (b === 0x25 && i + 2 < end) {
      const hi = HEX_ANY[src[i + 1]!]!;
      const lo = HEX_ANY[src[i + 2]!]!;
      if (hi >= 0 && lo >= 0) {
        out[o++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[o++] = b;
  }
  return out.subarray(0, o);
}

/** Decodes an encoded value (ASCII text) to the JS string its UTF-8 bytes spell. */
export function urlDecode(encoded: string): string {
  if (encoded.indexOf('%') < 0) return encoded;
  return urlDecodeBytes(Buffer.from(encoded, 'latin1')).toString('utf8');
}

function latin1Slice(src: Uint8Array, start: number, end: number): string {
  return Buffer.from(src.buffer, src.byteOffset + start, end - start).toString('latin1');
}
