/**
 * Shared by the CI test (simulated switch) and the real-switch test of batched injection: the
 * sendevent commands the bridge builds from the captured datagrams, and the comparison of two
 * fired events as an event-socket listener receives them (`text/event-plain` bodies).
 */
import { buildSendevent, decodeDatagram } from '../src/wire/ingress.js';
import { PskCipher } from '../src/wire/psk-cipher.js';
import { fixture, manifest, PSK } from './fixtures.js';

/**
 * What FreeSWITCH stamps anew on every fire, so it differs between any two fires of the same
 * event, whatever the path (switch_event_prep_for_delivery, switch_event.c): the time
 * (Event-Date-*), the global counter (Event-Sequence), the C call site of the fire
 * (Event-Calling-*: mod_event_socket.c/parse_command for sendevent, switch_cpp.cpp/fire for the
 * hook), and Event-UUID, a fresh random UUID per sendevent (the batch path carries one the bridge
 * draws, as random). Everything else — names, order, values, body — must be identical.
 */
export const PER_FIRE_HEADERS: ReadonlySet<string> = new Set([
  'Event-UUID',
  'Event-Date-Local',
  'Event-Date-GMT',
  'Event-Date-Timestamp',
  'Event-Sequence',
  'Event-Calling-File',
  'Event-Calling-Function',
  'Event-Calling-Line-Number',
]);

export interface FixtureCommand {
  name: string;
  command: Buffer;
}

/** The sendevent commands (plain and lean) the bridge builds for each captured PSK datagram it accepts. */
export function fixtureSendevents(filter: (file: string) => boolean = () => true): FixtureCommand[] {
  const cipher = new PskCipher(PSK);
  const out: FixtureCommand[] = [];
  for (const e of manifest()) {
    if (e.mode !== 'psk' || !filter(e.datagram)) continue;
    const decoded = decodeDatagram(fixture(e.datagram), { cipher });
    if (!decoded.ok) continue;
    out.push({ name: e.datagram, command: buildSendevent(decoded.value.scan, false) });
    out.push({ name: `${e.datagram} (lean)`, command: buildSendevent(decoded.value.scan, true) });
  }
  return out;
}

/** An event-plain text split into raw header lines (values as serialized, URL-encoded) and the body. */
export function splitEventText(text: Buffer): { lines: [string, string][]; body: Buffer } {
  const end = text.indexOf('\n\n');
  const head = (end < 0 ? text : text.subarray(0, end)).toString('latin1');
  const lines: [string, string][] = head.split('\n').map((l) => {
    const c = l.indexOf(': ');
    return c < 0 ? [l, ''] : [l.slice(0, c), l.slice(c + 2)];
  });
  return { lines, body: end < 0 ? Buffer.alloc(0) : text.subarray(end + 2) };
}

/** Differences between two fired events (empty = the same but for PER_FIRE_HEADERS' values). */
export function firedEventDifferences(viaSendevent: Buffer, viaBatch: Buffer): string[] {
  const a = splitEventText(viaSendevent);
  const b = splitEventText(viaBatch);
  const out: string[] = [];
  const namesA = a.lines.map(([n]) => n);
  const namesB = b.lines.map(([n]) => n);
  if (namesA.join('\n') !== namesB.join('\n')) out.push(`header names/order differ:\n  sendevent: ${namesA.join(', ')}\n  batch:     ${namesB.join(', ')}`);
  const n = Math.min(a.lines.length, b.lines.length);
  for (let i = 0; i < n; i++) {
    const [na, va] = a.lines[i]!;
    const [nb, vb] = b.lines[i]!;
    if (na !== nb || PER_FIRE_HEADERS.has(na)) continue;
    if (va !== vb) out.push(`${na}: ${JSON.stringify(va.slice(0, 200))} vs ${JSON.stringify(vb.slice(0, 200))}`);
  }
  if (!a.body.equals(b.body)) out.push(`bodies differ (${a.body.length} vs ${b.body.length} bytes)`);
  return out;
}
