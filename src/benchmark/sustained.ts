/**
 * What "sustained" means for one trial of the throughput search: every event offered was sent
 * and arrived (0 loss), and the last one landed at most SUSTAINED_MAX_DRAIN_SECONDS after the
 * step ended, i.e. the step left no backlog that a longer step would grow. A queue that drains
 * for seconds after the load stopped is not a rate anyone can run at.
 */

export const SUSTAINED_MAX_DRAIN_SECONDS = 0.5;
export const SUSTAINED_RULE = `0 loss and every event delivered within ${SUSTAINED_MAX_DRAIN_SECONDS} s of the end of its step (no backlog)`;

/** What one trial step observed. */
export interface TrialFacts {
  /** Events the rate asked for (null for a flood, which is no trial). */
  asked: number | null;
  sent: number;
  /** Arrived after in-flight events landed. */
  arrived: number;
  /** From the end of the offering until the last event landed. */
  drainSeconds: number;
  /** Where loss happened, for the message. */
  where: string;
}

export function judgeTrial(o: TrialFacts): { pass: true } | { pass: false; why: string } {
  if (o.asked === null) return { pass: false, why: 'a flood is not a trial' };
  if (o.sent < o.asked) return { pass: false, why: `load offered only ${o.sent} of ${o.asked} in time (${o.where})` };
  if (o.arrived < o.sent) return { pass: false, why: `${o.sent - o.arrived} lost (${o.where})` };
  if (o.drainSeconds > SUSTAINED_MAX_DRAIN_SECONDS) return { pass: false, why: `no loss, but the last event landed ${o.drainSeconds.toFixed(2)} s after the step (backlog)` };
  return { pass: true };
}
