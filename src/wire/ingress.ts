/**
 * Ingress: a datagram from a peer becomes the event the C module would fire (spec §5) and the
 * one `sendevent` command that fires it through the event socket (spec §7).
 *
 * Safety: the command is built only from validated header names (tokens), values that hold no
 * control byte (else they stay percent-encoded) and a body framed by Content-Length, so nothing
 * a peer sends can end a line early or start a second command.
 */
import { findHeaderIgnoreCase, scanHeaders, type HeaderSpans, type ScanLimits, DEFAULT_SCAN_LIMITS } from './header-scan.js';
import { MAGIC, PSK_PREFIX_BYTES, UUID_TEXT_BYTES } from './magic.js';
import type { PskCipher } from './psk-cipher.js';
import type { Decoded, DropReason, EventData, Header } from './types.js';
import { HEX_ANY, urlDecodeBytes, urlEncodeBytes } from './url.js';
import { leftOutWhenLean } from './lean.js';

export interface DecodeOptions {
  /** null = plain mode. */
  cipher: PskCipher | null;
  /** Datagrams larger than this are dropped unread. */
  maxDatagram?: number;
  limits?: ScanLimits;
}

export interface DecodedPacket {
  /** The event text (plaintext without MAGIC and padding) and its header spans. */
  scan: HeaderSpans;
  /** PSK packets: the UUID text of the prefix (fresh per packet; the replay check keys on it). */
  uuid: string | null;
}

const SMALLEST_PLAIN = MAGIC.length + 1;
const SMALLEST_PSK = PSK_PREFIX_BYTES + 8;

/** Decrypts (PSK), checks MAGIC and scans the headers of one datagram. Never throws. */
export function decodeDatagram(datagram: Uint8Array, opts: DecodeOptions): Decoded<DecodedPacket> {
  const max = opts.maxDatagram ?? 65535;
  if (datagram.length > max) return drop('oversize', `${datagram.length} bytes, limit ${max}`);
  let text: Uint8Array;
  let uuid: string | null = null;
  if (opts.cipher !== null) {
    if (datagram.length < SMALLEST_PSK) {
      return looksPlain(datagram)
        ? drop('plain-packet-psk-expected', 'a plaintext packet, but a PSK is configured')
        : drop('too-short', `${datagram.length} bytes; a PSK packet has at least ${SMALLEST_PSK}`);
    }
    const cipherLen = datagram.length - PSK_PREFIX_BYTES;
    const plain = cipherLen % 8 === 0 ? opts.cipher.decrypt(datagram, 0, datagram.subarray(PSK_PREFIX_BYTES)) : null;
    if (plain === null) {
      if (looksPlain(datagram)) return drop('plain-packet-psk-expected', 'a plaintext packet, but a PSK is configured');
      return drop(
        'undecryptable',
        cipherLen % 8 !== 0 ? `ciphertext of ${cipherLen} bytes is not whole 8-byte blocks` : 'bad padding after decryption: wrong PSK?',
      );
    }
    const magicCheck = checkMagic(plain, plain.length);
    if (!magicCheck.ok) {
      if (looksPlain(datagram)) return drop('plain-packet-psk-expected', 'a plaintext packet, but a PSK is configured');
      return { ok: false, reason: magicCheck.reason, detail: `${magicCheck.detail} after decryption: wrong PSK?` };
    }
    text = plain.subarray(0, magicCheck.value);
    uuid = Buffer.from(datagram.buffer, datagram.byteOffset, UUID_TEXT_BYTES).toString('latin1');
  } else {
    let end = datagram.length;
    while (end > 0 && datagram[end - 1] === 0) end--; // the 272-byte zero trailer (absent from non-OpenSSL builds)
    if (end < SMALLEST_PLAIN) {
      return looksEncrypted(datagram)
        ? drop('encrypted-packet-no-psk', 'a PSK packet, but no PSK is configured')
        : drop('too-short', `${end} bytes before the zero padding; at least ${SMALLEST_PLAIN} needed`);
    }
    const magicCheck = checkMagic(datagram, end);
    if (!magicCheck.ok) {
      if (looksEncrypted(datagram)) return drop('encrypted-packet-no-psk', 'a PSK packet, but no PSK is configured');
      return magicCheck;
    }
    text = datagram.subarray(0, magicCheck.value);
  }
  const scanned = scanHeaders(text, 0, text.length, opts.limits ?? DEFAULT_SCAN_LIMITS);
  if (!scanned.ok) return scanned;
  if (scanned.value.count === 0) return drop('malformed-header', 'no header lines');
  return { ok: true, value: { scan: scanned.value, uuid } };
}

/** MAGIC must be the last 21 bytes of the plaintext (not the first 0xE2, which a UTF-8 body can hold). Returns where the text ends. */
function checkMagic(buf: Uint8Array, end: number): Decoded<number> {
  const start = end - MAGIC.length;
  if (start >= 0 && Buffer.from(buf.buffer, buf.byteOffset + start, MAGIC.length).equals(MAGIC)) return { ok: true, value: start };
  // A packet cut short keeps a prefix of MAGIC at its end.
  for (let k = Math.min(MAGIC.length - 1, end); k >= 3; k--) {
    if (Buffer.from(buf.buffer, buf.byteOffset + end - k, k).equals(MAGIC.subarray(0, k))) {
      return drop('truncated-magic', `only ${k} of the ${MAGIC.length} validation bytes at the end`);
    }
  }
  return drop('missing-magic', 'no validation string at the end of the packet');
}

/** A plain packet: MAGIC right before the zero trailer. */
function looksPlain(d: Uint8Array): boolean {
  let end = d.length;
  while (end > 0 && d[end - 1] === 0) end--;
  return end >= MAGIC.length && Buffer.from(d.buffer, d.byteOffset + end - MAGIC.length, MAGIC.length).equals(MAGIC);
}

/** A PSK packet: a UUID text, then zeros up to byte 256. */
function looksEncrypted(d: Uint8Array): boolean {
  if (d.length < SMALLEST_PSK) return false;
  for (let i = 0; i < UUID_TEXT_BYTES; i++) {
    const c = d[i]!;
    const dash = i === 8 || i === 13 || i === 18 || i === 23;
    if (dash ? c !== 0x2d : !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46))) return false;
  }
  for (let i = UUID_TEXT_BYTES; i < PSK_PREFIX_BYTES; i++) if (d[i] !== 0) return false;
  return true;
}

function drop(reason: DropReason, detail: string): { ok: false; reason: DropReason; detail: string } {
  return { ok: false, reason, detail };
}

// ---------------------------------------------------------------------------------------------
// Facts the bridge needs from a decoded packet, read without building the whole event.

const LOWER_SENDER = Buffer.from('multicast-sender', 'latin1');
const LOWER_EVENT_NAME = Buffer.from('event-name', 'latin1');
const LOWER_SUBCLASS = Buffer.from('event-subclass', 'latin1');
const LOWER_TIMESTAMP = Buffer.from('event-date-timestamp', 'latin1');

/** The decoded value of the first header with this (lower-case) name, FreeSWITCH-style case-insensitive; null if absent. */
export function scanValue(scan: HeaderSpans, lowerName: Uint8Array): string | null {
  return valueOf(scan, lowerName);
}
function valueOf(scan: HeaderSpans, lowerName: Uint8Array): string | null {
  const i = findHeaderIgnoreCase(scan, lowerName);
  if (i < 0) return null;
  return urlDecodeBytes(scan.text, scan.spans[i * 4 + 2]!, scan.spans[i * 4 + 3]!).toString('utf8');
}

export interface PacketFacts {
  sender: string | null;
  eventName: string | null;
  subclass: string | null;
  /** Event-Date-Timestamp in microseconds since the epoch, or null. */
  timestampUs: number | null;
}

export function packetFacts(scan: HeaderSpans): PacketFacts {
  const ts = valueOf(scan, LOWER_TIMESTAMP);
  const tsNum = ts !== null && /^\d{1,17}$/.test(ts) ? Number(ts) : null;
  return {
    sender: valueOf(scan, LOWER_SENDER),
    eventName: valueOf(scan, LOWER_EVENT_NAME),
    subclass: valueOf(scan, LOWER_SUBCLASS),
    timestampUs: tsNum,
  };
}

// ---------------------------------------------------------------------------------------------
// The rewrite (spec §5) and the sendevent command (spec §7).

/** `Orig-<name>` is cut to fit FreeSWITCH's 128-byte name buffer, as the module does. */
export const MAX_ORIG_NAME_BYTES = 127;
const ORIG = Buffer.from('Orig-', 'latin1');
const SENDEVENT_HEAD = Buffer.from('sendevent CUSTOM\nEvent-Subclass: multicast::event\nMulticast: yes\n', 'latin1');
const SENDEVENT_HEAD_LEAN = Buffer.from('sendevent CUSTOM\nEvent-Subclass:multicast::event\nMulticast:yes\n', 'latin1');

/** A decoded value that FreeSWITCH could not take raw on one command line: control bytes, or leading spaces it would strip. */
function mustStayEncoded(v: Uint8Array): boolean {
  if (v.length > 0 && v[0] === 0x20) return true;
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!;
    if (b < 0x20 || b === 0x7f) return true;
  }
  return false;
}

/**
 * Writes the value of text[s, e) as the `sendevent` line carries it, at out[o]: the decoded
 * bytes, or their FreeSWITCH encoding when they are unsafe raw. Returns the new end offset.
 * `out` must have room for 3 × (e - s) bytes (the re-encoded worst case).
 */
function writeCommandValue(text: Uint8Array, s: number, e: number, out: Buffer, o: number): number {
  const start = o;
  let unsafe = text[s] === 0x20;
  for (let i = s; i < e; i++) {
    let b = text[i]!;
    if (b === 0x25 && i + 2 < e) {
      const hi = HEX_ANY[text[i + 1]!]!;
      const lo = HEX_ANY[text[i + 2]!]!;
      if (hi >= 0 && lo >= 0) {
        b = (hi << 4) | lo;
        i += 2;
      }
    }
    if (b < 0x20 || b === 0x7f) unsafe = true;
    out[o++] = b;
  }
  if (unsafe || (o > start && out[start] === 0x20)) {
    const encoded = urlEncodeBytes(Buffer.from(out.subarray(start, o)));
    return start + out.write(encoded, start, 'latin1');
  }
  return o;
}

/**
 * The exact `sendevent` command that fires, through the event socket, the event the C module
 * fires for this packet: `CUSTOM multicast::event`, `Multicast: yes`, then `Orig-<name>` for each
 * header in order (the `Content-Length` framing line included, as the module does), headers with
 * an empty value left out (FreeSWITCH drops them), and the body framed by Content-Length.
 */
export function buildSendevent(scan: HeaderSpans, lean = false): Buffer {
  const out = Buffer.allocUnsafe(sendeventBound(scan));
  return out.subarray(0, writeSendevent(scan, out, 0, lean));
}

/** Bytes writeSendevent may need for this packet (every value re-encoded, the worst case). */
export function sendeventBound(scan: HeaderSpans): number {
  const { spans, count } = scan;
  let bound = SENDEVENT_HEAD.length + 32 + (scan.bodyEnd - scan.bodyStart);
  for (let i = 0; i < count; i++) bound += ORIG.length + (spans[i * 4 + 1]! - spans[i * 4]!) + 3 + 3 * (spans[i * 4 + 3]! - spans[i * 4 + 2]!);
  return bound;
}

/**
 * buildSendevent writing into `out` at `offset` (room for sendeventBound bytes); returns the end
 * offset. `lean` (setting lean-sendevent, src/wire/lean.ts): the same event without the headers
 * no consumer reads and without the space after each colon, FreeSWITCH's CPU being per byte.
 */
export function writeSendevent(scan: HeaderSpans, out: Buffer, offset: number, lean = false): number {
  const { text, spans, count } = scan;
  const bodyLen = scan.bodyEnd - scan.bodyStart;
  let o = offset + (lean ? SENDEVENT_HEAD_LEAN : SENDEVENT_HEAD).copy(out, offset);
  for (let i = 0; i < count; i++) {
    const k = i * 4;
    const vs = spans[k + 2]!;
    const ve = spans[k + 3]!;
    if (ve === vs) continue;
    if (lean && leftOutWhenLean(text, spans[k]!, spans[k + 1]!)) continue;
    const lineStart = o;
    // Short copies by hand: a native call per header costs more than the bytes.
    out[o++] = 0x4f; // 'Orig-'
    out[o++] = 0x72;
    out[o++] = 0x69;
    out[o++] = 0x67;
    out[o++] = 0x2d;
    const ns = spans[k]!;
    const ne = Math.min(spans[k + 1]!, ns + MAX_ORIG_NAME_BYTES - ORIG.length);
    for (let j = ns; j < ne; j++) out[o++] = text[j]!;
    out[o++] = 0x3a; // ':'
    if (!lean) out[o++] = 0x20;
    const valueStart = o;
    o = writeCommandValue(text, vs, ve, out, o);
    if (o === valueStart) {
      o = lineStart; // decoded to nothing: FreeSWITCH would drop the header
      continue;
    }
    out[o++] = 0x0a;
  }
  if (bodyLen > 0) {
    o += out.write(lean ? `Content-Length:${bodyLen}\n\n` : `Content-Length: ${bodyLen}\n\n`, o, 'latin1');
    out.set(text.subarray(scan.bodyStart, scan.bodyEnd), o);
    o += bodyLen;
  } else out[o++] = 0x0a;
  return o;
}

const NL = Buffer.from('\n', 'latin1');

/** The event the C module fires for this packet, as a value (tests, CLI): the same content as buildSendevent. */
export function rewriteToMulticastEvent(scan: HeaderSpans): EventData {
  const { text, spans, count } = scan;
  const headers: Header[] = [
    ['Event-Name', 'CUSTOM'],
    ['Event-Subclass', 'multicast::event'],
    ['Multicast', 'yes'],
  ];
  for (let i = 0; i < count; i++) {
    const k = i * 4;
    const value = urlDecodeBytes(text, spans[k + 2]!, spans[k + 3]!);
    if (value.length === 0) continue;
    const ns = spans[k]!;
    const ne = Math.min(spans[k + 1]!, ns + MAX_ORIG_NAME_BYTES - ORIG.length);
    headers.push([`Orig-${Buffer.from(text.subarray(ns, ne)).toString('latin1')}`, value.toString('utf8')]);
  }
  const body = scan.bodyEnd > scan.bodyStart ? Buffer.from(text.subarray(scan.bodyStart, scan.bodyEnd)).toString('utf8') : null;
  return { headers, body };
}

/** The original event a packet carries (before the Orig- rewrite); the framing Content-Length is not a header. */
export function originalEvent(scan: HeaderSpans): EventData {
  const { text, spans, count } = scan;
  const headers: Header[] = [];
  for (let i = 0; i < count; i++) {
    if (i === scan.framingIndex) continue;
    const k = i * 4;
    const name = Buffer.from(text.subarray(spans[k]!, spans[k + 1]!)).toString('latin1');
    headers.push([name, urlDecodeBytes(text, spans[k + 2]!, spans[k + 3]!).toString('utf8')]);
  }
  const body = scan.bodyEnd > scan.bodyStart ? Buffer.from(text.subarray(scan.bodyStart, scan.bodyEnd)).toString('utf8') : null;
  return { headers, body };
}


/**
 * A `sendevent CUSTOM` for an event the bridge fires itself (peerup/peerdown): values from the
 * network (a peer's name) are written only in a form that cannot break the command.
 */
export function buildCustomSendevent(subclass: string, headers: readonly (readonly [string, string])[]): Buffer {
  const parts: Uint8Array[] = [Buffer.from(`sendevent CUSTOM\nEvent-Subclass: ${subclass}\n`, 'latin1')];
  for (const [name, value] of headers) {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw new RangeError(`header name ${JSON.stringify(name)} is not a token`);
    const bytes = Buffer.from(value, 'utf8');
    if (bytes.length === 0) continue;
    const safe = mustStayEncoded(bytes) ? Buffer.from(urlEncodeBytes(bytes), 'latin1') : bytes;
    parts.push(Buffer.from(`${name}: `, 'latin1'), safe, NL);
  }
  parts.push(NL);
  return Buffer.concat(parts);
}
