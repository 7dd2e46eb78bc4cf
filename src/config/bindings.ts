/**
 * The `bindings` grammar of mod_event_multicast (spec section 2), which is also the grammar of
 * the event socket's `event` command. Pure: the parsed form is a plain, structured-clonable
 * object, so it can be handed to pool workers as is.
 */
import { FREESWITCH_EVENT_NAMES, canonicalEventName } from './event-names.js';

/** Parsed bindings. Plain data only (no Sets, no methods) so it survives structured cloning. */
export interface Bindings {
  /** The tokens as given, joined by single spaces (for logs and the status page). */
  readonly text: string;
  /** `ALL` was given: every event is bound, every CUSTOM subclass included. */
  readonly all: boolean;
  /** Canonical event names bound, in FreeSWITCH's enum order, without `ALL`. */
  readonly events: readonly string[];
  /** CUSTOM subclasses bound: every token after the first `CUSTOM`, in order, no duplicates. */
  readonly subclasses: readonly string[];
}

/** The subclass of the bridge's own probe event (fired into FreeSWITCH to measure the path). */
export const PROBE_SUBCLASS = 'fs_event_multicast::probe';

/** The subclass of the batch events the bridge fires for its FreeSWITCH fan-out hook (src/esl/batch-command.ts). */
export const BATCH_SUBCLASS = 'fs_event_multicast::batch';

/**
 * Subclasses never sent, whatever the bindings: what the module itself fires (sending them
 * would ping-pong between peers) and the bridge's own probe.
 */
export const NEVER_SENT_SUBCLASSES: readonly string[] = Object.freeze([
  'multicast::event',
  'multicast::peerup',
  'multicast::peerdown',
  PROBE_SUBCLASS,
  BATCH_SUBCLASS,
]);

/** Event names never sent, whatever the bindings. */
export const NEVER_SENT_EVENTS: readonly string[] = Object.freeze(['LOG']);

/** What the bridge subscribes to for itself: peer timing, config reload, its probe. */
export const BRIDGE_SUBSCRIPTION: readonly string[] = Object.freeze(['HEARTBEAT', 'RELOADXML', `CUSTOM ${PROBE_SUBCLASS}`]);

export class BindingsError extends Error {
  /** The offending token, exactly as written. */
  readonly token: string;
  /** 1-based position of the token in the list. */
  readonly position: number;
  constructor(message: string, token: string, position: number) {
    super(message);
    this.name = 'BindingsError';
    this.token = token;
    this.position = position;
  }
}

const NEVER_SENT_SUBCLASS_SET = new Set(NEVER_SENT_SUBCLASSES);
const NEVER_SENT_EVENT_SET = new Set(NEVER_SENT_EVENTS);

/**
 * Parses a bindings list. Throws BindingsError naming the first unknown event name.
 * (The C module silently ignores unknown names; a typo that binds nothing is better caught.)
 */
export function parseBindings(text: string): Bindings {
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  let all = false;
  let custom = false;
  const events = new Set<string>();
  const subclasses: string[] = [];
  tokens.forEach((token, i) => {
    if (custom) {
      // FreeSWITCH's quirk: once CUSTOM was seen, every token is a subclass name, even
      // `CUSTOM` or `HEARTBEAT`.
      if (!subclasses.includes(token)) subclasses.push(token);
      return;
    }
    const name = canonicalEventName(token);
    if (name === null) throw new BindingsError(unknownTokenMessage(token, i + 1), token, i + 1);
    if (name === 'ALL') all = true;
    else events.add(name);
    if (name === 'CUSTOM') custom = true;
  });
  return {
    text: tokens.join(' '),
    all,
    events: FREESWITCH_EVENT_NAMES.filter((n) => events.has(n)),
    subclasses,
  };
}

function unknownTokenMessage(token: string, position: number): string {
  const hint = token.includes('::')
    ? `it looks like a CUSTOM subclass: write it after the word CUSTOM, e.g. "CUSTOM ${token}"`
    : 'event names are FreeSWITCH\'s (e.g. HEARTBEAT, PRESENCE_IN, MESSAGE_WAITING, CHANNEL_CREATE, ALL), ' +
      'case-insensitive, optionally prefixed with SWITCH_EVENT_; custom subclasses go after the word CUSTOM';
  return `bindings: unknown event name '${token}' (token ${position}); ${hint}`;
}

/**
 * Notes worth a warning: tokens after CUSTOM that look like event names are taken as
 * subclass names (FreeSWITCH does the same), which is rarely what the writer meant.
 */
export function bindingsNotes(b: Bindings): string[] {
  const notes: string[] = [];
  for (const s of b.subclasses) {
    const name = canonicalEventName(s);
    if (name !== null) {
      notes.push(
        `bindings: '${s}' comes after CUSTOM, so it is taken as a custom subclass name, not the event ${name} ` +
          '(FreeSWITCH reads it the same way); put event names before the first CUSTOM',
      );
    }
  }
  for (const s of b.subclasses) {
    if (NEVER_SENT_SUBCLASS_SET.has(s) && !MODULE_SUBCLASSES.includes(s)) notes.push(`bindings: subclass '${s}' is never sent (it would loop between peers)`);
  }
  if (b.events.includes('LOG') && !b.all) notes.push('bindings: LOG events are never sent');
  if (b.events.includes('CUSTOM') && b.subclasses.length === 0 && !b.all) {
    notes.push('bindings: CUSTOM without subclass names binds no custom event; list the subclasses after CUSTOM');
  }
  return notes;
}

/** What the module itself fires; the guide binds `multicast::event` "for the reception". */
const MODULE_SUBCLASSES: readonly string[] = NEVER_SENT_SUBCLASSES.filter((s) => s.startsWith('multicast::'));

/**
 * Notes for information only: the module's own subclasses in the bindings do no harm, they are
 * just never sent (the guide's example binds `multicast::event`, which leaves users wondering).
 */
export function bindingsNotices(b: Bindings): string[] {
  return b.subclasses
    .filter((s) => MODULE_SUBCLASSES.includes(s))
    .map(
      (s) =>
        `bindings: ${s} in bindings is for reception in the guide; this bridge (like the C module) never sends multicast::* events — it is ignored ` +
        '(received events reach FreeSWITCH as multicast::event whatever the bindings; ingress-bindings chooses which)',
    );
}

/**
 * The guide's own example binds no HEARTBEAT, and then no box ever sees a peer: peers are
 * tracked on the HEARTBEATs they receive. Null when HEARTBEAT is bound (or ALL), or nothing is.
 */
export function heartbeatWarning(b: Bindings): string | null {
  if (b.all || b.events.includes('HEARTBEAT') || b.text === '') return null;
  // The fix: event names first (also those misplaced after CUSTOM), then the real subclasses.
  const misplaced = b.subclasses.map((s) => canonicalEventName(s)).filter((n): n is string => n !== null);
  const wanted = new Set([...b.events, ...misplaced]);
  const events = ['HEARTBEAT', 'RE_SCHEDULE', ...FREESWITCH_EVENT_NAMES.filter((n) => n !== 'CUSTOM' && n !== 'HEARTBEAT' && n !== 'RE_SCHEDULE' && wanted.has(n))];
  const subclasses = b.subclasses.filter((s) => !NEVER_SENT_SUBCLASS_SET.has(s) && canonicalEventName(s) === null);
  const fix = [...events, ...(subclasses.length > 0 ? ['CUSTOM', ...subclasses] : [])];
  return (
    `bindings: peers will never see this box: HEARTBEAT is not in bindings (their multicast_peers and 'fs-event-multicast peers' say "No multicast peers seen"); ` +
    `add HEARTBEAT, and RE_SCHEDULE as the guide's users do, before any CUSTOM: bindings "${fix.join(' ')}"`
  );
}

/** Sets built once per Bindings object and thread, for the per-event check. */
interface Compiled {
  events: Set<string>;
  subclasses: Set<string>;
}
const compiled = new WeakMap<Bindings, Compiled>();

function compile(b: Bindings): Compiled {
  let c = compiled.get(b);
  if (c === undefined) {
    c = { events: new Set(b.events), subclasses: new Set(b.subclasses) };
    compiled.set(b, c);
  }
  return c;
}

/**
 * Whether an event with this name (`Event-Name`) and subclass (`Event-Subclass`, or null) is
 * bound, following the module: LOG and the never-sent subclasses never; with ALL everything
 * else (every CUSTOM subclass too); a CUSTOM event only if its subclass is listed; any other
 * bound event always.
 */
export function bindingAllows(b: Bindings, eventName: string, subclass: string | null): boolean {
  let name = eventName;
  if (NEVER_SENT_EVENT_SET.has(name)) return false;
  if (subclass !== null && NEVER_SENT_SUBCLASS_SET.has(subclass)) return false;
  const c = compile(b);
  if (!c.events.has(name)) {
    // FreeSWITCH writes event names in upper case; only a foreign packet would not.
    name = eventName.toUpperCase();
    if (NEVER_SENT_EVENT_SET.has(name)) return false;
  }
  if (b.all) return true;
  if (!c.events.has(name)) return false;
  if (name === 'CUSTOM') return subclass !== null && c.subclasses.has(subclass);
  return true;
}

/**
 * The argument of the event-socket command `event plain <...>`: what the bindings send plus
 * `extra` (each entry in the bindings grammar, e.g. BRIDGE_SUBSCRIPTION), asking FreeSWITCH
 * for as little as possible: `ALL` only when ALL is bound, never LOG or a never-sent
 * subclass for the bindings' sake, and CUSTOM only with the subclasses actually wanted.
 */
export function eslSubscription(b: Bindings, extra: readonly string[]): string {
  const extras = extra.map((e) => parseBindings(e));
  if (b.all || extras.some((e) => e.all)) return 'ALL';
  const events = new Set(b.events.filter((n) => !NEVER_SENT_EVENT_SET.has(n)));
  const subclasses = b.subclasses.filter((s) => !NEVER_SENT_SUBCLASS_SET.has(s));
  for (const e of extras) {
    for (const n of e.events) events.add(n);
    for (const s of e.subclasses) if (!subclasses.includes(s)) subclasses.push(s);
  }
  const words = FREESWITCH_EVENT_NAMES.filter((n) => n !== 'CUSTOM' && events.has(n));
  if (subclasses.length > 0) words.push('CUSTOM', ...subclasses);
  return words.join(' ');
}
