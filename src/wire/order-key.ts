/**
 * Which received events must reach FreeSWITCH in the order they were sent. The injector keeps
 * the order of events with the same key (one event-socket connection per key) and spreads
 * different keys over its connections: one busy peer can then use every connection, which a
 * key per sender could not (FreeSWITCH reads one connection on one core, ~740 sendevents/s).
 *
 * The key is what the consumers keep state about:
 * - a SIP user (`user@host`, lower case): sofia::* events (from-user, from-host), PRESENCE_*
 *   (`from`), MESSAGE_WAITING / MESSAGE_QUERY (MWI-Message-Account / Message-Account, `sip:`
 *   dropped). So a user's registration, presence and MWI stay in order with each other.
 * - a call (Unique-ID): channel events without a user key.
 * - otherwise null: the sender's own key (HEARTBEAT and everything else stay in sender order,
 *   with the peerup/peerdown the bridge fires for that sender).
 */
import { decodedHeader, type HeaderSpans } from './header-scan.js';

const lower = (s: string): Buffer => Buffer.from(s, 'latin1');
const FROM_USER = lower('from-user');
const FROM_HOST = lower('from-host');
const FROM = lower('from');
const MWI_ACCOUNT = lower('mwi-message-account');
const MESSAGE_ACCOUNT = lower('message-account');
const UNIQUE_ID = lower('unique-id');

/** A header's decoded value; empty counts as absent. */
function value(scan: HeaderSpans, name: Buffer): string | null {
  return decodedHeader(scan, name) || null;
}

function userKey(address: string): string | null {
  const a = address.replace(/^sips?:/i, '');
  return a.includes('@') ? `u:${a.toLowerCase()}` : null;
}

/** The order key of a received event (see the module comment); null = the sender's. */
export function orderKeyOf(scan: HeaderSpans, eventName: string | null): string | null {
  if (eventName === null || eventName === 'HEARTBEAT') return null;
  const user = value(scan, FROM_USER);
  if (user !== null) {
    const host = value(scan, FROM_HOST);
    return `u:${user.toLowerCase()}@${(host ?? '').toLowerCase()}`;
  }
  if (eventName.startsWith('PRESENCE_')) {
    const from = value(scan, FROM);
    const k = from === null ? null : userKey(from);
    if (k !== null) return k;
  }
  const account = value(scan, MWI_ACCOUNT) ?? value(scan, MESSAGE_ACCOUNT);
  if (account !== null) {
    const k = userKey(account);
    if (k !== null) return k;
  }
  const call = value(scan, UNIQUE_ID);
  return call === null ? null : `c:${call}`;
}
