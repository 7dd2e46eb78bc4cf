/**
 * Single-thread events per second through the wire codec, per event shape (~300 B, ~1.2 KB, ~4 KB):
 *   egress   frameDatagram (event-socket text -> datagram), plain and PSK;
 *   ingress  decodeDatagram + packetFacts + buildSendevent (datagram -> sendevent command), plain and PSK;
 * against the C module's design for PSK (a NEW OpenSSL bf-cbc cipher per packet, so the Blowfish
 * key schedule is redone every time), measured in the same process, rounds interleaved.
 * Plain mode has no cipher, so there is no per-cipher baseline for it.
 *
 *   node dist/bench/micro/codec.js [--quick] [--seconds N] [--json FILE]
 *
 * Bounded: about 30 s (--quick about 8 s, or --seconds N) of measuring in all. Stock Node 20 has
 * no bf-cbc: the script then re-runs itself once with --openssl-legacy-provider.
 * Before measuring, it checks that every path round-trips and that our PSK datagrams are
 * byte-identical to OpenSSL's; it exits non-zero when they are not.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { frameDatagram, multicastSenderLine, packetPlaintextLength, writePacketPlaintext } from '../../src/wire/egress.js';
import { parseEventText } from '../../src/wire/event-text.js';
import { buildSendevent, decodeDatagram, originalEvent, packetFacts, type DecodedPacket } from '../../src/wire/ingress.js';
import { PSK_PREFIX_BYTES, UUID_TEXT_BYTES, IV_BYTES } from '../../src/wire/magic.js';
import { openSslBfCbc, PskCipher, type OpenSslBfCbc } from '../../src/wire/psk-cipher.js';
import type { Header } from '../../src/wire/types.js';
import { eventShapes, type EventShape } from '../../testkit/event-shapes.js';
import { ensureBfCbcOrRespawn } from '../lib/legacy-provider.js';
import { machineInfo, type MachineInfo } from '../../src/benchmark/machine.js';
import { formatCompact, formatCount, formatTable } from '../lib/table.js';
import { measureInterleaved, type BenchOp, type RoundStats } from '../lib/timing.js';

const SWITCHNAME = 'fs-a';
/** A benchmark key, not a secret (the captures' PSK). */
const PSK = 'ClueCon';
const FIXED_UUID = '72bd0c4c-7a5e-4e8d-9c1e-2b3f4a5b6c7d';

type Scenario = 'codec' | 'baseline-percipher';
type Direction = 'egress' | 'ingress';

export interface CodecResult {
  scenario: Scenario;
  direction: Direction;
  psk: boolean;
  shape: string;
  event_bytes: number;
  events_per_sec: number;
  rounds: number;
  spread: { min: number; max: number };
}

export interface CodecReport {
  schema_version: 1;
  machine: MachineInfo;
  started_at: string;
  results: CodecResult[];
}

interface Options {
  seconds: number;
  rounds: number;
  json: string | null;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      json: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  let seconds = values.quick ? 8 : 30;
  if (values.seconds !== undefined) {
    seconds = Number(values.seconds);
    if (!Number.isFinite(seconds) || seconds < 2 || seconds > 600) {
      throw new RangeError(`--seconds must be a number from 2 to 600, got ${JSON.stringify(values.seconds)}`);
    }
  }
  if (values.json !== undefined && values.json.length === 0) throw new RangeError('--json needs a file name');
  return { seconds, rounds: seconds < 15 ? 5 : 7, json: values.json ?? null };
}

// ---------------------------------------------------------------------------------------------
// The C module's design: the same framing and parsing, but a fresh OpenSSL cipher per packet.

class PerPacketCipherCodec {
  readonly #openssl: OpenSslBfCbc;
  readonly #key = Buffer.from(PSK, 'utf8');
  readonly #senderLine: Buffer;
  #scratch = Buffer.alloc(2048);

  constructor(openssl: OpenSslBfCbc, senderLine: Buffer) {
    this.#openssl = openssl;
    this.#senderLine = senderLine;
  }

  egress(text: Buffer, uuid: string = randomUUID()): Buffer {
    const plainLen = packetPlaintextLength(text, this.#senderLine);
    if (this.#scratch.length < plainLen) this.#scratch = Buffer.alloc(plainLen);
    writePacketPlaintext(text, this.#senderLine, this.#scratch, 0);
    const prefix = Buffer.from(uuid, 'latin1');
    const encrypted = this.#openssl.encrypt(this.#key, prefix.subarray(0, IV_BYTES), this.#scratch.subarray(0, plainLen));
    const out = Buffer.allocUnsafe(PSK_PREFIX_BYTES + encrypted.length);
    prefix.copy(out, 0, 0, UUID_TEXT_BYTES);
    out.fill(0, UUID_TEXT_BYTES, PSK_PREFIX_BYTES);
    encrypted.copy(out, PSK_PREFIX_BYTES);
    return out;
  }

  /** Decrypts with a fresh cipher, then the same MAGIC check and header scan as ours (plain decode of the plaintext). */
  ingressDecode(datagram: Buffer): DecodedPacket | null {
    let plain: Buffer;
    try {
      plain = this.#openssl.decrypt(this.#key, datagram.subarray(0, IV_BYTES), datagram.subarray(PSK_PREFIX_BYTES));
    } catch {
      return null; // bad padding: wrong PSK
    }
    const decoded = decodeDatagram(plain, { cipher: null });
    if (!decoded.ok) return null;
    return { scan: decoded.value.scan, uuid: datagram.toString('latin1', 0, UUID_TEXT_BYTES) };
  }
}

/** What the bridge does with each received packet on the hot path. */
function ingressWork(packet: DecodedPacket): number {
  const facts = packetFacts(packet.scan);
  return buildSendevent(packet.scan).length + (facts.sender?.length ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Correctness, once per shape and path, before anything is timed.

function verify(shapes: EventShape[], cipher: PskCipher, senderLine: Buffer, baseline: PerPacketCipherCodec | null): void {
  for (const s of shapes) {
    const parsed = parseEventText(s.text);
    if (!parsed.ok) throw new Error(`${s.name}: the shape does not parse: ${parsed.detail}`);
    const expected: Header[] = [...parsed.value.headers, ['Multicast-Sender', SWITCHNAME]];
    const eventName = parsed.value.headers.find(([n]) => n === 'Event-Name')?.[1];

    const check = (label: string, packet: DecodedPacket | null): string => {
      if (packet === null) throw new Error(`${s.name} ${label}: did not decode`);
      const ev = originalEvent(packet.scan);
      assertSame(JSON.stringify(ev.headers), JSON.stringify(expected), `${s.name} ${label}: decoded headers differ from the event sent`);
      assertSame(ev.body, parsed.value.body, `${s.name} ${label}: body differs`);
      const facts = packetFacts(packet.scan);
      assertSame(facts.sender, SWITCHNAME, `${s.name} ${label}: packetFacts sender`);
      assertSame(facts.eventName, eventName ?? null, `${s.name} ${label}: packetFacts eventName`);
      const command = buildSendevent(packet.scan).toString('latin1');
      for (const needle of ['sendevent CUSTOM\n', `\nOrig-Multicast-Sender: ${SWITCHNAME}\n`, `\nOrig-Event-Name: ${eventName}\n`]) {
        if (!command.includes(needle)) throw new Error(`${s.name} ${label}: sendevent lacks ${JSON.stringify(needle)}`);
      }
      return command;
    };
    const decode = (dg: Buffer, c: PskCipher | null): DecodedPacket | null => {
      const d = decodeDatagram(dg, { cipher: c });
      return d.ok ? d.value : null;
    };

    const plainDg = frameDatagram(s.text, { senderLine, cipher: null });
    const plainCommand = check('plain egress -> ingress', decode(plainDg, null));
    const pskDg = frameDatagram(s.text, { senderLine, cipher, uuid: FIXED_UUID });
    const pskCommand = check('PSK egress -> ingress', decode(pskDg, cipher));
    assertSame(pskCommand, plainCommand, `${s.name}: PSK and plain give different sendevent commands`);
    // Random UUIDs (what the timed loop uses) decode too.
    check('PSK egress (random UUID) -> ingress', decode(frameDatagram(s.text, { senderLine, cipher }), cipher));
    if (baseline !== null) {
      const opensslDg = baseline.egress(s.text, FIXED_UUID);
      if (!opensslDg.equals(pskDg)) throw new Error(`${s.name}: our PSK datagram differs from OpenSSL's for the same UUID`);
      assertSame(check('PSK egress -> per-cipher ingress', baseline.ingressDecode(pskDg)), plainCommand, `${s.name}: per-cipher ingress`);
      check('per-cipher egress (random UUID) -> ingress', decode(baseline.egress(s.text), cipher));
    }
  }
}

function assertSame<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

// ---------------------------------------------------------------------------------------------
// Measuring.

interface Cell {
  scenario: Scenario;
  direction: Direction;
  psk: boolean;
  op: BenchOp;
}

function cellsFor(s: EventShape, direction: Direction, cipher: PskCipher, senderLine: Buffer, baseline: PerPacketCipherCodec | null): Cell[] {
  if (direction === 'egress') {
    const scratch = { buf: Buffer.alloc(2048) };
    const cells: Cell[] = [
      { scenario: 'codec', direction, psk: false, op: () => frameDatagram(s.text, { senderLine, cipher: null }).length },
      { scenario: 'codec', direction, psk: true, op: () => frameDatagram(s.text, { senderLine, cipher, scratch }).length },
    ];
    if (baseline) cells.push({ scenario: 'baseline-percipher', direction, psk: true, op: () => baseline.egress(s.text).length });
    return cells;
  }
  const plainDg = frameDatagram(s.text, { senderLine, cipher: null });
  const pskDg = frameDatagram(s.text, { senderLine, cipher });
  const ours = (dg: Buffer, c: PskCipher | null): BenchOp => () => {
    const d = decodeDatagram(dg, { cipher: c });
    if (!d.ok) throw new Error(`benchmark: a datagram stopped decoding: ${d.reason}`);
    return ingressWork(d.value);
  };
  const cells: Cell[] = [
    { scenario: 'codec', direction, psk: false, op: ours(plainDg, null) },
    { scenario: 'codec', direction, psk: true, op: ours(pskDg, cipher) },
  ];
  if (baseline) {
    cells.push({
      scenario: 'baseline-percipher',
      direction,
      psk: true,
      op: () => {
        const packet = baseline.ingressDecode(pskDg);
        if (packet === null) throw new Error('benchmark: a datagram stopped decoding (per-cipher)');
        return ingressWork(packet);
      },
    });
  }
  return cells;
}

function run(options: Options, baselineNote: string): CodecReport {
  const startedAt = new Date().toISOString();
  const shapes = eventShapes();
  const cipher = new PskCipher(PSK);
  const senderLine = multicastSenderLine(SWITCHNAME);
  const openssl = openSslBfCbc();
  const baseline = openssl ? new PerPacketCipherCodec(openssl, senderLine) : null;
  verify(shapes, cipher, senderLine, baseline);

  const groups = shapes.flatMap((s) => (['egress', 'ingress'] as const).map((d) => ({ shape: s, cells: cellsFor(s, d, cipher, senderLine, baseline) })));
  const cellCount = groups.reduce((n, g) => n + g.cells.length, 0);
  // Warm-up counts as 1.5 rounds; the budget is shared evenly by every cell.
  const roundMs = (options.seconds * 1000) / (cellCount * (options.rounds + 1.5));
  const plan = { rounds: options.rounds, roundMs, warmupMs: roundMs * 1.5 };
  process.stderr.write(
    `codec benchmark: ${cellCount} cells x (${options.rounds} rounds of ${roundMs.toFixed(0)} ms + warm-up), ~${options.seconds} s; ${baselineNote}\n`,
  );

  const results: CodecResult[] = [];
  for (const { shape, cells } of groups) {
    const stats = measureInterleaved(
      cells.map((c) => c.op),
      plan,
    );
    cells.forEach((c, i) => results.push(result(c, shape, stats[i]!)));
  }
  return { schema_version: 1, machine: machineInfo(), started_at: startedAt, results };
}

function result(c: Cell, s: EventShape, st: RoundStats): CodecResult {
  return {
    scenario: c.scenario,
    direction: c.direction,
    psk: c.psk,
    shape: s.name,
    event_bytes: s.bytes,
    events_per_sec: Math.round(st.opsPerSec),
    rounds: st.rounds,
    spread: { min: Math.round(st.min), max: Math.round(st.max) },
  };
}

function printTable(report: CodecReport, baselineNote: string): void {
  const rows: string[][] = [['event', 'bytes', 'direction', 'mode', 'ours ev/s', 'ours min..max', 'per-cipher ev/s', 'per-cipher min..max', 'ours/base']];
  for (const r of report.results) {
    if (r.scenario !== 'codec') continue;
    const base = report.results.find(
      (b) => b.scenario === 'baseline-percipher' && b.direction === r.direction && b.psk === r.psk && b.event_bytes === r.event_bytes,
    );
    const range = (x: CodecResult): string => `${formatCompact(x.spread.min)}..${formatCompact(x.spread.max)}`;
    rows.push([
      r.shape,
      String(r.event_bytes),
      r.direction,
      r.psk ? 'PSK' : 'plain',
      formatCount(r.events_per_sec),
      range(r),
      base ? formatCount(base.events_per_sec) : '-',
      base ? range(base) : '-',
      base ? `${(r.events_per_sec / base.events_per_sec).toFixed(2)}x` : '-',
    ]);
  }
  console.log(formatTable(rows, ['left', 'right', 'left', 'left', 'right', 'right', 'right', 'right', 'right']));
  const m = report.machine;
  const rounds = report.results[0]?.rounds ?? 0;
  console.log(
    `\nsingle thread, median of ${rounds} interleaved rounds; ${m.model}, ${m.cores} cores, node ${m.node}.` +
      `\negress = frameDatagram; ingress = decodeDatagram + packetFacts + buildSendevent.` +
      `\nper-cipher = the C module's design: a new OpenSSL bf-cbc cipher per packet (${baselineNote}); plain mode has no cipher, so no baseline.`,
  );
}

function main(): void {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: node dist/bench/micro/codec.js [--quick] [--seconds N] [--json FILE]\n`);
    process.exit(2);
  }
  const bf = ensureBfCbcOrRespawn();
  const report = run(options, bf.note);
  printTable(report, bf.note);
  if (options.json !== null) {
    const file = resolve(options.json);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`JSON written to ${file}`);
  }
}

main();
