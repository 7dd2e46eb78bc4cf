/**
 * A reload's switch from one event subscription to another on the same FreeSWITCH, make before
 * break. `old` keeps feeding the bridge while `next` subscribes and buffers. FreeSWITCH numbers
 * every event with one switch-wide `Event-Sequence`, so the new stream's first event marks the
 * switch point: the old stream is passed on up to just before it, the new one from it on. Both
 * cover the moment in between, so nothing the new bindings take is lost once `next` is
 * subscribed (which is what Bridge.ready() waits for), nothing is sent twice, and the order is
 * FreeSWITCH's. If the streams cannot meet (the old one idle or gone, no sequence numbers, the
 * buffer full), a deadline ends the handover and says how.
 *
 * The two sockets are read independently, so the old one may pass on events that the new one has
 * received too but not yet delivered (its first delivery then starts below what the old one has
 * already passed on). The sequence numbers the old stream passed on are remembered, and the new
 * stream's copies of them are dropped when it takes over: without that, those events went out
 * twice (a race a reload under traffic hit in about half the runs).
 */
import type { EslEventSource } from '../esl/event-source.js';
import { eventSequenceOf } from '../wire/plain-header.js';

/** The new source buffers at most this many events before it takes over. */
const MAX_BUFFERED = 200_000;
/** After the new source is subscribed, it takes over at the latest this much later. */
const DEADLINE_MS = 2_000;
/** And in any case this long after the handover began (the new source cannot connect). */
const TIMEOUT_MS = 10_000;

export interface HandoverHooks {
  /** Event texts to send, in FreeSWITCH's order. */
  passOn(texts: Buffer[]): void;
  /** The new source took over (the old one is already closing); `how` for the log. */
  done(next: EslEventSource, how: string, buffered: number, switchAt: number | null): void;
}

export class SourceHandover {
  private readonly buffered: Buffer[] = [];
  /** Event-Sequence numbers the old stream passed on before the switch point was known (bounded). */
  private readonly passedByOld = new Set<number>();
  /** Event-Sequence of the new stream's first event; null until it has one. */
  private switchAt: number | null = null;
  private timer: NodeJS.Timeout;
  private finished = false;

  constructor(
    readonly old: EslEventSource,
    readonly next: EslEventSource,
    private readonly hooks: HandoverHooks,
  ) {
    this.timer = setTimeout(() => this.complete('timeout'), TIMEOUT_MS).unref();
  }

  /** The new source is subscribed: from now on it takes over within DEADLINE_MS. */
  nextSubscribed(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.complete('deadline'), DEADLINE_MS).unref();
  }

  /** Events from either source. */
  onEvents(from: EslEventSource, texts: Buffer[]): void {
    if (this.finished) return;
    if (from === this.next) {
      if (this.switchAt === null) {
        this.switchAt = eventSequenceOf(texts[0]!);
        if (this.switchAt === null) {
          // Without a sequence number the streams cannot be lined up: switch at once.
          this.buffered.push(...texts);
          return this.complete('no Event-Sequence');
        }
      }
      this.buffered.push(...texts);
      if (this.buffered.length > MAX_BUFFERED) this.complete('buffer full');
      return;
    }
    if (from !== this.old) return;
    if (this.switchAt === null) {
      for (const t of texts) {
        const seq = eventSequenceOf(t);
        if (seq !== null && this.passedByOld.size < MAX_BUFFERED) this.passedByOld.add(seq);
      }
      return this.hooks.passOn(texts);
    }
    // The old stream is passed on up to the switch point; reaching it ends the old stream.
    let i = 0;
    while (i < texts.length) {
      const seq = eventSequenceOf(texts[i]!);
      if (seq !== null && seq >= this.switchAt) break;
      i++;
    }
    if (i > 0) this.hooks.passOn(i === texts.length ? texts : texts.slice(0, i));
    if (i < texts.length) this.complete('streams met');
  }

  /** The new source takes over now: the old one closes, what the new one buffered is passed on. */
  complete(how: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    void this.old.close();
    // The new stream's copies of what the old one already passed on are not passed on again.
    const fresh = this.buffered.splice(0).filter((t) => !this.passedByOld.has(eventSequenceOf(t) ?? -1));
    this.passedByOld.clear();
    this.hooks.done(this.next, how, fresh.length, this.switchAt);
    if (fresh.length > 0) this.hooks.passOn(fresh);
  }

  /** Bridge stop: both sources close, nothing more is passed on. */
  async abandon(current: EslEventSource): Promise<void> {
    this.finished = true;
    clearTimeout(this.timer);
    await this.next.close();
    if (this.old !== current) await this.old.close();
  }
}
