/**
 * What the kernel's view of the bridge's UDP sockets (udp-watch.ts) means for the operator: the
 * log lines, each said when the situation changes (another listener appears or leaves, a drop
 * episode starts or ends), and the /healthz line while another socket shares the port.
 */
import type { Logger } from '../../util/log.js';
import { UdpSocketWatch, type UdpWatchStats, type WatchedSocket } from './udp-watch.js';

export interface UdpHealthContext {
  port: number;
  /** udp-rcvbuf as configured (bytes). */
  rcvbufConfigured: number;
  /** The receive buffers the kernel actually gave (bytes), read only when a drop episode starts. */
  rcvbufEffective(): number[];
}

export class UdpHealth {
  private readonly watch = new UdpSocketWatch();

  constructor(private readonly logger: Logger) {}

  /** Reads /proc now; logs what changed; returns the datagrams the kernel dropped since the last check. */
  check(own: readonly WatchedSocket[], nowMs: number, ctx: UdpHealthContext): number {
    if (own.length === 0) return 0;
    const r = this.watch.check(own, nowMs);
    if (r === null) return 0;
    const port = ctx.port;
    if (r.sharersChanged && r.sharers.length > 0) {
      this.logger.warn(
        { port, sharers: r.sharers, find: findCommand(port) },
        `another socket is bound to UDP port ${port} on this host and can take datagrams meant for the bridge: a loaded mod_event_multicast ('unload mod_event_multicast'), a second bridge, or another program`,
      );
    } else if (r.sharersChanged) this.logger.info({ port }, `no other socket shares UDP port ${port} any more`);
    if (r.episodeStarted !== null) {
      this.logger.warn(
        { kernelRcvbufDrops: r.newDrops, receiveBufferBytes: ctx.rcvbufEffective(), udpRcvbuf: ctx.rcvbufConfigured },
        'the kernel is dropping received datagrams: the receive buffer is full because the bridge does not read fast enough. Raise udp-rcvbuf and net.core.rmem_max (sysctl), and give the bridge real-time priority (see conf/fs-event-multicast.service)',
      );
    }
    if (r.episodeEnded !== null) {
      const e = r.episodeEnded;
      this.logger.info({ drops: e.drops, seconds: Math.round((e.lastMs - e.sinceMs) / 1000) }, 'kernel receive-buffer drops have stopped');
    }
    return r.newDrops;
  }

  /** The /healthz line while other sockets can take the bridge's datagrams, else null. */
  problem(port: number): string | null {
    const sharers = this.watch.stats().portSharers;
    if (sharers.length === 0) return null;
    const list = sharers.map((s) => `${s.local} (uid ${s.uid}, inode ${s.inode}, ${s.how})`).join(', ');
    return `udp: other sockets on UDP port ${port} can take the bridge's datagrams: ${list}; find them with: ${findCommand(port)}`;
  }

  stats(): UdpWatchStats {
    return this.watch.stats();
  }
}

function findCommand(port: number): string {
  return `ss -uanp 'sport = :${port}'`;
}
