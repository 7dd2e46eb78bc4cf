/**
 * The events the real-FreeSWITCH benchmark fires, shaped like the captures in
 * ../shared/fixtures (a phone's `sofia::register`, PRESENCE_IN, MESSAGE_WAITING) plus a CUSTOM
 * event nobody handles. Each event is a different phone (user `b<run>x<n>`) in a domain of its
 * own, so the registrations a run leaves on the receiving switch can be removed with one
 * `sofia profile P flush_inbound_reg @DOMAIN` and never touch a real phone's entry.
 *
 * Every event carries `bench-run` (this run's id) and `bench-seq` (its number): the receiving
 * side counts only its own run's events (the C module with bindings `all` also replicates other
 * traffic) and reads each event's latency from the time it was sent.
 */

import { frameDatagram, multicastSenderLine } from '../../wire/egress.js';
import { buildSendevent, decodeDatagram } from '../../wire/ingress.js';

export type ShapeName = 'register' | 'presence' | 'mwi' | 'custom';
export const SHAPE_NAMES: readonly ShapeName[] = ['register', 'presence', 'mwi', 'custom'];

export interface ShapeContext {
  /** Short id of this run (letters and digits). */
  run: string;
  /** The SIP domain of the benchmark's phones, e.g. `fs-bench.invalid`. */
  domain: string;
  /** The sofia profile on the receiving switch (`internal`). */
  profile: string;
}

export type Header = readonly [string, string];

export interface FiredEvent {
  /** The word after `sendevent` (CUSTOM, PRESENCE_IN, MESSAGE_WAITING). */
  eventName: string;
  headers: Header[];
}

/** The benchmark's own CUSTOM subclass: no module binds to it. */
export const UNHANDLED_SUBCLASS = 'fs_bench::unhandled';
export const RUN_HEADER = 'bench-run';
export const SEQ_HEADER = 'bench-seq';

/** The user name of phone `n` in a run: unique per run, a valid SIP user part. */
export function phoneUser(c: ShapeContext, n: number): string {
  return `b${c.run}x${n}`;
}

/** A phone's registration as mod_sofia fires it after a successful REGISTER (the capture's headers). */
function register(c: ShapeContext, n: number): FiredEvent {
  const user = phoneUser(c, n);
  const port = String(10_000 + (n % 50_000));
  const contact = `"" <sip:${user}@127.0.0.1:${port};transport=UDP>`;
  return {
    eventName: 'CUSTOM',
    headers: [
      ['Event-Subclass', 'sofia::register'],
      ['profile-name', c.profile],
      ['from-user', user],
      ['from-host', c.domain],
      ['presence-hosts', c.domain],
      ['contact', contact],
      ['call-id', `${user}-bench@127.0.0.1`],
      ['rpid', 'unknown'],
      ['status', 'Registered(UDP)'],
      ['expires', '3600'],
      ['to-user', user],
      ['to-host', c.domain],
      ['network-ip', '127.0.0.1'],
      ['network-port', port],
      ['username', user],
      ['realm', c.domain],
      ['user-agent', 'fs-event-multicast-bench/1 (phone)'],
      ['sip_number_alias', user],
      ['sip_auth_username', user],
      ['sip_auth_realm', c.domain],
      ['number_alias', user],
      ['user_name', user],
      ['domain_name', c.domain],
      ['record_stereo', 'true'],
      ['toll_allow', 'domestic,international,local'],
      ['accountcode', user],
      ['user_context', 'default'],
      ['effective_caller_id_name', `Extension ${user}`],
      ['effective_caller_id_number', user],
      ['outbound_caller_id_name', 'bench'],
      ['outbound_caller_id_number', '0000000000'],
      ['callgroup', 'techsupport'],
    ],
  };
}

function presence(c: ShapeContext, n: number): FiredEvent {
  const user = phoneUser(c, n);
  return {
    eventName: 'PRESENCE_IN',
    headers: [
      ['proto', 'sip'],
      ['rpid', 'unknown'],
      ['login', `sip:mod_sofia@${c.domain}:5060`],
      ['user-agent', 'fs-event-multicast-bench/1 (phone)'],
      ['from', `${user}@${c.domain}`],
      ['status', 'Registered'],
      ['presence-source', 'register'],
      ['event_type', 'presence'],
    ],
  };
}

function mwi(c: ShapeContext, n: number): FiredEvent {
  return {
    eventName: 'MESSAGE_WAITING',
    headers: [
      ['MWI-Messages-Waiting', 'yes'],
      ['MWI-Message-Account', `${phoneUser(c, n)}@${c.domain}`],
      ['MWI-Voice-Message', '2/1 (0/0)'],
    ],
  };
}

/** As long as a registration (same header count and bytes), but no module binds to it. */
function custom(c: ShapeContext, n: number): FiredEvent {
  const r = register(c, n);
  return { eventName: 'CUSTOM', headers: [['Event-Subclass', UNHANDLED_SUBCLASS], ...r.headers.slice(1).map(([k, v]) => [`x-${k}`, v] as const)] };
}

const BUILDERS: Record<ShapeName, (c: ShapeContext, n: number) => FiredEvent> = { register, presence, mwi, custom };

/** Event `n` of a shape, tagged with the run and its sequence number. */
export function benchEvent(shape: ShapeName, c: ShapeContext, n: number): FiredEvent {
  const e = BUILDERS[shape](c, n);
  return { eventName: e.eventName, headers: [...e.headers, [RUN_HEADER, c.run], [SEQ_HEADER, String(n)]] };
}

/** The `sendevent` command that fires this event in a switch (values never hold a line break). */
export function sendeventCommand(e: FiredEvent): Buffer {
  let text = `sendevent ${e.eventName}\n`;
  for (const [name, value] of e.headers) {
    if (/[\r\n]/.test(name + value)) throw new RangeError(`benchmark event header ${name} holds a line break`);
    text += `${name}: ${value}\n`;
  }
  return Buffer.from(`${text}\n`, 'utf8');
}

/**
 * The plain event text, as an `event plain` listener would receive this event (values
 * URL-encoded, Event-Name first): what a bridge or the C module carries in its datagram.
 */
export function plainEventText(e: FiredEvent, switchname: string, n = 0): Buffer {
  const subclass = e.headers.find(([k]) => k === 'Event-Subclass');
  // The stamp FreeSWITCH puts on an event fired by sendevent (mod_event_socket.c), as in the captures.
  const stamp: Header[] = [
    ['Event-Name', e.eventName],
    ['Core-UUID', '6f2b8d4e-1c3a-4b5e-9f70-0a1b2c3d4e5f'],
    ['FreeSWITCH-Hostname', 'bench-host'],
    ['FreeSWITCH-Switchname', switchname],
    ['FreeSWITCH-IPv4', '192.0.2.2'],
    ['FreeSWITCH-IPv6', '::1'],
    ['Event-Date-Local', '2026-12-02 07:00:00'],
    ['Event-Date-GMT', 'Wed, 02 Dec 2026 07:00:00 GMT'],
    ['Event-Date-Timestamp', String(1796194800000000 + n)],
    ['Event-Calling-File', 'mod_event_socket.c'],
    ['Event-Calling-Function', 'parse_command'],
    ['Event-Calling-Line-Number', '2378'],
    ['Event-Sequence', String(1000 + n)],
    ['Command', `sendevent ${e.eventName}`],
  ];
  const headers = [...(subclass === undefined ? [] : [subclass]), ...stamp, ...e.headers.filter((h) => h !== subclass)];
  const lines = headers.map(([name, value]) => `${name}: ${encodeURIComponent(value)}`);
  return Buffer.from(`${lines.join('\n')}\n\n`, 'utf8');
}

/** The `bench-run` and `bench-seq` of an event a listener received (Orig- prefixed after replication), or null. */
export function benchTag(text: Buffer, run: string): number | null {
  const s = text.toString('latin1');
  const runAt = s.search(new RegExp(`^(?:Orig-)?${RUN_HEADER}: ${run}$`, 'mi'));
  if (runAt < 0) return null;
  const m = new RegExp(`^(?:Orig-)?${SEQ_HEADER}: (\\d+)$`, 'mi').exec(s);
  return m === null ? null : Number(m[1]);
}

/**
 * The `sendevent CUSTOM multicast::event` a bridge injects into the receiving switch for this
 * event (the C module's datagram from `switchname`, decoded by the bridge's own ingress code;
 * `lean`: as with the setting lean-sendevent, the bridge's default).
 */
export function injectedSendevent(e: FiredEvent, switchname: string, lean = false): Buffer {
  const datagram = frameDatagram(plainEventText(e, switchname, seqOf(e)), { senderLine: multicastSenderLine(switchname), cipher: null });
  const decoded = decodeDatagram(datagram, { cipher: null });
  if (!decoded.ok) throw new Error(`benchmark event did not decode: ${decoded.reason}`);
  return buildSendevent(decoded.value.scan, lean);
}

function seqOf(e: FiredEvent): number {
  return Number(e.headers.find(([k]) => k === SEQ_HEADER)?.[1] ?? 0);
}
