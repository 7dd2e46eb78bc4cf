/**
 * Peer up and down as FreeSWITCH sees it: HEARTBEATs (from either wire format) move peers in the
 * bounded table (peer-table.ts), and each change is fired into FreeSWITCH as CUSTOM
 * `multicast::peerup` / `multicast::peerdown`, as the C module does. The firing is rate-limited:
 * in plain mode anyone can send HEARTBEATs under invented names, and a flood of names must not
 * become a flood of sendevents (the table still follows every peer; only FreeSWITCH and the log
 * are spared).
 */
import type { Logger } from '../util/log.js';
import { TokenBucket } from '../util/token-bucket.js';
import { buildCustomSendevent } from '../wire/ingress.js';
import { printable } from '../wire/printable.js';
import type { Counters } from '../status/counters.js';
import { PeerTable, type PeerChange, type PeerState, type PeerTableStats } from './peer-table.js';

/** peerup/peerdown fired into FreeSWITCH: one per peer at once (up to this many), then this rate. */
export const PEER_EVENT_BURST_MAX = 4096;
export const PEER_EVENT_RATE_PER_S = 20;

export interface PeerWatchOptions {
  timeoutMs: number;
  maxPeers: number;
  now(): number;
  /** Fires a sendevent command into FreeSWITCH; `orderKey` keeps a peer's events on one connection. */
  fire(orderKey: string, command: Buffer): void;
  counters: Counters['peers'];
  logger: Logger;
  /** A rate-limited warning (one per `key` per interval). */
  warn(key: string, fields: object, message: string): void;
}

export class PeerWatch {
  private readonly table: PeerTable;
  private events: TokenBucket;

  constructor(private readonly o: PeerWatchOptions) {
    this.table = new PeerTable(o.timeoutMs, { maxPeers: o.maxPeers });
    this.events = eventBucket(o.maxPeers, o.now());
  }

  /** Reload: keeps who was seen; only the limits change. */
  setLimits(timeoutMs: number, maxPeers: number): void {
    this.table.setLimits(timeoutMs, maxPeers);
    this.events = eventBucket(maxPeers, this.o.now());
  }

  /** A HEARTBEAT from `sender`: it may bring the peer up, or be refused by the bounded table. */
  sighted(sender: string, now: number): void {
    const change = this.table.sighted(sender, now);
    if (change === null) return;
    if (change.kind !== 'refused') return this.fireChange(change);
    const t = this.table.stats();
    const why = change.reason === 'table-full' ? `the peer table is full (max-peers ${t.maxPeers}, every peer up): new peers refused` : 'peer names longer than 255 bytes refused';
    this.o.warn(`peer-${change.reason}`, { refusedTableFull: t.refusedTableFull, refusedNameTooLong: t.refusedNameTooLong, example: printable(sender.slice(0, 64)) }, why);
  }

  /** Peers silent past their timeout go down now (the bridge checks on its own clock). */
  expire(now: number): void {
    for (const change of this.table.expire(now)) this.fireChange(change);
  }

  list(): PeerState[] {
    return this.table.list();
  }

  stats(): PeerTableStats {
    return this.table.stats();
  }

  private fireChange(change: PeerChange): void {
    const c = this.o.counters;
    if (!this.events.take(this.o.now())) {
      c.eventsRefused++;
      this.o.warn('peer-events', { eventsRefused: c.eventsRefused, limit: `${PEER_EVENT_RATE_PER_S}/s, burst ${this.events.burst}` }, 'too many peer up/down changes: not all are fired into FreeSWITCH or logged');
      return;
    }
    const subclass = change.kind === 'peerup' ? 'multicast::peerup' : 'multicast::peerdown';
    // The peer's own key: its connection, so a peerup never overtakes the HEARTBEAT that caused it.
    this.o.fire(change.peer, buildCustomSendevent(subclass, [['Peer', change.peer], ['Lastseen', change.lastseen]]));
    if (change.kind === 'peerup') c.up++;
    else c.down++;
    this.o.logger.info({ peer: printable(change.peer), lastseen: change.lastseen }, change.kind === 'peerup' ? 'peer up' : 'peer down');
  }
}

/** A burst of one per possible peer (bounded), then PEER_EVENT_RATE_PER_S. */
function eventBucket(maxPeers: number, nowMs: number): TokenBucket {
  return new TokenBucket(PEER_EVENT_RATE_PER_S, Math.min(maxPeers, PEER_EVENT_BURST_MAX), nowMs);
}
