/**
 * What the pool's tasks call for the compact format, so src/pool/tasks.ts only dispatches:
 * per event, the compact datagrams beside (or instead of) the legacy one; per received compact
 * datagram, authentication and, for a one-datagram message, the sendevent command.
 */
import { packetPlaintextLength, writePacketPlaintext } from '../egress.js';
import { scanHeaders } from '../header-scan.js';
import { MAGIC } from '../magic.js';
import type { DropReason } from '../types.js';
import type { RegistrationFacts } from '../registration.js';
import type { SupersedeTag } from '../supersede-key.js';
import { CompactSealer, type SealResult } from './egress.js';
import { CompactOpener, messageToCommand, type CompactPacketInfo, type MessageOptions } from './ingress.js';

/** Per pool: which formats egress produces and how compact datagrams are cut. */
export interface CompactCodecSettings {
  /** Some destination takes the compact format. */
  send: boolean;
  /** Some destination takes the legacy format (false: legacy datagrams are not built). */
  legacy: boolean;
  fragmentBytes: number;
  compressAbove: number;
}

export function createSealer(psk: string | null, s: CompactCodecSettings | null | undefined): CompactSealer | null {
  if (psk === null || s === null || s === undefined || !s.send) return null;
  return new CompactSealer({ psk, fragmentBytes: s.fragmentBytes, compressAbove: s.compressAbove });
}

/** Compact ingress needs only the PSK: a receiver with a PSK accepts both formats. */
export function createOpener(psk: string | null): CompactOpener | null {
  return psk === null ? null : new CompactOpener(psk);
}

/** Seals the legacy packet text of an event (its text with the sender line spliced in, as the legacy datagram carries it). */
export function sealEventText(sealer: CompactSealer, text: Uint8Array, senderLine: Uint8Array, scratch: { buf: Buffer }): SealResult {
  const n = packetPlaintextLength(text, senderLine);
  if (scratch.buf.length < n) scratch.buf = Buffer.allocUnsafe(Math.max(n, 2 * scratch.buf.length));
  writePacketPlaintext(text, senderLine, scratch.buf, 0);
  const scanned = scanHeaders(scratch.buf, 0, n - MAGIC.length);
  if (!scanned.ok) return { ok: false, why: 'unreadable', bytes: n };
  return sealer.sealScanned(scanned.value);
}

export type CompactIngressItem =
  /** Not authenticated (or no PSK): dropped, nothing for the main thread. */
  | { kind: 'drop'; reason: DropReason; detail: string }
  /** Authenticated: `info` goes to the main thread's window; a one-datagram message also has its outcome. */
  | {
      kind: 'opened';
      info: CompactPacketInfo;
      /** null for a fragment (the main thread reassembles, then decodes). */
      command: Buffer | null;
      drop: { reason: DropReason; detail: string } | null;
      sender: string | null;
      heartbeat: boolean;
      /** A one-datagram registration, read with options.location (index 0: the caller sets it). */
      registration: RegistrationFacts | null;
      /** A one-datagram message's order key and supersede tag (as on the legacy path), else null. */
      orderKey: string | null;
      supersede: SupersedeTag | null;
    };

export function compactIngressItem(opener: CompactOpener | null, d: Uint8Array, o: MessageOptions): CompactIngressItem {
  if (opener === null) return { kind: 'drop', reason: 'encrypted-packet-no-psk', detail: 'a compact packet, but no PSK is configured' };
  const r = opener.open(d);
  if (!r.ok) return { kind: 'drop', reason: r.reason, detail: r.detail };
  const { header, chunk } = r.value;
  if (header.count > 1) {
    return { kind: 'opened', info: { ...header, chunk }, command: null, drop: null, sender: null, heartbeat: false, registration: null, orderKey: null, supersede: null };
  }
  const m = messageToCommand(chunk, header.flags, o);
  return {
    kind: 'opened',
    info: { ...header, chunk: null },
    command: m.ok ? m.command : null,
    drop: m.ok ? null : { reason: m.reason, detail: m.detail },
    sender: m.sender,
    heartbeat: m.heartbeat,
    registration: m.registration ?? null,
    orderKey: m.ok ? m.orderKey : null,
    supersede: m.ok ? m.supersede : null,
  };
}

/** One egress batch's compact datagrams, packed to cross threads: datagram k is buf[ends[k-1], ends[k]). */
export interface CompactEgressBatch {
  buf: ArrayBuffer;
  ends: Uint32Array;
  /** Per event of the batch: how many datagrams (0 = none), in order. */
  perEvent: Uint16Array;
}

export function packCompactBatch(perEvent: readonly (Buffer[] | null)[]): CompactEgressBatch {
  let total = 0;
  let count = 0;
  for (const ds of perEvent) {
    if (ds === null) continue;
    for (const d of ds) total += d.length;
    count += ds.length;
  }
  const buf = new ArrayBuffer(total);
  const bytes = new Uint8Array(buf);
  const ends = new Uint32Array(count);
  const counts = new Uint16Array(perEvent.length);
  let o = 0;
  let k = 0;
  for (let i = 0; i < perEvent.length; i++) {
    const ds = perEvent[i];
    if (ds === null || ds === undefined) continue;
    counts[i] = ds.length;
    for (const d of ds) {
      bytes.set(d, o);
      o += d.length;
      ends[k++] = o;
    }
  }
  return { buf, ends, perEvent: counts };
}
