/**
 * What every event-socket connection needs, validated up front with precise errors. The password
 * never appears in an error message or a log line.
 */

/** The pino-compatible subset the ESL side logs through: `logger.warn({ ...fields }, 'message')`. */
export interface EslLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface BackoffOptions {
  /** First retry delay, ms (default 100). */
  initialDelayMs: number;
  /** Ceiling of the doubling delay, ms (default 10000). */
  maxDelayMs: number;
  /**
   * A connection must stay up this long, without a stalled reply, before the next loss starts
   * again from initialDelayMs (default 5000): a switch that accepts and then drops every
   * connection is retried with a growing delay, not at once every time.
   */
  stableAfterMs: number;
}

export interface EslEndpointOptions {
  host: string;
  port: number;
  password: string;
  logger: EslLogger;
  backoff?: Partial<BackoffOptions>;
  /** Connect + authenticate (+ subscribe) must finish within this, else retry (default 5000 ms). */
  handshakeTimeoutMs?: number;
  /**
   * Commands are waiting and FreeSWITCH has answered none of them for this long: the connection
   * is stuck; it is closed and opened again (default 5000 ms).
   */
  replyTimeoutMs?: number;
}

export interface ResolvedEndpoint {
  host: string;
  port: number;
  password: string;
  logger: EslLogger;
  backoff: BackoffOptions;
  handshakeTimeoutMs: number;
  replyTimeoutMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ initialDelayMs: 100, maxDelayMs: 10_000, stableAfterMs: 5_000 });
export const DEFAULT_REPLY_TIMEOUT_MS = 5_000;

export function resolveEndpoint(opts: EslEndpointOptions, owner: string): ResolvedEndpoint {
  if (typeof opts.host !== 'string' || opts.host.length === 0) {
    throw new TypeError(`${owner}: option 'host' must be a non-empty string (an IP address or host name of FreeSWITCH)`);
  }
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
    throw new RangeError(`${owner}: option 'port' must be an integer 1..65535, got ${String(opts.port)}`);
  }
  if (typeof opts.password !== 'string' || opts.password.length === 0) {
    throw new TypeError(`${owner}: option 'password' must be a non-empty string (the event-socket password)`);
  }
  if (/[\r\n]/.test(opts.password)) {
    throw new TypeError(`${owner}: option 'password' must not contain a line break`);
  }
  const logger = opts.logger;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger?.[level] !== 'function') {
      throw new TypeError(`${owner}: option 'logger' must have a '${level}' method (a pino-compatible logger)`);
    }
  }
  const backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  positiveInteger(backoff.initialDelayMs, `${owner}: option 'backoff.initialDelayMs'`);
  positiveInteger(backoff.maxDelayMs, `${owner}: option 'backoff.maxDelayMs'`);
  if (backoff.maxDelayMs < backoff.initialDelayMs) {
    throw new RangeError(`${owner}: option 'backoff.maxDelayMs' (${backoff.maxDelayMs}) must be >= 'backoff.initialDelayMs' (${backoff.initialDelayMs})`);
  }
  positiveInteger(backoff.stableAfterMs, `${owner}: option 'backoff.stableAfterMs'`);
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 5000;
  positiveInteger(handshakeTimeoutMs, `${owner}: option 'handshakeTimeoutMs'`);
  const replyTimeoutMs = opts.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  positiveInteger(replyTimeoutMs, `${owner}: option 'replyTimeoutMs'`);
  return { host: opts.host, port: opts.port, password: opts.password, logger, backoff, handshakeTimeoutMs, replyTimeoutMs };
}

export function positiveInteger(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${String(value)}`);
  }
}

/**
 * Delay before retry number `attempt` (0-based): doubles from initialDelayMs up to maxDelayMs,
 * then a random point in its upper half ("equal jitter"), so many bridges restarting together
 * do not reconnect in lockstep yet never retry sooner than half the nominal delay.
 */
export function backoffDelayMs(attempt: number, backoff: Pick<BackoffOptions, 'initialDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const nominal = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

/** A command line must not carry a line break: it would end the command and start another. */
export function assertSingleLine(text: string, what: string): void {
  if (/[\r\n]/.test(text)) throw new TypeError(`${what} must be a single line (no \\r or \\n), got ${JSON.stringify(text.slice(0, 80))}`);
}
