/**
 * The work the pool does, as pure functions over packed batches. The same functions run in a
 * Piscina worker and, with `workers: 0`, inline on the main thread.
 */
import { bindingAllows, PROBE_SUBCLASS, type Bindings } from '../config/bindings.js';
import { datagramLength, frameDatagramInto, multicastSenderLine, multicastSenderLineEncoded, packetPlaintextLength, senderInsertionPoint } from '../wire/egress.js';
import { type ScanLimits } from '../wire/header-scan.js';
import { decodeDatagram, packetFacts, sendeventBound, writeSendevent } from '../wire/ingress.js';
import { PskCipher } from '../wire/psk-cipher.js';
import { ageDrop, eventAgeVerdict, replayKeyOf, type AgeLimit } from '../wire/replay.js';
import { DROP_REASONS, type DropReason } from '../wire/types.js';
import { urlDecodeBytes } from '../wire/url.js';
import { orderKeyOf } from '../wire/order-key.js';
import { supersedeTagOf, type SupersedeTag } from '../wire/supersede-key.js';
import { MAX_SENDER_BYTES, senderTooLong } from '../wire/sender-name.js';
import { isCompactDatagram } from '../wire/compact/format.js';
import { plainHeaderValue } from '../wire/plain-header.js';
import type { CompactSealer } from '../wire/compact/egress.js';
import type { CompactOpener, CompactPacketInfo } from '../wire/compact/ingress.js';
import {
  compactIngressItem,
  createOpener,
  createSealer,
  packCompactBatch,
  sealEventText,
  type CompactCodecSettings,
  type CompactEgressBatch,
} from '../wire/compact/pool-glue.js';
import { batchItem, type PackedBatch } from './batch.js';
import { isStateEvent, RelayCollector, type RelayBatch } from './relay-collector.js';
import { registrationFacts, registrationKind, type RegistrationFacts } from '../wire/registration.js';
import { receivedRegistration } from '../wire/received-registration.js';

/** What every task needs and never changes for the life of a pool (a new config builds a new pool). */
export interface CodecSettings {
  /** The PSK's text, or null for plain mode. Only ever handed to workers, never logged. */
  psk: string | null;
  bindings: Bindings;
  ingressBindings: Bindings;
  maxDatagram: number;
  limits: ScanLimits;
  /** Drop (as 'replay') events whose Event-Date-Timestamp is older than this, ms; 0 or absent = no limit. */
  maxEventAgeMs?: number;
  /** With maxEventAgeMs: how far ahead a timestamp may be (else 'future-dated'), ms; absent = 60 s. */
  maxClockSkewMs?: number;
  /** With maxEventAgeMs: events without a timestamp are dropped ('no-timestamp') or accepted; absent = drop. */
  undatedEvents?: 'drop' | 'accept';
  /** Compact wire format (src/wire/compact): what egress builds; absent = legacy only. */
  compact?: CompactCodecSettings | null;
  /** NATS JetStream state: which events are state (egress flags them; relay too); absent = none. */
  stateBindings?: Bindings | null;
  /** Lean sendevent commands (setting lean-sendevent, src/wire/lean.ts); absent = full. */
  leanSendevent?: boolean;
  /** Read registrations for the location directory (location-max-entries > 0); absent = no. */
  location?: boolean;
}

export interface CodecState {
  readonly settings: CodecSettings;
  readonly cipher: PskCipher | null;
  /** Reused plaintext scratch for PSK framing. */
  readonly scratch: { buf: Buffer };
  /** Reused output of ingress batches (grown when a batch needs more). */
  ingressOut: Buffer;
  /** Sender line cache: the configured name it was built from (null: the events' own name; undefined: none yet), and the line. */
  senderConfigured: string | null | undefined;
  /** With senderConfigured null: the encoded name the line was built from. */
  senderOwn: Buffer;
  senderLine: Buffer;
  /** Compact egress (null: no compact destination) and ingress (null: no PSK). */
  readonly sealer: CompactSealer | null;
  readonly opener: CompactOpener | null;
}

export function createCodecState(settings: CodecSettings): CodecState {
  return {
    settings,
    cipher: settings.psk === null ? null : new PskCipher(settings.psk),
    scratch: { buf: Buffer.allocUnsafe(8192) },
    ingressOut: Buffer.allocUnsafe(256 * 1024),
    senderConfigured: undefined,
    senderOwn: Buffer.alloc(0),
    senderLine: Buffer.alloc(0),
    sealer: createSealer(settings.psk, settings.compact),
    opener: createOpener(settings.psk),
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
  /** Compact datagrams, when some destination takes them (a SENT item may then have no legacy datagram: ends[i] = ends[i-1]). */
  compact?: CompactEgressBatch;
  /** Per input, when settings.stateBindings is set: 1 = a state event (NATS publishes it to the state subject). */
  state?: Uint8Array;
  /** The API events of the batch that would be sent, with their command (the main thread drops the bridge's own: own-api-commands.ts). */
  apiEvents?: ApiEventInfo[];
  /** The registration events of the batch (sofia::register/unregister/expire), for the location directory (src/location). */
  registrations?: RegistrationFacts[];
}
export interface ApiEventInfo {
  index: number;
  command: string;
  argument: string | null;
}
export const EGRESS_SENT = 0;
export const EGRESS_NOT_BOUND = 1;
export const EGRESS_TOO_LARGE = 2;
export const EGRESS_UNREADABLE = 3;
/** Set on the main thread: the API event raised by one of the bridge's own `api` commands. */
export const EGRESS_OWN_COMMAND = 4;

const EVENT_NAME = Buffer.from('Event-Name: ', 'latin1');
const EVENT_SUBCLASS = Buffer.from('Event-Subclass: ', 'latin1');
const SWITCHNAME = Buffer.from('FreeSWITCH-Switchname: ', 'latin1');
const API_COMMAND = Buffer.from('API-Command: ', 'latin1');
const API_COMMAND_ARGUMENT = Buffer.from('API-Command-Argument: ', 'latin1');
/** The line prefixes of the headers a registration is read from, by lower-case name (FreeSWITCH's own spelling). */
const REGISTRATION_HEADER_NAMES = ['from-user', 'from-host', 'user', 'username', 'host', 'contact', 'expires', 'FreeSWITCH-Switchname', 'FreeSWITCH-IPv4'];
const REGISTRATION_HEADERS: ReadonlyMap<string, Buffer> = new Map(REGISTRATION_HEADER_NAMES.map((n) => [n.toLowerCase(), Buffer.from(`${n}: `, 'latin1')]));


function decodedValue(text: Buffer, prefix: Buffer, headerEnd: number): string | null {
  const raw = plainHeaderValue(text, prefix, headerEnd);
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
  let compactOut: (Buffer[] | null)[] | null = null;
  let apiEvents: ApiEventInfo[] | null = null;
  let registrations: RegistrationFacts[] | null = null;
  let switchname: string | null = null;
  let total = 0;
  const { cipher, settings } = state;
  const stateFlags = settings.stateBindings ? new Uint8Array(n) : null;
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
    const registration = settings.location === true ? registrationKind(name, subclass) : null;
    if (registration !== null) {
      const header = (lower: string) => decodedValue(text, REGISTRATION_HEADERS.get(lower)!, headerEnd);
      const facts = registrationFacts(i, registration, header, null);
      if (facts !== null) (registrations ??= []).push(facts);
    }
    const ownName = plainHeaderValue(text, SWITCHNAME, headerEnd);
    if (ownName !== null && switchname === null) switchname = urlDecodeBytes(ownName).toString('utf8');
    if (!bindingAllows(settings.bindings, name, subclass)) {
      outcome[i] = EGRESS_NOT_BOUND;
      continue;
    }
    if (stateFlags !== null && isStateEvent(settings.stateBindings ?? null, name, subclass)) stateFlags[i] = 1;
    if (name === 'API') {
      const command = decodedValue(text, API_COMMAND, headerEnd);
      if (command !== null) (apiEvents ??= []).push({ index: i, command, argument: decodedValue(text, API_COMMAND_ARGUMENT, headerEnd) });
    }
    const line = senderLineFor(state, task.switchname, ownName);
    const at = senderInsertionPoint(text);
    insertAt[i] = at;
    let sealed = false;
    if (state.sealer !== null) {
      const r = sealEventText(state.sealer, text, line, state.scratch);
      if (r.ok) (compactOut ??= new Array<Buffer[] | null>(n).fill(null))[i] = r.datagrams;
      else if (r.why === 'too-large') tooLarge.push({ event: `${subclass === null ? name : `${name} ${subclass}`} (compact)`, bytes: r.bytes });
      sealed = r.ok;
      if (settings.compact?.legacy === false) {
        if (!r.ok) outcome[i] = r.why === 'too-large' ? EGRESS_TOO_LARGE : EGRESS_UNREADABLE;
        continue; // no legacy destination: no legacy datagram (lengths[i] stays 0)
      }
    }
    const plainLen = packetPlaintextLength(text, line, at);
    const len = datagramLength(text, { senderLine: line, cipher }, plainLen);
    if (len > settings.maxDatagram) {
      if (!sealed) outcome[i] = EGRESS_TOO_LARGE;
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
    if (outcome[i] === EGRESS_SENT && lengths[i]! > 0) {
      o += frameDatagramInto(batchItem(task, i), { senderLine: senderLines[i]!, cipher, scratch: state.scratch }, out, o, insertAt[i]!);
    }
    ends[i] = o;
  }
  const result: EgressResult = { kind: 'egress', buf, ends, outcome, signals, tooLarge, switchname };
  if (compactOut !== null) result.compact = packCompactBatch(compactOut);
  if (stateFlags !== null) result.state = stateFlags;
  if (apiEvents !== null) result.apiEvents = apiEvents;
  if (registrations !== null) result.registrations = registrations;
  return result;
}

const UNDEF = Buffer.from('_undef_', 'latin1');

/** The Multicast-Sender line for an event; rebuilt only when the name changes (compared as bytes, no per-event string). */
function senderLineFor(state: CodecState, configured: string | null, eventsOwn: Buffer | null): Buffer {
  if (configured !== null) {
    if (state.senderConfigured !== configured) {
      state.senderConfigured = configured;
      state.senderLine = multicastSenderLine(configured);
    }
    return state.senderLine;
  }
  const own = eventsOwn ?? UNDEF; // already URL-encoded, as FreeSWITCH wrote it
  if (state.senderConfigured !== null || !state.senderOwn.equals(own)) {
    state.senderConfigured = null;
    state.senderOwn = Buffer.from(own); // a copy: `own` is a view into the batch
    state.senderLine = multicastSenderLineEncoded(own);
  }
  return state.senderLine;
}

// ---------------------------------------------------------------------------------------------
// Ingress: datagrams -> sendevent commands

export interface IngressTask extends PackedBatch {
  kind: 'ingress';
  /** Our own switch name: packets it sent are dropped as 'own-packet'. null while unknown. */
  ownName: string | null;
  /** Hub relay (src/pool/relay-collector.ts): per input, the transport it came from (0 = not relayed); absent = relay off. */
  origins?: Uint8Array | null;
}

export interface IngressResult extends PackedBatch {
  kind: 'ingress';
  /** Per input: index into DROP_REASONS, or 255 when a command was built (ends tell where). */
  drop: Uint8Array;
  /** Per input: the packet's Multicast-Sender, or null. */
  senders: (string | null)[];
  /** Per input: 1 when the packet is a HEARTBEAT (peers are tracked from it even when filtered). */
  heartbeat: Uint8Array;
  /** Per input: the key whose events keep their order (src/wire/order-key.ts), or null for the sender's. */
  orderKeys?: (string | null)[];
  /** Per input, when any built command has one: what a newer event for the same state replaces while queued (src/wire/supersede-key.ts). */
  supersede?: (SupersedeTag | null)[];
  /** The first few drop details of the batch, for rate-limited logs. */
  details: string[];
  /** Per input: PSK packets that decoded (not own, not stale): the replay key the main thread checks (see wire/replay.ts). */
  replayKeys?: (string | null)[];
  /** Per input, when any input was a compact datagram that authenticated: its header (and a fragment's chunk) for the main thread's replay window and reassembly. */
  compact?: (CompactPacketInfo | null)[];
  /** Hub relay: the inputs to republish on the other transport (decoded, not our own), when task.origins was given. */
  relay?: RelayBatch;
  /** The received registration events (delivered or filtered; not own, stale or broken), for the location directory (src/location). */
  registrations?: RegistrationFacts[];
}
export const DELIVERED = 255;
/** drop[i] of a compact fragment: authenticated, handed to the main thread's reassembly (compact[i] has it). */
export const COMPACT_FRAGMENT = 254;
const REASON_INDEX = new Map<DropReason, number>(DROP_REASONS.map((r, i) => [r, i]));

/** The max-event-age settings of a pool, with their defaults. */
export function ageLimitOf(s: CodecSettings): AgeLimit {
  return { maxAgeMs: s.maxEventAgeMs ?? 0, maxSkewMs: s.maxClockSkewMs ?? 60_000, undated: s.undatedEvents ?? 'drop' };
}

export function runIngress(state: CodecState, task: IngressTask): IngressResult {
  const n = task.ends.length;
  const drop = new Uint8Array(n).fill(DELIVERED);
  const heartbeat = new Uint8Array(n);
  const senders: (string | null)[] = new Array<string | null>(n).fill(null);
  const replayKeys: (string | null)[] = new Array<string | null>(n).fill(null);
  const orderKeys: (string | null)[] = new Array<string | null>(n).fill(null);
  const relay = task.origins ? new RelayCollector(task.origins, state.settings.stateBindings ?? null) : null;
  const age = ageLimitOf(state.settings);
  const now = age.maxAgeMs > 0 ? Date.now() : 0;
  const details: string[] = [];
  let compact: (CompactPacketInfo | null)[] | null = null;
  let registrations: RegistrationFacts[] | null = null;
  let supersede: (SupersedeTag | null)[] | null = null;
  const allowsIngress = (name: string, subclass: string | null) => bindingAllows(state.settings.ingressBindings, name, subclass);
  // Commands are written straight into one growing output: no per-command buffers.
  let out = state.ingressOut;
  const ends = new Uint32Array(n);
  let o = 0;
  const { settings, cipher } = state;
  for (let i = 0; i < n; i++) {
    const datagram = batchItem(task, i);
    if (isCompactDatagram(datagram)) {
      const c =
        datagram.length > settings.maxDatagram
          ? ({ kind: 'drop', reason: 'oversize', detail: `compact: ${datagram.length} bytes, limit ${settings.maxDatagram}` } as const)
          : compactIngressItem(state.opener, datagram, { limits: settings.limits, ownName: task.ownName, allows: allowsIngress, lean: settings.leanSendevent ?? false, age, nowMs: now, location: settings.location === true });
      const dropped = c.kind === 'drop' ? c : c.drop;
      if (c.kind === 'opened') {
        (compact ??= new Array<CompactPacketInfo | null>(n).fill(null))[i] = c.info;
        if (c.registration !== null) (registrations ??= []).push({ ...c.registration, index: i });
        senders[i] = c.sender;
        if (c.heartbeat) heartbeat[i] = 1;
        if (c.command !== null) {
          orderKeys[i] = c.orderKey;
          if (c.supersede !== null) (supersede ??= new Array<SupersedeTag | null>(n).fill(null))[i] = c.supersede;
          if (o + c.command.length > out.length) {
            const grown = Buffer.allocUnsafe(Math.max(o + c.command.length, out.length * 2));
            out.copy(grown, 0, 0, o);
            out = grown;
            state.ingressOut = out;
          }
          o += c.command.copy(out, o);
        } else if (dropped === null) drop[i] = COMPACT_FRAGMENT;
      }
      if (dropped !== null) {
        drop[i] = REASON_INDEX.get(dropped.reason)!;
        if (details.length < 4) details.push(`${dropped.reason}: ${dropped.detail}`);
      }
      relay?.consider(i, datagram, dropped === null ? null : dropped.reason, null, null);
      ends[i] = o;
      continue;
    }
    const r = decodeDatagram(datagram, { cipher, maxDatagram: settings.maxDatagram, limits: settings.limits });
    let reason: DropReason | null = null;
    if (!r.ok) {
      reason = r.reason;
      if (details.length < 4) details.push(`${r.reason}: ${r.detail}`);
    } else {
      const facts = packetFacts(r.value.scan);
      const tooLong = facts.sender !== null && senderTooLong(facts.sender);
      // A name too long is not passed on as a sender either: it is what floods tables and logs.
      if (!tooLong) senders[i] = facts.sender;
      const verdict = age.maxAgeMs > 0 ? eventAgeVerdict(facts.timestampUs, now, age) : 'ok';
      if (tooLong) {
        reason = 'sender-too-long';
        if (details.length < 4) details.push(`sender-too-long: Multicast-Sender of ${Buffer.byteLength(facts.sender!)} bytes, limit ${MAX_SENDER_BYTES}`);
      } else if (facts.sender !== null && facts.sender === task.ownName) reason = 'own-packet';
      else if (verdict !== 'ok') {
        const d = ageDrop(verdict, age);
        reason = d.reason;
        if (details.length < 4) details.push(`${d.reason}: ${d.detail}`);
      } else {
        if (cipher !== null) replayKeys[i] = replayKeyOf(datagram);
        if (facts.eventName === 'HEARTBEAT') heartbeat[i] = 1;
        if (!bindingAllows(settings.ingressBindings, facts.eventName ?? '', facts.subclass)) reason = 'filtered';
        const reg = settings.location === true ? receivedRegistration(i, r.value.scan, facts) : null;
        if (reg !== null) (registrations ??= []).push(reg);
      }
      if (reason === null) {
        const need = o + sendeventBound(r.value.scan);
        if (need > out.length) {
          const grown = Buffer.allocUnsafe(Math.max(need, out.length * 2));
          out.copy(grown, 0, 0, o);
          out = grown;
          state.ingressOut = out;
        }
        o = writeSendevent(r.value.scan, out, o, settings.leanSendevent ?? false);
        orderKeys[i] = orderKeyOf(r.value.scan, facts.eventName);
        const tag = supersedeTagOf(r.value.scan, facts.eventName, facts.subclass);
        if (tag !== null) (supersede ??= new Array<SupersedeTag | null>(n).fill(null))[i] = tag;
      }
      relay?.consider(i, datagram, reason, facts.eventName, facts.subclass);
    }
    if (reason !== null) drop[i] = REASON_INDEX.get(reason)!;
    ends[i] = o;
  }
  // The result's buffer is transferred to the main thread, so it must be a fresh ArrayBuffer.
  const buf = new ArrayBuffer(o);
  out.copy(new Uint8Array(buf), 0, 0, o);
  const result: IngressResult = { kind: 'ingress', buf, ends, drop, senders, heartbeat, details, replayKeys, orderKeys };
  if (compact !== null) result.compact = compact;
  if (supersede !== null) result.supersede = supersede;
  const relayed = relay?.finish() ?? null;
  if (relayed !== null) result.relay = relayed;
  if (registrations !== null) result.registrations = registrations;
  return result;
}
