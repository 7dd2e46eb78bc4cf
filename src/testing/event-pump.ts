/**
 * Load generation for benchmarks: streams pre-framed event bytes to one socket, cycling through
 * a fixed list of events, bounded in count and time, with socket backpressure and an optional
 * rate. The frames are built once into one buffer, so each write is a slice of it: the
 * generator's own cost is a few syscalls per ~256 KB, not work per event.
 */
import type { Socket } from 'node:net';

export interface PumpBlock {
  /** Frames f[0..m-1] repeated, K + m of them, so any window of <= K frames starting at a phase < m is contiguous. */
  buf: Buffer;
  /** offsets[i] = byte offset of frame i in buf; offsets[K + m] = buf.length. */
  offsets: number[];
  /** m: distinct frames in the cycle. */
  cycle: number;
  /** K: the most frames one write carries (a multiple of m). */
  window: number;
}

const TARGET_WRITE_BYTES = 256 * 1024;

export function buildPumpBlock(frames: readonly Buffer[], targetWriteBytes = TARGET_WRITE_BYTES): PumpBlock {
  const m = frames.length;
  if (m === 0) throw new Error('buildPumpBlock: at least one frame is needed');
  const cycleBytes = frames.reduce((s, f) => s + f.length, 0);
  const reps = Math.max(1, Math.ceil(targetWriteBytes / cycleBytes));
  const window = m * reps;
  const total = window + m;
  const parts: Buffer[] = new Array<Buffer>(total);
  const offsets: number[] = new Array<number>(total + 1);
  let at = 0;
  for (let i = 0; i < total; i++) {
    const f = frames[i % m]!;
    parts[i] = f;
    offsets[i] = at;
    at += f.length;
  }
  offsets[total] = at;
  return { buf: Buffer.concat(parts, at), offsets, cycle: m, window };
}

export interface PumpTargetOptions {
  count: number;
  ratePerSec: number | undefined;
  deadlineNs: bigint;
  /** Rate mode: how many due events may be unsent (reader too slow) before the listener is cut off. */
  maxBehind: number;
  onCutOff: () => void;
}

/** Writes `count` frames (cycling) to `socket`; resolves with how many were handed to the socket. */
export async function pumpToSocket(socket: Socket, block: PumpBlock, opts: PumpTargetOptions): Promise<number> {
  const { count, ratePerSec } = opts;
  const started = process.hrtime.bigint();
  let sent = 0;
  while (sent < count) {
    if (socket.destroyed || !socket.writable) break;
    const now = process.hrtime.bigint();
    if (now >= opts.deadlineNs) break;
    let n = Math.min(count - sent, block.window);
    if (ratePerSec !== undefined) {
      const elapsedSec = Number(now - started) / 1e9;
      const due = Math.min(count, Math.floor(ratePerSec * elapsedSec));
      if (due - sent > opts.maxBehind) {
        opts.onCutOff();
        break;
      }
      const allowance = due - sent;
      if (allowance <= 0) {
        const waitMs = Math.max(1, Math.min(50, (1000 * (sent + 1 - due)) / ratePerSec));
        await sleep(waitMs);
        continue;
      }
      n = Math.min(n, allowance);
    }
    const phase = sent % block.cycle;
    const ok = socket.write(block.buf.subarray(block.offsets[phase]!, block.offsets[phase + n]!));
    sent += n;
    if (!ok) await drainOrGone(socket, opts.deadlineNs);
  }
  return sent;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves on 'drain', on close, or at the deadline, whichever comes first. */
function drainOrGone(socket: Socket, deadlineNs: bigint): Promise<void> {
  return new Promise((resolve) => {
    const msLeft = Math.max(0, Number(deadlineNs - process.hrtime.bigint()) / 1e6);
    const done = (): void => {
      clearTimeout(timer);
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, Math.ceil(msLeft));
    socket.once('drain', done);
    socket.once('close', done);
  });
}
