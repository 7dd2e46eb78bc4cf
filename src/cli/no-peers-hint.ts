/**
 * What `fs-event-multicast peers` adds when the table is empty ("No multicast peers seen", the
 * C module's words): the likely causes, the most likely first when the bridge's counters tell.
 * Pure: the counters come in as the parsed `/status` answer (or null when it could not be read).
 */

/** The C module's line for an empty peers table (src/peers/peer-table.ts writes it too). */
export const NO_PEERS_LINE = 'No multicast peers seen';

/** Drop reasons that mean the PSKs do not match (or one side has none). */
const PSK_MISMATCH_REASONS = ['undecryptable', 'plain-packet-psk-expected', 'encrypted-packet-no-psk', 'missing-magic'] as const;

const CAUSES = {
  heartbeat:
    "the other boxes do not send HEARTBEAT: a peer is seen only through its HEARTBEATs, so every box's bindings must include HEARTBEAT " +
    '(and RE_SCHEDULE, as the guide\'s users do), e.g. "HEARTBEAT RE_SCHEDULE PRESENCE_IN CUSTOM sofia::register"; a bridge says ' +
    '"peers will never see this box" at start when it does not',
  psk: "PSK mismatch: every box needs the same psk, or none; drops as undecryptable / plain-packet-psk-expected / encrypted-packet-no-psk in 'fs-event-multicast peers --counters' say so",
  ports:
    'ports and addresses: every box must use the same port, list the others (or the same multicast group) in address, and let UDP on that port through its firewall; ' +
    'multicast needs ttl above 1 to cross a router',
} as const;

/** The hint for an empty table, or null when the table has peers. */
export function noPeersHint(peersText: string, status: unknown): string | null {
  if (!peersText.includes(NO_PEERS_LINE)) return null;
  const order = likelyFirst(status);
  const lines = ['No peer has been seen since this bridge started. Likely causes, the most likely first:', ...order.map((k) => `  - ${CAUSES[k]}`)];
  return lines.join('\n') + '\n';
}

type Cause = keyof typeof CAUSES;

/** Drops for a PSK mismatch: psk first; nothing received at all: ports first; else HEARTBEAT. */
function likelyFirst(status: unknown): Cause[] {
  const ingress = (status as { counters?: { ingress?: { datagrams?: unknown; dropped?: Record<string, unknown> } } } | null)?.counters?.ingress;
  const received = typeof ingress?.datagrams === 'number' ? ingress.datagrams : null;
  const pskDrops = PSK_MISMATCH_REASONS.reduce((n, r) => n + (typeof ingress?.dropped?.[r] === 'number' ? (ingress.dropped[r] as number) : 0), 0);
  if (pskDrops > 0) return ['psk', 'heartbeat', 'ports'];
  if (received === 0) return ['ports', 'heartbeat', 'psk'];
  return ['heartbeat', 'psk', 'ports'];
}
