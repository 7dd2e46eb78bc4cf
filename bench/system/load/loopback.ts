/** Network safety: the benchmark only ever sends to loopback. */
import { isIP } from 'node:net';

/** Returns the address when it is IPv4 127.0.0.0/8 or ::1; throws otherwise. */
export function assertLoopback(address: string): string {
  const v = isIP(address);
  if ((v === 4 && address.startsWith('127.')) || (v === 6 && (address === '::1' || address === '0:0:0:0:0:0:0:1'))) return address;
  throw new RangeError(`benchmark traffic is loopback only (127.0.0.0/8 or ::1), got ${JSON.stringify(address)}`);
}
