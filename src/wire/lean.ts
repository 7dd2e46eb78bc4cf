/**
 * Lean sendevent commands (setting `lean-sendevent`, default yes). FreeSWITCH reads the head of
 * every event-socket command (the lines before the blank line) one byte per recv(): ~1 µs of
 * its CPU per byte (src/testing/cost-model.ts). A lean command leaves out what no consumer
 * needs, and nothing else:
 * - five headers of the sending switch that only describe when and where in its C code the
 *   event was created: `Orig-Event-Date-Local`, `Orig-Event-Date-GMT` (the instant stays in
 *   `Orig-Event-Date-Timestamp`), `Orig-Event-Calling-File`, `Orig-Event-Calling-Function`,
 *   `Orig-Event-Calling-Line-Number`. In FreeSWITCH, multicast::event is read by mod_sofia
 *   (registrations, presence, MWI, sip_user_state replication) and mod_event_multicast
 *   (HEARTBEAT peers); neither reads these five (sofia.c event_handler, mod_event_multicast.c).
 * - the space after each header's colon: FreeSWITCH skips spaces there anyway (read_packet),
 *   and a value that starts with a space is sent URL-encoded, so no value changes.
 * Every other header, and the body, are sent as the C module fires them.
 */

/** Original header names (before `Orig-`) a lean command leaves out, lower case. */
export const LEAN_LEFT_OUT: readonly string[] = Object.freeze([
  'event-date-local',
  'event-date-gmt',
  'event-calling-file',
  'event-calling-function',
  'event-calling-line-number',
]);

const LEFT_OUT_BYTES = LEAN_LEFT_OUT.map((n) => Buffer.from(n, 'latin1'));
const SHORTEST = Math.min(...LEFT_OUT_BYTES.map((b) => b.length));
const LONGEST = Math.max(...LEFT_OUT_BYTES.map((b) => b.length));

/** Whether the original header name text[s, e) is one a lean command leaves out (case-insensitive, as FreeSWITCH compares). */
export function leftOutWhenLean(text: Uint8Array, s: number, e: number): boolean {
  const len = e - s;
  // All five start with "event-": a cheap first test for the common case.
  if (len < SHORTEST || len > LONGEST || (text[s]! | 0x20) !== 0x65 || text[s + 5] !== 0x2d) return false;
  outer: for (const name of LEFT_OUT_BYTES) {
    if (name.length !== len) continue;
    for (let j = 0; j < len; j++) {
      const c = text[s + j]!;
      if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== name[j]) continue outer;
    }
    return true;
  }
  return false;
}
