/**
 * Batched injection: many `sendevent` commands carried in the BODY of one command, fanned out
 * inside FreeSWITCH by a small mod_lua hook the project ships
 * (conf/freeswitch/scripts/fs_event_multicast_batch.lua, bound in lua.conf.xml).
 *
 * Why: mod_event_socket reads a command's head one byte per recv() (~1 µs of FreeSWITCH CPU per
 * byte), but reads a Content-Length body in one go. One short head + a body of N events costs
 * FreeSWITCH far less than N heads.
 *
 * Fidelity: each sendevent is taken apart here exactly as mod_event_socket would take it apart
 * (read_packet + parse_command): the first line becomes a `Command` header, each later
 * `name: value` line a header (spaces after the colon skipped, the value raw, no decoding),
 * the Content-Length body truncated at its first NUL (FreeSWITCH copies it with "%s"), then
 * an `Event-UUID`. The hook adds those (name, value) pairs in that order with the same
 * FreeSWITCH call sendevent uses (switch_event_add_header_string), moves `Event-Subclass` to
 * where switch_event_set_subclass_name leaves it, adds the body and fires. So a listener sees
 * the same headers, values and body as for the sendevent; only what FreeSWITCH stamps on every
 * fire differs (see test/realfs/batch-injection.test.ts).
 *
 * A command that cannot be reproduced that way (not `sendevent CUSTOM` with a `multicast::`
 * subclass, a CR or NUL in its head, a `unique-id` header that sendevent would route to a
 * session, a malformed Content-Length) is reported not batchable: the caller sends it as is.
 *
 * Body framing (version 1), lengths in bytes, never delimiters inside values:
 *   `fs_event_multicast batch 1\n`
 *   optional probe line `P <token>\n` (token: 1..64 of [0-9a-f]): the hook stores the token in
 *   the global variable BATCH_PROBE_VARIABLE, which tells the bridge the hook is installed
 *   then per event: `E <pairs> <hasBody 0|1> <bodyBytes>\n`,
 *   per pair `<nameBytes> <valueBytes>\n<name><value>`, then the body bytes.
 * The body holds no NUL (FreeSWITCH would cut it there): heads with NUL are not batchable and
 * event bodies are cut at their first NUL as sendevent cuts them.
 *
 * Flow control. FreeSWITCH answers `+OK` to the batch sendevent once the batch event is QUEUED
 * for its dispatch thread, not once the hook has fanned it out; under overload the backlog would
 * grow inside FreeSWITCH, where nothing can supersede or expire it. So the batch command's head
 * carries `BATCH_DONE_HEADER: <token> <seq>` (token: the injector connection's, seq: that
 * connection's batch count), and the hook, after fanning a batch out (or refusing it), sets the
 * global variable `BATCH_DONE_VARIABLE_PREFIX<token>` to seq. The injector reads it back with
 * `api global_getvar` and writes no new batch while FLOW_WINDOW_BATCHES of its batches are not
 * fanned out. A head header, not a body line: a hook from before flow control ignores it.
 */

import { BATCH_SUBCLASS } from '../config/bindings.js';

export { BATCH_SUBCLASS };
/** Global variable the hook sets to a probe's token. */
export const BATCH_PROBE_VARIABLE = 'fs_event_multicast_batch_probe';
export const BATCH_MAGIC_LINE = 'fs_event_multicast batch 1\n';
/** Head header of a batch command: `<token> <seq>`, what the hook reports done (see the file comment). */
export const BATCH_DONE_HEADER = 'Batch-Done-Seq';
/** The hook sets `<prefix><token>` to the seq of the last batch it fanned out. */
export const BATCH_DONE_VARIABLE_PREFIX = 'fs_event_multicast_batch_done_';
/** A connection's token: 1..32 lower-case hex digits (kept short: the poll's head is read byte by byte). */
export const BATCH_TOKEN_PATTERN = /^[0-9a-f]{1,32}$/;

/** Where a batch's fan-out is reported: the connection's token and the batch's sequence number. */
export interface BatchDoneMark {
  readonly token: string;
  readonly seq: number;
}

/** Most events in one batch (the hook refuses more) and most body bytes (FreeSWITCH takes 16 MiB). */
export const MAX_BATCH_EVENTS = 1024;
export const MAX_BATCH_BODY_BYTES = 1024 * 1024;
/** Most (name, value) pairs of one event the hook accepts. */
export const MAX_EVENT_PAIRS = 4096;

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;

/** One sendevent as FreeSWITCH would build its event: the header pairs in order, and the body. */
export interface BatchRecord {
  /** Raw bytes, in the order switch_event_add_header_string would see them (Command first, Event-UUID last). */
  readonly pairs: readonly (readonly [Buffer, Buffer])[];
  /** The body as FreeSWITCH keeps it (cut at the first NUL), or null when the command had none. */
  readonly body: Buffer | null;
  /** Bytes this record takes in a batch body. */
  readonly encodedBytes: number;
}

export type ParseResult = { ok: true; record: BatchRecord } | { ok: false; reason: string };

const SENDEVENT = Buffer.from('sendevent', 'latin1');
const CUSTOM = Buffer.from('CUSTOM', 'latin1');
const MULTICAST_PREFIX = Buffer.from('multicast::', 'latin1');
const COMMAND_NAME = Buffer.from('Command', 'latin1');
const EVENT_UUID_NAME = Buffer.from('Event-UUID', 'latin1');

function equalsIgnoreCase(buf: Buffer, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = buf[start + i]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Takes one complete sendevent command apart the way mod_event_socket does, for a batch.
 * `eventUuid` is the Event-UUID sendevent would have added (a fresh UUID per event).
 */
export function parseSendeventForBatch(command: Buffer, eventUuid: string): ParseResult {
  // The head ends at the first blank line; mod_event_socket counts "\n\n" (a CR would change its line splitting).
  let headEnd = -1;
  for (let i = 0; i + 1 < command.length; i++) {
    const c = command[i]!;
    if (c === CR || c === NUL) return { ok: false, reason: 'a CR or NUL byte in the head' };
    if (c === LF && command[i + 1] === LF) {
      headEnd = i + 1; // index of the second LF
      break;
    }
  }
  if (headEnd < 0) return { ok: false, reason: 'no blank line ends the head' };
  const firstEnd = command.indexOf(LF);
  // First line: "sendevent" then spaces/tabs then exactly CUSTOM (parse_command's switch_name_event).
  if (firstEnd < SENDEVENT.length || !equalsIgnoreCase(command, 0, SENDEVENT.length, 'sendevent')) return { ok: false, reason: 'not a sendevent' };
  let p = SENDEVENT.length;
  while (p < firstEnd && (command[p] === SPACE || command[p] === TAB)) p++;
  if (!command.subarray(p, firstEnd).equals(CUSTOM)) return { ok: false, reason: 'not a CUSTOM event' };

  const pairs: [Buffer, Buffer][] = [[COMMAND_NAME, command.subarray(0, firstEnd)]];
  let subclass: Buffer | null = null;
  let contentLength: number | null = null;
  let lineStart = firstEnd + 1;
  while (lineStart < headEnd) {
    const lineEnd = command.indexOf(LF, lineStart);
    if (lineEnd === lineStart) break;
    const colon = command.indexOf(COLON, lineStart);
    if (colon >= 0 && colon < lineEnd) {
      let vs = colon + 1;
      while (vs < lineEnd && command[vs] === SPACE) vs++;
      const name = command.subarray(lineStart, colon);
      const value = command.subarray(vs, lineEnd);
      if (name.length === 0) return { ok: false, reason: 'a header with an empty name' };
      if (equalsIgnoreCase(command, lineStart, colon, 'unique-id')) return { ok: false, reason: 'a unique-id header (sendevent routes it to a session)' };
      if (subclass === null && equalsIgnoreCase(command, lineStart, colon, 'event-subclass')) subclass = value;
      if (equalsIgnoreCase(command, lineStart, colon, 'content-length')) {
        if (contentLength !== null || !/^[0-9]{1,9}$/.test(value.toString('latin1'))) return { ok: false, reason: 'a Content-Length that is not one plain number' };
        contentLength = Number(value.toString('latin1'));
      }
      pairs.push([name, value]);
    }
    // A line without a colon is no header (read_packet skips it).
    lineStart = lineEnd + 1;
  }
  if (subclass === null || subclass.length <= MULTICAST_PREFIX.length || !subclass.subarray(0, MULTICAST_PREFIX.length).equals(MULTICAST_PREFIX)) {
    return { ok: false, reason: 'not a multicast:: subclass' };
  }
  const bodyStart = headEnd + 1;
  const rest = command.length - bodyStart;
  let body: Buffer | null = null;
  if (contentLength !== null && contentLength > 0) {
    if (rest !== contentLength) return { ok: false, reason: `Content-Length ${contentLength} but ${rest} body bytes` };
    const full = command.subarray(bodyStart);
    const nul = full.indexOf(NUL);
    body = nul < 0 ? full : full.subarray(0, nul);
  } else if (rest !== 0) return { ok: false, reason: 'bytes after the head without a Content-Length' };
  pairs.push([EVENT_UUID_NAME, Buffer.from(eventUuid, 'latin1')]);
  let encodedBytes = 0;
  for (const [n, v] of pairs) encodedBytes += decimalLength(n.length) + decimalLength(v.length) + 2 + n.length + v.length;
  encodedBytes += 8 + decimalLength(pairs.length) + decimalLength(body?.length ?? 0) + (body?.length ?? 0);
  return { ok: true, record: { pairs, body, encodedBytes } };
}

function decimalLength(n: number): number {
  return n < 10 ? 1 : String(n).length;
}

/** The batch body for these records (and a probe token, if any). */
export function encodeBatchBody(records: readonly BatchRecord[], probeToken: string | null = null): Buffer {
  if (probeToken !== null && !/^[0-9a-f]{1,64}$/.test(probeToken)) throw new RangeError('probe token must be 1..64 lower-case hex digits');
  if (records.length > MAX_BATCH_EVENTS) throw new RangeError(`a batch holds at most ${MAX_BATCH_EVENTS} events, got ${records.length}`);
  const parts: Buffer[] = [Buffer.from(BATCH_MAGIC_LINE, 'latin1')];
  if (probeToken !== null) parts.push(Buffer.from(`P ${probeToken}\n`, 'latin1'));
  for (const r of records) {
    parts.push(Buffer.from(`E ${r.pairs.length} ${r.body === null ? 0 : 1} ${r.body?.length ?? 0}\n`, 'latin1'));
    for (const [n, v] of r.pairs) parts.push(Buffer.from(`${n.length} ${v.length}\n`, 'latin1'), n, v);
    if (r.body !== null) parts.push(r.body);
  }
  return Buffer.concat(parts);
}

/** The complete command that fires one batch event carrying `body` (and asking the hook to report it done). */
export function batchCommand(body: Buffer, done: BatchDoneMark | null = null): Buffer {
  let doneLine = '';
  if (done !== null) {
    if (!BATCH_TOKEN_PATTERN.test(done.token)) throw new RangeError('batch token must be 1..32 lower-case hex digits');
    if (!Number.isSafeInteger(done.seq) || done.seq < 0) throw new RangeError(`batch seq must be a non-negative integer, got ${done.seq}`);
    doneLine = `${BATCH_DONE_HEADER}: ${done.token} ${done.seq}\n`;
  }
  const head = Buffer.from(`sendevent CUSTOM\nEvent-Subclass: ${BATCH_SUBCLASS}\n${doneLine}Content-Length: ${body.length}\n\n`, 'latin1');
  return Buffer.concat([head, body]);
}

/** One event of a decoded batch: what the hook fires. */
export interface DecodedBatchEvent {
  subclass: string;
  /** Header pairs in the order added (before Event-Subclass is moved to the end). */
  pairs: [Buffer, Buffer][];
  body: Buffer | null;
}

export type DecodedBatch = { ok: true; probeToken: string | null; events: DecodedBatchEvent[] } | { ok: false; reason: string };

/**
 * Reads a batch body the way the Lua hook does (the simulated switch uses it, and the tests
 * check the hook's rules with it): all or nothing, every length checked against what is left.
 */
export function decodeBatchBody(body: Buffer): DecodedBatch {
  const magic = Buffer.from(BATCH_MAGIC_LINE, 'latin1');
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) return { ok: false, reason: 'bad magic line' };
  let pos = magic.length;
  let probeToken: string | null = null;
  const lineAt = (at: number): string | null => {
    const end = body.indexOf(LF, at);
    return end < 0 || end - at > 64 + 4 ? null : body.subarray(at, end).toString('latin1');
  };
  const probe = lineAt(pos);
  if (probe !== null && probe.startsWith('P ')) {
    const m = /^P ([0-9a-f]{1,64})$/.exec(probe);
    if (m === null) return { ok: false, reason: 'bad probe line' };
    probeToken = m[1]!;
    pos += probe.length + 1;
  }
  const events: DecodedBatchEvent[] = [];
  while (pos < body.length) {
    if (events.length >= MAX_BATCH_EVENTS) return { ok: false, reason: 'too many events' };
    const line = lineAt(pos);
    const m = line === null ? null : /^E ([0-9]{1,4}) ([01]) ([0-9]{1,9})$/.exec(line);
    if (m === null) return { ok: false, reason: `bad event line at byte ${pos}` };
    pos += line!.length + 1;
    const count = Number(m[1]);
    const hasBody = m[2] === '1';
    const bodyLen = Number(m[3]);
    if (count < 1 || count > MAX_EVENT_PAIRS || (!hasBody && bodyLen !== 0)) return { ok: false, reason: `bad event line at byte ${pos}` };
    const pairs: [Buffer, Buffer][] = [];
    let subclass: string | null = null;
    for (let i = 0; i < count; i++) {
      const pl = lineAt(pos);
      const pm = pl === null ? null : /^([0-9]{1,9}) ([0-9]{1,9})$/.exec(pl);
      if (pm === null) return { ok: false, reason: `bad pair line at byte ${pos}` };
      pos += pl!.length + 1;
      const nl = Number(pm[1]);
      const vl = Number(pm[2]);
      if (nl < 1 || pos + nl + vl > body.length) return { ok: false, reason: `pair past the end at byte ${pos}` };
      const name = body.subarray(pos, pos + nl);
      const value = body.subarray(pos + nl, pos + nl + vl);
      pos += nl + vl;
      if (subclass === null && name.toString('latin1').toLowerCase() === 'event-subclass') subclass = value.toString('latin1');
      pairs.push([name, value]);
    }
    if (pos + bodyLen > body.length) return { ok: false, reason: `event body past the end at byte ${pos}` };
    const eventBody = hasBody ? body.subarray(pos, pos + bodyLen) : null;
    pos += bodyLen;
    if (subclass === null || !subclass.startsWith('multicast::')) return { ok: false, reason: 'an event without a multicast:: subclass' };
    events.push({ subclass, pairs, body: eventBody });
  }
  return { ok: true, probeToken, events };
}

/** Reads a batch command's BATCH_DONE_HEADER value as the hook does; null when absent or malformed (then nothing is reported). */
export function parseBatchDoneMark(value: string | undefined | null): BatchDoneMark | null {
  if (value == null) return null;
  const m = /^([0-9a-f]{1,32}) ([0-9]{1,15})$/.exec(value);
  return m === null ? null : { token: m[1]!, seq: Number(m[2]) };
}
