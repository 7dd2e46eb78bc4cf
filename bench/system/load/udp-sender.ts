/**
 * Replays pre-encoded datagrams (the benchmark shapes framed as a peer would send them, plain or
 * PSK, each with its own random UUID) to a loopback address:port, at a fixed rate or flat out,
 * bounded in count and time. Also sends raw payloads for the raw-UDP reference.
 *   prepare {shape, psk: string|null, sender, distinct}  -> {bytes}   (datagrams built once)
 *   prepareRaw {bytes}                                    -> {}
 *   send {address, port, count, rate?, maxSeconds}        -> {sent, seconds, errors}
 */
import dgram from 'node:dgram';
import { frameDatagram, multicastSenderLine } from '../../../src/wire/egress.js';
import { PskCipher } from '../../../src/wire/psk-cipher.js';
import { eventShapes } from '../../../testkit/event-shapes.js';
import { arg, optionalNumber, processUsage, serveControl } from './control.js';
import { assertLoopback } from './loopback.js';

let datagrams: Buffer[] = [];
let socket: dgram.Socket | null = null;
let errors = 0;

/** Most sends handed to libuv and not yet completed; beyond it the loop waits (memory bound). */
const MAX_OUTSTANDING = 2048;
let outstanding = 0;
const onSent = (e: Error | null): void => {
  outstanding--;
  if (e) errors++;
};

function ensureSocket(): dgram.Socket {
  if (socket === null) {
    socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
    socket.on('error', () => errors++);
  }
  return socket;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

serveControl({
  prepare(args) {
    const shape = eventShapes()[arg(args, 'shape', 'number')];
    if (shape === undefined) throw new RangeError('no such shape');
    const psk = args['psk'];
    const cipher = typeof psk === 'string' ? new PskCipher(psk) : null;
    const senderLine = multicastSenderLine(arg(args, 'sender', 'string'));
    const distinct = arg(args, 'distinct', 'number');
    datagrams = Array.from({ length: distinct }, () => frameDatagram(shape.text, { senderLine, cipher }));
    return { bytes: datagrams[0]!.length };
  },
  prepareRaw(args) {
    const payload = Buffer.alloc(arg(args, 'bytes', 'number'), 0x61);
    datagrams = [payload];
    return {};
  },
  async send(args) {
    if (datagrams.length === 0) throw new Error('prepare first');
    const address = assertLoopback(arg(args, 'address', 'string'));
    const port = arg(args, 'port', 'number');
    const count = arg(args, 'count', 'number');
    const rate = optionalNumber(args, 'rate');
    const s = ensureSocket();
    errors = 0;
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(Math.round(arg(args, 'maxSeconds', 'number') * 1e9));
    const n = datagrams.length;
    let sent = 0;
    while (sent < count) {
      const now = process.hrtime.bigint();
      if (now >= deadline) break;
      let allowance = Math.min(count - sent, 512, MAX_OUTSTANDING - outstanding);
      if (rate !== undefined) allowance = Math.min(allowance, Math.floor((Number(now - started) / 1e9) * rate) - sent);
      if (allowance <= 0) {
        if (rate !== undefined && outstanding < MAX_OUTSTANDING) await sleep(1);
        else await tick();
        continue;
      }
      for (let i = 0; i < allowance; i++, sent++) {
        outstanding++;
        s.send(datagrams[sent % n]!, port, address, onSent);
      }
      if (rate === undefined) await tick();
    }
    while (outstanding > 0 && process.hrtime.bigint() < deadline + 2_000_000_000n) await tick();
    return { sent, seconds: Number(process.hrtime.bigint() - started) / 1e9, errors };
  },
  usage() {
    return processUsage();
  },
  stop() {
    socket?.close();
    setImmediate(() => process.exit(0));
    return {};
  },
});
