/**
 * The optional JetStream side of the NATS transport: a stream keeping the state subjects
 * (`<prefix>.state.>`) for a bounded age, and the catch-up on start: every message still in
 * the stream is replayed through the same ingress path, so a satellite that was offline knows
 * current registrations and presence at once instead of waiting for phones to re-register.
 *
 * The stream is created when missing, and its age limit and subjects are brought in line with
 * the configuration when they differ (several bridges share one stream per prefix).
 */
import {
  DiscardPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { NatsStateOptions } from '../../config/nats-options.js';

function isNotFound(e: unknown): boolean {
  return e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound;
}

/** Creates or updates the state stream; returns what was done. */
export async function ensureStateStream(nc: NatsConnection, subject: string, state: NatsStateOptions): Promise<'created' | 'updated' | 'unchanged'> {
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const maxAge = nanos(state.maxAgeSeconds * 1000);
  try {
    const info = await jsm.streams.info(state.stream);
    const c = info.config;
    if (c.max_age === maxAge && c.subjects.length === 1 && c.subjects[0] === subject) return 'unchanged';
    // The client merges this into the stream's current configuration; the rest stays as it is.
    await jsm.streams.update(state.stream, { subjects: [subject], max_age: maxAge });
    return 'updated';
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
  const config: Partial<StreamConfig> & { name: string } = {
    name: state.stream,
    subjects: [subject],
    max_age: maxAge,
    storage: StorageType.File,
    num_replicas: state.replicas,
    discard: DiscardPolicy.Old,
  };
  await jsm.streams.add(config);
  return 'created';
}

export interface CatchUpResult {
  /** Messages read from the stream. */
  read: number;
  /** Of them, handed to ingress (our own are skipped). */
  delivered: number;
}

/**
 * Reads the stream from its first message to its last one at the time of the call (bounded by
 * `timeoutMs`) with an ordered consumer, handing each message's data to `deliver` in order.
 * Messages on `skipSubject` (our own) are not handed on.
 */
export async function replayStateStream(
  nc: NatsConnection,
  state: NatsStateOptions,
  skipSubject: string,
  deliver: (data: Uint8Array, subject: string) => void,
  timeoutMs: number,
): Promise<CatchUpResult> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(state.stream);
  const result: CatchUpResult = { read: 0, delivered: 0 };
  if (info.state.messages === 0) return result;
  const lastSeq = info.state.last_seq;
  const consumer = await jetstream(nc).consumers.get(state.stream);
  const messages = await consumer.consume({ max_messages: 512 });
  const timer = setTimeout(() => void messages.close(), timeoutMs);
  let timedOut = true;
  try {
    for await (const m of messages) {
      result.read++;
      if (m.subject !== skipSubject) {
        deliver(m.data, m.subject);
        result.delivered++;
      }
      if (m.seq >= lastSeq || m.info.pending === 0) {
        timedOut = false;
        break;
      }
    }
  } finally {
    clearTimeout(timer);
    await messages.close();
  }
  if (timedOut) throw new Error(`state catch-up from stream ${state.stream} did not finish within ${timeoutMs} ms (${result.read} messages read)`);
  return result;
}
