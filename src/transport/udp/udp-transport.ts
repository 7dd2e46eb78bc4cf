/**
 * The UDP side of the bridge (spec section 1): one IPv4 socket if any IPv4 destination, one
 * IPv6 socket if any IPv6 destination; multicast TTL/hops and loopback set, bound to the source
 * address and the one `port`, every multicast destination joined.
 *
 * Address reuse: the C module sets SO_REUSEADDR always, so any local process that binds the
 * same port with it takes the unicast datagrams meant for the module. Here a socket is bound
 * exclusively unless its family has a multicast destination (sharing a group's port on one
 * host needs reuse); a shared port is watched for other listeners instead (udp-watch.ts).
 *
 * Differences from the C module, on purpose:
 * - IPv6 multicast loop follows `loopback` (the C module leaves it off always; `loopback`
 *   defaults to off, so the default matches). Linux's own default for IPV6_MULTICAST_LOOP is
 *   ON, so it is always set explicitly.
 * - The multicast interface can be pinned (`multicastInterface`, `multicastInterfaceV6`); the C
 *   module uses the default route's interface.
 * - Datagrams are received as they arrive (no 500 ms poll).
 *
 * Multicast on Linux `lo`: the loopback interface lacks the MULTICAST flag by default, so
 * pinning multicast to 127.0.0.1 / 'lo' needs `ip link set lo multicast on` first (the tests
 * never touch the host's lo: they use network namespaces).
 *
 * A socket bound to a specific source address (not 0.0.0.0 / ::) receives unicast to that
 * address only: multicast is addressed to the group, so such a socket does not see it. That
 * is how the C module behaves too.
 */
import dgram from 'node:dgram';
import { SEND_QUEUE_FULL, sendQueueFull } from './send-queue.js';
import { describeBindError } from './bind-errors.js';
import { ownUdpInodesAt, procReader } from './proc-net-udp.js';
import {
  resolveUdpTransportOptions,
  type ResolvedUdpTransportOptions,
  type UdpDestination,
  type UdpTransportOptions,
  type WireFormat,
} from './options.js';

export type { UdpDestination, UdpTransportOptions, WireFormat } from './options.js';
export { UdpOptionsError, DEFAULT_BUFFER_BYTES } from './options.js';

/** Where a datagram came from. The object handed to the callback is reused: copy to keep. */
export interface DatagramSource {
  address: string;
  port: number;
  family: 4 | 6;
}

export type DatagramHandler = (datagram: Buffer, from: DatagramSource) => void;

export type UdpTransportErrorKind = 'bind' | 'join' | 'socket-option' | 'state';

/** A failure of start(): says what was attempted (address:port, group) and the errno code. */
export class UdpTransportError extends Error {
  constructor(
    readonly kind: UdpTransportErrorKind,
    message: string,
    /** errno code such as EADDRNOTAVAIL, or undefined when none applies. */
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UdpTransportError';
  }
}

export interface BufferSizeReport {
  /** What was asked for. */
  requested: number;
  /** What the kernel reports (getsockopt). Linux reports twice the usable size. */
  granted: number;
  /** Usable bytes: granted / 2 on Linux (it doubles for bookkeeping), granted elsewhere. */
  effective: number;
  /** The kernel gave less than requested (on Linux: net.core.rmem_max / wmem_max too low). */
  capped: boolean;
}

export interface SocketReport {
  family: 4 | 6;
  boundAddress: string;
  port: number;
  /** Bound without address reuse: no other socket can take this address and port. */
  exclusive: boolean;
  /** The socket's inode in /proc/net/udp{,6} (Linux), or null when it could not be told. */
  inode: number | null;
  recvBuffer: BufferSizeReport;
  sendBuffer: BufferSizeReport;
}

export interface DestinationStats {
  address: string;
  family: 4 | 6;
  multicast: boolean;
  /** Datagrams the kernel accepted for this destination. */
  sent: number;
  bytesSent: number;
  /** Datagrams that failed (EMSGSIZE, ENETUNREACH, socket not running, ...). */
  failed: number;
  /** Failure counts by errno code. */
  errorsByCode: Record<string, number>;
  lastError: string | null;
  /** This unicast destination is the box's own address: nothing is sent to it (as the C module does). */
  self: boolean;
  /** Datagrams not sent because the destination is this box. */
  skippedSelf: number;
}

export interface UdpTransportStats {
  destinations: DestinationStats[];
  received: number;
  receivedBytes: number;
  /** Errors the sockets emitted after start (never thrown; see onError). */
  socketErrors: number;
  /** Bytes / datagrams queued in libuv because the kernel send buffer was full. */
  sendQueueBytes: number;
  sendQueueCount: number;
  sockets: SocketReport[];
}

/** Per-destination state, with its send callback made once (no closure per datagram). */
interface DestinationState {
  readonly spec: UdpDestination;
  readonly stats: DestinationStats;
  socket: dgram.Socket | null;
  readonly onSent: (error: Error | null, bytes: number) => void;
}

interface FamilySocket {
  readonly family: 4 | 6;
  readonly socket: dgram.Socket;
  report: SocketReport | null;
}

function errorCode(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return 'UNKNOWN';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Linux doubles SO_RCVBUF/SO_SNDBUF for bookkeeping and reports the doubled value. */
const KERNEL_DOUBLES_BUFFERS = process.platform === 'linux';

function bufferReport(requested: number, granted: number): BufferSizeReport {
  const effective = KERNEL_DOUBLES_BUFFERS ? Math.floor(granted / 2) : granted;
  return { requested, granted, effective, capped: effective < requested };
}

/** One spelling per address: IPv6 compressed and lower-case, IPv4 as is. */
function normalizeAddress(a: string): string {
  const t = a.trim().toLowerCase();
  if (!t.includes(':')) return t;
  try {
    return new URL(`http://[${t}]/`).hostname;
  } catch {
    return t;
  }
}

export class UdpTransport {
  private readonly options: ResolvedUdpTransportOptions;
  private readonly destinations: DestinationState[];
  private readonly sockets: FamilySocket[] = [];
  private state: 'new' | 'starting' | 'running' | 'closed' = 'new';
  private handler: DatagramHandler | null = null;
  private errorHandler: ((error: Error) => void) | null = null;
  private received = 0;
  private receivedBytes = 0;
  private socketErrors = 0;

  /** Validates the options now (throws UdpOptionsError); sockets are made by start(). */
  constructor(options: UdpTransportOptions) {
    this.options = resolveUdpTransportOptions(options);
    this.destinations = this.options.destinations.map((spec) => this.makeDestination(spec));
  }

  /** Registers the one receive handler (replaces any earlier one). */
  onDatagram(handler: DatagramHandler): void {
    this.handler = handler;
  }

  /** Socket errors after start (they are also counted). Without a handler they are only counted. */
  onError(handler: (error: Error) => void): void {
    this.errorHandler = handler;
  }

  /** Warnings worth logging once after start, e.g. a receive buffer capped by the kernel. */
  warnings(): string[] {
    const out: string[] = [];
    for (const { report } of this.sockets) {
      if (report === null) continue;
      const where = `IPv${report.family} socket ${report.boundAddress}:${report.port}`;
      if (report.recvBuffer.capped) {
        out.push(
          `${where}: receive buffer is ${report.recvBuffer.effective} bytes, ${report.recvBuffer.requested} requested ` +
            `(raise net.core.rmem_max; bursts may be dropped)`,
        );
      }
      if (report.sendBuffer.capped) {
        out.push(
          `${where}: send buffer is ${report.sendBuffer.effective} bytes, ${report.sendBuffer.requested} requested ` +
            `(raise net.core.wmem_max)`,
        );
      }
    }
    return out;
  }

  /** Binds the sockets, sets options and joins groups. Rejects with a UdpTransportError. */
  async start(): Promise<void> {
    if (this.state !== 'new') {
      throw new UdpTransportError('state', `UDP transport cannot start: it is ${this.state}`, undefined);
    }
    this.state = 'starting';
    try {
      for (const family of [4, 6] as const) {
        const wanted = this.destinations.filter((d) => d.spec.family === family);
        if (wanted.length === 0) continue;
        const fs = await this.openSocket(family);
        for (const d of wanted) d.socket = fs.socket;
      }
      this.state = 'running';
    } catch (error) {
      await this.closeSockets();
      this.state = 'closed';
      throw error;
    }
  }

  /**
   * Sends one copy of the datagram to every destination that takes its wire format (a C module
   * must never get compact bytes). Failures are counted, never thrown.
   */
  send(datagram: Buffer, format: WireFormat = 'legacy'): void {
    for (const d of this.destinations) if ((d.spec.format ?? 'legacy') === format) this.sendTo(d, datagram);
  }

  /** send() for each datagram in order. */
  sendMany(datagrams: readonly Buffer[], format: WireFormat = 'legacy'): void {
    for (const datagram of datagrams) this.send(datagram, format);
  }

  stats(): UdpTransportStats {
    let sendQueueBytes = 0;
    let sendQueueCount = 0;
    const sockets: SocketReport[] = [];
    for (const fs of this.sockets) {
      if (fs.report !== null) sockets.push({ ...fs.report });
      if (this.state === 'running') {
        sendQueueBytes += fs.socket.getSendQueueSize();
        sendQueueCount += fs.socket.getSendQueueCount();
      }
    }
    return {
      destinations: this.destinations.map((d) => ({ ...d.stats, errorsByCode: { ...d.stats.errorsByCode } })),
      received: this.received,
      receivedBytes: this.receivedBytes,
      socketErrors: this.socketErrors,
      sendQueueBytes,
      sendQueueCount,
      sockets,
    };
  }

  /** What the sockets are bound to (after start) and their inodes, e.g. to find them in /proc/net/udp. */
  boundAddresses(): { family: 4 | 6; address: string; port: number; inode: number | null }[] {
    return this.sockets.flatMap(({ report }) =>
      report === null ? [] : [{ family: report.family, address: report.boundAddress, port: report.port, inode: report.inode }],
    );
  }

  /** Closes the sockets. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    await this.closeSockets();
  }

  private makeDestination(spec: UdpDestination): DestinationState {
    const stats: DestinationStats = {
      address: spec.address,
      family: spec.family,
      multicast: spec.multicast,
      sent: 0,
      bytesSent: 0,
      failed: 0,
      errorsByCode: {},
      lastError: null,
      self: false,
      skippedSelf: 0,
    };
    const state: DestinationState = {
      spec,
      stats,
      socket: null,
      // dgram calls back with (error, bytesSent); bytes are 0 on error.
      onSent: (error, bytes) => {
        if (error) this.countFailure(stats, error);
        else {
          stats.sent++;
          stats.bytesSent += bytes;
        }
      },
    };
    return state;
  }

  /**
   * Marks unicast destinations equal to one of `addresses` (the box's own local_ip_v4/v6) as
   * this box: the C module skips them, so a cluster can share one destination list.
   * Returns the destinations now skipped.
   */
  skipOwnAddresses(addresses: readonly string[]): string[] {
    const own = new Set(addresses.map(normalizeAddress));
    const skipped: string[] = [];
    for (const d of this.destinations) {
      d.stats.self = !d.spec.multicast && own.has(normalizeAddress(d.spec.address));
      if (d.stats.self) skipped.push(d.spec.address);
    }
    return skipped;
  }

  private sendTo(d: DestinationState, datagram: Buffer): void {
    if (d.stats.self) {
      d.stats.skippedSelf++;
      return;
    }
    if (this.state !== 'running' || d.socket === null) {
      this.countFailure(d.stats, { code: 'ENOTRUNNING', message: `transport is ${this.state}` });
      return;
    }
    if (sendQueueFull(d.socket)) {
      // The kernel buffer is full and libuv would queue without limit: drop and count instead.
      this.countFailure(d.stats, { code: SEND_QUEUE_FULL, message: 'send queue full' });
      return;
    }
    try {
      d.socket.send(datagram, 0, datagram.length, this.options.port, d.spec.address, d.onSent);
    } catch (error) {
      this.countFailure(d.stats, error);
    }
  }

  private countFailure(stats: DestinationStats, error: unknown): void {
    const code = errorCode(error);
    stats.failed++;
    stats.errorsByCode[code] = (stats.errorsByCode[code] ?? 0) + 1;
    stats.lastError = `${code}: ${describe(error)}`;
  }

  private async openSocket(family: 4 | 6): Promise<FamilySocket> {
    const o = this.options;
    const address = family === 4 ? o.sourceAddress : o.sourceAddressV6;
    // Reuse only where a multicast group's port may be shared; ipv6Only keeps IPv4 traffic off
    // the IPv6 socket (libuv rejects the flag on udp4).
    const reuseAddr = this.destinations.some((d) => d.spec.family === family && d.spec.multicast);
    const socket =
      family === 4
        ? dgram.createSocket({ type: 'udp4', reuseAddr })
        : dgram.createSocket({ type: 'udp6', reuseAddr, ipv6Only: true });
    const fs: FamilySocket = { family, socket, report: null };
    this.sockets.push(fs);
    const printable = family === 4 ? `${address}:${o.port}` : `[${address}]:${o.port}`;
    // This process's sockets on address:port before the bind: the one new after it is ours.
    const before = ownUdpInodesAt(procReader, family, address, o.port);

    await new Promise<void>((resolve, reject) => {
      const onBindError = (error: Error): void => {
        const code = errorCode(error);
        reject(new UdpTransportError('bind', describeBindError({ family, address, port: o.port }, code), code, { cause: error }));
      };
      socket.once('error', onBindError);
      socket.bind({ port: o.port, address }, () => {
        socket.removeListener('error', onBindError);
        resolve();
      });
    });

    const setOption = (what: string, apply: () => void): void => {
      try {
        apply();
      } catch (error) {
        const code = errorCode(error);
        throw new UdpTransportError('socket-option', `cannot set ${what} on IPv${family} socket ${printable}: ${code} (${describe(error)})`, code, {
          cause: error,
        });
      }
    };
    setOption(`receive buffer ${o.recvBufferBytes}`, () => socket.setRecvBufferSize(o.recvBufferBytes));
    setOption(`send buffer ${o.sendBufferBytes}`, () => socket.setSendBufferSize(o.sendBufferBytes));
    setOption(`multicast TTL ${o.ttl}`, () => socket.setMulticastTTL(o.ttl));
    setOption(`multicast loopback ${o.loopback ? 'on' : 'off'}`, () => socket.setMulticastLoopback(o.loopback));
    const iface = family === 4 ? o.multicastInterface : o.multicastInterfaceV6;
    if (iface !== undefined) setOption(`multicast interface ${iface}`, () => socket.setMulticastInterface(iface));

    const joined = new Set<string>();
    for (const d of this.destinations) {
      if (d.spec.family !== family || !d.spec.multicast) continue;
      // A group listed twice is sent to twice but joined once (a second join is EADDRINUSE).
      if (joined.has(d.spec.address)) continue;
      joined.add(d.spec.address);
      try {
        socket.addMembership(d.spec.address, iface);
      } catch (error) {
        const code = errorCode(error);
        const on = iface === undefined ? 'the default interface' : `interface ${iface}`;
        throw new UdpTransportError('join', `cannot join multicast group ${d.spec.address} on ${on}: ${code} (${describe(error)})`, code, {
          cause: error,
        });
      }
    }

    const bound = socket.address();
    const after = ownUdpInodesAt(procReader, family, bound.address, bound.port);
    const added = before === null || after === null ? [] : [...after].filter((i) => !before.has(i));
    fs.report = {
      family,
      boundAddress: bound.address,
      port: bound.port,
      exclusive: !reuseAddr,
      // Two new ones: another socket of this process bound the same address meanwhile; unknown.
      inode: added.length === 1 ? added[0]! : null,
      recvBuffer: bufferReport(o.recvBufferBytes, socket.getRecvBufferSize()),
      sendBuffer: bufferReport(o.sendBufferBytes, socket.getSendBufferSize()),
    };

    // Receive path: one reused source object per socket, so no allocation beyond dgram's own.
    const from: DatagramSource = { address: '', port: 0, family };
    socket.on('message', (message, rinfo) => {
      this.received++;
      this.receivedBytes += message.length;
      const handler = this.handler;
      if (handler === null) return;
      from.address = rinfo.address;
      from.port = rinfo.port;
      handler(message, from);
    });
    socket.on('error', (error) => {
      this.socketErrors++;
      this.errorHandler?.(error);
    });
    return fs;
  }

  private async closeSockets(): Promise<void> {
    const closing = this.sockets.map(
      ({ socket }) =>
        new Promise<void>((resolve) => {
          try {
            socket.close(() => resolve());
          } catch {
            resolve(); // never bound or already closed
          }
        }),
    );
    await Promise.all(closing);
    for (const d of this.destinations) d.socket = null;
  }
}
