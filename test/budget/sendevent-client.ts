/**
 * A bare event-socket client for the budget tests: N connections, each authenticated, then
 * pipelining sendevent commands (a bounded window of unanswered ones) for a fixed time.
 * Counts `+OK` replies: the sendevents the switch took.
 */
import * as net from 'node:net';

export interface RateResult {
  connections: number;
  replies: number;
  seconds: number;
  perSecond: number;
}

/** A sendevent whose head (command line and headers up to the blank line) is exactly `headBytes` long. */
export function sendeventOfHeadSize(headBytes: number): Buffer {
  const start = 'sendevent CUSTOM\nEvent-Subclass: budget::test\nX-Pad: ';
  const padding = headBytes - start.length - 2;
  if (padding < 1) throw new RangeError(`headBytes must be at least ${start.length + 3}`);
  return Buffer.from(`${start}${'a'.repeat(padding)}\n\n`, 'latin1');
}

const REPLY = /Content-Type: command\/reply\nReply-Text: ([^\n]*)\n\n/g;

/** Opens one authenticated connection; resolves once `+OK accepted` came back. */
async function open(port: number, password: string): Promise<{ socket: net.Socket; onReply: (fn: (text: string) => void) => void }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  let buffered = '';
  let listener: (text: string) => void = () => undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    let consumed = 0;
    REPLY.lastIndex = 0;
    for (let m = REPLY.exec(buffered); m !== null; m = REPLY.exec(buffered)) {
      consumed = REPLY.lastIndex;
      listener(m[1]!);
    }
    const authAt = buffered.lastIndexOf('Content-Type: auth/request\n\n');
    if (authAt >= 0) consumed = Math.max(consumed, authAt + 28);
    buffered = buffered.slice(consumed);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => resolve());
  });
  socket.write(`auth ${password}\n\n`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no auth reply')), 5000);
    listener = (text) => {
      clearTimeout(timer);
      if (text.startsWith('+OK')) resolve();
      else reject(new Error(`auth: ${text}`));
    };
  });
  return { socket, onReply: (fn) => (listener = fn) };
}

/** Sends `command` flat out over `connections` connections for `seconds` (after `warmupSeconds`); counts replies in the window. */
export async function measureSendeventRate(
  port: number,
  o: { connections: number; command: Buffer; seconds: number; warmupSeconds?: number; window?: number; password?: string },
): Promise<RateResult> {
  const window = o.window ?? 32;
  const conns = await Promise.all(Array.from({ length: o.connections }, () => open(port, o.password ?? 'ClueCon')));
  let counting = false;
  let replies = 0;
  let stop = false;
  for (const c of conns) {
    let inFlight = 0;
    const fill = (): void => {
      if (stop) return;
      const parts: Buffer[] = [];
      while (inFlight < window) {
        parts.push(o.command);
        inFlight++;
      }
      if (parts.length > 0) c.socket.write(Buffer.concat(parts));
    };
    c.onReply((text) => {
      inFlight--;
      if (counting && text.startsWith('+OK')) replies++;
      fill();
    });
    fill();
  }
  await new Promise((r) => setTimeout(r, (o.warmupSeconds ?? 0.3) * 1000));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  counting = false;
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  for (const c of conns) c.socket.destroy();
  return { connections: o.connections, replies, seconds, perSecond: replies / seconds };
}
