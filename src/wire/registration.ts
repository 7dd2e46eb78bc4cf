/**
 * The registration facts the location directory needs, read from one event by the worker pool
 * (src/pool/tasks.ts) on both paths: local events from the event socket (egress) and received
 * events from peers (ingress). Pure: the caller says how to read a header.
 *
 * mod_sofia names the fields differently per event: sofia::register and sofia::unregister carry
 * `from-user`/`from-host`, sofia::expire (sofia_reg_del_callback) carries `user`/`host`.
 */

export type RegistrationKind = 'register' | 'unregister' | 'expire';

export interface RegistrationFacts {
  /** The event's index in its batch. */
  index: number;
  kind: RegistrationKind;
  user: string;
  domain: string;
  contact: string;
  /** Seconds; 0 for an unregister or expire. */
  expiresSeconds: number;
  /** FreeSWITCH-Switchname of the box that raised the event (ingress: Multicast-Sender when set). */
  switchname: string | null;
  /** FreeSWITCH-IPv4 of the box that raised the event. */
  ipv4: string | null;
}

const KIND_BY_SUBCLASS: ReadonlyMap<string, RegistrationKind> = new Map([
  ['sofia::register', 'register'],
  ['sofia::unregister', 'unregister'],
  ['sofia::expire', 'expire'],
]);

/** The registration kind of an event, or null when it is none of the three. */
export function registrationKind(eventName: string | null, subclass: string | null): RegistrationKind | null {
  if (eventName !== 'CUSTOM' || subclass === null) return null;
  return KIND_BY_SUBCLASS.get(subclass) ?? null;
}

/** Header names are given in lower case; the reader matches them as FreeSWITCH does. */
export type HeaderReader = (lowerName: string) => string | null;

/** The facts of a registration event, or null when it names no user or domain. */
export function registrationFacts(index: number, kind: RegistrationKind, header: HeaderReader, sender: string | null): RegistrationFacts | null {
  const user = kind === 'expire' ? (header('user') ?? header('username')) : header('from-user');
  const domain = kind === 'expire' ? header('host') : header('from-host');
  if (user === null || domain === null || user === '' || domain === '') return null;
  const expires = kind === 'register' ? Number(header('expires') ?? '') : 0;
  return {
    index,
    kind,
    user,
    domain,
    contact: header('contact') ?? '',
    // A register without a readable expiry is still a registration: mod_sofia's default is 3600 s.
    expiresSeconds: Number.isFinite(expires) && expires >= 0 ? Math.floor(expires) : 3600,
    switchname: sender ?? header('freeswitch-switchname'),
    ipv4: header('freeswitch-ipv4'),
  };
}
