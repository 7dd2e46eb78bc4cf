/**
 * The replay state file on disk (param replay-state-file; format in src/wire/replay-state.ts).
 * Written so that a crash or power cut at any moment leaves either the old file or the new one,
 * never a mix: a temporary file beside it, written, fsync'ed, renamed over the old one, and the
 * directory fsync'ed so the rename itself is on disk. Reads are bounded in size; a damaged or
 * foreign file is reported and ignored (the bridge then starts with empty replay memory, as it
 * would without the file), never trusted.
 */
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeReplayState, encodeReplayState, MAX_STATE_FILE_BYTES, type ReplayState } from '../wire/replay-state.js';

export interface ReplayStoreStats {
  file: string;
  /** What the last start took over from the file (null: no file, or it was refused). */
  loaded: { keys: number; senders: number; savedAtMs: number } | null;
  saves: number;
  saveErrors: number;
  lastSavedAtMs: number | null;
  lastSavedBytes: number;
  lastError: string | null;
}

export type LoadResult = { kind: 'absent' } | { kind: 'loaded'; state: ReplayState } | { kind: 'refused'; why: string };

export class ReplayStore {
  private saving: Promise<void> | null = null;
  readonly stats: ReplayStoreStats;

  constructor(readonly file: string) {
    this.stats = { file, loaded: null, saves: 0, saveErrors: 0, lastSavedAtMs: null, lastSavedBytes: 0, lastError: null };
  }

  async load(): Promise<LoadResult> {
    let size: number;
    try {
      size = (await stat(this.file)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
      return { kind: 'refused', why: `cannot read it: ${errText(e)}` };
    }
    if (size > MAX_STATE_FILE_BYTES) return { kind: 'refused', why: `${size} bytes, more than a replay state can be (${MAX_STATE_FILE_BYTES})` };
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (e) {
      return { kind: 'refused', why: `cannot read it: ${errText(e)}` };
    }
    const d = decodeReplayState(bytes);
    return d.ok ? { kind: 'loaded', state: d.state } : { kind: 'refused', why: d.why };
  }

  /** Records what was taken over, for /status. */
  noteLoaded(keys: number, senders: number, savedAtMs: number): void {
    this.stats.loaded = { keys, senders, savedAtMs };
  }

  /**
   * Writes the state safely (see the file comment). Saves never overlap: a call during a save
   * waits for it and then writes its own, newer state. Rejects with a message naming the file.
   */
  async save(state: () => ReplayState): Promise<void> {
    while (this.saving !== null) await this.saving.catch(() => {});
    const run = this.write(state());
    this.saving = run;
    try {
      await run;
    } finally {
      this.saving = null;
    }
  }

  private async write(state: ReplayState): Promise<void> {
    const bytes = encodeReplayState(state);
    // Unique per write: two writers (a restarted bridge beside one still stopping) never share it.
    const tmp = `${this.file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.file);
      await syncDirectory(dirname(this.file));
    } catch (e) {
      await unlink(tmp).catch(() => {});
      this.stats.saveErrors++;
      this.stats.lastError = errText(e);
      throw new Error(`replay-state-file ${this.file}: cannot write it: ${errText(e)}`);
    }
    this.stats.saves++;
    this.stats.lastSavedAtMs = state.savedAtMs;
    this.stats.lastSavedBytes = bytes.length;
    this.stats.lastError = null;
  }
}

/** The rename is an entry of the directory: fsync'ing the directory makes it durable. */
async function syncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
    if (!['EINVAL', 'EISDIR', 'EPERM'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh.close();
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    ENOENT: 'no such directory',
    EACCES: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    EISDIR: 'it is a directory',
  };
  return err.code !== undefined ? `${err.code}${words[err.code] !== undefined ? ` (${words[err.code]})` : ''}` : String(err.message ?? e);
}
