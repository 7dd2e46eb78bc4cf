/**
 * The compact wire format on the command line (`encode --wire compact`, `decode` of compact
 * datagrams): helpers that codec-commands.ts calls.
 */
import { writeFileSync } from 'node:fs';
import { frameDatagram } from '../wire/egress.js';
import type { HeaderSpans } from '../wire/header-scan.js';
import { decodeDatagram } from '../wire/ingress.js';
import { CompactSealer, DEFAULT_FRAGMENT_BYTES, MIN_FRAGMENT_BYTES } from '../wire/compact/egress.js';
import { deriveCompactKey, isCompactDatagram, openDatagram } from '../wire/compact/format.js';
import { decodeMessage, decompress } from '../wire/compact/message.js';
import { Reassembler } from '../wire/compact/reassembly.js';
import type { Decoded } from '../wire/types.js';

export type WireChoice = 'legacy' | 'compact' | 'auto';

export function parseWire(value: string | undefined, allowAuto: boolean): WireChoice | null {
  const v = value ?? (allowAuto ? 'auto' : 'legacy');
  if (v === 'legacy' || v === 'compact' || (allowAuto && v === 'auto')) return v;
  return null;
}

export function parseFragmentSize(value: string | undefined): number | null {
  if (value === undefined) return DEFAULT_FRAGMENT_BYTES;
  if (!/^\d+$/.test(value) || Number(value) < MIN_FRAGMENT_BYTES || Number(value) > 65507) return null;
  return Number(value);
}

/**
 * The compact datagrams of one event text: the legacy datagram's text (sender stamped as the
 * legacy path does), sealed. A fresh random sender id each run.
 */
export function encodeCompact(text: Buffer, senderLine: Buffer, psk: string, fragmentBytes: number): { ok: true; datagrams: Buffer[] } | { ok: false; message: string } {
  // The legacy framing splices the sender line in; its plain datagram's text is what compact carries.
  const plain = decodeDatagram(frameDatagram(text, { senderLine, cipher: null }), { cipher: null });
  if (!plain.ok) return { ok: false, message: `not an event in plain text (${plain.reason}): ${plain.detail}` };
  const sealed = new CompactSealer({ psk, fragmentBytes }).sealScanned(plain.value.scan);
  if (!sealed.ok) return { ok: false, message: `the event is too large for the compact format (${sealed.bytes} bytes after compression)` };
  return { ok: true, datagrams: sealed.datagrams };
}

/** Writes one datagram to stdout, or several to PREFIX.0.bin, PREFIX.1.bin... */
export function writeDatagrams(datagrams: Buffer[], out: string | undefined, stdout: (b: Uint8Array) => void): string | null {
  if (datagrams.length === 1 && out === undefined) {
    stdout(datagrams[0]!);
    return null;
  }
  if (out === undefined) return `the event needs ${datagrams.length} compact fragments: name where they go with --out PREFIX (PREFIX.0.bin ...)`;
  datagrams.forEach((d, i) => writeFileSync(`${out}.${i}.bin`, d));
  return null;
}

/** Decodes compact datagrams given in any order; fragments of one message are put back together across files. */
export class CompactDecoder {
  private readonly key: Buffer;
  private readonly reassembler = new Reassembler({ timeoutMs: Number.MAX_SAFE_INTEGER });

  constructor(psk: string) {
    this.key = deriveCompactKey(psk);
  }

  static applies(datagram: Uint8Array): boolean {
    return isCompactDatagram(datagram);
  }

  /** The event scan, null while fragments are missing, or a drop. */
  decode(datagram: Uint8Array): Decoded<HeaderSpans | null> {
    const r = openDatagram(this.key, datagram);
    if (!r.ok) return r;
    const { header, chunk } = r.value;
    let payload = chunk;
    let flags = header.flags;
    if (header.count > 1) {
      const a = this.reassembler.add({ sender: header.sender, seq: header.seq, index: header.index, count: header.count, flags, chunk }, 0);
      if (!a.done) return a.problem === null ? { ok: true, value: null } : { ok: false, reason: 'malformed-header', detail: a.problem };
      payload = a.payload;
      flags = a.flags;
    }
    const plain = decompress(payload, flags);
    if (!plain.ok) return plain;
    return decodeMessage(plain.value);
  }

  /** Messages still missing fragments. */
  get incomplete(): number {
    return this.reassembler.stats().pending;
  }
}
