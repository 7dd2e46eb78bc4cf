/**
 * How a received event may be treated while it waits for FreeSWITCH (src/esl/ingress-queue.ts):
 * a HEARTBEAT goes first (peer tracking must not wait behind a backlog), a registration, presence
 * or MWI event may be replaced by a newer one for the same state (src/wire/supersede-key.ts).
 */
import type { SendTag } from '../esl/injector.js';
import type { IngressResult } from '../pool/tasks.js';
import type { SupersedeTag } from '../wire/supersede-key.js';

/** HEARTBEAT and peerup/peerdown. */
export const URGENT: SendTag = Object.freeze({ urgent: true });

/** The tag of item i of an ingress batch, or undefined: a plain event, delivered in its turn. */
export function ingressTag(r: IngressResult, i: number): SendTag | undefined {
  return sendTagOf(r.heartbeat[i] === 1, r.supersede?.[i]);
}

/** The tag of one received event (a batch item, or a reassembled compact message). */
export function sendTagOf(heartbeat: boolean, supersede: SupersedeTag | null | undefined): SendTag | undefined {
  if (heartbeat) return URGENT;
  return supersede == null ? undefined : { supersedeKey: supersede.key, expiresS: supersede.expiresS };
}
