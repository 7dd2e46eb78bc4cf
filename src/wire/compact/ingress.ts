/**
 * Compact ingress, the pure part: a datagram is authenticated and decrypted; a whole message
 * (one datagram, or fragments reassembled by the main thread) becomes the same `sendevent`
 * command the legacy path builds for the same event.
 */
import type { ScanLimits } from '../header-scan.js';
import { buildSendevent, packetFacts } from '../ingress.js';
import { orderKeyOf } from '../order-key.js';
import { receivedRegistration } from '../received-registration.js';
import { supersedeTagOf, type SupersedeTag } from '../supersede-key.js';
import type { RegistrationFacts } from '../registration.js';
import type { DropReason } from '../types.js';
import { ageDrop, eventAgeVerdict, type AgeLimit } from '../replay.js';
import { deriveCompactKey, openDatagram, type CompactHeader } from './format.js';
import { decodeMessage, decompress } from './message.js';

export interface MessageOptions {
  limits?: ScanLimits;
  /** Our own switch name: our own messages come back as 'own-packet'. */
  ownName: string | null;
  /** ingress-bindings on the original Event-Name / Event-Subclass. */
  allows: (eventName: string, subclass: string | null) => boolean;
  /** Lean sendevent commands (setting lean-sendevent); absent = full. */
  lean?: boolean;
  /** max-event-age on the event's Event-Date-Timestamp, as for the legacy format; absent = none. */
  age?: AgeLimit;
  /** The clock for `age`, epoch ms (absent: Date.now()). */
  nowMs?: number;
  /** Read registrations for the location directory (as the legacy path does); absent = no. */
  location?: boolean;
}

export type MessageOutcome = (
  | {
      ok: true;
      command: Buffer;
      sender: string | null;
      heartbeat: boolean;
      /** As on the legacy path: the key whose events keep their order (order-key.ts), or null for the sender's. */
      orderKey: string | null;
      /** As on the legacy path: what a newer event for the same state replaces while queued (supersede-key.ts). */
      supersede: SupersedeTag | null;
    }
  | { ok: false; reason: DropReason; detail: string; sender: string | null; heartbeat: boolean }
) & {
  /** With options.location: the registration this message carries (delivered or filtered, as on the legacy path; index 0), else absent. */
  registration?: RegistrationFacts;
};

/** A whole message payload (as sealed: possibly compressed) -> its sendevent command, or a drop. */
export function messageToCommand(payload: Buffer, flags: number, o: MessageOptions): MessageOutcome {
  const plain = decompress(payload, flags);
  if (!plain.ok) return { ...plain, sender: null, heartbeat: false };
  const scanned = decodeMessage(plain.value, o.limits);
  if (!scanned.ok) return { ...scanned, sender: null, heartbeat: false };
  if (scanned.value.count === 0) return { ok: false, reason: 'malformed-header', detail: 'compact: no headers', sender: null, heartbeat: false };
  const facts = packetFacts(scanned.value);
  const heartbeat = facts.eventName === 'HEARTBEAT';
  if (facts.sender !== null && facts.sender === o.ownName) {
    return { ok: false, reason: 'own-packet', detail: 'our own compact packet', sender: facts.sender, heartbeat: false };
  }
  if (o.age !== undefined && o.age.maxAgeMs > 0) {
    const v = eventAgeVerdict(facts.timestampUs, o.nowMs ?? Date.now(), o.age);
    if (v !== 'ok') return { ok: false, ...ageDrop(v, o.age), sender: facts.sender, heartbeat: false };
  }
  const registration = o.location === true ? receivedRegistration(0, scanned.value, facts) : null;
  const known = registration === null ? {} : { registration };
  if (!o.allows(facts.eventName ?? '', facts.subclass)) {
    return { ok: false, reason: 'filtered', detail: 'not in ingress-bindings', sender: facts.sender, heartbeat, ...known };
  }
  return {
    ok: true,
    command: buildSendevent(scanned.value, o.lean ?? false),
    sender: facts.sender,
    heartbeat,
    orderKey: orderKeyOf(scanned.value, facts.eventName),
    supersede: supersedeTagOf(scanned.value, facts.eventName, facts.subclass),
    ...known,
  };
}

/** The AEAD key of a PSK, derived once per worker (HKDF is not free). */
export class CompactOpener {
  private readonly key: Buffer;
  constructor(psk: string) {
    this.key = deriveCompactKey(psk);
  }
  open(d: Uint8Array): ReturnType<typeof openDatagram> {
    return openDatagram(this.key, d);
  }
}

/** What the main thread needs of every authenticated compact datagram (replay window, reassembly). */
export interface CompactPacketInfo extends CompactHeader {
  /** Fragments of a multi-datagram message: the decrypted chunk; null for a one-datagram message. */
  chunk: Uint8Array | null;
}
