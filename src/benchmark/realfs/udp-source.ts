/**
 * The ingress scenario's source: datagrams as a peer's bridge or C module sends them, paced at a
 * rate, straight to the receiving side (bridge B, or B's mod_event_multicast), so only the
 * receive path and switch B are measured. Loopback only; bounded in count and time.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isLoopbackAddress } from './endpoint.js';
import { frameDatagram, multicastSenderLine } from '../../wire/egress.js';
import { PskCipher } from '../../wire/psk-cipher.js';
import { plainEventText, type FiredEvent } from './event-shapes.js';

/** The sender name of the benchmark's datagrams (a peer of its own, apart from the real switch A). */
export const INGRESS_SENDER = 'fs-bench-source';

export class DatagramSource {
  private constructor(
    private readonly socket: Socket,
    private readonly to: { address: string; port: number },
    private readonly cipher: PskCipher | null,
    private readonly senderLine: Buffer,
  ) {}

  static async open(bind: string, to: { address: string; port: number }, psk: string | null): Promise<DatagramSource> {
    if (!isLoopbackAddress(bind) || !isLoopbackAddress(to.address)) throw new Error(`ingress source: ${bind} -> ${to.address} is not loopback`);
    const socket = createSocket({ type: to.address.includes(':') ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: bind, port: 0 }, () => resolve());
    });
    socket.on('error', () => undefined); // ICMP port unreachable while the receiver starts: the count says it
    return new DatagramSource(socket, to, psk === null ? null : new PskCipher(psk), multicastSenderLine(INGRESS_SENDER));
  }

  datagram(e: FiredEvent, n: number): Buffer {
    return frameDatagram(plainEventText(e, INGRESS_SENDER, n), { senderLine: this.senderLine, cipher: this.cipher });
  }

  /** Sends event(i) for i in [0, count) at `rate`/s, stopping at `maxSeconds`. */
  async send(count: number, rate: number, maxSeconds: number, event: (i: number) => Buffer, onSend: (i: number) => void): Promise<{ sent: number }> {
    const t0 = performance.now();
    const deadline = t0 + maxSeconds * 1000;
    let sent = 0;
    while (sent < count) {
      const now = performance.now();
      if (now >= deadline) break;
      const due = Math.min(count, Math.floor(((now - t0) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        onSend(sent);
        this.socket.send(event(sent), this.to.port, this.to.address);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    return { sent };
  }

  close(): void {
    this.socket.close();
  }
}
