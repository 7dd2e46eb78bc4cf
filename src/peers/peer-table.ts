/**
 * Peers as the C module tracks them (spec §6): a HEARTBEAT from a sender marks it seen; a
 * sender that was unknown or down goes up (`multicast::peerup`); one that is up and silent for
 * longer than the timeout goes down (`multicast::peerdown`). The bridge checks with its own
 * clock instead of waiting for the next local HEARTBEAT.
 */

export interface PeerState {
  name: string;
  up: boolean;
  /** Epoch milliseconds of the last HEARTBEAT. */
  lastSeenMs: number;
}

export interface PeerChange {
  kind: 'peerup' | 'peerdown';
  peer: string;
  /** What the module puts in `Lastseen`: epoch seconds of the previous sighting, or `Never`. */
  lastseen: string;
}

export class PeerTable {
  private readonly peers = new Map<string, PeerState>();

  constructor(private readonly timeoutMs: number) {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`peer timeout must be > 0 ms, got ${timeoutMs}`);
  }

  /** A HEARTBEAT from `name` arrived at `nowMs`; returns the peerup to fire, if any. */
  sighted(name: string, nowMs: number): PeerChange | null {
    const p = this.peers.get(name);
    if (p === undefined) {
      this.peers.set(name, { name, up: true, lastSeenMs: nowMs });
      return { kind: 'peerup', peer: name, lastseen: 'Never' };
    }
    const previous = p.lastSeenMs;
    p.lastSeenMs = nowMs;
    if (p.up) return null;
    p.up = true;
    return { kind: 'peerup', peer: name, lastseen: String(Math.floor(previous / 1000)) };
  }

  /** Marks down every up peer silent for longer than the timeout; returns the peerdowns to fire. */
  expire(nowMs: number): PeerChange[] {
    const changes: PeerChange[] = [];
    for (const p of this.peers.values()) {
      if (p.up && nowMs - p.lastSeenMs > this.timeoutMs) {
        p.up = false;
        changes.push({ kind: 'peerdown', peer: p.name, lastseen: String(Math.floor(p.lastSeenMs / 1000)) });
      }
    }
    return changes;
  }

  list(): PeerState[] {
    return [...this.peers.values()].map((p) => ({ ...p }));
  }
}

/** The text of the C module's `multicast_peers` API. */
export function multicastPeersText(active: boolean, configured: readonly string[], peers: readonly PeerState[], nowMs: number): string {
  let s = `Module state: ${active ? 'Active' : 'Inactive'}\n\nConfigured peers:\n`;
  for (const line of configured) s += `\t${line}\n`;
  s += '\n\n';
  for (const p of peers) {
    s += `Peer ${p.name} ${p.up ? 'UP' : 'DOWN'}; last seen ${Math.floor(nowMs / 1000) - Math.floor(p.lastSeenMs / 1000)} seconds ago\n`;
  }
  if (peers.length === 0) s += 'No multicast peers seen\n';
  return s;
}
