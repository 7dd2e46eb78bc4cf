/**
 * The work the pool does, as pure functions over packed batches. The same functions run in a
 * Piscina worker and, with `workers: 0`, inline on the main thread.
 */
import { bindingAllows, PROBE_SUBCLASS, type Bindings } from '../config/bindings.js';
import { datagramLength, frameDatagramInto, multicastSenderLine, packetPlaintextLength, senderInsertionPoint } from '../wire/egress.js';
import { type ScanLimits } from '../wire/header-scan.js';
import { decodeDatagram, packetFacts, sendeventBound, writeSendevent } from '../wire/ingress.js';
import { PskCipher } from '../wire/psk-cipher.js';
import { DROP_REASONS, type DropReason } from '../wire/types.js';
import { urlDecodeBytes } from '../wire/url.js';
import { batchItem, type PackedBatch } from './batch.js';

/** What every task needs and never changes for the life of a pool (a new config builds a new pool). */
export interface CodecSettings {
  /** The PSK's text, or null for plain mode. Only ever handed to workers, never logged. */
  psk: string | null;
  bindings: Bindings;
  ingressBindings: Bindings;
  maxDatagram: number;
  limits: ScanLimits;
}

export interface CodecState {
  readonly settings: CodecSettings;
  readonly cipher: PskCipher | null;
  /** Reused plaintext scratch for PSK framing. */
  readonly scratch: { buf: Buffer };
  /** Reused output of ingress batches (grown when a batch needs more). */
  ingressOut: Buffer;
  /** Sender line cache: the encoded switch name it was built from, and the line. */
  senderKey: string;
  senderLine: Buffer;
}

export function createCodecState(settings: CodecSettings): CodecState {
  return {
    settings,
    cipher: settings.psk === null ? null : new PskCipher(settings.psk),
    scratch: { buf: Buffer.allocUnsafe(8192) },
    ingressOut: Buffer.allocUnsafe(256 * 1024),
    senderKey: '',
    senderLine: Buffer.alloc(0),
  };
}

// ---------------------------------------------------------------------------------------------
// Egress: event-socket texts -> datagrams

export interface EgressTask extends PackedBatch {
  kind: 'egress';
  /** The switch name to stamp as Multicast-Sender; null = each event's own FreeSWITCH-Switchname. */
  switchname: string | null;
}

/** Local events the bridge itself reacts to. */
export const SIGNAL_RELOADXML = 1;
export const SIGNAL_PROBE = 2;
export const SIGNAL_HEARTBEAT = 4;

export interface EgressResult extends PackedBatch {
  kind: 'egress';
  /** Per input: 0 = a datagram (ends tell where), 1 = not bound, 2 = too large, 3 = unreadable. */
  outcome: Uint8Array;
  /** Per input: SIGNAL_* bits. */
  signals: Uint8Array;
  /** For each too-large event: its name and datagram size, for the log. */
  tooLarge: { event: string; bytes: number }[];
  /** The FreeSWITCH-Switchname seen on the events of this batch (decoded), or null. */
  switchname: string | null;
}
export const EGRESS_SENT = 0;
export const EGRESS_NOT_BOUND = 1;
export const EGRESS_TOO_LARGE = 2;
export const EGRESS_UNREADABLE = 3;

const EVENT_NAME = Buffer.from('Event-Name: ', 'latin1');
const EVENT_SUBCLASS = Buffer.from('Event-Subclass: ', 'latin1');
const SWITCHNAME = Buffer.from('FreeSWITCH-Switchname: ', 'latin1');
const LF = 0x0a;

/** The raw (still URL-encoded) value of a header in event text, found at a line start within the header section. */
function rawValue(text: Buffer, prefix: Buffer, headerEnd: number): Buffer | null {
  let at = text.indexOf(prefix);
  while (at > 0 && text[at - 1] !== LF) at = text.indexOf(prefix, at + 1);
  if (at < 0 || at >= headerEnd) return null;
  const s = at + prefix.length;
  let e = text.indexOf(LF, s);
  if (e < 0) e = text.length;
  return text.subarray(s, e);
}

function decodedValue(text: Buffer, prefix: Buffer, headerEnd: number): string | null {
  const raw = rawValue(text, prefix, headerEnd);
  return raw === null ? null : urlDecodeBytes(raw).toString('utf8');
}

export function runEgress(state: CodecState, task: EgressTask): EgressResult {
  const n = task.ends.length;
  const outcome = new Uint8Array(n);
  const signals = new Uint8Array(n);
  const tooLarge: { event: string; bytes: number }[] = [];
  const lengths = new Int32Array(n);
  const senderLines: Buffer[] = new Array<Buffer>(n);
  const insertAt = new Int32Array(n);
  let switchname: string | null = null;
  let total = 0;
  const { cipher, settings } = state;
  for (let i = 0; i < n; i++) {
    const text = batchItem(task, i);
    let headerEnd = text.indexOf('\n\n');
    if (headerEnd < 0) headerEnd = text.length;
    const name = decodedValue(text, EVENT_NAME, headerEnd);
    if (name === null) {
      outcome[i] = EGRESS_UNREADABLE;
      continue;
    }
    const subclass = decodedValue(text, EVENT_SUBCLASS, headerEnd);
    if (name === 'RELOADXML') signals[i]! |= SIGNAL_RELOADXML;
    else if (name === 'HEARTBEAT') signals[i]! |= SIGNAL_HEARTBEAT;
    else if (subclass === PROBE_SUBCLASS) signals[i]! |= SIGNAL_PROBE;
    const ownName = rawValue(text, SWITCHNAME, headerEnd);
    if (ownName !== null && switchname === null) switchname = urlDecodeBytes(ownName).toString('utf8');
    if (!bindingAllows(settings.bindings, name, subclass)) {
      outcome[i] = EGRESS_NOT_BOUND;
      continue;
    }
    const line = senderLineFor(state, task.switchname, ownName);
    const at = senderInsertionPoint(text);
    insertAt[i] = at;
    const plainLen = packetPlaintextLength(text, line, at);
    const len = datagramLength(text, { senderLine: line, cipher }, plainLen);
    if (len > settings.maxDatagram) {
      outcome[i] = EGRESS_TOO_LARGE;
      tooLarge.push({ event: subclass === null ? name : `${name} ${subclass}`, bytes: len });
      continue;
    }
    lengths[i] = len;
    senderLines[i] = line;
    total += len;
  }
  const buf = new ArrayBuffer(total);
  const out = new Uint8Array(buf);
  const ends = new Uint32Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (outcome[i] === EGRESS_SENT) {
      o += frameDatagramInto(batchItem(task, i), { senderLine: senderLines[i]!, cipher, scratch: state.scratch }, out, o, insertAt[i]!);
    }
    ends[i] = o;
  }
  return { kind: 'egress', buf, ends, outcome, signals, tooLarge, switchname };
}

function senderLineFor(state: CodecState, configured: string | null, eventsOwn: Buffer | null): Buffer {
  const key = configured !== null ? `c:${configured}` : `e:${eventsOwn === null ? '' : eventsOwn.toString('latin1')}`;
  if (key !== state.senderKey) {
    state.senderKey = key;
    state.senderLine =
      configured !== null
        ? multicastSenderLine(configured)
        : Buffer.concat([Buffer.from('Multicast-Sender: ', 'latin1'), eventsOwn ?? Buffer.from('_undef_'), Buffer.from('\n')]);
  }
  return state.senderLine;
}

// ---------------------------------------------------------------------------------------------
// Ingress: datagrams -> sendevent commands

export interface IngressTask extends PackedBatch {
  kind: 'ingress';
  /** Our own switch name: packets it sent are dropped as 'own-packet'. null while unknown. */
  ownName: string | null;
}

export interface IngressResult extends PackedBatch {
  kind: 'ingress';
  /** Per input: index into DROP_REASONS, or 255 when a command was built (ends tell where). */
  drop: Uint8Array;
  /** Per input: the packet's Multicast-Sender, or null. */
  senders: (string | null)[];
  /** Per input: 1 when the packet is a HEARTBEAT (peers are tracked from it even when filtered). */
  heartbeat: Uint8Array;
  /** The first few drop details of the batch, for rate-limited logs. */
  details: string[];
}
export const DELIVERED = 255;
const REASON_INDEX = new Map<DropReason, number>(DROP_REASONS.map((r, i) => [r, i]));

export function runIngress(state: CodecState, task: IngressTask): IngressResult {
  const n = task.ends.length;
  const drop = new Uint8Array(n).fill(DELIVERED);
  const heartbeat = new Uint8Array(n);
  const senders: (string | null)[] = new Array<string | null>(n).fill(null);
  const details: string[] = [];
  // Commands are written straight into one growing output: no per-command buffers.
  let out = state.ingressOut;
  const ends = new Uint32Array(n);
  let o = 0;
  const { settings, cipher } = state;
  for (let i = 0; i < n; i++) {
    const r = decodeDatagram(batchItem(task, i), { cipher, maxDatagram: settings.maxDatagram, limits: settings.limits });
    let reason: DropReason | null = null;
    if (!r.ok) {
      reason = r.reason;
      if (details.length < 4) details.push(`${r.reason}: ${r.detail}`);
    } else {
      const facts = packetFacts(r.value.scan);
      senders[i] = facts.sender;
      if (facts.sender !== null && facts.sender === task.ownName) reason = 'own-packet';
      else {
        if (facts.eventName === 'HEARTBEAT') heartbeat[i] = 1;
        if (!bindingAllows(settings.ingressBindings, facts.eventName ?? '', facts.subclass)) reason = 'filtered';
      }
      if (reason === null) {
        const need = o + sendeventBound(r.value.scan);
        if (need > out.length) {
          const grown = Buffer.allocUnsafe(Math.max(need, out.length * 2));
          out.copy(grown, 0, 0, o);
          out = grown;
          state.ingressOut = out;
        }
        o = writeSendevent(r.value.scan, out, o);
      }
    }
    if (reason !== null) drop[i] = REASON_INDEX.get(reason)!;
    ends[i] = o;
  }
  // The result's buffer is transferred to the main thread, so it must be a fresh ArrayBuffer.
  const buf = new ArrayBuffer(o);
  out.copy(new Uint8Array(buf), 0, 0, o);
  return { kind: 'ingress', buf, ends, drop, senders, heartbeat, details };
}
