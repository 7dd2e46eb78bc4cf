/**
 * Test helpers: a raw-socket event-socket client (no library in between, so the tests see the
 * server's exact bytes), the captured-transcript reader, and normalisation of values that differ
 * between runs (UUIDs, dates, sequence numbers).
 */
import * as net from 'node:net';
import { readFileSync } from 'node:fs';

export const FIXTURES = new URL('../../../../shared/fixtures/freeswitch/', import.meta.url);
export const SESSIONS = new URL('esl-sessions/', FIXTURES);

export function fixture(name: string): Buffer {
  return readFileSync(new URL(name, SESSIONS));
}

export interface EslMessage {
  headers: [string, string][];
  body: Buffer | null;
  raw: Buffer;
}

export function header(m: EslMessage, name: string): string | undefined {
  return m.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

/** Splits server output into messages: header block to the blank line, then Content-Length bytes of body. */
export function splitMessages(buf: Buffer): { messages: EslMessage[]; rest: Buffer } {
  const messages: EslMessage[] = [];
  let pos = 0;
  for (;;) {
    const end = buf.indexOf('\n\n', pos, 'latin1');
    if (end < 0) break;
    const head = buf.toString('latin1', pos, end);
    const headers = head.split('\n').map((l): [string, string] => {
      const i = l.indexOf(': ');
      return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 2)];
    });
    const cl = headers.find(([n]) => n === 'Content-Length');
    const bodyStart = end + 2;
    const len = cl ? Number(cl[1]) : 0;
    if (buf.length < bodyStart + len) break;
    messages.push({ headers, body: cl ? buf.subarray(bodyStart, bodyStart + len) : null, raw: buf.subarray(pos, bodyStart + len) });
    pos = bodyStart + len;
  }
  return { messages, rest: buf.subarray(pos) };
}

export class EslTestClient {
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private readonly inbox: EslMessage[] = [];
  private waiter: (() => void) | null = null;
  private isClosed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      const { messages, rest } = splitMessages(Buffer.concat([this.pending, chunk]));
      this.pending = Buffer.from(rest);
      this.inbox.push(...messages.map((m) => ({ ...m, raw: Buffer.from(m.raw), body: m.body && Buffer.from(m.body) })));
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', () => {
        this.isClosed = true;
        this.wake();
        resolve();
      }),
    );
    socket.on('error', () => undefined);
  }

  static connect(port: number, host = '127.0.0.1'): Promise<EslTestClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new EslTestClient(s)));
      s.once('error', reject);
    });
  }

  /** Connects, reads auth/request, authenticates; optionally subscribes. */
  static async ready(port: number, subscribe?: string): Promise<EslTestClient> {
    const c = await EslTestClient.connect(port);
    await c.next();
    c.send('auth ClueCon\n\n');
    const r = await c.next();
    if (header(r, 'Reply-Text') !== '+OK accepted') throw new Error('auth failed');
    if (subscribe !== undefined) {
      c.send(`${subscribe}\n\n`);
      await c.next();
    }
    return c;
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  get queued(): number {
    return this.inbox.length;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  async next(timeoutMs = 3000): Promise<EslMessage> {
    const deadline = Date.now() + timeoutMs;
    while (this.inbox.length === 0) {
      if (this.isClosed) throw new Error('connection closed while waiting for a message');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return this.inbox.shift()!;
  }

  async take(n: number, timeoutMs = 5000): Promise<EslMessage[]> {
    const out: EslMessage[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(timeoutMs));
    return out;
  }

  /** Waits a little and returns whatever else arrived (to prove nothing unexpected did). */
  async drainFor(ms: number): Promise<EslMessage[]> {
    await new Promise((r) => setTimeout(r, ms));
    return this.inbox.splice(0);
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
}

export interface TranscriptStep {
  dir: '>>' | '<<';
  bytes: Buffer;
}

/** Reads a `*.txt` transcript: `>> N` / `<< N` lines, each followed by N bytes and a newline. */
export function readTranscript(buf: Buffer): TranscriptStep[] {
  const steps: TranscriptStep[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    const m = /^(>>|<<) (\d+)$/.exec(buf.toString('latin1', pos, nl));
    if (!m) throw new Error(`bad transcript line at byte ${pos}`);
    const n = Number(m[2]);
    steps.push({ dir: m[1] as '>>' | '<<', bytes: buf.subarray(nl + 1, nl + 1 + n) });
    pos = nl + 1 + n;
    if (buf[pos] === 0x0a) pos++;
  }
  return steps;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Replaces what legitimately differs between two runs of FreeSWITCH (or the simulator). */
export function normalise(text: string): string {
  let t = text
    .replace(UUID, '<uuid>')
    .replace(/^(Event-Date-Local|Event-Date-GMT|Event-Date-Timestamp|Event-Sequence|Content-Length): .*$/gm, '$1: <v>');
  if (t.includes('\nUP ') || t.startsWith('UP ')) t = t.replace(/\d+(\.\d+)?/g, '#'); // `api status` numbers
  return t;
}
