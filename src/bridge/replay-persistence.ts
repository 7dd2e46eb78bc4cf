/**
 * replay-state-file: the PSK replay memory (legacy keys and compact windows) kept across
 * restarts. At start it takes over what the last run had seen, before any packet of this run,
 * and proves the file can be written (a configured file that cannot be is a start error, not a
 * silent loss of protection); then changes are written every few seconds, and at stop.
 */
import type { Config } from '../config/config.js';
import type { Logger } from '../util/log.js';
import type { ReplayGuard } from '../wire/replay.js';
import type { ReplayState } from '../wire/replay-state.js';
import type { CompactLink } from './compact-link.js';
import { ReplayStore } from './replay-store.js';

/** Changed replay state is written this often; a crash loses at most this much of it. */
export const REPLAY_SAVE_INTERVAL_MS = 5_000;

export interface ReplayPersistenceOptions {
  logger: Logger;
  now(): number;
  /** The legacy replay guard in use now (null: plain mode or replay-window 0). */
  guard(): ReplayGuard | null;
  compact: CompactLink;
  saveIntervalMs?: number;
  /** A rate-limited warning. */
  warn(key: string, fields: object, message: string): void;
}

export class ReplayPersistence {
  private store: ReplayStore | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Replay checks done when the state was last written (nothing new: no write). */
  private savedVersion = -1;
  private nextSaveAt = 0;
  /** Why there is no file, for /status. */
  private origin = 'off';

  constructor(private readonly o: ReplayPersistenceOptions) {}

  async start(c: Config): Promise<void> {
    this.origin = c.replayState.origin;
    const file = c.psk === null ? null : c.replayState.file; // plain mode has no replay protection to keep
    if (file === null) {
      if (c.psk !== null && c.replayWindowSeconds > 0 && c.replayState.origin !== 'off') {
        this.o.logger.warn(
          { replayStateFile: c.replayState.origin },
          'replay protection is kept in memory only: after a restart, a packet captured before it can be replayed once (within replay-window); set replay-state-file to a file path',
        );
      }
      return;
    }
    const store = new ReplayStore(file);
    const r = await store.load();
    const now = this.o.now();
    const guard = this.o.guard();
    if (r.kind === 'loaded') {
      const keys = r.state.legacy !== null && guard !== null ? guard.restore(r.state.legacy, now) : 0;
      const senders = this.o.compact.receiver.tracker.restore(r.state.compact);
      store.noteLoaded(keys, senders, r.state.savedAtMs);
      this.o.logger.info({ replayStateFile: file, keys, compactSenders: senders, savedSecondsAgo: Math.round((now - r.state.savedAtMs) / 1000) }, 'replay state taken over from the last run');
    } else if (r.kind === 'refused') {
      this.o.logger.warn({ replayStateFile: file, why: r.why }, 'replay state file not used; starting with empty replay memory');
    } else {
      this.o.logger.info({ replayStateFile: file }, 'no replay state file yet; it is written from now on');
    }
    await store.save(() => this.state()); // throws a clear error when the file cannot be written
    this.store = store;
    this.savedVersion = this.version();
    this.timer = setInterval(() => void this.save(false), this.o.saveIntervalMs ?? REPLAY_SAVE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Reload: written one last time where it was, then kept in the new place (or nowhere). */
  async move(next: Config): Promise<void> {
    await this.stop();
    await this.start(next);
  }

  /** Stops the timer and writes what changed (the last save of a run). */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.save(true);
    this.store = null;
  }

  /** Stops the timer without writing (a start that failed). */
  abandon(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  stats(): unknown {
    return this.store === null ? { file: null, why: this.origin } : this.store.stats;
  }

  private state(): ReplayState {
    const now = this.o.now();
    return { savedAtMs: now, legacy: this.o.guard()?.snapshot() ?? null, compact: this.o.compact.receiver.tracker.snapshot(now) };
  }

  /** Grows with every replay check: unchanged means nothing new to write. */
  private version(): number {
    return (this.o.guard()?.stats().checked ?? 0) + this.o.compact.receiver.stats().accepted;
  }

  private async save(final: boolean): Promise<void> {
    const store = this.store;
    if (store === null) return;
    const version = this.version();
    if (!final && (version === this.savedVersion || Date.now() < this.nextSaveAt)) return;
    try {
      const started = Date.now();
      await store.save(() => this.state());
      // Encoding a million keys takes ~100 ms of this thread: never spend more than ~5% of it on saving.
      this.nextSaveAt = Date.now() + 20 * (Date.now() - started);
      this.savedVersion = version;
      if (final) this.o.logger.info({ replayStateFile: store.file, bytes: store.stats.lastSavedBytes }, 'replay state written');
    } catch (e) {
      this.o.warn('replay-state', { err: (e as Error).message }, 'could not write the replay state; replay protection after a restart is weaker until it works again');
    }
  }
}
