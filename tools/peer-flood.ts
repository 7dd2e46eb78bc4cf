/**
 * `node dist/tools/peer-flood.js [--names 200000] [--rate 20000]`: the invented-peer-name attack
 * of issue 15.1, measured on a real `fs-event-multicast run` process beside a simulated
 * FreeSWITCH, loopback only. Sends plain HEARTBEATs, each under a new Multicast-Sender name,
 * then 1,000 HEARTBEATs with 60 KB names; with peer-timeout 5 the invented peers also go down.
 * Prints the bridge's RSS, /peers.json size, peer-table and drop counters, the sendevents
 * FreeSWITCH got by subclass, and the bytes the bridge logged. Bounded: at most --names
 * datagrams (plus 1,000), sent at --rate, and about a minute in all.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeFreeSwitch } from '../src/testing/fake-freeswitch.js';
import { MAGIC, PLAIN_TRAILING_ZEROS } from '../src/wire/magic.js';
import { urlEncode } from '../src/wire/url.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function parseArgs(argv: string[]): { names: number; rate: number } {
  const a = { names: 200_000, rate: 20_000 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = Number(argv[i + 1]);
    if (argv[i] === '--names' && Number.isInteger(v) && v >= 1 && v <= 1_000_000) a.names = v;
    else if (argv[i] === '--rate' && Number.isInteger(v) && v >= 100 && v <= 50_000) a.rate = v;
    else throw new Error(`usage: peer-flood [--names 1..1000000] [--rate 100..50000]; bad argument ${argv[i]}`);
  }
  return a;
}

function heartbeat(sender: string): Buffer {
  const text = `Event-Name: HEARTBEAT\nCore-UUID: 0c0ffee0-0000-4000-8000-000000000001\nMulticast-Sender: ${urlEncode(sender)}\n\n`;
  return Buffer.concat([Buffer.from(text, 'utf8'), MAGIC, Buffer.alloc(PLAIN_TRAILING_ZEROS)]);
}

async function freePort(kind: 'udp' | 'tcp', address: string): Promise<number> {
  if (kind === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, address, r));
    const { port } = s.address();
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, address, r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

interface Status {
  counters: { ingress: { datagrams: number; kernelRcvbufDrops?: number; dropped: Record<string, number> }; peers: Record<string, number> };
  peerTable?: Record<string, number>;
  memory: { rssBytes: number };
  esl: { injector: { droppedOldest: number; queued: number } };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const fs = await FakeFreeSwitch.start({ switchname: 'fs-victim', keepSendevents: 0 });
  const bySubclass = new Map<string, number>();
  fs.on('sendevent', (s: { headers: [string, string][] }) => {
    const sub = s.headers.find(([n]) => n === 'Event-Subclass')?.[1] ?? s.headers[0]?.[1] ?? '?';
    bySubclass.set(sub, (bySubclass.get(sub) ?? 0) + 1);
  });
  const port = await freePort('udp', '127.0.0.2');
  const statusPort = await freePort('tcp', '127.0.0.1');
  const dir = mkdtempSync(join(tmpdir(), 'peer-flood-'));
  const file = join(dir, 'event_multicast.conf.xml');
  const params: Record<string, string> = {
    address: '127.0.0.1', port: String(port), bindings: 'HEARTBEAT', 'source-address': '127.0.0.2', 'esl-port': String(fs.port),
    'status-listen': `127.0.0.1:${statusPort}`, 'peer-timeout': '5', workers: '0',
  };
  writeFileSync(file, `<configuration name="event_multicast.conf"><settings>\n${Object.entries(params).map(([k, v]) => `<param name="${k}" value="${v}"/>`).join('\n')}\n</settings></configuration>\n`);
  const child = spawn(process.execPath, [CLI, 'run', '--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let logBytes = 0;
  let dropWarnings = 0;
  child.stderr.on('data', (d: Buffer) => {
    logBytes += d.length;
    dropWarnings += d.toString('latin1').split('the kernel is dropping received datagrams').length - 1;
  });
  const base = `http://127.0.0.1:${statusPort}`;
  const status = async () => JSON.parse(await httpGet(`${base}/status`)) as Status;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await httpGet(`${base}/healthz`)).startsWith('ok')) break;
      } catch {
        // not listening yet
      }
      if (i > 100) throw new Error('the bridge did not come up');
      await sleep(100);
    }
    await sleep(1_000);
    const before = await status();
    const logBefore = logBytes;
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const sendAll = async (count: number, make: (i: number) => Buffer, rate: number) => {
      const started = Date.now();
      for (let i = 0; i < count; i += 100) {
        const slice = Array.from({ length: Math.min(100, count - i) }, (_, k) => make(i + k));
        await Promise.all(slice.map((d) => new Promise<void>((r) => sock.send(d, port, '127.0.0.2', () => r()))));
        const due = started + ((i + slice.length) * 1000) / rate;
        if (due > Date.now()) await sleep(due - Date.now());
        if (Date.now() - started > 90_000) return i + slice.length; // bounded in time
      }
      return count;
    };
    const settle = async (sent: number) => {
      for (let i = 0; i < 300; i++) {
        const s = await status();
        if (s.counters.ingress.datagrams + (s.counters.ingress.kernelRcvbufDrops ?? 0) >= sent) return;
        await sleep(100);
      }
    };
    const t0 = Date.now();
    const sent = await sendAll(args.names, (i) => heartbeat(`invented-${i}`), args.rate);
    const seconds = (Date.now() - t0) / 1000;
    await settle(before.counters.ingress.datagrams + sent);
    await sleep(7_000); // past peer-timeout 5 s: the invented peers go down
    const afterNames = await status();
    const peersJsonBytes = Buffer.byteLength(await httpGet(`${base}/peers.json`));
    const logAfterNames = logBytes;
    const longSent = await sendAll(1_000, (i) => heartbeat(`${i}-${'x'.repeat(60_000)}`), 2_000);
    await settle(afterNames.counters.ingress.datagrams + longSent);
    await sleep(500);
    const afterLong = await status();
    const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
    console.log(JSON.stringify({
      invented: { sent, seconds: Math.round(seconds * 10) / 10, rssMbBefore: mb(before.memory.rssBytes), rssMbAfter: mb(afterNames.memory.rssBytes), peersJsonBytes, logBytes: logAfterNames - logBefore },
      peerTable: afterNames.peerTable ?? null,
      peerCounters: afterNames.counters.peers,
      kernel: {
        rcvbufDrops: afterNames.counters.ingress.kernelRcvbufDrops ?? null,
        // Every datagram sent is either received or a counted kernel drop.
        receivedPlusDrops: afterNames.counters.ingress.datagrams - before.counters.ingress.datagrams + (afterNames.counters.ingress.kernelRcvbufDrops ?? 0),
        dropWarnings,
      },
      injector: { droppedOldest: afterNames.esl.injector.droppedOldest, queued: afterNames.esl.injector.queued },
      sendeventsBySubclass: Object.fromEntries(bySubclass),
      longNames: { sent: longSent, rssMbAfter: mb(afterLong.memory.rssBytes), droppedSenderTooLong: afterLong.counters.ingress.dropped['sender-too-long'] ?? null, logBytes: logBytes - logAfterNames, peerTableSize: afterLong.peerTable?.['size'] ?? null },
    }, null, 2));
    sock.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    await fs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
