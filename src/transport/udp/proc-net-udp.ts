/**
 * Linux's table of UDP sockets, /proc/net/udp and /proc/net/udp6 (one network namespace: the
 * reader's). Each line is one socket: local and remote address, queues, owner uid, inode and
 * `drops`, the datagrams the kernel threw away because the socket's receive buffer was full.
 * The parser is pure; reading the files is below it, and is null where there is no /proc.
 */
import { endianness } from 'node:os';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcUdpSocket {
  family: 4 | 6;
  /** Normalised: IPv4 dotted, IPv6 compressed lower case (`::`, `::1`, `::ffff:7f00:1`). */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** Bytes waiting in the receive queue now. */
  rxQueue: number;
  uid: number;
  inode: number;
  /** Datagrams dropped since the socket was made (receive buffer full, mostly). */
  drops: number;
}

const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** The kernel prints each 32-bit word of the address as a host-order number: undo that. */
function addressBytes(hex: string, littleEndian: boolean): Buffer | null {
  if (!/^[0-9A-Fa-f]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return null;
  const b = Buffer.from(hex, 'hex');
  if (littleEndian) for (let w = 0; w < b.length; w += 4) b.subarray(w, w + 4).reverse();
  return b;
}

/** One spelling per address, so the kernel's and Node's can be compared as strings. */
export function normalizeIp(address: string): string {
  const a = address.trim().toLowerCase();
  if (!a.includes(':')) return a;
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a;
  }
}

function formatAddress(b: Buffer): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return normalizeIp(groups.join(':'));
}

function endpoint(text: string | undefined, littleEndian: boolean): { address: string; port: number } | null {
  const colon = text?.indexOf(':') ?? -1;
  if (text === undefined || colon < 0) return null;
  const bytes = addressBytes(text.slice(0, colon), littleEndian);
  const port = Number.parseInt(text.slice(colon + 1), 16);
  if (bytes === null || !Number.isInteger(port)) return null;
  return { address: formatAddress(bytes), port };
}

/**
 * Parses the text of /proc/net/udp (family 4) or /proc/net/udp6 (family 6). Lines that do not
 * have the expected shape are skipped; a kernel without the `drops` column gives drops 0.
 */
export function parseProcNetUdp(text: string, family: 4 | 6, littleEndian = HOST_LITTLE_ENDIAN): ProcUdpSocket[] {
  const out: ProcUdpSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) continue;
    const local = endpoint(f[1], littleEndian);
    const remote = endpoint(f[2], littleEndian);
    const queues = /^([0-9A-Fa-f]+):([0-9A-Fa-f]+)$/.exec(f[4] ?? '');
    if (local === null || remote === null || queues === null) continue;
    if ((family === 4) !== !local.address.includes(':')) continue;
    out.push({
      family,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      rxQueue: Number.parseInt(queues[2]!, 16),
      uid: Number(f[7]),
      inode: Number(f[9]),
      drops: f[12] !== undefined && /^\d+$/.test(f[12]) ? Number(f[12]) : 0,
    });
  }
  return out;
}

/** Where the watch reads from: /proc on Linux, a fake in tests. */
export interface UdpProcReader {
  /** The UDP sockets of this network namespace, or null when they cannot be read. */
  sockets(family: 4 | 6): ProcUdpSocket[] | null;
  /** Inodes of every socket this process holds, or null when they cannot be read. */
  ownSocketInodes(): Set<number> | null;
}

export const procReader: UdpProcReader = {
  sockets(family) {
    try {
      return parseProcNetUdp(readFileSync(family === 4 ? '/proc/net/udp' : '/proc/net/udp6', 'latin1'), family);
    } catch {
      return null;
    }
  },
  ownSocketInodes() {
    let fds: string[];
    try {
      fds = readdirSync('/proc/self/fd');
    } catch {
      return null;
    }
    const inodes = new Set<number>();
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
        if (m !== null) inodes.add(Number(m[1]));
      } catch {
        // closed meanwhile
      }
    }
    return inodes;
  },
};

/** Inodes of this process's UDP sockets bound to exactly address:port, or null when /proc cannot tell. */
export function ownUdpInodesAt(reader: UdpProcReader, family: 4 | 6, address: string, port: number): Set<number> | null {
  const own = reader.ownSocketInodes();
  const all = reader.sockets(family);
  if (own === null || all === null) return null;
  const want = normalizeIp(address);
  return new Set(all.filter((s) => s.localPort === port && s.localAddress === want && own.has(s.inode)).map((s) => s.inode));
}
