/**
 * Legacy vs compact wire format, in one run, for the event shapes of bench/event-shapes.ts:
 * bytes on the wire per event (and datagrams per event), single-thread events/s to encode
 * (event-socket text -> datagrams) and to decode (datagrams -> sendevent command), and the
 * resulting per-event cost in µs (encode + decode, one thread: the codec's share of latency).
 *
 *   node dist/bench/micro/compact.js [--seconds N] [--json FILE]
 *
 * Legacy is measured plain and with the PSK (Blowfish-CBC); compact always has its PSK
 * (AES-256-GCM), with compression above 512 bytes (the default) and without. Compact decode
 * covers what the worker and the main thread do together except the replay-window lookup:
 * authenticate + decrypt each datagram, reassemble, inflate, unpack, build the command.
 * Bounded: about 3 × (cells × rounds × round length) + warm-up; --seconds scales it.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { buildSendevent, decodeDatagram, packetFacts } from '../../src/wire/ingress.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { CompactSealer } from '../../src/wire/compact/egress.js';
import { CompactOpener, messageToCommand } from '../../src/wire/compact/ingress.js';
import { sealEventText } from '../../src/wire/compact/pool-glue.js';
import { Reassembler } from '../../src/wire/compact/reassembly.js';
import { eventShapes, type EventShape } from '../../testkit/event-shapes.js';
import { machineInfo } from '../../src/benchmark/machine.js';
import { formatCount, formatTable } from '../lib/table.js';
import { measureInterleaved, type BenchOp } from '../lib/timing.js';

/** A benchmark key, not a secret (the captures' PSK). */
const PSK = 'ClueCon';
const SENDER_LINE = multicastSenderLine('fs-a');
const DECODE_OPTS = { ownName: 'fs-receiver', allows: () => true };

interface Variant {
  name: string;
  /** Datagrams of one event. */
  encode: (text: Buffer) => Buffer[];
  /** The sendevent command of one event's datagrams. */
  decode: (datagrams: Buffer[]) => Buffer;
}

function legacy(psk: boolean): Variant {
  const cipher = psk ? new PskCipher(PSK) : null;
  const scratch = { buf: Buffer.allocUnsafe(8192) };
  return {
    name: psk ? 'legacy PSK (Blowfish)' : 'legacy plain',
    encode: (text) => [frameDatagram(text, { senderLine: SENDER_LINE, cipher, scratch })],
    decode: ([d]) => {
      const r = decodeDatagram(d!, { cipher });
      if (!r.ok) throw new Error(`legacy decode: ${r.reason}`);
      packetFacts(r.value.scan);
      return buildSendevent(r.value.scan);
    },
  };
}

function compact(compressAbove: number): Variant {
  const sealer = new CompactSealer({ psk: PSK, compressAbove });
  const opener = new CompactOpener(PSK);
  const scratch = { buf: Buffer.allocUnsafe(8192) };
  const reassembler = new Reassembler();
  return {
    name: compressAbove > 0 ? `compact (AES-GCM, deflate > ${compressAbove} B)` : 'compact (AES-GCM, no deflate)',
    encode: (text) => {
      const r = sealEventText(sealer, text, SENDER_LINE, scratch);
      if (!r.ok) throw new Error(`compact encode: ${r.why}`);
      return r.datagrams;
    },
    decode: (datagrams) => {
      for (const d of datagrams) {
        const r = opener.open(d);
        if (!r.ok) throw new Error(`compact open: ${r.reason}`);
        const h = r.value.header;
        let payload = r.value.chunk;
        if (h.count > 1) {
          const a = reassembler.add({ sender: h.sender, seq: h.seq, index: h.index, count: h.count, flags: h.flags, chunk: payload }, 0);
          if (!a.done) continue;
          payload = a.payload;
        }
        const m = messageToCommand(payload, h.flags, DECODE_OPTS);
        if (!m.ok) throw new Error(`compact decode: ${m.reason}`);
        return m.command;
      }
      throw new Error('compact decode: message incomplete');
    },
  };
}

interface Row {
  shape: string;
  eventBytes: number;
  variant: string;
  bytesPerEvent: number;
  datagramsPerEvent: number;
  encodePerSec: number;
  decodePerSec: number;
  usPerEvent: number;
}

function main(): void {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, json: { type: 'string' } } });
  const seconds = values.seconds === undefined ? 15 : Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new RangeError(`--seconds must be 1..600, got ${values.seconds}`);
  const variants = [legacy(false), legacy(true), compact(512), compact(0)];
  const shapes = eventShapes();
  // rounds × cells × roundMs per shape, 3 shapes: about `seconds` in all.
  const rounds = 3;
  const cells = variants.length * 2;
  const roundMs = Math.max(20, Math.floor((seconds * 1000) / (shapes.length * (rounds + 1) * cells)));
  const plan = { warmupMs: roundMs, rounds, roundMs };

  const rows: Row[] = [];
  for (const shape of shapes) rows.push(...measureShape(shape, variants, plan));

  const table = formatTable(
    [
      ['event', 'format', 'bytes/event', 'datagrams', 'encode ev/s', 'decode ev/s', 'µs/event (enc+dec)'],
      ...rows.map((r) => [
        `${r.shape} (${r.eventBytes} B)`,
        r.variant,
        formatCount(r.bytesPerEvent),
        String(r.datagramsPerEvent),
        formatCount(r.encodePerSec),
        formatCount(r.decodePerSec),
        r.usPerEvent.toFixed(1),
      ]),
    ],
    ['left', 'left', 'right', 'right', 'right', 'right', 'right'],
  );
  const m = machineInfo();
  console.log(`node ${process.version}, ${JSON.stringify(m).slice(0, 160)}`);
  console.log(`one thread, ${rounds} interleaved rounds of ${roundMs} ms per cell, median\n`);
  console.log(table);
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ schema_version: 1, machine: m, rows }, null, 2) + '\n');
}

function measureShape(shape: EventShape, variants: Variant[], plan: { warmupMs: number; rounds: number; roundMs: number }): Row[] {
  // Check first: every variant gives the legacy command for this event.
  const reference = variants[0]!.decode(variants[0]!.encode(shape.text)).toString('latin1');
  const encoded = variants.map((v) => v.encode(shape.text));
  variants.forEach((v, i) => {
    if (v.decode(encoded[i]!).toString('latin1') !== reference) throw new Error(`${v.name}: not the legacy command for ${shape.name}`);
  });
  const ops: BenchOp[] = [];
  for (let i = 0; i < variants.length; i++) {
    const v = variants[i]!;
    const ds = encoded[i]!;
    ops.push(() => v.encode(shape.text).length);
    ops.push(() => v.decode(ds).length);
  }
  const stats = measureInterleaved(ops, plan);
  return variants.map((v, i) => {
    const enc = stats[i * 2]!.opsPerSec;
    const dec = stats[i * 2 + 1]!.opsPerSec;
    return {
      shape: shape.name,
      eventBytes: shape.bytes,
      variant: v.name,
      bytesPerEvent: encoded[i]!.reduce((n, d) => n + d.length, 0),
      datagramsPerEvent: encoded[i]!.length,
      encodePerSec: enc,
      decodePerSec: dec,
      usPerEvent: 1e6 / enc + 1e6 / dec,
    };
  });
}

main();
