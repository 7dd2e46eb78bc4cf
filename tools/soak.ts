/**
 * `npm run soak [-- --seconds 60 --rate 1000]`: two bridges (A -> B, PSK, loopback only, in
 * this process) under steady load while faults are injected on a schedule:
 *   - B's FreeSWITCH stops for 2 s and restarts (the injector keeps what arrives meanwhile);
 *   - B's pool workers are killed mid-batch (Piscina replaces them; batches in flight are lost, counted);
 *   - both configurations are reloaded (B's pool is rebuilt: new batch size);
 *   - B's event-socket connections are dropped (at-least-once: a few may fire twice);
 *   - all along, corrupted packets, replays and garbage are thrown at B.
 * Prints events offered, delivered, duplicates, drops by reason and counter, max RSS, and
 * whether anything was lost that no counter explains (exit 1 then). Bounded: the run takes
 * --seconds plus at most 20 s to drain.
 */
import dgram from 'node:dgram';
import type { Worker } from 'node:worker_threads';
import type { Bridge } from '../src/bridge/bridge.js';
import { frameDatagram, multicastSenderLine } from '../src/wire/egress.js';
import { PskCipher } from '../src/wire/psk-cipher.js';
import { Cleanup, startPair, waitFor } from '../testkit/bridge-harness.js';

interface Args {
  seconds: number;
  rate: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seconds: 60, rate: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const v = Number(argv[i + 1]);
    if (argv[i] === '--seconds' && Number.isInteger(v) && v >= 10 && v <= 3600) (a.seconds = v), i++;
    else if (argv[i] === '--rate' && Number.isInteger(v) && v >= 1 && v <= 20_000) (a.rate = v), i++;
    else throw new Error(`usage: soak [--seconds 10..3600] [--rate 1..20000]; bad argument ${argv[i]}`);
  }
  return a;
}

interface PoolView {
  piscina: { threads: Worker[] } | null;
  stats(): { ingress: { droppedQueueFull: number; taskErrors: number }; egress: { droppedQueueFull: number; taskErrors: number } };
}
const poolOf = (b: Bridge): PoolView => (b as unknown as { live: { pool: PoolView } }).live.pool;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const PSK = 'soak-key';
  const cleanup = new Cleanup();
  const log: string[] = [];
  const t0 = Date.now();
  const note = (what: string) => log.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`);
  let maxRss = 0;
  const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage.rss())), 250);
  try {
    const { a, b, port } = await startPair(cleanup, {
      params: { psk: PSK, bindings: 'HEARTBEAT CUSTOM sofia::register' },
      flags: { workers: '2' },
      b: { keepSendevents: 0 },
    });
    note(`pair up: A 127.0.0.1 -> B 127.0.0.2 port ${port}, PSK, 2 workers each`);

    // What B's FreeSWITCH fired, per stream index (sendevents are not kept: memory stays flat).
    const seen = new Uint8Array(args.rate * args.seconds + 10);
    let deliveredTotal = 0;
    b.fs.on('sendevent', (s: { headers: [string, string][] }) => {
      let stream: string | undefined;
      let index: string | undefined;
      for (const [n, v] of s.headers) {
        if (n === 'Orig-Stream') stream = v;
        else if (n === 'Orig-Stream-Index') index = v;
      }
      if (stream !== 'soak' || index === undefined) return;
      deliveredTotal++;
      const i = Number(index);
      if (seen[i]! < 255) seen[i]!++;
    });

    // Hostile traffic toward B: valid PSK packets of another stream sent twice (the second is a
    // replay), the same with bit flips, and garbage.
    const junk = dgram.createSocket('udp4');
    await new Promise<void>((r) => junk.bind(0, '127.0.0.1', r));
    cleanup.add(() => new Promise<void>((r) => junk.close(() => r())));
    const cipher = new PskCipher(PSK);
    const senderLine = multicastSenderLine('fs-x');
    let junkSent = 0;
    let replaysSent = 0;
    let junkN = 0;
    const throwJunk = () => {
      const d = frameDatagram(Buffer.from(`Event-Name: CUSTOM\nEvent-Subclass: sofia::register\nStream: junk\nStream-Index: ${junkN++}\n\n`, 'latin1'), { senderLine, cipher });
      const flipped = Buffer.from(d);
      flipped[300 + (junkN % (flipped.length - 300))]! ^= 0x10;
      const garbage = Buffer.alloc(40 + (junkN % 900), junkN & 0xff);
      for (const x of [d, d, flipped, garbage]) junk.send(x, port, '127.0.0.2');
      junkSent += 4;
      replaysSent++;
    };

    // Load: `rate` events/s on A, in 10 ms ticks.
    let offered = 0;
    let running = true;
    const load = (async () => {
      const start = Date.now();
      while (running) {
        const due = Math.min(seen.length - 10, Math.floor(((Date.now() - start) / 1000) * args.rate));
        // Only while A is subscribed: FreeSWITCH gives events to no one otherwise (not the bridge's loss).
        const aConnected = a.eslStatus().events.connected;
        while (offered < due && aConnected) {
          a.fs.fire({ name: 'CUSTOM', subclass: 'sofia::register', headers: [['Stream', 'soak'], ['Stream-Index', String(offered)]] });
          offered++;
        }
        throwJunk(); // 4 hostile datagrams per tick
        await sleep(10);
      }
    })();

    const at = (fraction: number) => sleep(Math.max(0, t0 + fraction * args.seconds * 1000 - Date.now()));
    const faults = (async () => {
      await at(0.12);
      note("fault: B's FreeSWITCH stops");
      await b.fs.stop();
      await sleep(2000);
      await b.fs.restart();
      note("fault: B's FreeSWITCH restarted");
      await at(0.3);
      const threads = poolOf(b.br).piscina?.threads ?? [];
      for (const w of threads) void w.terminate();
      note(`fault: ${threads.length} pool workers of B killed`);
      await at(0.45);
      b.params = { ...b.params, 'batch-size': '32' };
      await b.br.reload('soak');
      a.params = { ...a.params, 'peer-timeout': '45' };
      await a.br.reload('soak');
      note('fault: configuration reloaded on B (pool rebuilt, batch-size 32) and A');
      await at(0.6);
      b.fs.dropConnections();
      note("fault: B's event-socket connections dropped");
      await at(0.75);
      const again = poolOf(b.br).piscina?.threads ?? [];
      for (const w of again) void w.terminate();
      note(`fault: ${again.length} pool workers of B killed again`);
    })();

    await at(1);
    running = false;
    await load;
    await faults;
    note(`load stopped: ${offered} events offered`);
    // Drain: until B has fired everything it will (stable for 2 s), at most 20 s.
    let last = -1;
    let stableSince = Date.now();
    const drainEnd = Date.now() + 20_000;
    while (Date.now() < drainEnd) {
      const inj = b.eslStatus().injector;
      if (deliveredTotal !== last || inj.queued > 0 || inj.inFlight > 0) {
        last = deliveredTotal;
        stableSince = Date.now();
      } else if (Date.now() - stableSince > 2000) break;
      await sleep(100);
    }
    await waitFor('B connected at the end', () => b.eslStatus().injector.connected, 5000).catch(() => undefined);
    note('drained');

    let distinct = 0;
    let duplicates = 0;
    for (let i = 0; i < offered; i++) {
      if (seen[i]! > 0) distinct++;
      if (seen[i]! > 1) duplicates += seen[i]! - 1;
    }
    const missing = offered - distinct;
    const ca = a.counters;
    const cb = b.counters;
    const pa = poolOf(a.br).stats();
    const pb = poolOf(b.br).stats();
    const injB = b.eslStatus().injector as unknown as { droppedOldest: number; droppedRefused: number; requeued: number; reconnects: number; repliesErr: number };
    const udpA = (a.br.statusJson() as { udp: { destinations: { sent: number; failed: number; errorsByCode: Record<string, number> }[] } }).udp.destinations[0]!;
    const udpB = (b.br.statusJson() as { udp: { received: number }; replay: { replays: number; keys: number; earlyTurns: number } | null });
    // Stream datagrams that reached B's socket: all it received minus the hostile ones.
    const streamReceivedByB = udpB.udp.received - junkSent;
    const explained = {
      'A egress: lost with a failed worker batch': ca.egress.lost,
      'A egress: pool queue full (oldest dropped)': pa.egress.droppedQueueFull,
      'A egress: too large / unreadable': ca.egress.tooLarge + ca.egress.unreadable,
      'A UDP: send failed': udpA.failed,
      'UDP: sent by A, never reached B (kernel receive buffer)': Math.max(0, udpA.sent - streamReceivedByB),
      'B ingress: lost with a killed worker batch (stream + hostile)': cb.ingress.lost,
      'B ingress: pool queue full (oldest dropped)': pb.ingress.droppedQueueFull,
      'B sendevent queue full (oldest dropped)': injB.droppedOldest + injB.droppedRefused,
    };
    const explainedTotal = Object.values(explained).reduce((x, y) => x + y, 0);
    const unexplained = Math.max(0, missing - explainedTotal);

    const rows: [string, string | number][] = [
      ['duration (s)', args.seconds],
      ['target rate (events/s)', args.rate],
      ['events offered (fired on A while subscribed)', offered],
      ['events delivered to B (distinct)', distinct],
      ['duplicates (at-least-once redelivery after a drop)', duplicates],
      ['missing', missing],
      ...Object.entries(explained).map(([k, v]): [string, number] => [`  explained: ${k}`, v]),
      ['missing that no counter explains', unexplained],
      ['hostile datagrams thrown at B', junkSent],
      ['  of which replays of valid packets', replaysSent],
      ...Object.entries(cb.ingress.dropped).filter(([, v]) => v > 0).map(([k, v]): [string, number] => [`B dropped: ${k}`, v]),
      ['B replay guard: keys held / early turns', udpB.replay === null ? 'off' : `${udpB.replay.keys} / ${udpB.replay.earlyTurns}`],
      ['B injector: requeued after drops / reconnects / -ERR', `${injB.requeued} / ${injB.reconnects} / ${injB.repliesErr}`],
      ['B pool task errors (current pool, i.e. since the reload rebuilt it)', pb.ingress.taskErrors + pb.egress.taskErrors],
      ['reloads applied A / B', `${ca.reloads.applied} / ${cb.reloads.applied}`],
      ['max RSS (MB; both bridges, both simulated FreeSWITCHes, load, one process)', (Math.max(maxRss, process.resourceUsage().maxRSS * 1024) / 1048576).toFixed(1)],
      ['RSS at the end (MB)', (process.memoryUsage.rss() / 1048576).toFixed(1)],
    ];
    console.log('soak: fs-event-multicast A -> B on loopback, PSK, faults injected\n');
    for (const l of log) console.log(l);
    console.log('');
    const w = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${String(v).padStart(10)}`);
    const ok = unexplained === 0 && cb.ingress.dropped.replay >= replaysSent * 0.9;
    console.log(`\n${unexplained === 0 ? 'OK: every missing event is explained by a counter' : `FAIL: ${unexplained} events lost that no counter explains`}`);
    if (cb.ingress.dropped.replay < replaysSent * 0.9) console.log(`FAIL: only ${cb.ingress.dropped.replay} of ${replaysSent} replays caught`);
    return ok ? 0 : 1;
  } finally {
    clearInterval(rssTimer);
    await cleanup.run();
  }
}

process.exitCode = await main();
