/**
 * Options of the UDP transport and their up-front validation. Pure: no sockets here, so the
 * rules can be tested (and reported to the operator) before anything is bound.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface UdpDestination {
  /** IP literal (no host names: the C module resolves once at load, so do we, elsewhere). */
  address: string;
  family: 4 | 6;
  /** True for a multicast group: it is also joined, so we receive what peers send to it. */
  multicast: boolean;
  /** Which wire format this destination takes (default legacy: the C module's). */
  format?: WireFormat;
}

/** The C module's datagrams, or the bridge-to-bridge compact format (docs/compact-wire.md). */
export type WireFormat = 'legacy' | 'compact';

export interface UdpTransportOptions {
  destinations: readonly UdpDestination[];
  /** The one UDP port: bound locally AND used as the destination port for every destination. */
  port: number;
  /** IPv4 address the IPv4 socket binds to. Default 0.0.0.0. */
  sourceAddress?: string;
  /** IPv6 address the IPv6 socket binds to. Default ::. */
  sourceAddressV6?: string;
  /** Multicast TTL (IPv4) and hop limit (IPv6), 0..255. 0 keeps multicast on this host. */
  ttl: number;
  /**
   * Multicast loopback: the sender's own host also receives its multicast. Applied to BOTH
   * sockets. The C module always leaves IPv6 loop off; here it follows this flag, which is
   * false by default in the config, so the default behaviour matches.
   */
  loopback: boolean;
  /** IPv4 address of the interface multicast leaves by and groups are joined on. */
  multicastInterface?: string;
  /** IPv6 interface (name like 'veth0' or 'lo', or numeric scope id) for multicast. */
  multicastInterfaceV6?: string;
  /** Receive buffer wanted (bytes). Default 4 MiB; Linux caps it at net.core.rmem_max. */
  recvBufferBytes?: number;
  /** Send buffer wanted (bytes). Default 4 MiB; Linux caps it at net.core.wmem_max. */
  sendBufferBytes?: number;
}

/** Options with defaults applied and every value checked. */
export interface ResolvedUdpTransportOptions {
  destinations: readonly UdpDestination[];
  port: number;
  sourceAddress: string;
  sourceAddressV6: string;
  ttl: number;
  loopback: boolean;
  multicastInterface: string | undefined;
  /** Already in the form libuv wants for IPv6 multicast calls: '::%name'. */
  multicastInterfaceV6: string | undefined;
  recvBufferBytes: number;
  sendBufferBytes: number;
}

export const DEFAULT_BUFFER_BYTES = 4 * 1024 * 1024;

export class UdpOptionsError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid UDP transport option '${option}': ${message}`);
    this.name = 'UdpOptionsError';
  }
}

/** Strips an IPv6 zone ('%eth0') so range checks look at the address only. */
function withoutZone(address: string): string {
  const at = address.indexOf('%');
  return at === -1 ? address : address.slice(0, at);
}

export function isMulticastV4(address: string): boolean {
  if (!isIPv4(address)) return false;
  const first = Number(address.slice(0, address.indexOf('.')));
  return first >= 224 && first <= 239;
}

export function isMulticastV6(address: string): boolean {
  return isIPv6(address) && withoutZone(address).toLowerCase().startsWith('ff');
}

function checkBuffer(option: string, value: number | undefined): number {
  if (value === undefined) return DEFAULT_BUFFER_BYTES;
  if (!Number.isInteger(value) || value < 1 || value > 2 ** 31 - 1) {
    throw new UdpOptionsError(option, `${String(value)} is not an integer number of bytes in 1..2147483647`);
  }
  return value;
}

function checkDestination(d: UdpDestination, index: number): void {
  const option = `destinations[${index}]`;
  if (d.family !== 4 && d.family !== 6) {
    throw new UdpOptionsError(option, `family ${String(d.family)} is not 4 or 6`);
  }
  const isRightFamily = d.family === 4 ? isIPv4(d.address) : isIPv6(d.address);
  if (!isRightFamily) {
    throw new UdpOptionsError(option, `'${d.address}' is not an IPv${d.family} address literal`);
  }
  const isGroup = d.family === 4 ? isMulticastV4(d.address) : isMulticastV6(d.address);
  if (isGroup !== d.multicast) {
    throw new UdpOptionsError(
      option,
      `'${d.address}' is ${isGroup ? '' : 'not '}a multicast address but multicast is ${String(d.multicast)}`,
    );
  }
}

/**
 * Turns an IPv6 interface option into libuv's '::%scope' form. Accepts 'veth0', '%veth0',
 * '::%veth0' or a numeric scope id.
 */
function normaliseInterfaceV6(value: string): string {
  const name = value.startsWith('::%') ? value.slice(3) : value.startsWith('%') ? value.slice(1) : value;
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) {
    throw new UdpOptionsError(
      'multicastInterfaceV6',
      `'${value}' is not an interface name (1..15 of letters, digits, _ . - @ :) or a scope id`,
    );
  }
  return `::%${name}`;
}

export function resolveUdpTransportOptions(options: UdpTransportOptions): ResolvedUdpTransportOptions {
  if (!Array.isArray(options.destinations) || options.destinations.length === 0) {
    throw new UdpOptionsError('destinations', 'at least one destination is required (nothing to send to or join)');
  }
  options.destinations.forEach(checkDestination);
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new UdpOptionsError('port', `${String(options.port)} is not an integer in 1..65535`);
  }
  if (!Number.isInteger(options.ttl) || options.ttl < 0 || options.ttl > 255) {
    throw new UdpOptionsError('ttl', `${String(options.ttl)} is not an integer in 0..255`);
  }
  if (typeof options.loopback !== 'boolean') {
    throw new UdpOptionsError('loopback', `${String(options.loopback)} is not a boolean`);
  }
  const sourceAddress = options.sourceAddress ?? '0.0.0.0';
  if (!isIPv4(sourceAddress)) {
    throw new UdpOptionsError('sourceAddress', `'${sourceAddress}' is not an IPv4 address literal`);
  }
  const sourceAddressV6 = options.sourceAddressV6 ?? '::';
  if (!isIPv6(sourceAddressV6)) {
    throw new UdpOptionsError('sourceAddressV6', `'${sourceAddressV6}' is not an IPv6 address literal`);
  }
  const multicastInterface = options.multicastInterface;
  if (multicastInterface !== undefined && !isIPv4(multicastInterface)) {
    throw new UdpOptionsError(
      'multicastInterface',
      `'${multicastInterface}' is not an IPv4 address literal (the address of the interface to use)`,
    );
  }
  return {
    destinations: options.destinations.map((d) => ({ ...d })),
    port: options.port,
    sourceAddress,
    sourceAddressV6,
    ttl: options.ttl,
    loopback: options.loopback,
    multicastInterface,
    multicastInterfaceV6:
      options.multicastInterfaceV6 === undefined ? undefined : normaliseInterfaceV6(options.multicastInterfaceV6),
    recvBufferBytes: checkBuffer('recvBufferBytes', options.recvBufferBytes),
    sendBufferBytes: checkBuffer('sendBufferBytes', options.sendBufferBytes),
  };
}
