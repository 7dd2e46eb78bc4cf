/**
 * How FreeSWITCH stamps an event when it is fired (switch_event_prep_for_delivery) and the
 * shapes of the events and texts the simulated switch produces, copied in header ORDER from the
 * captures in fixtures/freeswitch/esl-sessions (values are this simulator's own).
 */
import type { Header } from '../wire/types.js';

export interface SwitchIdentity {
  coreUuid: string;
  hostname: string;
  switchname: string;
  ipv4: string;
  ipv6: string;
}

export interface CallingSite {
  file: string;
  func: string;
  line: number;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** `Event-Date-Local`: local time as `YYYY-MM-DD hh:mm:ss`. */
export function eventDateLocal(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Microseconds since the epoch, as FreeSWITCH's `Event-Date-Timestamp` (16 digits today). */
export function epochMicros(): bigint {
  const ms = BigInt(Date.now());
  const sub = process.hrtime.bigint() % 1000n; // sub-millisecond digits: not exact, only plausible
  return ms * 1000n + sub;
}

/**
 * The headers FreeSWITCH adds on delivery, in the captured order, after the event's own
 * `Event-Name` (the caller puts `Event-Subclass` in front, where the event-socket copy has it).
 */
export function deliveryHeaders(eventName: string, id: SwitchIdentity, at: CallingSite, sequence: number): Header[] {
  const now = new Date();
  return [
    ['Event-Name', eventName],
    ['Core-UUID', id.coreUuid],
    ['FreeSWITCH-Hostname', id.hostname],
    ['FreeSWITCH-Switchname', id.switchname],
    ['FreeSWITCH-IPv4', id.ipv4],
    ['FreeSWITCH-IPv6', id.ipv6],
    ['Event-Date-Local', eventDateLocal(now)],
    ['Event-Date-GMT', now.toUTCString()],
    ['Event-Date-Timestamp', epochMicros().toString()],
    ['Event-Calling-File', at.file],
    ['Event-Calling-Function', at.func],
    ['Event-Calling-Line-Number', String(at.line)],
    ['Event-Sequence', String(sequence)],
  ];
}

/** `0 years, 0 days, 0 hours, 0 minutes, 39 seconds, 503 milliseconds, 933 microseconds` */
export function upTimeText(uptimeMicros: number): string {
  let us = Math.max(0, Math.floor(uptimeMicros));
  const micro = us % 1000;
  us = Math.floor(us / 1000);
  const milli = us % 1000;
  let s = Math.floor(us / 1000);
  const years = Math.floor(s / (365 * 86400));
  s -= years * 365 * 86400;
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const hours = Math.floor(s / 3600);
  s -= hours * 3600;
  const minutes = Math.floor(s / 60);
  s -= minutes * 60;
  return `${years} years, ${days} days, ${hours} hours, ${minutes} minutes, ${s} seconds, ${milli} milliseconds, ${micro} microseconds`;
}

export const FREESWITCH_VERSION = '1.11.3-dev';

/** The HEARTBEAT body headers after the delivery headers (esl-session-heartbeat.raw), minus the module's Multicast-Sender. */
export function heartbeatHeaders(uptimeMicros: number): Header[] {
  return [
    ['Event-Info', 'System Ready'],
    ['Up-Time', upTimeText(uptimeMicros)],
    ['FreeSWITCH-Version', `${FREESWITCH_VERSION}~64bit`],
    ['Uptime-msec', String(Math.floor(uptimeMicros / 1000))],
    ['Session-Count', '0'],
    ['Max-Sessions', '200'],
    ['Session-Per-Sec', '30'],
    ['Session-Per-Sec-Last', '0'],
    ['Session-Per-Sec-Max', '0'],
    ['Session-Per-Sec-FiveMin', '0'],
    ['Session-Since-Startup', '0'],
    ['Session-Peak-Max', '0'],
    ['Session-Peak-FiveMin', '0'],
    ['Idle-CPU', '99.700000'],
  ];
}

/** The `api status` text, shaped like the capture (api-and-bgapi.txt). */
export function statusText(uptimeMicros: number): string {
  return (
    `UP ${upTimeText(uptimeMicros)}\n` +
    `FreeSWITCH (Version ${FREESWITCH_VERSION}  64bit) is ready\n` +
    '0 session(s) since startup\n' +
    '0 session(s) - peak 0, last 5min 0 \n' +
    '0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n' +
    '200 session(s) max\n' +
    'min idle cpu 0.00/99.70\n' +
    'Current Stack Size/Max 240K/8192K\n'
  );
}

export const CALLED_FROM = {
  heartbeat: { file: 'switch_core.c', func: 'send_heartbeat', line: 95 },
  sendevent: { file: 'mod_event_socket.c', func: 'parse_command', line: 2283 },
  backgroundJob: { file: 'mod_event_socket.c', func: 'api_exec', line: 1580 },
  api: { file: 'switch_loadable_module.c', func: 'switch_api_execute', line: 3140 },
  fire: { file: 'fake_freeswitch.c', func: 'fire', line: 1 },
  /** mod_lua's Event:fire() (switch_cpp.cpp), as the batch fan-out hook fires. */
  batchHook: { file: 'switch_cpp.cpp', func: 'fire', line: 407 },
} as const satisfies Record<string, CallingSite>;

/** Serialized events as cJSON would print them unformatted (switch_event_serialize_json): duplicate names kept. */
export function eventJson(headers: readonly Header[], body: string | null): string {
  const parts: string[] = [];
  for (const [n, v] of headers) parts.push(`${JSON.stringify(n)}:${JSON.stringify(v)}`);
  if (body !== null && body.length > 0) {
    parts.push(`"Content-Length":${JSON.stringify(String(Buffer.byteLength(body, 'utf8')))}`);
    parts.push(`"_body":${JSON.stringify(body)}`);
  }
  return `{${parts.join(',')}}`;
}
