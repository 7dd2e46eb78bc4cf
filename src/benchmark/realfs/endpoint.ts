/**
 * HOST:PORT of a switch's event socket, checked up front. The benchmark fires thousands of events
 * into the switches it is pointed at, so a non-loopback address is refused unless the user says
 * so explicitly (`--allow-remote`): a typo must not load a production switch across the network.
 */
import { isIP } from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
  loopback: boolean;
}

export class EndpointError extends Error {
  override readonly name = 'EndpointError';
}

export function isLoopbackAddress(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** `127.0.0.1:8021`, `[::1]:8021`, `localhost:8021`. */
export function parseEndpoint(text: string, flag: string, allowRemote: boolean): Endpoint {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (m === null) throw new EndpointError(`${flag} must be HOST:PORT (e.g. 127.0.0.1:8021, [::1]:8021), got ${JSON.stringify(text)}`);
  const host = m[1]!;
  const port = Number(m[2]);
  if (!(port >= 1 && port <= 65535)) throw new EndpointError(`${flag}: port must be 1..65535, got ${m[2]}`);
  if (host !== 'localhost' && isIP(host) === 0) throw new EndpointError(`${flag}: ${JSON.stringify(host)} is not an IP address (give the switch's address, not a name)`);
  const loopback = isLoopbackAddress(host);
  if (!loopback && !allowRemote) {
    throw new EndpointError(`${flag} ${host} is not a loopback address: the benchmark loads the switch with thousands of events; add --allow-remote if that is what you want`);
  }
  return { host: host === 'localhost' ? '127.0.0.1' : host, port, loopback };
}
