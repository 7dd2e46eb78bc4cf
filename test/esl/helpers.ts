/** Small helpers shared by the ESL tests. */
import type { EslFatalError } from '../../src/esl/connection.js';
import { SendeventInjector, type SendeventInjectorOptions } from '../../src/esl/injector.js';
import type { EslLogger } from '../../src/esl/options.js';
import { FakeFreeSwitch, type FakeFreeSwitchOptions } from '../../src/testing/fake-freeswitch.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A pino-shaped logger that keeps every line for assertions. */
export function captureLogger(): EslLogger & { lines: LogLine[]; text(): string } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, message });
    };
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => lines.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.fields)}`).join('\n'),
  };
}

/** Polls `condition` every 5 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The value of a header in plain event text (raw, not URL-decoded). */
export function rawHeader(text: Buffer | string, name: string): string | undefined {
  const s = typeof text === 'string' ? text : text.toString('latin1');
  const m = new RegExp(`(?:^|\\n)${name}: ?([^\\n]*)`).exec(s);
  return m?.[1];
}

/** Reconnects within tens of ms, so a test of a dropped connection does not wait seconds. */
export const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200 };

/**
 * A sendevent injector started against its own simulated FreeSWITCH (stopped after the test);
 * with `connected`, resolves once every connection is up.
 */
export async function injectorOnSimulatedSwitch(
  t: { after(fn: () => Promise<void>): void },
  o: { fs?: FakeFreeSwitchOptions; injector?: Partial<SendeventInjectorOptions>; connected?: boolean } = {},
) {
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-sim-b', ...o.fs });
  const logger = captureLogger();
  const fatals: EslFatalError[] = [];
  const injector = new SendeventInjector({ host: fs.host, port: fs.port, password: 'ClueCon', logger, backoff: FAST_BACKOFF, onFatal: (err) => fatals.push(err), ...o.injector });
  t.after(async () => {
    await injector.close(100);
    await fs.stop();
  });
  injector.start();
  if (o.connected === true) await waitFor(() => injector.stats().connected, 'injector connected');
  return { fs, injector, logger, fatals };
}
