/**
 * A small, single-connection event-socket client for the real-FreeSWITCH benchmark: connect,
 * authenticate, `api`, pipelined `sendevent`, and an `event plain` subscription whose events are
 * handed over raw. No reconnection: a benchmark run that loses its switch must stop and say so,
 * not retry behind the user's back. Every wait is bounded by a timeout.
 */
import { connect, type Socket } from 'node:net';
import { CONTENT_TYPES, EslFramer, type EslEnvelope } from '../../esl/framing.js';

export interface EslClientOptions {
  host: string;
  port: number;
  password: string;
  /** Connect + auth, and each `api` reply, must come within this (default 10 s). */
  timeoutMs?: number;
  /** Names the connection in errors, e.g. 'switch A'. */
  label: string;
}

export class EslClientError extends Error {
  override readonly name = 'EslClientError';
}

type Pending = { resolve: (text: string) => void; reject: (e: Error) => void };

/** Longest piece of a switch's answer quoted in an error (it comes from the network). */
const MAX_QUOTED = 160;

export function quotedReply(text: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').trim();
  return JSON.stringify(printable.length > MAX_QUOTED ? `${printable.slice(0, MAX_QUOTED)}…` : printable);
}

export class EslClient {
  private readonly framer: EslFramer;
  private readonly pending: Pending[] = [];
  private closedError: Error | null = null;
  private authWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** Receives the raw text of every `text/event-plain` message. */
  onEvent: ((text: Buffer) => void) | null = null;
  /** Replies still owed by the switch (pipelined commands). */
  get inFlight(): number {
    return this.pending.length;
  }

  private constructor(
    private readonly socket: Socket,
    private readonly opts: Required<EslClientOptions>,
  ) {
    this.framer = new EslFramer((env, body) => this.onMessage(env, body));
    socket.on('data', (chunk: Buffer) => {
      try {
        this.framer.push(chunk);
      } catch (e) {
        this.fail(new EslClientError(`${opts.label}: not an event socket answer (${(e as Error).message})`));
      }
    });
    socket.on('error', (e) => this.fail(new EslClientError(`${opts.label} (${opts.host}:${opts.port}): ${e.message}`)));
    socket.on('close', () => this.fail(new EslClientError(`${opts.label} (${opts.host}:${opts.port}) closed the event socket`)));
  }

  static async connect(o: EslClientOptions): Promise<EslClient> {
    const opts: Required<EslClientOptions> = { timeoutMs: 10_000, ...o };
    const socket = connect({ host: opts.host, port: opts.port });
    socket.setNoDelay(true);
    const client = new EslClient(socket, opts);
    await withTimeout(
      new Promise<void>((resolve, reject) => (client.authWaiter = { resolve, reject })),
      opts.timeoutMs,
      `${opts.label} (${opts.host}:${opts.port}): no event socket login within ${opts.timeoutMs} ms`,
    ).catch((e: Error) => {
      socket.destroy();
      throw e;
    });
    return client;
  }

  /** `api COMMAND`; resolves with FreeSWITCH's answer text. */
  api(command: string): Promise<string> {
    assertOneLine(command);
    return this.answered(this.command(`api ${command}\n\n`), `"api ${command.split(' ')[0]}"`);
  }

  /** `event plain EVENTS`: subscribe; events then go to onEvent. */
  async subscribe(events: string): Promise<void> {
    assertOneLine(events);
    const reply = await this.answered(this.command(`event plain ${events}\n\n`), '"event plain"');
    if (!reply.startsWith('+OK')) throw new EslClientError(`${this.opts.label}: subscription refused: ${quotedReply(reply)}`);
  }

  /**
   * Writes one prepared `sendevent` command (its full bytes, ending with the blank line) without
   * waiting: resolves when FreeSWITCH answers. Pipelined, as the bridge's injector does.
   */
  send(commandBytes: Buffer): Promise<string> {
    return this.command(commandBytes);
  }

  /** A reply within the timeout; a late one would answer the wrong command, so the connection is given up. */
  private async answered(reply: Promise<string>, what: string): Promise<string> {
    try {
      return await withTimeout(reply, this.opts.timeoutMs, `${this.opts.label}: no answer to ${what} within ${this.opts.timeoutMs} ms`);
    } catch (e) {
      this.fail(e as Error);
      throw e;
    }
  }

  close(): void {
    if (this.closedError === null) {
      this.socket.end('exit\n\n');
      this.socket.destroySoon();
    }
    this.fail(new EslClientError(`${this.opts.label}: closed by the benchmark`));
  }

  private command(bytes: string | Buffer): Promise<string> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(bytes);
    });
  }

  private onMessage(env: EslEnvelope, body: Buffer | null): void {
    switch (env.contentType) {
      case CONTENT_TYPES.authRequest:
        this.socket.write(`auth ${this.opts.password}\n\n`);
        return;
      case CONTENT_TYPES.eventPlain:
        if (body !== null) this.onEvent?.(body);
        return;
      case CONTENT_TYPES.commandReply:
      case CONTENT_TYPES.apiResponse: {
        const text = env.contentType === CONTENT_TYPES.apiResponse ? (body?.toString('utf8') ?? '') : (env.replyText ?? '');
        if (this.authWaiter !== null) return this.answerAuth(text);
        this.pending.shift()?.resolve(text);
        return;
      }
      case CONTENT_TYPES.rudeRejection:
        this.fail(new EslClientError(`${this.opts.label}: the event socket refused this address (acl): ${quotedReply(body?.toString('utf8') ?? '')}`));
        return;
      default:
        return; // disconnect notices and the like: the close that follows says it
    }
  }

  private answerAuth(text: string): void {
    const waiter = this.authWaiter!;
    this.authWaiter = null;
    if (text.startsWith('+OK')) waiter.resolve();
    else {
      waiter.reject(new EslClientError(`${this.opts.label}: event socket login refused (wrong password?): ${quotedReply(text)}`));
      this.socket.destroy();
    }
  }

  private fail(e: Error): void {
    if (this.closedError !== null) return;
    this.closedError = e;
    this.authWaiter?.reject(e);
    this.authWaiter = null;
    for (const p of this.pending.splice(0)) p.reject(e);
    this.socket.destroy();
  }
}

function assertOneLine(text: string): void {
  if (/[\r\n]/.test(text)) throw new EslClientError('an event-socket command must be one line');
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new EslClientError(message)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
