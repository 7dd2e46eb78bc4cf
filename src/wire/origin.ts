/**
 * Where a received datagram came from, as the hub relay (nats-relay) needs to know: it
 * republishes on the transport a datagram did not come from, never back (src/pool/relay-collector.ts
 * picks what may be relayed, src/bridge/fan-out.ts sends it).
 */
/** Where an ingress datagram came from. 0 = do not relay (relay off, or a catch-up replay). */
export const ORIGIN_NONE = 0;
export const ORIGIN_UDP = 1;
export const ORIGIN_NATS = 2;
export type RelayOrigin = typeof ORIGIN_NONE | typeof ORIGIN_UDP | typeof ORIGIN_NATS;

