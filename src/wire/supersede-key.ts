/**
 * Which received event makes an earlier, still queued one pointless: when FreeSWITCH cannot keep
 * up, the injector keeps only the newest event per supersede key (src/esl/ingress-queue.ts), so
 * the switch converges to the latest state instead of replaying history.
 *
 * A key names one piece of state a consumer keeps, read the way mod_sofia reads the fired
 * `multicast::event` (sofia.c, event_handler):
 * - a registration: `sofia::register` / `sofia::unregister` delete the row by `call-id` (or by
 *   user and host without multiple-registrations) and a register inserts it again, so the newest
 *   event for one from-user@from-host and call-id is the state. Keyed by all three: two phones of
 *   one user (two call-ids) are two registrations and never replace each other.
 * - presence: PRESENCE_IN for one entity (`from`): watchers are sent the newest.
 * - MWI: MESSAGE_WAITING for one mailbox (`MWI-Message-Account`).
 * Anything else (calls, HEARTBEAT, sofia::expire that mod_sofia ignores, MESSAGE_QUERY) has no
 * key: each such event is delivered. Values are compared exactly as sent (mod_sofia's SQL compares
 * them exactly too), so two users differing only in case are never merged.
 *
 * A register also carries its lifetime (`expires`, seconds): one still queued when that has
 * passed since it was received would only put a dead registration on the switch (mod_sofia
 * counts expires from when it fires the event), so the queue drops it as `expired`.
 */
import { decodedHeader, type HeaderSpans } from './header-scan.js';

export interface SupersedeTag {
  /** Events with the same key (from the same order key) replace each other while queued. */
  key: string;
  /** A register's `expires` in seconds (> 0), or null: no expiry of its own. */
  expiresS: number | null;
}

const lower = (s: string): Buffer => Buffer.from(s, 'latin1');
const FROM_USER = lower('from-user');
const FROM_HOST = lower('from-host');
const CALL_ID = lower('call-id');
const EXPIRES = lower('expires');
const FROM = lower('from');
const MWI_ACCOUNT = lower('mwi-message-account');

/** Longest expires taken as one (a year): anything larger is treated as no expiry. */
const MAX_EXPIRES_S = 366 * 86_400;

const value = decodedHeader;

/** A decimal `expires` > 0 (what mod_sofia's atol would read as a lifetime), else null. */
export function expiresSeconds(text: string | null): number | null {
  if (text === null || !/^\s*\d{1,12}\s*$/.test(text)) return null;
  const n = Number(text.trim());
  return n > 0 && n <= MAX_EXPIRES_S ? n : null;
}

/** The supersede key of a received event (see the module comment), or null: always delivered. */
export function supersedeTagOf(scan: HeaderSpans, eventName: string | null, subclass: string | null): SupersedeTag | null {
  if (eventName === 'CUSTOM') {
    const register = subclass === 'sofia::register';
    if (!register && subclass !== 'sofia::unregister') return null;
    const user = value(scan, FROM_USER);
    if (user === null || user.length === 0) return null;
    const host = value(scan, FROM_HOST) ?? '';
    const callId = value(scan, CALL_ID) ?? '';
    // Lengths first: no choice of values can make two different triples the same key.
    return { key: `r:${user.length}:${user}@${host.length}:${host}/${callId}`, expiresS: register ? expiresSeconds(value(scan, EXPIRES)) : null };
  }
  if (eventName === 'PRESENCE_IN') {
    const from = value(scan, FROM);
    return from === null || from.length === 0 ? null : { key: `p:${from}`, expiresS: null };
  }
  if (eventName === 'MESSAGE_WAITING') {
    const account = value(scan, MWI_ACCOUNT);
    return account === null || account.length === 0 ? null : { key: `m:${account}`, expiresS: null };
  }
  return null;
}
