/** A UDP port that is free on the given loopback address right now (small race, fine for tests). */
import dgram from 'node:dgram';

export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
