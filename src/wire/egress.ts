/**
 * Egress: the text FreeSWITCH gives an `event plain` listener becomes the datagram the C module
 * would send (spec §4). The event-socket body already IS the serialized event (fixtures README,
 * fact 3), so nothing is parsed or re-encoded: `Multicast-Sender` is spliced in at the bottom of
 * the header list, MAGIC appended, and the result padded (plain) or encrypted (PSK).
 */
import { randomUUID } from 'node:crypto';
import { MAGIC, PLAIN_TRAILING_ZEROS, PSK_PREFIX_BYTES, UUID_TEXT_BYTES } from './magic.js';
import type { PskCipher } from './psk-cipher.js';
import { urlEncode } from './url.js';

const LF = 0x0a;
const BLANK_LINE = Buffer.from('\n\n', 'latin1');
const CONTENT_LENGTH_LINE = Buffer.from('Content-Length:', 'latin1');
const SENDER_AT_LINE_START = Buffer.from('\nMulticast-Sender:', 'latin1');

const SENDER_PREFIX = Buffer.from('Multicast-Sender: ', 'latin1');
const NEWLINE = Buffer.from('\n', 'latin1');

/** The header line the module appends, for a switch name. */
export function multicastSenderLine(switchname: string): Buffer {
  return multicastSenderLineEncoded(Buffer.from(urlEncode(switchname), 'latin1'));
}

/** The same line from a name already URL-encoded (as an event's own FreeSWITCH-Switchname value is). */
export function multicastSenderLineEncoded(encoded: Uint8Array): Buffer {
  return Buffer.concat([SENDER_PREFIX, encoded, NEWLINE]);
}

/**
 * Where `Multicast-Sender` goes in event text: after the last real header, i.e. before the
 * serializer's `Content-Length` framing line when there is a body, else before the final
 * empty line. Returns -1 when the text already names a sender (it was stamped by a C module
 * running on the same box; sending it twice would not match what that module sends).
 */
export function senderInsertionPoint(text: Uint8Array): number {
  const buf = asBuffer(text);
  const blank = buf.indexOf(BLANK_LINE);
  const headerEnd = blank < 0 ? buf.length : blank + 1; // just past the last header's LF
  if (buf.subarray(0, SENDER_AT_LINE_START.length - 1).equals(SENDER_AT_LINE_START.subarray(1))) return -1;
  const existing = buf.indexOf(SENDER_AT_LINE_START);
  if (existing >= 0 && existing < headerEnd) return -1;
  if (blank < 0) return headerEnd;
  const lastLineStart = buf.lastIndexOf(LF, blank - 1) + 1;
  if (buf.subarray(lastLineStart, lastLineStart + CONTENT_LENGTH_LINE.length).equals(CONTENT_LENGTH_LINE)) return lastLineStart;
  return headerEnd;
}

/** The plaintext of a packet: event text with the sender line spliced in, then MAGIC. */
export function packetPlaintextLength(text: Uint8Array, senderLine: Uint8Array, at = senderInsertionPoint(text)): number {
  return text.length + (at < 0 ? 0 : senderLine.length) + MAGIC.length;
}

/** Writes text + sender line + MAGIC into `out` at `offset`; returns the bytes written. */
export function writePacketPlaintext(
  text: Uint8Array,
  senderLine: Uint8Array,
  out: Uint8Array,
  offset: number,
  at = senderInsertionPoint(text),
): number {
  let o = offset;
  if (at < 0) {
    out.set(text, o);
    o += text.length;
  } else {
    out.set(text.subarray(0, at), o);
    o += at;
    out.set(senderLine, o);
    o += senderLine.length;
    out.set(text.subarray(at), o);
    o += text.length - at;
  }
  out.set(MAGIC, o);
  return o + MAGIC.length - offset;
}

export interface FrameOptions {
  /** From multicastSenderLine(); built once per switch name, not per packet. */
  senderLine: Uint8Array;
  /** null = plain packets. */
  cipher: PskCipher | null;
  /** PSK only: the 36-char UUID text; a fresh random one by default, as the module does. */
  uuid?: string;
  /** PSK only: reusable scratch for the plaintext (grown when too small); saves an allocation per packet. */
  scratch?: { buf: Buffer };
}

/** Size of the datagram `frameDatagram` will produce for this text, without building it. */
export function datagramLength(text: Uint8Array, opts: Pick<FrameOptions, 'senderLine' | 'cipher'>, plainLen?: number): number {
  const plain = plainLen ?? packetPlaintextLength(text, opts.senderLine);
  if (opts.cipher === null) return plain + PLAIN_TRAILING_ZEROS;
  return PSK_PREFIX_BYTES + paddedLength(plain);
}

/** Builds the datagram for one event text: byte-identical to the C module's for the same UUID. */
export function frameDatagram(text: Uint8Array, opts: FrameOptions): Buffer {
  const out = Buffer.allocUnsafe(datagramLength(text, opts));
  frameDatagramInto(text, opts, out, 0);
  return out;
}

/**
 * frameDatagram writing into `out` at `offset` (room for datagramLength bytes); returns the bytes
 * written. `at` is senderInsertionPoint(text), when the caller has it already.
 */
export function frameDatagramInto(text: Uint8Array, opts: FrameOptions, out: Uint8Array, offset: number, at = senderInsertionPoint(text)): number {
  if (opts.cipher === null) {
    const n = writePacketPlaintext(text, opts.senderLine, out, offset, at);
    out.fill(0, offset + n, offset + n + PLAIN_TRAILING_ZEROS); // the zero trailer is part of the format
    return n + PLAIN_TRAILING_ZEROS;
  }
  const plainLen = packetPlaintextLength(text, opts.senderLine, at);
  let scratch = opts.scratch?.buf;
  if (scratch === undefined || scratch.length < plainLen) {
    scratch = Buffer.allocUnsafe(Math.max(plainLen, 2048));
    if (opts.scratch) opts.scratch.buf = scratch;
  }
  writePacketPlaintext(text, opts.senderLine, scratch, 0, at);
  const uuid = opts.uuid ?? randomUUID();
  if (uuid.length !== UUID_TEXT_BYTES) throw new RangeError(`uuid must be ${UUID_TEXT_BYTES} characters, got ${uuid.length}`);
  const prefix = Buffer.from(out.buffer, out.byteOffset + offset, PSK_PREFIX_BYTES);
  prefix.write(uuid, 0, 'latin1');
  prefix.fill(0, UUID_TEXT_BYTES);
  const n = opts.cipher.encryptInto(out, offset, scratch.subarray(0, plainLen), out, offset + PSK_PREFIX_BYTES);
  return PSK_PREFIX_BYTES + n;
}

/** PKCS#7 always adds 1..8 bytes. */
function paddedLength(n: number): number {
  return n + 8 - (n % 8);
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.length);
}
