/**
 * The registration facts of a received event (src/wire/registration.ts), read from its decoded
 * header spans. One function for every ingress path — the C module's format in the pool, and
 * the compact format in the pool or after reassembly — so the location directory learns the
 * same from each.
 */
import type { HeaderSpans } from './header-scan.js';
import { scanValue, type PacketFacts } from './ingress.js';
import { registrationFacts, registrationKind, type RegistrationFacts } from './registration.js';

/** The headers a registration is read from, by lower-case name, as the case-insensitive lookup wants them. */
const NAMES_LOWER: ReadonlyMap<string, Buffer> = new Map(
  ['from-user', 'from-host', 'user', 'username', 'host', 'contact', 'expires', 'freeswitch-switchname', 'freeswitch-ipv4'].map((n) => [n, Buffer.from(n, 'latin1')]),
);

/** The facts of a received sofia::register / unregister / expire (event `index` of its batch), or null for any other event. */
export function receivedRegistration(index: number, scan: HeaderSpans, facts: PacketFacts): RegistrationFacts | null {
  const kind = registrationKind(facts.eventName, facts.subclass);
  if (kind === null) return null;
  return registrationFacts(index, kind, (lower) => {
    const name = NAMES_LOWER.get(lower);
    return name === undefined ? null : scanValue(scan, name);
  }, facts.sender);
}
