/**
 * The cluster's location directory: for each SIP user@domain, the box it is registered on (switch
 * name and address), its contact and when the registration expires. Fed by every registration the
 * bridge sees, local and received. Bounded: when full, a new user is refused (counted); users
 * already known are still updated. An entry lives as long as its registration.
 *
 * One entry per user@domain: the latest registration wins. An unregister or expire removes the
 * entry only when it comes from the box the entry names (a phone that moved keeps its new place).
 */

export interface Box {
  name: string;
  /** Where calls for its users go (location-addresses, else the box's FreeSWITCH-IPv4); '' when unknown. */
  address: string;
}

export interface LocationEntry {
  user: string;
  domain: string;
  box: Box;
  contact: string;
  /** Registered on this bridge's own FreeSWITCH. */
  local: boolean;
  expiresAtMs: number;
}

/** What a registration changed: a new or moved entry (previous: what it replaced), or one removed. */
export type LocationChange = { kind: 'set'; entry: LocationEntry; previous: LocationEntry | null } | { kind: 'delete'; entry: LocationEntry };

export interface LocationStats {
  entries: number;
  maxEntries: number;
  /** Registrations that made or moved an entry. */
  set: number;
  /** Registrations of the same user on the same box with the same contact: the expiry moved, nothing else. */
  refreshed: number;
  /** Entries removed by an unregister or expire event. */
  removed: number;
  /** Entries whose registration ran out without an event. */
  expired: number;
  /** Unregisters from a box other than the one the entry names (ignored). */
  staleUnregisters: number;
  /** New users refused because the table was full. */
  refusedFull: number;
  /** Registrations refused for fields too long or holding control characters. */
  refusedInvalid: number;
}

/** Longest user, domain or switch name accepted, and longest contact (bytes as UTF-16 units). */
const MAX_NAME = 255;
const MAX_CONTACT = 1024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

function acceptable(s: string, max: number, mayBeEmpty: boolean): boolean {
  return (mayBeEmpty || s.length > 0) && s.length <= max && !CONTROL.test(s);
}

export function locationKey(user: string, domain: string): string {
  // SIP user parts are case-sensitive; host names are not.
  return `${user}@${domain.toLowerCase()}`;
}

export class LocationTable {
  private readonly entries = new Map<string, LocationEntry>();
  private readonly counts: Omit<LocationStats, 'entries' | 'maxEntries'> = {
    set: 0,
    refreshed: 0,
    removed: 0,
    expired: 0,
    staleUnregisters: 0,
    refusedFull: 0,
    refusedInvalid: 0,
  };

  constructor(private maxEntries: number) {}

  setMaxEntries(max: number): void {
    // Entries beyond a lowered limit stay until they expire; new users wait until there is room.
    this.maxEntries = max;
  }

  /** A registration: null when it changed nothing but the expiry, or was refused. */
  register(user: string, domain: string, box: Box, contact: string, expiresSeconds: number, local: boolean, nowMs: number): LocationChange | null {
    if (expiresSeconds <= 0) return this.unregister(user, domain, box.name);
    if (!acceptable(user, MAX_NAME, false) || !acceptable(domain, MAX_NAME, false) || !acceptable(box.name, MAX_NAME, false) || !acceptable(box.address, MAX_NAME, true) || !acceptable(contact, MAX_CONTACT, true)) {
      this.counts.refusedInvalid++;
      return null;
    }
    const key = locationKey(user, domain);
    const previous = this.entries.get(key) ?? null;
    const expiresAtMs = nowMs + expiresSeconds * 1000;
    if (previous !== null && previous.box.name === box.name && previous.box.address === box.address && previous.contact === contact) {
      previous.expiresAtMs = expiresAtMs;
      this.counts.refreshed++;
      return null;
    }
    if (previous === null && this.entries.size >= this.maxEntries) {
      this.counts.refusedFull++;
      return null;
    }
    const entry: LocationEntry = { user, domain, box: { ...box }, contact, local, expiresAtMs };
    this.entries.set(key, entry);
    this.counts.set++;
    return { kind: 'set', entry, previous };
  }

  /** An unregister or expire event from `boxName`. */
  unregister(user: string, domain: string, boxName: string): LocationChange | null {
    const key = locationKey(user, domain);
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (entry.box.name !== boxName) {
      this.counts.staleUnregisters++;
      return null;
    }
    this.entries.delete(key);
    this.counts.removed++;
    return { kind: 'delete', entry };
  }

  /** Removes the entries whose registration has run out. */
  expire(nowMs: number): LocationChange[] {
    const out: LocationChange[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.expiresAtMs > nowMs) continue;
      this.entries.delete(key);
      this.counts.expired++;
      out.push({ kind: 'delete', entry });
    }
    return out;
  }

  /** The entries of `user` (in every domain, or in `domain` only). */
  find(user: string, domain?: string): LocationEntry[] {
    if (domain !== undefined) {
      const e = this.entries.get(locationKey(user, domain));
      return e === undefined ? [] : [e];
    }
    return [...this.entries.values()].filter((e) => e.user === user);
  }

  list(): LocationEntry[] {
    return [...this.entries.values()];
  }

  stats(): LocationStats {
    return { entries: this.entries.size, maxEntries: this.maxEntries, ...this.counts };
  }
}
