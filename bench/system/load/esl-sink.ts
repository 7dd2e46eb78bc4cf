/**
 * A lean event-socket server that takes the bridge's sendevent commands and counts them (and,
 * for e2e, the latency of stamped ones); the same control commands as fs-proc's sink:
 *   start {switchname} -> {port}; waitSubscribed; sink; sinkReset; usage; stop
 * It answers `auth` with `+OK accepted` and every other command with `+OK`; it fires no events,
 * so the bridge's switch-name probe gets no echo (the bridge runs with a switchname override).
 */
import * as net from 'node:net';
import * as hdr from 'hdr-histogram-js';
import { processUsage, serveControl, waitSubscribedHandler } from './control.js';
import { CommandScanner } from '../../../src/testing/command-scan.js';

export const STAMP_ORIG_HEADER = 'Orig-Bench-Sent-Ns';

const AUTH_REQUEST = Buffer.from('Content-Type: auth/request\n\n', 'latin1');
const OK = Buffer.from('Content-Type: command/reply\nReply-Text: +OK\n\n', 'latin1');
const ACCEPTED = Buffer.from('Content-Type: command/reply\nReply-Text: +OK accepted\n\n', 'latin1');

let server: net.Server | null = null;
const sockets = new Set<net.Socket>();
let subscriptions = 0;
let sendevents = 0;
let stamped = 0;
let histogram = newHistogram();

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

function accept(socket: net.Socket): void {
  sockets.add(socket);
  socket.setNoDelay(true);
  const scanner = new CommandScanner(STAMP_ORIG_HEADER);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    let commands;
    try {
      commands = scanner.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    if (commands.length === 0) return;
    const replies: Buffer[] = [];
    const now = process.hrtime.bigint();
    for (const c of commands) {
      if (c.line.startsWith('auth ')) replies.push(ACCEPTED);
      else {
        if (c.line.startsWith('sendevent')) sendevents++;
        else if (c.line.startsWith('event plain')) subscriptions++;
        replies.push(OK);
      }
      if (c.stampNs !== null) {
        histogram.recordValue(Math.max(1, Number((now - c.stampNs) / 1000n)));
        stamped++;
      }
    }
    socket.write(replies.length === 1 ? replies[0]! : Buffer.concat(replies));
  });
  socket.write(AUTH_REQUEST);
}


serveControl({
  async start() {
    const s = net.createServer({ noDelay: true }, accept);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    server = s;
    return { port: (s.address() as net.AddressInfo).port };
  },
  waitSubscribed: waitSubscribedHandler(() => subscriptions),
  sink() {
    const ms = (p: number): number | null => (stamped === 0 ? null : histogram.getValueAtPercentile(p) / 1000);
    return { sendevents, stamped, p50_ms: ms(50), p99_ms: ms(99), p999_ms: ms(99.9), max_ms: stamped === 0 ? null : histogram.maxValue / 1000 };
  },
  sinkReset() {
    sendevents = 0;
    stamped = 0;
    histogram = newHistogram();
    return {};
  },
  usage() {
    return { ...processUsage(), cutOffs: 0 };
  },
  stop() {
    for (const s of sockets) s.destroy();
    server?.close();
    setImmediate(() => process.exit(0));
    return {};
  },
});
