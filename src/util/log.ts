/**
 * The bridge's logger: pino, JSON lines by default, readable on a terminal. Written from the
 * main thread only (workers never log), synchronously so a crash or exit loses nothing.
 * Secrets are Secret objects that print as [redacted]; the redact paths are a second fence.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** 'json' = one JSON object per line; 'pretty' = human-readable; 'auto' = pretty when stderr is a terminal. */
  format?: 'json' | 'pretty' | 'auto';
  /** Where to write (default: stderr, fd 2). */
  destination?: NodeJS.WritableStream;
}

const REDACT = ['psk', 'password', '*.psk', '*.password', 'esl.password', 'config.psk', 'config.esl.password'];

export function createLogger(opts: LoggerOptions): Logger {
  const format = opts.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true && opts.destination === undefined);
  const base = { level: opts.level, base: { name: 'fs-event-multicast' }, redact: { paths: REDACT, censor: '[redacted]' } };
  if (pretty) {
    return pino(base, pinoPretty({ sync: true, destination: 2, colorize: process.stderr.isTTY === true, ignore: 'pid,hostname,name' }));
  }
  return pino(base, opts.destination ?? pino.destination({ dest: 2, sync: true }));
}
