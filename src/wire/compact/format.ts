/**
 * The compact wire format, version 1 (docs/compact-wire.md): one authenticated datagram.
 *
 *   0   u8   0xF1: compact marker (high nibble 0xF) + version 1 (low nibble)
 *   1   u8   flags: bit 0 = message payload is deflate-raw compressed; other bits 0
 *   2   8 B  sender instance id (random per sender process / worker start)
 *   10  u32  sequence number, big-endian, +1 per datagram of this sender instance
 *   14  u32  send time, unix seconds, big-endian
 *   18  u8   fragment index (0-based)
 *   19  u8   fragment count (1..255)
 *   20  ...  AES-256-GCM ciphertext of this fragment's chunk of the message payload
 *   end 16 B GCM tag
 *
 * The 20 header bytes are the AEAD's additional data, the nonce is bytes 2..13 (sender id +
 * sequence number), the key is HKDF-SHA256(PSK, info = KEY_CONTEXT). A legacy packet never
 * starts with a byte >= 0xF0: plain packets start with a header name (printable ASCII), PSK
 * packets with a UUID's hex digit.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import type { Decoded } from '../types.js';

export const COMPACT_VERSION = 1;
export const COMPACT_MARKER = 0xf0 | COMPACT_VERSION;
export const HEADER_BYTES = 20;
export const TAG_BYTES = 16;
export const NONCE_OFFSET = 2;
export const NONCE_BYTES = 12;
export const SENDER_ID_BYTES = 8;
/** Smallest datagram: header, one ciphertext byte, tag. */
export const MIN_DATAGRAM = HEADER_BYTES + 1 + TAG_BYTES;
export const MAX_FRAGMENTS = 255;
export const FLAG_DEFLATE = 0x01;
const KNOWN_FLAGS = FLAG_DEFLATE;
/** Largest sequence number; a sender takes a new instance id instead of wrapping. */
export const MAX_SEQ = 0xffffffff;

/** HKDF info: names the format, its version and the AEAD, so no other use of the PSK shares this key. */
export const KEY_CONTEXT = 'fs-event-multicast compact wire v1 aes-256-gcm';

/** Any byte of 0xF0..0xFF first: a compact datagram (of some version). Never true for a legacy packet. */
export function isCompactDatagram(d: Uint8Array): boolean {
  return d.length > 0 && d[0]! >= 0xf0;
}

/** The 32-byte AEAD key of a PSK (its UTF-8 bytes, all of them). */
export function deriveCompactKey(psk: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(psk, 'utf8'), Buffer.alloc(0), Buffer.from(KEY_CONTEXT, 'latin1'), 32));
}

export interface CompactHeader {
  flags: number;
  /** 16 lower-case hex digits. */
  sender: string;
  seq: number;
  /** Unix seconds. */
  time: number;
  index: number;
  count: number;
}

/** Writes one sealed datagram: header + AES-256-GCM(chunk) + tag. */
export function sealDatagram(key: Buffer, senderId: Buffer, h: Omit<CompactHeader, 'sender'>, chunk: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + chunk.length + TAG_BYTES);
  out[0] = COMPACT_MARKER;
  out[1] = h.flags;
  senderId.copy(out, 2, 0, SENDER_ID_BYTES);
  out.writeUInt32BE(h.seq, 10);
  out.writeUInt32BE(h.time >>> 0, 14);
  out[18] = h.index;
  out[19] = h.count;
  const cipher = createCipheriv('aes-256-gcm', key, out.subarray(NONCE_OFFSET, NONCE_OFFSET + NONCE_BYTES));
  cipher.setAAD(out.subarray(0, HEADER_BYTES));
  let o = HEADER_BYTES;
  o += cipher.update(chunk).copy(out, o);
  o += cipher.final().copy(out, o);
  cipher.getAuthTag().copy(out, o);
  return out;
}

export interface OpenedDatagram {
  header: CompactHeader;
  /** This fragment's chunk of the message payload (authenticated). */
  chunk: Buffer;
}

/** Checks the header, then authenticates and decrypts. Never throws; nothing unauthenticated is returned. */
export function openDatagram(key: Buffer, d: Uint8Array): Decoded<OpenedDatagram> {
  if (d.length === 0 || d[0]! < 0xf0) return { ok: false, reason: 'malformed-header', detail: 'compact: not a compact datagram' };
  if (d[0] !== COMPACT_MARKER) {
    return { ok: false, reason: 'malformed-header', detail: `compact: version ${d[0]! & 0x0f} is not supported (only ${COMPACT_VERSION})` };
  }
  if (d.length < MIN_DATAGRAM) return { ok: false, reason: 'too-short', detail: `compact: ${d.length} bytes; at least ${MIN_DATAGRAM}` };
  const buf = Buffer.from(d.buffer, d.byteOffset, d.length);
  const flags = buf[1]!;
  const index = buf[18]!;
  const count = buf[19]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) return { ok: false, reason: 'malformed-header', detail: `compact: unknown flags 0x${flags.toString(16)}` };
  if (count === 0 || index >= count) return { ok: false, reason: 'malformed-header', detail: `compact: fragment ${index} of ${count}` };
  const tagAt = buf.length - TAG_BYTES;
  let chunk: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(NONCE_OFFSET, NONCE_OFFSET + NONCE_BYTES));
    decipher.setAAD(buf.subarray(0, HEADER_BYTES));
    decipher.setAuthTag(buf.subarray(tagAt));
    const head = decipher.update(buf.subarray(HEADER_BYTES, tagAt));
    const tail = decipher.final(); // throws when the tag does not match
    chunk = tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    return { ok: false, reason: 'undecryptable', detail: 'compact: authentication failed (wrong PSK, or the packet was altered)' };
  }
  return {
    ok: true,
    value: {
      header: { flags, sender: buf.toString('hex', 2, 10), seq: buf.readUInt32BE(10), time: buf.readUInt32BE(14), index, count },
      chunk,
    },
  };
}
