/**
 * "Bind Error", as the C module's users know it, explained: which address and port, the errno
 * in words, and what usually causes it on a FreeSWITCH box. Pure, so each errno is tested.
 */

interface ErrnoText {
  words: string;
  cause: (where: BindTarget) => string;
}

export interface BindTarget {
  family: 4 | 6;
  address: string;
  port: number;
}

const IPV6_PARAM = 'source_address_ipv6';
const sourceParam = (t: BindTarget) => (t.family === 4 ? 'source_address' : IPV6_PARAM);
const ssHint = (port: number) => `ss -uanp 'sport = :${port}'`;

const ERRNO: Record<string, ErrnoText> = {
  EADDRINUSE: {
    words: 'address already in use',
    cause: (t) =>
      `another socket holds UDP port ${t.port}: a FreeSWITCH with mod_event_multicast still loaded (run 'unload mod_event_multicast' in fs_cli, ` +
      `and take it out of modules.conf.xml) or a second bridge; see who holds it with: ${ssHint(t.port)}`,
  },
  EADDRNOTAVAIL: {
    words: 'cannot assign requested address',
    cause: (t) =>
      `${t.address} is not an address of this host: a jail or container with its own addresses, or a wrong ${sourceParam(t)}; ` +
      `list this host's addresses with: ip -br addr`,
  },
  EACCES: {
    words: 'permission denied',
    cause: (t) =>
      t.port < 1024
        ? `port ${t.port} is privileged: use a port of 1024 or more, or run the bridge with CAP_NET_BIND_SERVICE (AmbientCapabilities= in the systemd unit)`
        : `a security policy (SELinux, AppArmor, a jail) does not let this user bind ${t.address}:${t.port}`,
  },
  EPERM: {
    words: 'operation not permitted',
    cause: () => 'a security policy (seccomp, SELinux, AppArmor, a jail) forbids the bind',
  },
  EINVAL: {
    words: 'invalid argument',
    cause: (t) =>
      t.family === 6 && t.address.toLowerCase().startsWith('::ffff:')
        ? `${t.address} is an IPv4 address written as IPv6: the IPv6 socket is IPv6-only, so give the IPv4 address as source_address instead`
        : `the kernel refuses ${t.address} for a UDP IPv${t.family} socket (a multicast or broadcast address as ${sourceParam(t)}?)`,
  },
  EAFNOSUPPORT: {
    words: 'address family not supported',
    cause: (t) => (t.family === 6 ? 'IPv6 is disabled on this host or in this container: remove the IPv6 destinations, or enable IPv6' : 'IPv4 is not available here'),
  },
};

/** The errno in words, e.g. `EADDRINUSE (address already in use)`. */
export function errnoInWords(code: string): string {
  const e = ERRNO[code];
  return e === undefined ? code : `${code} (${e.words})`;
}

/** The full message: `Bind Error: cannot bind ... 0.0.0.0:4242: EADDRINUSE (address already in use). Likely cause: ...` */
export function describeBindError(t: BindTarget, code: string): string {
  const where = t.family === 4 ? `${t.address}:${t.port}` : `[${t.address}]:${t.port}`;
  const e = ERRNO[code];
  const cause = e === undefined ? `see bind(2); check ${sourceParam(t)} and port` : e.cause(t);
  return `Bind Error: cannot bind the UDP IPv${t.family} socket to ${where} (address ${t.address}, port ${t.port}): ${errnoInWords(code)}. Likely cause: ${cause}`;
}
