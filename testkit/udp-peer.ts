/**
 * A UdpTransport in its own process, for tests that run it inside a network namespace.
 * argv[2]: UdpTransportOptions as JSON. stdout: one JSON object per line:
 *   {type:'ready', bound, sockets} | {type:'start-error', kind, code, message}
 *   {type:'datagram', label, length, sha256, from} for every datagram received
 *   {type:'sent', tag, stats} after a send command, {type:'stats', stats}
 * stdin: one JSON command per line:
 *   {cmd:'send', tag, sizes:number[]}  sends patternDatagram(tag, i, sizes[i]) to every destination
 *   {cmd:'stats'}
 * Exits when stdin closes, and in any case after PEER_LIFETIME_MS (default 30 s).
 */
import { createInterface } from 'node:readline';
import { UdpTransport, UdpTransportError, type UdpTransportOptions } from '../src/transport/udp/udp-transport.js';
import { labelOf, patternDatagram, sha256 } from './datagrams.js';

function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const lifetime = Number(process.env.PEER_LIFETIME_MS ?? 30_000);
const lifetimeTimer = setTimeout(() => process.exit(3), lifetime);

const options = JSON.parse(process.argv[2] ?? '{}') as UdpTransportOptions;
const transport = new UdpTransport(options);
transport.onDatagram((data, from) => {
  emit({ type: 'datagram', label: labelOf(data), length: data.length, sha256: sha256(data), from: { ...from } });
});

let closing = false;
async function shutdown(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  clearTimeout(lifetimeTimer);
  await transport.close();
  process.exit(code);
}

try {
  await transport.start();
  emit({ type: 'ready', bound: transport.boundAddresses(), sockets: transport.stats().sockets });
} catch (error) {
  if (error instanceof UdpTransportError) {
    emit({ type: 'start-error', kind: error.kind, code: error.code ?? null, message: error.message });
  } else {
    emit({ type: 'start-error', kind: 'other', code: null, message: String(error) });
  }
  await shutdown(2);
}

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const command = JSON.parse(line) as { cmd: string; tag?: string; sizes?: number[] };
  if (command.cmd === 'send') {
    const tag = command.tag ?? 'x';
    transport.sendMany((command.sizes ?? []).map((size, i) => patternDatagram(tag, i, size)));
    // Let the send callbacks run before reporting the counters.
    setTimeout(() => emit({ type: 'sent', tag, stats: transport.stats() }), 50);
  } else if (command.cmd === 'stats') {
    emit({ type: 'stats', stats: transport.stats() });
  }
});
commands.on('close', () => void shutdown(0));
