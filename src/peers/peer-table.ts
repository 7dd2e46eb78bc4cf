/**
 * Peers as the C module tracks them (spec §6): a HEARTBEAT from a sender marks it seen; a
 * sender that was unknown or down goes up (`multicast::peerup`); one that is up and silent for
 * longer than the timeout goes down (`multicast::peerdown`). The bridge checks with its own
 * clock instead of waiting for the next local HEARTBEAT.
 *
 * Unlike the C module the table is bounded: in plain mode anyone can send a HEARTBEAT under any
 * name, so names are at most MAX_SENDER_BYTES long (src/wire/sender-name.ts), at most
 * `maxPeers` are kept (a newcomer takes the place of the peer down longest, or is refused when
 * every peer is up), and a peer down for longer than the retention is forgotten. What is
 * refused or evicted is counted.
 */
import { printable } from '../wire/printable.js';
import { senderTooLong } from '../wire/sender-name.js';

export const DEFAULT_MAX_PEERS = 1024;
/** A peer down this long (past its timeout) is forgotten: `multicast_peers` stops listing it. */
export const DOWN_PEER_RETENTION_MS = 24 * 3600 * 1000;

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

/** A new name that was not taken into the table. */
export interface PeerRefusal {
  kind: 'refused';
  reason: 'table-full' | 'name-too-long';
}

export interface PeerTableOptions {
  /** Most peers kept (default DEFAULT_MAX_PEERS). */
  maxPeers?: number;
  /** How long a down peer is kept past its timeout (default DOWN_PEER_RETENTION_MS). */
  retentionMs?: number;
}

export interface PeerTableStats {
  size: number;
  maxPeers: number;
  /** New names refused because every place was taken by a peer that is up. */
  refusedTableFull: number;
  /** New names refused for being longer than MAX_SENDER_BYTES (src/wire/sender-name.ts). */
  refusedNameTooLong: number;
  /** Down peers removed to make room for a new one. */
  evicted: number;
  /** Down peers removed after the retention. */
  forgotten: number;
}

export class PeerTable {
  private readonly peers = new Map<string, PeerState>();
  /** Names of the down peers, in the order they went down: the first is evicted first. */
  private readonly down = new Set<string>();
  private timeoutMs: number;
  private maxPeers: number;
  private readonly retentionMs: number;
  private readonly counts = { refusedTableFull: 0, refusedNameTooLong: 0, evicted: 0, forgotten: 0 };

  constructor(timeoutMs: number, options: PeerTableOptions = {}) {
    this.timeoutMs = checkTimeout(timeoutMs);
    this.maxPeers = checkMax(options.maxPeers ?? DEFAULT_MAX_PEERS);
    this.retentionMs = options.retentionMs ?? DOWN_PEER_RETENTION_MS;
  }

  /** A reload: new timeout and size, the peers kept (down ones evicted while over the size). */
  setLimits(timeoutMs: number, maxPeers: number): void {
    this.timeoutMs = checkTimeout(timeoutMs);
    this.maxPeers = checkMax(maxPeers);
    while (this.peers.size > this.maxPeers) if (!this.evictOneDown()) break;
  }

  /** A HEARTBEAT from `name` arrived at `nowMs`: the peerup to fire, a refusal, or null. */
  sighted(name: string, nowMs: number): PeerChange | PeerRefusal | null {
    const p = this.peers.get(name);
    if (p === undefined) {
      if (senderTooLong(name)) {
        this.counts.refusedNameTooLong++;
        return { kind: 'refused', reason: 'name-too-long' };
      }
      if (this.peers.size >= this.maxPeers && !this.evictOneDown()) {
        this.counts.refusedTableFull++;
        return { kind: 'refused', reason: 'table-full' };
      }
      this.peers.set(name, { name, up: true, lastSeenMs: nowMs });
      return { kind: 'peerup', peer: name, lastseen: 'Never' };
    }
    const previous = p.lastSeenMs;
    p.lastSeenMs = nowMs;
    if (p.up) return null;
    p.up = true;
    this.down.delete(name);
    return { kind: 'peerup', peer: name, lastseen: String(Math.floor(previous / 1000)) };
  }

  /**
   * Marks down every up peer silent for longer than the timeout (returns the peerdowns to fire)
   * and forgets peers down for longer than the retention.
   */
  expire(nowMs: number): PeerChange[] {
    const changes: PeerChange[] = [];
    for (const p of this.peers.values()) {
      if (p.up && nowMs - p.lastSeenMs > this.timeoutMs) {
        p.up = false;
        this.down.add(p.name);
        changes.push({ kind: 'peerdown', peer: p.name, lastseen: String(Math.floor(p.lastSeenMs / 1000)) });
      }
    }
    for (const name of this.down) {
      const p = this.peers.get(name)!;
      if (nowMs - p.lastSeenMs > this.timeoutMs + this.retentionMs) {
        this.down.delete(name);
        this.peers.delete(name);
        this.counts.forgotten++;
      }
    }
    return changes;
  }

  list(): PeerState[] {
    return [...this.peers.values()].map((p) => ({ ...p }));
  }

  stats(): PeerTableStats {
    return { size: this.peers.size, maxPeers: this.maxPeers, ...this.counts };
  }

  /** Removes the peer down longest; false when no peer is down. */
  private evictOneDown(): boolean {
    const first = this.down.values().next();
    if (first.done === true) return false;
    this.down.delete(first.value);
    this.peers.delete(first.value);
    this.counts.evicted++;
    return true;
  }
}

function checkTimeout(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`peer timeout must be > 0 ms, got ${ms}`);
  return ms;
}

function checkMax(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`max peers must be an integer >= 1, got ${n}`);
  return n;
}

/** The text of the C module's `multicast_peers` API; names come from the network, so every control character is escaped. */
export function multicastPeersText(active: boolean, configured: readonly string[], peers: readonly PeerState[], nowMs: number): string {
  let s = `Module state: ${active ? 'Active' : 'Inactive'}\n\nConfigured peers:\n`;
  for (const line of configured) s += `\t${printable(line)}\n`;
  s += '\n\n';
  for (const p of peers) {
    s += `Peer ${printable(p.name)} ${p.up ? 'UP' : 'DOWN'}; last seen ${Math.floor(nowMs / 1000) - Math.floor(p.lastSeenMs / 1000)} seconds ago\n`;
  }
  if (peers.length === 0) s += 'No multicast peers seen\n';
  return s;
}
