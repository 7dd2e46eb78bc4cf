/**
 * What the kernel knows about the bridge's UDP sockets and the bridge cannot see itself, read
 * from /proc/net/udp{,6} every few seconds (one small file read):
 *
 * - Other listeners on the bridge's port. A socket bound with address reuse (the multicast
 *   case) can be joined on its port by any local process that also asks for reuse, and that
 *   process then gets the unicast datagrams: a C module still loaded, a second bridge, anyone.
 * - Receive-buffer drops. When the bridge does not read fast enough the kernel drops datagrams
 *   and counts them per socket; nothing else tells. A drop episode is reported once when it
 *   starts and once when it has been quiet for `quietMs`.
 *
 * The bridge's own sockets are found by inode (udp-transport.ts learns them at bind time).
 */
import { normalizeIp, procReader, type ProcUdpSocket, type UdpProcReader } from './proc-net-udp.js';

export interface WatchedSocket {
  family: 4 | 6;
  address: string;
  port: number;
  /** null: not identified at bind time (then no drop count for it). */
  inode: number | null;
}

/** Another socket that can receive datagrams sent to the bridge's address and port. */
export interface PortSharer {
  family: 4 | 6;
  /** `address:port` as bound, e.g. `0.0.0.0:4242` or `[::]:4242`. */
  local: string;
  uid: number;
  inode: number;
  /** Which of the bridge's sockets it competes with. */
  shares: string;
  /** Why it gets the bridge's datagrams: the same address, a wildcard, or an IPv6 socket taking IPv4 too (unless it is IPv6-only, which /proc does not tell). */
  how: 'same address' | 'wildcard' | 'IPv6 dual-stack';
}

export interface DropEpisode {
  /** Epoch ms of the first drop seen. */
  sinceMs: number;
  /** Epoch ms of the latest drop seen. */
  lastMs: number;
  drops: number;
}

export interface UdpWatchResult {
  sharers: PortSharer[];
  /** The list differs from the previous check's: log it. */
  sharersChanged: boolean;
  /** Drops counted since the previous check. */
  newDrops: number;
  /** An episode began at this check, or the one that was running ended (then it is its summary). */
  episodeStarted: DropEpisode | null;
  episodeEnded: DropEpisode | null;
}

export interface UdpWatchStats {
  /** False where /proc/net/udp cannot be read (not Linux): nothing below is known. */
  available: boolean;
  /** Datagrams the kernel dropped on the bridge's sockets since it started (receive buffer full). */
  kernelRcvbufDrops: number;
  /** Bytes waiting in the bridge's receive queues at the last check. */
  rxQueueBytes: number;
  portSharers: PortSharer[];
  dropEpisode: DropEpisode | null;
}

/** A drop episode ends after this long without a drop. */
export const DROP_EPISODE_QUIET_MS = 60_000;

const WILDCARD = new Set(['0.0.0.0', '::']);

const endpointText = (family: 4 | 6, address: string, port: number) => (family === 4 ? `${address}:${port}` : `[${address}]:${port}`);

/** Both sockets can be handed a datagram for the same address: equal, or either is a wildcard. */
function overlaps(a: string, b: string): boolean {
  return a === b || WILDCARD.has(a) || WILDCARD.has(b);
}

export class UdpSocketWatch {
  private kernelRcvbufDrops = 0;
  private rxQueueBytes = 0;
  /** drops of each own socket at the last check. */
  private readonly lastDrops = new Map<number, number>();
  private sharers: PortSharer[] = [];
  private sharersKey = '';
  private episode: DropEpisode | null = null;
  /** Set by each check: false until /proc/net/udp has been read once. */
  private available = false;

  constructor(
    private readonly reader: UdpProcReader = procReader,
    private readonly quietMs = DROP_EPISODE_QUIET_MS,
  ) {}

  /** Reads the tables once; null where they cannot be read. */
  check(own: readonly WatchedSocket[], nowMs: number): UdpWatchResult | null {
    const families = new Set(own.map((s) => s.family));
    // An IPv4 socket also competes with IPv6 wildcard sockets that are not IPv6-only.
    const tables = new Map<4 | 6, ProcUdpSocket[]>();
    for (const f of [4, 6] as const) {
      if (!families.has(f) && !(f === 6 && families.has(4))) continue;
      const t = this.reader.sockets(f);
      if (t === null) {
        if (f === 6 && !families.has(6)) continue; // IPv6 off: no dual-stack socket either
        this.available = false;
        return null;
      }
      tables.set(f, t);
    }
    this.available = true;
    const ownInodes = new Set(own.flatMap((s) => (s.inode === null ? [] : [s.inode])));
    // An own socket not identified: every socket of this process is taken for one of ours.
    const processInodes = own.some((s) => s.inode === null) ? this.reader.ownSocketInodes() ?? new Set<number>() : new Set<number>();
    const isOurs = (inode: number) => ownInodes.has(inode) || processInodes.has(inode);

    const sharers: PortSharer[] = [];
    let newDrops = 0;
    let rxQueue = 0;
    const seen = new Set<number>();
    for (const s of own) {
      const mine = normalizeIp(s.address);
      const shares = endpointText(s.family, mine, s.port);
      for (const e of tables.get(s.family) ?? []) {
        if (e.inode === s.inode) {
          seen.add(e.inode);
          newDrops += Math.max(0, e.drops - (this.lastDrops.get(e.inode) ?? 0));
          this.lastDrops.set(e.inode, e.drops);
          rxQueue += e.rxQueue;
        } else if (e.localPort === s.port && !isOurs(e.inode) && overlaps(mine, e.localAddress)) {
          const how = mine === e.localAddress ? 'same address' : 'wildcard';
          sharers.push({ family: s.family, local: endpointText(s.family, e.localAddress, e.localPort), uid: e.uid, inode: e.inode, shares, how });
        }
      }
      if (s.family === 4) {
        for (const e of tables.get(6) ?? []) {
          const mapped = e.localAddress === '::' || e.localAddress === `::ffff:${mine}` || (mine === '0.0.0.0' && e.localAddress.startsWith('::ffff:'));
          if (e.localPort === s.port && mapped && !isOurs(e.inode)) {
            sharers.push({ family: 6, local: endpointText(6, e.localAddress, e.localPort), uid: e.uid, inode: e.inode, shares, how: 'IPv6 dual-stack' });
          }
        }
      }
    }
    // Sockets that are gone (closed by a reload) are not counted again.
    for (const inode of [...this.lastDrops.keys()]) if (!seen.has(inode)) this.lastDrops.delete(inode);
    this.kernelRcvbufDrops += newDrops;
    this.rxQueueBytes = rxQueue;

    const unique = dedupe(sharers);
    const key = unique.map((x) => `${x.inode}`).join(',');
    const sharersChanged = key !== this.sharersKey;
    this.sharersKey = key;
    this.sharers = unique;

    let episodeStarted: DropEpisode | null = null;
    let episodeEnded: DropEpisode | null = null;
    if (newDrops > 0) {
      if (this.episode === null) {
        this.episode = { sinceMs: nowMs, lastMs: nowMs, drops: newDrops };
        episodeStarted = { ...this.episode };
      } else {
        this.episode.drops += newDrops;
        this.episode.lastMs = nowMs;
      }
    } else if (this.episode !== null && nowMs - this.episode.lastMs >= this.quietMs) {
      episodeEnded = this.episode;
      this.episode = null;
    }
    return { sharers: unique, sharersChanged, newDrops, episodeStarted, episodeEnded };
  }

  stats(): UdpWatchStats {
    return {
      available: this.available,
      kernelRcvbufDrops: this.kernelRcvbufDrops,
      rxQueueBytes: this.rxQueueBytes,
      portSharers: this.sharers.map((s) => ({ ...s })),
      dropEpisode: this.episode === null ? null : { ...this.episode },
    };
  }
}

function dedupe(list: PortSharer[]): PortSharer[] {
  const byInode = new Map<number, PortSharer>();
  for (const s of list) if (!byInode.has(s.inode)) byInode.set(s.inode, s);
  return [...byInode.values()].sort((a, b) => a.inode - b.inode);
}
