/**
 * Counts datagrams arriving on one loopback address:port (what the bridge sent).
 *   start {address, port}  -> {recvBufferBytes}
 *   count                  -> {received, bytes}
 *   reset, usage, stop
 */
import dgram from 'node:dgram';
import { arg, processUsage, serveControl } from './control.js';
import { assertLoopback } from './loopback.js';

let socket: dgram.Socket | null = null;
let received = 0;
let bytes = 0;

serveControl({
  async start(args) {
    const address = assertLoopback(arg(args, 'address', 'string'));
    const port = arg(args, 'port', 'number');
    const s = dgram.createSocket({ type: 'udp4', reuseAddr: false, recvBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address, port, exclusive: true }, () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('message', (m) => {
      received++;
      bytes += m.length;
    });
    socket = s;
    return { recvBufferBytes: s.getRecvBufferSize() };
  },
  count() {
    return { received, bytes };
  },
  reset() {
    received = 0;
    bytes = 0;
    return {};
  },
  usage() {
    return processUsage();
  },
  stop() {
    socket?.close();
    socket = null;
    setImmediate(() => process.exit(0));
    return {};
  },
});
