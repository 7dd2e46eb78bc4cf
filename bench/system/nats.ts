/**
 * The two transports side by side, in the same run, on loopback: datagrams of a typical event
 * size (1.2 KB) from one transport instance to another.
 *   UDP   UdpTransport 127.0.0.1 -> UdpTransport 127.0.0.2 (unicast)
 *   NATS  NatsTransport -> nats-server (started here, loopback) -> NatsTransport
 * Two measures each:
 *   throughput  a bounded run (default 50 000 datagrams) with at most 512 in flight: datagrams/s
 *               received, and how many were lost or dropped (UDP: the kernel; NATS: backpressure);
 *   latency     one datagram at a time (default 2 000): one-way time, send() to the receive
 *               callback, same process (so same clock): p50 / p99 / max in µs.
 * Transport only (no pool, no FreeSWITCH): what NATS adds over UDP per datagram.
 *
 *   node dist/bench/system/nats.js [--count N] [--latency N] [--json FILE]
 *
 * Bounded: each phase stops after 15 s whatever happened. Needs nats-server (apt-get install nats-server).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { NatsTransport } from '../../src/transport/nats/transport.js';
import { UdpTransport } from '../../src/transport/udp/udp-transport.js';
import { findNatsServer, freeTcpPort, NatsNode } from '../../testkit/nats-server.js';
import { freeUdpPort } from '../../testkit/udp-ports.js';
import { machineInfo } from '../../src/benchmark/machine.js';
import { formatTable } from '../lib/table.js';

const DATAGRAM_BYTES = 1200;
const PHASE_LIMIT_MS = 15_000;
const BURST_PER_TURN = 256;

interface Pipe {
  name: string;
  send(d: Buffer): void;
  onReceive(h: (d: Buffer) => void): void;
  dropped(): number;
  close(): Promise<void>;
}

interface Result {
  transport: string;
  sent: number;
  received: number;
  lostOrDropped: number;
  /** Of them, counted by the sender (UDP send failures; NATS backpressure/publish errors). */
  droppedCounted: number;
  datagramsPerSecond: number;
  latencyUs: { p50: number; p99: number; max: number; samples: number };
}

function stamp(seq: number): Buffer {
  const d = Buffer.alloc(DATAGRAM_BYTES, 0x61);
  d.writeUInt32BE(seq, 0);
  d.writeBigUInt64BE(process.hrtime.bigint(), 4);
  return d;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Closed loop: at most WINDOW datagrams in flight (sent, not yet received), so the figure is
 * what the path sustains without loss, not how fast a buffer overflows. A datagram lost for
 * good (no progress for 250 ms) is written off so the run goes on.
 */
const WINDOW = 512;

async function throughput(pipe: Pipe, count: number): Promise<{ received: number; perSecond: number }> {
  let received = 0;
  let lastAt = 0n;
  pipe.onReceive(() => {
    received++;
    lastAt = process.hrtime.bigint();
  });
  const start = process.hrtime.bigint();
  const deadline = Date.now() + PHASE_LIMIT_MS;
  let sent = 0;
  let writtenOff = 0;
  let progressAt = Date.now();
  let lastReceived = 0;
  while (sent < count && Date.now() < deadline) {
    for (let k = 0; k < BURST_PER_TURN && sent < count && sent - received - writtenOff < WINDOW; k++) pipe.send(stamp(sent++));
    await turn();
    if (received !== lastReceived) {
      lastReceived = received;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > 250) {
      writtenOff = sent - received;
      progressAt = Date.now();
    }
  }
  // Wait for the tail (quiet for 300 ms, or the phase limit).
  let seen = -1;
  while (Date.now() < deadline && received < count && received !== seen) {
    seen = received;
    await new Promise((r) => setTimeout(r, 300));
  }
  const seconds = Number((lastAt > start ? lastAt : process.hrtime.bigint()) - start) / 1e9;
  return { received, perSecond: received / seconds };
}

async function latency(pipe: Pipe, count: number): Promise<number[]> {
  const samples: number[] = [];
  let waiting: (() => void) | null = null;
  pipe.onReceive((d) => {
    samples.push(Number(process.hrtime.bigint() - d.readBigUInt64BE(4)) / 1000);
    waiting?.();
  });
  const deadline = Date.now() + PHASE_LIMIT_MS;
  for (let i = 0; i < count && Date.now() < deadline; i++) {
    const got = new Promise<void>((r) => {
      waiting = r;
      setTimeout(r, 1000).unref(); // a lost datagram does not stall the run
    });
    pipe.send(stamp(i));
    await got;
  }
  return samples.sort((a, b) => a - b);
}

async function udpPipe(): Promise<Pipe> {
  const port = await freeUdpPort('127.0.0.2');
  const a = new UdpTransport({ destinations: [{ address: '127.0.0.2', family: 4, multicast: false }], port, sourceAddress: '127.0.0.1', ttl: 1, loopback: false });
  const b = new UdpTransport({ destinations: [{ address: '127.0.0.1', family: 4, multicast: false }], port, sourceAddress: '127.0.0.2', ttl: 1, loopback: false });
  await a.start();
  await b.start();
  return {
    name: 'UDP (loopback unicast)',
    send: (d) => a.send(d),
    onReceive: (h) => b.onDatagram((d) => h(d)),
    dropped: () => a.stats().destinations[0]!.failed,
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}

async function natsPipe(url: string): Promise<Pipe> {
  const options = { servers: [url], subjectPrefix: 'fsem.bench', credentials: { kind: 'none' } as const, maxPendingBytes: 8 * 1024 * 1024, state: null };
  const a = new NatsTransport(options);
  const b = new NatsTransport(options);
  await a.start();
  await b.start();
  a.setOwnName('bench-a');
  b.setOwnName('bench-b');
  // Let the subscriptions reach the server before measuring.
  await new Promise((r) => setTimeout(r, 200));
  return {
    name: 'NATS (one nats-server, loopback)',
    send: (d) => a.send(d),
    onReceive: (h) => b.onDatagram((d) => h(d)),
    dropped: () => {
      const s = a.stats().dropped;
      return s.backpressure + s.publishError + s.unconfirmedAtDisconnect;
    },
    close: async () => {
      await a.close();
      await b.close();
    },
  };
}

async function measure(make: () => Promise<Pipe>, count: number, latencyCount: number): Promise<Result> {
  const t = await make();
  const tp = await throughput(t, count);
  const counted = t.dropped();
  await t.close();
  const l = await make(); // a fresh pair: nothing of the burst still in flight
  const samples = await latency(l, latencyCount);
  await l.close();
  return {
    transport: t.name,
    sent: count,
    received: tp.received,
    lostOrDropped: count - tp.received,
    droppedCounted: counted,
    datagramsPerSecond: Math.round(tp.perSecond),
    latencyUs: { p50: percentile(samples, 50), p99: percentile(samples, 99), max: samples[samples.length - 1] ?? NaN, samples: samples.length },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: 'string', default: '50000' }, latency: { type: 'string', default: '2000' }, json: { type: 'string' } } });
  const count = Math.min(1_000_000, Math.max(1, Number(values.count)));
  const latencyCount = Math.min(100_000, Math.max(1, Number(values.latency)));
  const bin = findNatsServer();
  if (bin === null) {
    console.error('bench/nats: nats-server is not installed (apt-get update && apt-get install -y nats-server)');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fsem-nats-bench-'));
  const node = new NatsNode(bin, 'bench', await freeTcpPort(), await freeTcpPort(), dir, {}, null);
  try {
    await node.start();
    const results = [await measure(udpPipe, count, latencyCount), await measure(() => natsPipe(node.url), count, latencyCount)];
    const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
    console.log(`bench/nats: ${count} datagrams of ${DATAGRAM_BYTES} B per transport (≤ 512 in flight), ${latencyCount} one at a time (latency)\n`);
    console.log(
      formatTable(
        [
          ['transport', 'datagrams/s', 'received', 'lost/dropped', 'p50 µs', 'p99 µs', 'max µs'],
          ...results.map((r) => [r.transport, String(r.datagramsPerSecond), String(r.received), String(r.lostOrDropped), fmt(r.latencyUs.p50), fmt(r.latencyUs.p99), fmt(r.latencyUs.max)]),
        ],
        ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
    if (values.json !== undefined) {
      const file = resolve(values.json);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify({ machine: machineInfo(), datagramBytes: DATAGRAM_BYTES, results }, null, 2));
    }
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
