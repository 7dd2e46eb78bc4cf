/**
 * Compact egress: one event's legacy packet text becomes one or more sealed datagrams. Each
 * sender instance (one per worker and pool start) has a random 64-bit id and numbers its
 * datagrams 0, 1, 2...; the fragments of one message take consecutive numbers, so the message
 * is identified by (sender, sequence number of fragment 0).
 */
import { randomBytes } from 'node:crypto';
import { scanHeaders, type HeaderSpans } from '../header-scan.js';
import { HEADER_BYTES, MAX_FRAGMENTS, MAX_SEQ, SENDER_ID_BYTES, TAG_BYTES, deriveCompactKey, sealDatagram } from './format.js';
import { encodeMessage, maybeCompress } from './message.js';

export interface CompactEgressOptions {
  /** The PSK (text); the AEAD key is derived from it. */
  psk: string;
  /** Largest datagram written, bytes (header + chunk + tag). Default 1400: fits a 1500-byte MTU over IPv4 and IPv6. */
  fragmentBytes?: number;
  /** Messages larger than this are deflate-compressed (0 = never). Default 512. */
  compressAbove?: number;
  /** Unix seconds (tests). */
  nowSeconds?: () => number;
  /** A fixed sender id (tests, the CLI); random by default. */
  senderId?: Buffer;
  /** First sequence number (tests). */
  firstSeq?: number;
}

export const DEFAULT_FRAGMENT_BYTES = 1400;
export const MIN_FRAGMENT_BYTES = 256;
export const DEFAULT_COMPRESS_ABOVE = 512;

export type SealResult = { ok: true; datagrams: Buffer[] } | { ok: false; why: 'too-large' | 'unreadable'; bytes: number };

export class CompactSealer {
  private readonly key: Buffer;
  private senderId: Buffer;
  private seq: number;
  readonly fragmentBytes: number;
  readonly compressAbove: number;
  private readonly now: () => number;

  constructor(o: CompactEgressOptions) {
    this.key = deriveCompactKey(o.psk);
    this.fragmentBytes = o.fragmentBytes ?? DEFAULT_FRAGMENT_BYTES;
    if (!Number.isInteger(this.fragmentBytes) || this.fragmentBytes < MIN_FRAGMENT_BYTES || this.fragmentBytes > 65507) {
      throw new RangeError(`fragmentBytes must be an integer ${MIN_FRAGMENT_BYTES}..65507, got ${this.fragmentBytes}`);
    }
    this.compressAbove = o.compressAbove ?? DEFAULT_COMPRESS_ABOVE;
    this.now = o.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.senderId = o.senderId ?? randomBytes(SENDER_ID_BYTES);
    if (this.senderId.length !== SENDER_ID_BYTES) throw new RangeError(`senderId must be ${SENDER_ID_BYTES} bytes`);
    this.seq = o.firstSeq ?? 0;
  }

  /** This instance's id, 16 hex digits (changes when the sequence numbers run out). */
  get sender(): string {
    return this.senderId.toString('hex');
  }

  /** Largest message payload (after compression) one event may have. */
  get maxMessageBytes(): number {
    return MAX_FRAGMENTS * (this.fragmentBytes - HEADER_BYTES - TAG_BYTES);
  }

  /** Seals a scanned legacy packet text (Multicast-Sender in, no MAGIC). */
  sealScanned(scan: HeaderSpans): SealResult {
    const { flags, payload } = maybeCompress(encodeMessage(scan), this.compressAbove);
    const chunkBytes = this.fragmentBytes - HEADER_BYTES - TAG_BYTES;
    const count = Math.max(1, Math.ceil(payload.length / chunkBytes));
    if (count > MAX_FRAGMENTS) return { ok: false, why: 'too-large', bytes: payload.length };
    if (this.seq + count - 1 > MAX_SEQ) {
      // Never reuse a nonce: a fresh instance id restarts the numbering.
      this.senderId = randomBytes(SENDER_ID_BYTES);
      this.seq = 0;
    }
    const time = this.now();
    const datagrams: Buffer[] = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) {
      const chunk = payload.subarray(i * chunkBytes, Math.min(payload.length, (i + 1) * chunkBytes));
      datagrams[i] = sealDatagram(this.key, this.senderId, { flags, seq: this.seq++, time, index: i, count }, chunk);
    }
    return { ok: true, datagrams };
  }

  /** Seals a legacy packet text given as bytes. */
  seal(text: Uint8Array): SealResult {
    const scanned = scanHeaders(text);
    if (!scanned.ok) return { ok: false, why: 'unreadable', bytes: text.length };
    return this.sealScanned(scanned.value);
  }
}
