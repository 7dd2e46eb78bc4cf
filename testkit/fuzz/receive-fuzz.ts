/**
 * Fuzzing of the receive path exactly as a pool worker runs it (runIngress: decrypt, MAGIC,
 * header scan, filters, rewrite, sendevent text), with an oracle that reads the resulting
 * command the way FreeSWITCH's event socket does.
 *
 * Every case is a pure function of (seed, case number): a failure is reproduced with
 * `npm run fuzz -- --seed S --case N`. Inputs: random bytes; truncations, bit flips, byte
 * replacements, insertions/deletions and splices of the real captures; synthetic events with
 * huge header counts, giant values, invalid UTF-8, NUL bytes and event-socket injection attempts.
 * Structured mutations are applied to the PLAINTEXT and then framed (encrypted with the PSK in
 * PSK mode), so they reach the parser in both modes instead of dying at the padding check.
 *
 * Failures: an exception escaping runIngress, a case slower than the per-case limit, or a
 * decoded packet whose sendevent text is not exactly one well-formed `sendevent CUSTOM`
 * (checked by following it with a sentinel command in the same stream).
 */
import { parseBindings } from '../../src/config/bindings.js';
import { batchItem, packBatch } from '../../src/pool/batch.js';
import { createCodecState, DELIVERED, runIngress, type CodecState } from '../../src/pool/tasks.js';
import { CommandReader } from '../../src/testing/esl-command-reader.js';
import { MAGIC, PLAIN_TRAILING_ZEROS, PSK_PREFIX_BYTES } from '../../src/wire/magic.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { DROP_REASONS } from '../../src/wire/types.js';
import { fixture, manifest, prng, PSK } from '../fixtures.js';

export type Mode = 'plain' | 'psk';

export interface FuzzCase {
  n: number;
  generator: string;
  /** The decoder's mode (usually the mode the packet was made for; sometimes the other one). */
  mode: Mode;
  /** Small scan limits (50 headers, 256-byte lines) instead of the bridge's defaults. */
  tightLimits: boolean;
  datagram: Buffer;
}

export interface FuzzFailure {
  n: number;
  generator: string;
  mode: Mode;
  kind: 'exception' | 'slow' | 'bad-command' | 'hang' | 'crash';
  detail: string;
  /** The first bytes of the input, hex. */
  inputHead: string;
  inputLength: number;
}

export interface FuzzTally {
  cases: number;
  /** 'decoded' or a drop reason -> count. */
  outcomes: Record<string, number>;
  /** generator -> cases. */
  generators: Record<string, number>;
  /** generator -> decoded cases (so a generator that never reaches the parser shows). */
  decodedByGenerator: Record<string, number>;
  failures: FuzzFailure[];
  maxCaseMs: number;
  slowestCase: number;
}

export function emptyTally(): FuzzTally {
  return { cases: 0, outcomes: {}, generators: {}, decodedByGenerator: {}, failures: [], maxCaseMs: 0, slowestCase: -1 };
}

export function mergeTally(into: FuzzTally, from: FuzzTally): void {
  into.cases += from.cases;
  for (const [k, v] of Object.entries(from.outcomes)) into.outcomes[k] = (into.outcomes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.generators)) into.generators[k] = (into.generators[k] ?? 0) + v;
  for (const [k, v] of Object.entries(from.decodedByGenerator)) into.decodedByGenerator[k] = (into.decodedByGenerator[k] ?? 0) + v;
  into.failures.push(...from.failures.slice(0, Math.max(0, 50 - into.failures.length)));
  if (from.maxCaseMs > into.maxCaseMs) {
    into.maxCaseMs = from.maxCaseMs;
    into.slowestCase = from.slowestCase;
  }
}

// ---------------------------------------------------------------------------------------------
// Randomness: one small PRNG per case, seeded from (seed, n).

export type Rnd = () => number;


function caseSeed(seed: number, n: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(n + 0x27d4eb2f, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

const int = (rnd: Rnd, n: number): number => Math.floor(rnd() * n);
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[int(rnd, xs.length)]!;

// ---------------------------------------------------------------------------------------------
// Corpus: the real captures.

interface Corpus {
  /** Event text + MAGIC of every captured packet (both modes' texts). */
  plaintexts: Buffer[];
  /** Small ones (< 5000 bytes), preferred so cases stay fast. */
  smallPlaintexts: Buffer[];
  plainDatagrams: Buffer[];
  pskDatagrams: Buffer[];
}

let corpus: Corpus | null = null;

function loadCorpus(): Corpus {
  if (corpus !== null) return corpus;
  const plaintexts: Buffer[] = [];
  const plainDatagrams: Buffer[] = [];
  const pskDatagrams: Buffer[] = [];
  for (const e of manifest()) {
    const d = fixture(e.datagram);
    if (e.mode === 'plain') {
      plainDatagrams.push(d);
      let end = d.length;
      while (end > 0 && d[end - 1] === 0) end--;
      plaintexts.push(d.subarray(0, end));
    } else pskDatagrams.push(d);
  }
  corpus = { plaintexts, smallPlaintexts: plaintexts.filter((p) => p.length < 5000), plainDatagrams, pskDatagrams };
  return corpus;
}

const cipher = new PskCipher(PSK);
const HEXCHARS = '0123456789abcdef';

/** Frames a plaintext (event text + MAGIC, or anything) the way the mode's sender would. */
function frame(plain: Buffer, mode: Mode, rnd: Rnd): Buffer {
  if (mode === 'plain') return Buffer.concat([plain, Buffer.alloc(rnd() < 0.9 ? PLAIN_TRAILING_ZEROS : int(rnd, 300))]);
  const prefix = Buffer.alloc(PSK_PREFIX_BYTES);
  for (let i = 0; i < 36; i++) prefix[i] = i === 8 || i === 13 || i === 18 || i === 23 ? 0x2d : HEXCHARS.charCodeAt(int(rnd, 16));
  const out = Buffer.alloc(PSK_PREFIX_BYTES + PskCipher.paddedLength(plain.length));
  prefix.copy(out);
  cipher.encryptInto(out, 0, plain, out, PSK_PREFIX_BYTES);
  return out;
}

function randomBytes(rnd: Rnd, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(rnd, 256);
  return b;
}

const SPECIAL = [0x0a, 0x0d, 0x00, 0x3a, 0x25, 0x20, 0xff, 0xe2, 0x80, 0x09, 0x7f];
/** Invalid UTF-8: overlong, lone continuation/lead bytes, surrogates, > U+10FFFF. */
const BAD_UTF8 = [[0xc0, 0x80], [0x80], [0xe2], [0xe2, 0x80], [0xff], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xfe, 0xfe]];
const INJECTIONS = [
  '%0A%0Aapi%20system%20reboot%0A%0A',
  '%0D%0A%0D%0Abgapi%20originate%20x%0D%0A%0D%0A',
  '\n\napi system reboot\n\n',
  '\r\n\r\napi system x\r\n\r\n',
  'x%00api%20x',
  '%0a%0aexit%0a%0a',
  '%%0A0A',
  '%0',
  '%',
  '%ZZ',
  ' \n\nsendevent CUSTOM\nEvent-Subclass: evil\n\n',
  'auth ClueCon\n\n',
];
const CONTENT_LENGTHS = ['-1', '+5', ' 5', '05', '0x10', '999999999', '1e3', '4294967297', '', '0', '3 ', '2\r', '00000000012'];

/** The plaintext of a random small capture, copied (mutations must not touch the fixtures). */
function basePlain(rnd: Rnd): Buffer {
  const c = loadCorpus();
  return Buffer.from(pick(rnd, rnd() < 0.85 ? c.smallPlaintexts : c.plaintexts));
}

function withMagic(text: Buffer | string): Buffer {
  return Buffer.concat([typeof text === 'string' ? Buffer.from(text, 'latin1') : text, MAGIC]);
}

const manyHeaderTexts = new Map<number, Buffer>();

/** An event with `count` short header lines (+ MAGIC); cached, as building it costs more than parsing it. */
function manyHeaders(count: number): Buffer {
  let t = manyHeaderTexts.get(count);
  if (t === undefined) {
    const lines: string[] = ['Event-Name: CUSTOM', 'Event-Subclass: fuzz%3A%3Ax'];
    for (let i = 0; i < count; i++) lines.push(i % 7 === 0 ? `H${i}: ${i}` : 'h:v');
    t = withMagic(lines.join('\n') + '\n\n');
    if (manyHeaderTexts.size < 64) manyHeaderTexts.set(count, t);
  }
  return t;
}

type Generator = (rnd: Rnd, mode: Mode) => Buffer;

/** Each generator makes one datagram for `mode`. */
export const GENERATORS: Readonly<Record<string, Generator>> = {
  'random-bytes': (rnd, mode) => {
    const r = rnd();
    const len = r < 0.5 ? int(rnd, 64) : r < 0.97 ? int(rnd, 2000) : int(rnd, 66_000);
    const b = randomBytes(rnd, len);
    if (mode === 'psk' && len > PSK_PREFIX_BYTES && rnd() < 0.5) {
      // A well-formed prefix, so the random part reaches the cipher.
      frame(Buffer.alloc(0), 'psk', rnd).copy(b, 0, 0, PSK_PREFIX_BYTES);
      return b.subarray(0, len - ((len - PSK_PREFIX_BYTES) % 8));
    }
    return b;
  },
  truncate: (rnd, mode) => {
    const c = loadCorpus();
    const d = pick(rnd, mode === 'plain' ? c.plainDatagrams : c.pskDatagrams);
    return Buffer.from(d.subarray(0, int(rnd, d.length + 1)));
  },
  'bit-flip-datagram': (rnd, mode) => {
    const c = loadCorpus();
    const d = Buffer.from(pick(rnd, mode === 'plain' ? c.plainDatagrams : c.pskDatagrams));
    for (let k = 1 + int(rnd, 8); k > 0; k--) d[int(rnd, d.length)] ^= 1 << int(rnd, 8);
    return d;
  },
  'bit-flip-text': (rnd, mode) => {
    const p = basePlain(rnd);
    for (let k = 1 + int(rnd, 8); k > 0; k--) p[int(rnd, p.length - MAGIC.length)] ^= 1 << int(rnd, 8);
    return frame(p, mode, rnd);
  },
  'special-bytes': (rnd, mode) => {
    const p = basePlain(rnd);
    for (let k = 1 + int(rnd, 10); k > 0; k--) p[int(rnd, p.length - MAGIC.length)] = pick(rnd, SPECIAL);
    return frame(p, mode, rnd);
  },
  'insert-delete': (rnd, mode) => {
    let p = basePlain(rnd);
    for (let k = 1 + int(rnd, 4); k > 0; k--) {
      const at = int(rnd, p.length - MAGIC.length);
      if (rnd() < 0.5) p = Buffer.concat([p.subarray(0, at), p.subarray(Math.min(p.length - MAGIC.length, at + 1 + int(rnd, 64)))]);
      else {
        const ins = rnd() < 0.5 ? randomBytes(rnd, 1 + int(rnd, 32)) : Buffer.from(pick(rnd, INJECTIONS), 'latin1');
        p = Buffer.concat([p.subarray(0, at), ins, p.subarray(at)]);
      }
    }
    return frame(p, mode, rnd);
  },
  splice: (rnd, mode) => {
    const a = basePlain(rnd);
    const b = basePlain(rnd);
    const p = Buffer.concat([a.subarray(0, int(rnd, a.length)), b.subarray(int(rnd, b.length))]);
    // Sometimes splice whole datagrams instead (the result is rarely decodable in PSK mode).
    if (rnd() < 0.3) {
      const c = loadCorpus();
      const pool = mode === 'plain' ? c.plainDatagrams : c.pskDatagrams;
      const x = pick(rnd, pool);
      const y = pick(rnd, pool);
      return Buffer.concat([x.subarray(0, int(rnd, x.length)), y.subarray(int(rnd, y.length))]);
    }
    return frame(p, mode, rnd);
  },
  'many-headers': (rnd, mode) => {
    const count = pick(rnd, [9_998, 9_999, 10_000, 10_001, 12_000, 15_000, 49, 50, 51, 20 * (1 + int(rnd, 40))]);
    return frame(manyHeaders(count), mode, rnd);
  },
  'giant-value': (rnd, mode) => {
    const size = pick(rnd, [255, 256, 257, 60_000, 65_000, 65_300, int(rnd, 66_000)]);
    const fill = pick(rnd, ['A', '%41', '%0A', '%', ' ', '\u00e9']);
    const value = fill.repeat(Math.ceil(size / fill.length)).slice(0, size);
    const asBody = rnd() < 0.3;
    const text = asBody
      ? `Event-Name: CUSTOM\nEvent-Subclass: fuzz%3A%3Ax\nContent-Length: ${Buffer.byteLength(value, 'latin1')}\n\n${value}`
      : `Event-Name: CUSTOM\nEvent-Subclass: fuzz%3A%3Ax\nBig: ${value}\n\n`;
    return frame(withMagic(Buffer.from(text, 'latin1')), mode, rnd);
  },
  'invalid-utf8': (rnd, mode) => {
    const bad = Buffer.from(pick(rnd, BAD_UTF8));
    const encoded = [...bad].map((x) => `%${x.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    const where = int(rnd, 4);
    const head = Buffer.from('Event-Name: CUSTOM\nEvent-Subclass: fuzz%3A%3Ax\n', 'latin1');
    let text: Buffer;
    if (where === 0) text = Buffer.concat([head, Buffer.from('V: a', 'latin1'), bad, Buffer.from('b\n\n', 'latin1')]);
    else if (where === 1) text = Buffer.concat([head, Buffer.from(`V: a${encoded}b\n\n`, 'latin1')]);
    else if (where === 2) text = Buffer.concat([head, Buffer.from(`Content-Length: ${bad.length + 2}\n\n`, 'latin1'), Buffer.from('x'), bad, Buffer.from('y')]);
    else text = Buffer.concat([head, Buffer.from('N', 'latin1'), bad, Buffer.from(': v\n\n', 'latin1')]);
    return frame(withMagic(text), mode, rnd);
  },
  'nul-bytes': (rnd, mode) => {
    const variants = [
      'Event-Name: CUSTOM\nV: a\u0000b\n\n',
      'Event-Name: CUSTOM\nV: %00\n\n',
      'Event-Name: CUSTOM\nN\u0000ame: v\n\n',
      'Event-Name: CUSTOM\nContent-Length: 3\n\n\u0000\u0000\u0000',
      '\u0000\u0000\u0000Event-Name: CUSTOM\n\n',
      'Event-Name: CUSTOM\n\u0000\n\n',
      'Event-Name: CUSTOM\nV: a\n\u0000',
    ];
    return frame(withMagic(pick(rnd, variants)), mode, rnd);
  },
  injection: (rnd, mode) => {
    const parts = ['Event-Name: CUSTOM', 'Event-Subclass: fuzz%3A%3Ax'];
    for (let k = 1 + int(rnd, 5); k > 0; k--) {
      const r = int(rnd, 6);
      if (r === 0) parts.push(`X-Evil: ${pick(rnd, INJECTIONS)}`);
      else if (r === 1) parts.push(`Content-Length: ${pick(rnd, CONTENT_LENGTHS)}`);
      else if (r === 2) parts.push(`content-length: ${pick(rnd, CONTENT_LENGTHS)}`);
      else if (r === 3) parts.push(`${pick(rnd, ['api', 'sendevent', 'Event-Name', 'Multicast', 'Orig-X', 'Content-Type'])}: ${pick(rnd, ['x', '', ' ', '%20'])}`);
      else if (r === 4) parts.push(`V${k}: ${pick(rnd, INJECTIONS)}\r`);
      else parts.push(pick(rnd, INJECTIONS).replace(/\n+$/, ''));
    }
    const body = rnd() < 0.5 ? pick(rnd, ['', 'x', '\n\napi system reboot\n\n', 'a: b\n\nc', '\u00e2\u0080\u0099']) : '';
    const declared = rnd() < 0.5 ? body.length : body.length + int(rnd, 5) - 2;
    const text = rnd() < 0.6 ? `${parts.join('\n')}\nContent-Length: ${declared}\n\n${body}` : `${parts.join(pick(rnd, ['\n', '\r\n']))}\n\n${body}`;
    return frame(withMagic(Buffer.from(text, 'latin1')), mode, rnd);
  },
  'header-grammar': (rnd, mode) => {
    const alphabet = 'Aa-_:%  \t\r\n\u0000\u007f~!#0';
    const lines = ['Event-Name: CUSTOM'];
    for (let k = 1 + int(rnd, 6); k > 0; k--) {
      let l = '';
      for (let j = 1 + int(rnd, 12); j > 0; j--) l += alphabet[int(rnd, alphabet.length)];
      lines.push(l);
    }
    return frame(withMagic(Buffer.from(lines.join('\n') + pick(rnd, ['\n\n', '\n', '', '\r\n\r\n']), 'latin1')), mode, rnd);
  },
};

/** How often each generator runs, relative (the big-input ones cost 10x a case and find less). */
const WEIGHTS: Readonly<Record<string, number>> = { 'many-headers': 1, 'giant-value': 2 };
const SCHEDULE: readonly string[] = Object.keys(GENERATORS).flatMap((g) => Array<string>(WEIGHTS[g] ?? 8).fill(g));

export function makeCase(seed: number, n: number): FuzzCase {
  const rnd = prng(caseSeed(seed, n));
  const generator = SCHEDULE[n % SCHEDULE.length]!;
  const made: Mode = rnd() < 0.5 ? 'plain' : 'psk';
  const mode: Mode = rnd() < 0.08 ? (made === 'plain' ? 'psk' : 'plain') : made;
  const tightLimits = rnd() < 0.15;
  return { n, generator, mode, tightLimits, datagram: GENERATORS[generator]!(rnd, made) };
}

// ---------------------------------------------------------------------------------------------
// The oracle

const SENTINEL = Buffer.from('api status\n\n', 'latin1');
const ORIG_NAME = /^Orig-[\x21-\x39\x3b-\x7e]+$/;

/**
 * Why `command` is not exactly one well-formed `sendevent CUSTOM` as FreeSWITCH would read it,
 * or null when it is. The command is followed by a sentinel in the same stream: a wrong framing
 * (a body longer or shorter than its Content-Length, an early blank line) shows up there.
 */
export function checkSendevent(command: Buffer): string | null {
  let cmds;
  try {
    const reader = new CommandReader();
    cmds = reader.push(Buffer.concat([command, SENTINEL]));
    if (reader.bufferedBytes !== 0) return `${reader.bufferedBytes} bytes left over after the sentinel`;
  } catch (e) {
    return `event-socket framing error: ${(e as Error).message}`;
  }
  if (cmds.length !== 2) return `${cmds.length - 1} commands instead of 1: ${cmds.map((c) => JSON.stringify(c.line.slice(0, 60))).join(' | ')}`;
  if (cmds[1]!.line !== 'api status' || cmds[1]!.headers.length !== 0) return 'the following command was damaged';
  const c = cmds[0]!;
  if (c.line !== 'sendevent CUSTOM') return `command line ${JSON.stringify(c.line.slice(0, 60))}`;
  if (c.raw.length !== command.length) return `the command is ${c.raw.length} bytes as read, ${command.length} as built`;
  const h = c.headers;
  if (h[0]?.[0] !== 'Event-Subclass' || h[0][1] !== 'multicast::event' || h[1]?.[0] !== 'Multicast' || h[1][1] !== 'yes') {
    return `first headers ${JSON.stringify(h.slice(0, 2))}`;
  }
  for (let i = 2; i < h.length; i++) {
    const [name] = h[i]!;
    const framing = name === 'Content-Length' && i === h.length - 1 && c.body !== null;
    if (!framing && !ORIG_NAME.test(name)) return `header name ${JSON.stringify(name.slice(0, 60))}`;
  }
  // The head (up to the blank line) holds no control byte but the line feeds.
  const headEnd = command.indexOf('\n\n');
  for (let i = 0; i < headEnd; i++) {
    const b = command[i]!;
    if ((b < 0x20 && b !== 0x0a) || b === 0x7f) return `control byte 0x${b.toString(16)} in the command head at ${i}`;
  }
  // Every head line is `name: value` (a line without ':' would be skipped silently by FreeSWITCH).
  const lines = command.subarray(0, headEnd).toString('latin1').split('\n');
  if (lines.length !== h.length + 1) return `${lines.length - 1} head lines but ${h.length} headers`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Running cases

const states = new Map<string, CodecState>();

function stateFor(mode: Mode, tight: boolean): CodecState {
  const k = `${mode}/${tight}`;
  let s = states.get(k);
  if (s === undefined) {
    s = createCodecState({
      psk: mode === 'psk' ? PSK : null,
      bindings: parseBindings(''),
      ingressBindings: parseBindings('ALL'),
      maxDatagram: 65507,
      limits: tight ? { maxHeaders: 50, maxHeaderBytes: 256 } : { maxHeaders: 10_000, maxHeaderBytes: 65507 },
    });
    states.set(k, s);
  }
  return s;
}

export interface CaseResult {
  outcome: string;
  failure: FuzzFailure | null;
  ms: number;
}

export function runCase(c: FuzzCase, slowCaseMs: number): CaseResult {
  const fail = (kind: FuzzFailure['kind'], detail: string, ms: number): CaseResult => ({
    outcome: kind,
    ms,
    failure: {
      n: c.n,
      generator: c.generator,
      mode: c.mode,
      kind,
      detail,
      inputHead: c.datagram.subarray(0, 64).toString('hex'),
      inputLength: c.datagram.length,
    },
  });
  const t0 = performance.now();
  let result;
  try {
    const b = packBatch([c.datagram]);
    result = runIngress(stateFor(c.mode, c.tightLimits), { kind: 'ingress', ...b, ownName: 'fs-fuzz-self' });
  } catch (e) {
    return fail('exception', e instanceof Error ? `${e.name}: ${e.message}` : String(e), performance.now() - t0);
  }
  let ms = performance.now() - t0;
  // A busy machine or a GC pause can stall any one run: slow only if two more runs are slow too.
  for (let again = 0; again < 2 && ms > slowCaseMs; again++) {
    const t1 = performance.now();
    runIngress(stateFor(c.mode, c.tightLimits), { kind: 'ingress', ...packBatch([c.datagram]), ownName: 'fs-fuzz-self' });
    ms = Math.min(ms, performance.now() - t1);
  }
  if (ms > slowCaseMs) return fail('slow', `${ms.toFixed(1)} ms in each of 3 runs (limit ${slowCaseMs} ms)`, ms);
  const drop = result.drop[0]!;
  if (drop !== DELIVERED) return { outcome: DROP_REASONS[drop] ?? `unknown-drop-${drop}`, failure: null, ms };
  const problem = checkSendevent(Buffer.from(batchItem(result, 0)));
  if (problem !== null) return fail('bad-command', problem, ms);
  return { outcome: 'decoded', failure: null, ms };
}

/**
 * Runs cases [from, to) of `seed` into `tally`. `progress` (if given) gets the number of cases
 * done after each one, so a watchdog in another thread can see a hang.
 */
export function runCases(seed: number, from: number, to: number, slowCaseMs: number, tally: FuzzTally = emptyTally(), progress?: { done: (n: number) => void }): FuzzTally {
  for (let n = from; n < to; n++) {
    const c = makeCase(seed, n);
    const r = runCase(c, slowCaseMs);
    tally.cases++;
    tally.outcomes[r.outcome] = (tally.outcomes[r.outcome] ?? 0) + 1;
    tally.generators[c.generator] = (tally.generators[c.generator] ?? 0) + 1;
    if (r.outcome === 'decoded') tally.decodedByGenerator[c.generator] = (tally.decodedByGenerator[c.generator] ?? 0) + 1;
    if (r.failure !== null && tally.failures.length < 50) tally.failures.push(r.failure);
    if (r.ms > tally.maxCaseMs) {
      tally.maxCaseMs = r.ms;
      tally.slowestCase = n;
    }
    progress?.done(n - from + 1);
  }
  return tally;
}
