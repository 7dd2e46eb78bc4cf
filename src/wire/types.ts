/**
 * Shared shapes of the wire codec. Everything in src/wire is pure: no I/O, no globals,
 * so the same functions run on the main thread, inside pool workers and in tests.
 */

/** One event header: the name as FreeSWITCH writes it, the value URL-decoded (UTF-8). */
export type Header = readonly [name: string, value: string];

/** An event as FreeSWITCH's serializer sees it: ordered headers and an optional body. */
export interface EventData {
  headers: Header[];
  /** The raw body, or null when the event has none (an empty body is the same as none). */
  body: string | null;
}

/**
 * Why a datagram was not turned into an event. Every drop is counted under one of these,
 * so operators can tell a wrong PSK from a truncated packet from an attack.
 */
export const DROP_REASONS = [
  'too-short', // shorter than the smallest valid packet of the configured mode
  'oversize', // larger than the configured maximum datagram size
  'undecryptable', // PSK mode: ciphertext not a whole number of blocks, or bad padding (wrong PSK?)
  'plain-packet-psk-expected', // a plaintext packet arrived while a PSK is configured
  'encrypted-packet-no-psk', // a PSK packet arrived while no PSK is configured
  'missing-magic', // the plaintext does not end with the validation string
  'truncated-magic', // the plaintext ends with only part of the validation string
  'malformed-header', // a header line without ':' or a name that is not a token
  'bad-content-length', // Content-Length not a number, or more than the bytes present
  'too-many-headers', // more header lines than the configured limit
  'header-too-large', // a single header line longer than the configured limit
  'own-packet', // our own datagram came back (multicast loopback, unicast echo)
  'filtered', // not in ingress-bindings
  'replay', // a PSK packet's UUID was seen before within the replay window
  'sender-too-long', // a Multicast-Sender longer than MAX_PEER_NAME_BYTES (a name no FreeSWITCH has; floods the peer table)
  'future-dated', // max-event-age: Event-Date-Timestamp further ahead of our clock than max-clock-skew
  'no-timestamp', // max-event-age: no Event-Date-Timestamp (max-event-age-undated drop)
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** The outcome of one decoding step: a value, or a drop with its reason and a short detail. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: DropReason; detail: string };
