/**
 * Benchmark-only handicap: makes the bridge process it is installed in do extra CPU work for
 * every datagram it sends or receives (one datagram = one event on the benchmark's legacy wire
 * format), so the CI gate can be shown to catch a bridge that got slower by a known fraction.
 * Only the benchmark's bridge launcher (bench/system/load/bridge-proc.ts) installs it; it lives
 * outside src/ (the published package ships dist/src only, and src/ may not import testkit/), so
 * no configuration, flag or environment of the product turns it on.
 *
 * The work is a counted loop, calibrated once in this process to CPU time (not wall time, so a
 * busy machine does not change how much work an event costs).
 */
import dgram from 'node:dgram';

/** Kept so the loop's result is used and the JIT cannot drop it. */
let sink = 0;

export function spin(iterations: number): void {
  let x = sink | 1;
  for (let i = 0; i < iterations; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  sink = x;
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Loop iterations per CPU microsecond in this process: the fastest of several samples. */
export function calibrateSpin(samples = 7, iterations = 2_000_000): number {
  spin(iterations); // JIT warm-up
  let best = 0;
  for (let i = 0; i < samples; i++) {
    const t0 = cpuMicros();
    spin(iterations);
    const us = Math.max(1, cpuMicros() - t0);
    best = Math.max(best, iterations / us);
  }
  return best;
}

export interface HandicapState {
  usPerDatagram: number;
  iterationsPerDatagram: number;
  iterationsPerUs: number;
}

/** Datagrams (sent + received) that paid the handicap in this process. */
export let handicappedDatagrams = 0;

let installed: HandicapState | null = null;

/**
 * Installs (or changes) the handicap: every dgram send and every received 'message' in this
 * process costs `usPerDatagram` more CPU microseconds.
 */
export function installHandicap(usPerDatagram: number): HandicapState {
  if (!(usPerDatagram >= 0 && usPerDatagram < 10_000)) throw new RangeError(`handicap: µs per datagram must be 0..10000, got ${usPerDatagram}`);
  const iterationsPerUs = installed?.iterationsPerUs ?? calibrateSpin();
  const state = { usPerDatagram, iterationsPerDatagram: Math.round(usPerDatagram * iterationsPerUs), iterationsPerUs };
  if (installed === null) patchDgram(() => installed!.iterationsPerDatagram);
  installed = state;
  return state;
}

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

function patchDgram(iterations: () => number): void {
  const proto = dgram.Socket.prototype as unknown as { send: AnyFn; emit: AnyFn };
  const send = proto.send;
  const emit = proto.emit;
  // Some of dgram's send() forms call send() again: only the outermost call pays.
  let inSend = false;
  proto.send = function handicappedSend(this: unknown, ...args: unknown[]): unknown {
    if (inSend) return send.apply(this, args);
    handicappedDatagrams++;
    spin(iterations());
    inSend = true;
    try {
      return send.apply(this, args);
    } finally {
      inSend = false;
    }
  };
  proto.emit = function handicappedEmit(this: unknown, ...args: unknown[]): unknown {
    if (args[0] === 'message') {
      handicappedDatagrams++;
      spin(iterations());
    }
    return emit.apply(this, args);
  };
}
