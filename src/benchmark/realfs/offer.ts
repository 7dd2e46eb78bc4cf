/**
 * Offering commands to a switch over one or more event-socket connections: paced at a rate, or
 * closed-loop (a window of unanswered commands per connection, as fast as the switch answers).
 * Bounded in count and in time; never more than `window` commands unanswered per connection.
 */
import type { EslClient } from './esl-client.js';

export interface OfferOptions {
  /** Commands to send in all; the offer stops early when `maxSeconds` passes. */
  count: number;
  /** Commands per second over all connections; null = closed loop (as fast as answered). */
  rate: number | null;
  maxSeconds: number;
  /** Most unanswered commands per connection (default 256). */
  window?: number;
  /** Called with each command's index just before it is written (to stamp its send time). */
  onSend?: (index: number) => void;
}

export interface OfferResult {
  sent: number;
  answered: number;
  /** Answers that were not +OK (FreeSWITCH refused the command). */
  refused: number;
  /** Seconds from the first write to the last answer. */
  seconds: number;
  /** Commands the pacing could not write in time because the window was full. */
  windowFullWaits: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends command(i) for i in [0, count) spread over the clients (i mod n), then waits for every answer (bounded). */
export async function offerCommands(clients: readonly EslClient[], command: (i: number) => Buffer, o: OfferOptions): Promise<OfferResult> {
  if (clients.length === 0) throw new RangeError('offer: no connection');
  if (!(Number.isInteger(o.count) && o.count >= 0)) throw new RangeError('offer: count must be an integer >= 0');
  if (o.rate !== null && !(o.rate > 0)) throw new RangeError('offer: rate must be > 0');
  const window = o.window ?? 256;
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  let sent = 0;
  let answered = 0;
  let refused = 0;
  let lastAnswerMs = t0;
  let windowFullWaits = 0;
  let failure: Error | null = null;
  const sendOne = (): void => {
    const client = clients[sent % clients.length]!;
    const i = sent++;
    o.onSend?.(i);
    void client.send(command(i)).then(
        (reply) => {
          answered++;
          lastAnswerMs = performance.now();
          if (!reply.startsWith('+OK')) refused++;
        },
        (e: Error) => void (failure ??= e),
      );
  };
  while (sent < o.count && failure === null) {
    const now = performance.now();
    if (now >= deadline) break;
    const due = o.rate === null ? o.count : Math.min(o.count, Math.floor(((now - t0) / 1000) * o.rate) + 1);
    let progressed = false;
    while (sent < due) {
      const next = clients[sent % clients.length]!;
      if (next.inFlight >= window) {
        if (o.rate !== null) windowFullWaits++;
        break;
      }
      sendOne();
      progressed = true;
    }
    // Let answers come in: yield to the event loop (1 ms when nothing could be written).
    await sleep(progressed && o.rate === null ? 0 : 1);
  }
  const answerDeadline = Math.max(deadline, performance.now()) + 30_000;
  while (answered + (failure === null ? 0 : sent) < sent && performance.now() < answerDeadline) await sleep(5);
  if (failure !== null) throw failure;
  return { sent, answered, refused, seconds: (lastAnswerMs - t0) / 1000, windowFullWaits };
}
