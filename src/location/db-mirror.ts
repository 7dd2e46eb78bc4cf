/**
 * Mirrors the location directory into FreeSWITCH's mod_db (`location-db yes`), in the shape the
 * module guide's Lua scripts use, so a dialplan reading
 * `${db(select/${domain_name}/LOCATION_${destination_number})}` keeps working:
 * realm = the registration's domain (from-host), key = `LOCATION_<user>`, value = the box's address.
 *
 * Only changes are written (a refresh of the same registration writes nothing). The parts come
 * from the network and end up on an event-socket command line that mod_db splits at `/` with
 * switch_separate_string (which also treats quotes and backslashes specially, and gives the last
 * part everything after the third `/`), so each part must be a plain token: letters, digits and
 * `. _ - + @ : [ ]` only, 1..128 characters. Anything else is refused and counted, never escaped:
 * mod_db has no escape that survives its splitter unchanged.
 */

const SAFE_PART = /^[A-Za-z0-9._\-+@:[\]]{1,128}$/;

/** The part as it may appear in a db command, or null when it cannot be written safely. */
export function dbPart(s: string): string | null {
  return SAFE_PART.test(s) ? s : null;
}

/** `db insert/<realm>/LOCATION_<user>/<address>`, or null when a part is unsafe. */
export function dbInsertCommand(realm: string, user: string, address: string): string | null {
  const r = dbPart(realm);
  const u = dbPart(user);
  const a = dbPart(address);
  return r === null || u === null || a === null ? null : `db insert/${r}/LOCATION_${u}/${a}`;
}

/** `db delete/<realm>/LOCATION_<user>`, or null when a part is unsafe. */
export function dbDeleteCommand(realm: string, user: string): string | null {
  const r = dbPart(realm);
  const u = dbPart(user);
  return r === null || u === null ? null : `db delete/${r}/LOCATION_${u}`;
}

export interface DbMirrorStats {
  inserts: number;
  deletes: number;
  /** Commands FreeSWITCH did not answer +OK (or could not be sent: not connected). */
  failed: number;
  /** Changes not written because a part (user, domain, address) is not a plain token. */
  refusedUnsafe: number;
}

export interface DbWrite {
  command: string;
  kind: 'insert' | 'delete';
}

/** What to write to mod_db for a change of the directory (see LocationTable): [] when nothing. */
export function dbWritesFor(change: { kind: 'set' | 'delete'; entry: { user: string; domain: string; box: { address: string } }; previous?: { domain: string; box: { address: string } } | null }): DbWrite[] | null {
  const e = change.entry;
  if (change.kind === 'delete') {
    const c = dbDeleteCommand(e.domain, e.user);
    return c === null ? null : [{ command: c, kind: 'delete' }];
  }
  const p = change.previous ?? null;
  // The value is the address only: a new contact on the same box changes nothing in mod_db.
  if (p !== null && p.box.address === e.box.address && p.domain.toLowerCase() === e.domain.toLowerCase()) return [];
  const c = dbInsertCommand(e.domain, e.user, e.box.address);
  return c === null ? null : [{ command: c, kind: 'insert' }];
}
