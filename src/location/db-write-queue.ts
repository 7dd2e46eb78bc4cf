/**
 * The mod_db writes, a few at a time. Each `api` command the bridge sends is noted as its own
 * before it goes out (src/esl/own-api-commands.ts, which holds at most 256 at once), so a burst
 * of registrations (a whole site coming back) must not send hundreds at once: their API events
 * would then reach peers. FreeSWITCH runs the commands of one connection one after another
 * anyway, so a small window costs nothing. Bounded: past `maxQueued` the new write is dropped and
 * counted (mod_db then lags the directory until that user's next change).
 */

export interface DbQueueStats {
  queued: number;
  inFlight: number;
  /** Writes dropped because the queue was full. */
  droppedQueueFull: number;
}

export class DbWriteQueue {
  private readonly waiting: string[] = [];
  private head = 0;
  private inFlight = 0;
  private dropped = 0;

  constructor(
    private readonly send: (command: string) => Promise<void>,
    private readonly maxInFlight = 8,
    private readonly maxQueued = 65_536,
  ) {}

  /** False when the queue is full (the write is dropped and counted). */
  push(command: string): boolean {
    if (this.waiting.length - this.head >= this.maxQueued) {
      this.dropped++;
      return false;
    }
    this.waiting.push(command);
    this.pump();
    return true;
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.head < this.waiting.length) {
      const command = this.waiting[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      this.inFlight++;
      // send() reports its own failures; the queue only keeps the window.
      void this.send(command).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  stats(): DbQueueStats {
    return { queued: this.waiting.length - this.head, inFlight: this.inFlight, droppedQueueFull: this.dropped };
  }
}
