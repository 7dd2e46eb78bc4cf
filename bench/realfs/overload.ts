/**
 * Graceful overload on the real FreeSWITCH rig: a bridge beside fs-b is offered registrations
 * and unregistrations of many phones (plain datagrams as fs-a would send them, built from the
 * captured sofia::register) at a fixed rate well above what fs-b absorbs, for a bounded time.
 * Afterwards: fs-b's sip_registrations (its sqlite file, and `sofia status profile internal reg`)
 * must hold exactly the users whose last event was a register, and every event the bridge
 * received is delivered or counted (superseded, expired, dropped). Writes the raw figures as
 * JSON. Needs FS_RIG (the rig's folder) and the rig lock (see the helper rules); starts and
 * stops fs-b itself. Everything stays on loopback.
 *
 * `--batch yes` installs the mod_lua fan-out hook on fs-b (its lua.conf.xml written for the start
 * and put back at once) and runs the bridge with inject-batch yes (flow control included). Also
 * measured: the latency of each delivered event (send to an ESL listener on fs-b seeing its
 * multicast::event, by Orig-Event-Sequence) and FreeSWITCH's CPU time (/proc utime+stime, from
 * the first send until it is idle again, minus its idle rate) per delivered event.
 *
 *   FS_RIG=/root/fs-rig node dist/bench/realfs/overload.js --rate 1000 --seconds 10 --users 1000 --out bench/results/realfs/overload.json
 */
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EslConnection } from '../../src/esl/connection.js';
import { resolveEndpoint, type EslLogger } from '../../src/esl/options.js';
import { Bridge } from '../../src/bridge/bridge.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/util/log.js';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import type { InjectorStats } from '../../src/esl/injector.js';
import { fixtureText } from '../../testkit/fixtures.js';
import { LogCapture, moduleXml } from '../../testkit/bridge-harness.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const RATE = Number(args.get('rate') ?? 1000);
const SECONDS = Number(args.get('seconds') ?? 10);
const USERS = Number(args.get('users') ?? 1000);
const OUT = args.get('out') ?? 'bench/results/realfs/overload.json';
const BATCH = args.get('batch') ?? 'no';
if (BATCH !== 'yes' && BATCH !== 'no') throw new Error('--batch yes|no');
const SCRIPT = resolve(fileURLToPath(new URL('../../../conf/freeswitch/scripts/fs_event_multicast_batch.lua', import.meta.url)));
const CLK_TCK = 100;
const quiet: EslLogger = { debug() {}, info() {}, warn() {}, error: (f, m) => console.error('error', m, JSON.stringify(f)) };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** utime+stime of fs-b, in ms. */
function fsCpuMs(): number {
  const pid = Number(readFileSync(join(RIG!, 'fs-b/run/freeswitch.pid'), 'utf8').trim());
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Waits until fs-b used at most 1 tick per 500 ms twice in a row; at most maxMs. */
async function settle(maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let calm = 0;
  let last = fsCpuMs();
  while (calm < 2 && Date.now() < deadline) {
    await sleep(500);
    const now = fsCpuMs();
    calm = now - last <= 1000 / CLK_TCK ? calm + 1 : 0;
    last = now;
  }
}

function percentile(sorted: number[], p: number): number | null {
  return sorted.length === 0 ? null : Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1));
}
const RIG = process.env.FS_RIG;
if (RIG === undefined || RIG === '') throw new Error('set FS_RIG to the rig folder');
if (!(RATE > 0 && RATE <= 5000 && SECONDS > 0 && SECONDS <= 60 && USERS > 0 && USERS <= 100_000)) throw new Error('rate 1..5000, seconds 1..60, users 1..100000');

const PORT = 4343;
const BRIDGE_ADDRESS = '127.0.0.2';
const SENDER_ADDRESS = '127.0.0.1';

function run(file: string, argv: string[], timeoutMs = 90_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, argv, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (e, out, err) => (e === null ? resolve(out) : reject(new Error(`${file} ${argv.join(' ')}: ${e.message}\n${out.slice(-500)}${err.slice(-500)}`))));
  });
}

/** The captured register/unregister (fs-a, phone 1005) with this phone's values. */
const TEMPLATES = {
  register: fixtureText('plain/esl/e0006-CUSTOM-sofia__register.txt'),
  unregister: fixtureText('plain/esl/e0011-CUSTOM-sofia__unregister.txt'),
};
function eventText(kind: 'register' | 'unregister', user: string, seq: number): Buffer {
  const set = (text: string, name: string, value: string) => text.replace(new RegExp(`^${name}: .*$`, 'm'), `${name}: ${value}`);
  let t = TEMPLATES[kind].replace(/^Multicast-Sender: .*\n/m, '');
  for (const n of ['from-user', 'to-user', 'username', 'sip_auth_username', 'user_name']) t = set(t, n, user);
  t = set(t, 'call-id', `overload-${user}%40127.0.0.1`);
  t = set(t, 'contact', `%22%22%20%3Csip%3A${user}%40127.0.0.1%3A5095%3Btransport%3DUDP%3E`);
  t = set(t, 'Event-Sequence', String(seq));
  t = set(t, 'Event-Date-Timestamp', String(Date.now() * 1000));
  return Buffer.from(t, 'latin1');
}

async function main(): Promise<void> {
  const started = new Date().toISOString();
  await run(join(RIG!, 'stop-all.sh'), []).catch(() => '');
  const luaConf = join(RIG!, 'fs-b/conf/autoload_configs/lua.conf.xml');
  const original = readFileSync(luaConf);
  if (BATCH === 'yes') {
    writeFileSync(luaConf, `<configuration name="lua.conf" description="LUA Configuration">\n  <settings>\n    <hook event="CUSTOM" subclass="fs_event_multicast::batch" script="${SCRIPT}"/>\n  </settings>\n</configuration>\n`);
  }
  try {
    await run(join(RIG!, 'start-b.sh'), []);
  } finally {
    writeFileSync(luaConf, original); // FreeSWITCH has read it: the rig's file is back at once
  }
  // Arrival time of each event's multicast::event on fs-b, by the datagram's Event-Sequence.
  const seenAt = new Map<number, number>();
  const listener = new EslConnection(resolveEndpoint({ host: '127.0.0.1', port: 8022, password: 'ClueCon', logger: quiet }, 'bench listener'), {
    label: 'bench-listener',
    setup: async (c) => void (await c.request('event plain CUSTOM multicast::event')),
    onEvents: (texts) => {
      const now = performance.now();
      for (const t of texts) {
        const m = /\nOrig-Event-Sequence: ([0-9]+)/.exec(t.toString('latin1'));
        if (m !== null && !seenAt.has(Number(m[1]))) seenAt.set(Number(m[1]), now);
      }
    },
    onFatal: (e) => {
      throw e;
    },
  });
  listener.start();
  for (let i = 0; i < 500 && !listener.ready; i++) await sleep(20);
  const xml = moduleXml({ address: SENDER_ADDRESS, port: String(PORT), bindings: 'HEARTBEAT' });
  const { config } = loadConfig({ xmlText: xml, flags: { 'inject-batch': BATCH, 'esl-port': '8022', 'source-address': BRIDGE_ADDRESS, 'status-listen': 'off', workers: args.get('workers') ?? 'auto' }, env: {} });
  const logs = new LogCapture();
  const bridge = await Bridge.start({ config, logger: createLogger({ level: 'info', format: 'json', destination: logs.stream }) });
  const result: Record<string, unknown> = { started, rate: RATE, seconds: SECONDS, users: USERS, injectors: config.injectors };
  try {
    if (!(await bridge.ready(30_000))) throw new Error('bridge beside fs-b not ready');
    const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 8 * 1024 * 1024 });
    await new Promise<void>((r) => socket.bind(0, SENDER_ADDRESS, () => r()));
    const senderLine = multicastSenderLine('fs-a');
    const last = new Map<string, 'register' | 'unregister'>();
    await settle(10_000);
    const idle0 = fsCpuMs();
    await sleep(3000);
    const idleMsPerS = (fsCpuMs() - idle0) / 3;
    const sentAt: number[] = [];
    const cpu0 = fsCpuMs();
    const wall0 = Date.now();
    let seq = 0;
    let rnd = 0x2545f491;
    const next = (n: number) => {
      rnd ^= rnd << 13;
      rnd ^= rnd >>> 17;
      rnd ^= rnd << 5;
      return (rnd >>> 0) % n;
    };
    const total = RATE * SECONDS;
    const t0 = performance.now();
    let sendErrors = 0;
    // Paced in 10 ms steps; bounded by count and by time (2× the planned seconds).
    while (seq < total && performance.now() - t0 < SECONDS * 2000) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
      while (seq < due) {
        const user = String(20_000 + next(USERS));
        const kind = next(3) === 0 ? 'unregister' : 'register';
        last.set(user, kind);
        sentAt[seq] = performance.now();
        socket.send(frameDatagram(eventText(kind, user, seq), { senderLine, cipher: null }), PORT, BRIDGE_ADDRESS, (e) => {
          if (e) sendErrors++;
        });
        seq++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const offerSeconds = (performance.now() - t0) / 1000;
    // What fs-b absorbed while offered more than it could take (its sustained rate here).
    const deliveredDuringOffer = (bridge.statusJson() as { esl: { injector: InjectorStats } }).esl.injector.delivered;
    const status = () => bridge.statusJson() as { esl: { injector: InjectorStats } };
    const drainStart = performance.now();
    // Done when all arrived and went out, or (datagrams lost in the kernel) nothing arrived for 2 s with nothing left to send.
    let quietSince = performance.now();
    let lastReceived = -1;
    for (let i = 0; i < 1200; i++) {
      const inj = status().esl.injector;
      const received = bridge.counters.ingress.datagrams;
      if (received !== lastReceived) quietSince = performance.now();
      lastReceived = received;
      if (inj.queued + inj.inFlight === 0 && (received >= seq || performance.now() - quietSince > 2000)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    await settle(20_000);
    const fsCpu = fsCpuMs() - cpu0 - idleMsPerS * ((Date.now() - wall0) / 1000);
    const latencies: number[] = [];
    for (const [s, at] of seenAt) if (sentAt[s] !== undefined) latencies.push(at - sentAt[s]!);
    latencies.sort((a, b) => a - b);
    await listener.close();
    socket.close();
    const inj = status().esl.injector;
    const g = bridge.counters.ingress;
    const explained = inj.delivered + inj.superseded + inj.expired + inj.droppedOldest + inj.droppedTooOld + inj.droppedRefused + inj.abandoned + inj.repliesErr + inj.repliesUnknown + inj.queued + inj.inFlight;
    // fs-b's final state: its registrations table, and what `sofia status` counts.
    const rows = (await run('sqlite3', [join(RIG!, 'fs-b', 'db', 'sofia_reg_internal.db'), "select sip_user from sip_registrations where call_id like 'overload-%';"])).split('\n').filter((l) => l !== '');
    const onSwitch = new Set(rows);
    const expected = new Set([...last].filter(([, k]) => k === 'register').map(([u]) => u));
    const missing = [...expected].filter((u) => !onSwitch.has(u));
    const stale = [...onSwitch].filter((u) => !expected.has(u));
    const sofiaStatus = await run(join(RIG!, 'cli-b.sh'), ['-x', 'sofia status profile internal reg']);
    const sofiaTotal = Number(/Total items returned:\s*(\d+)/.exec(sofiaStatus)?.[1] ?? NaN);
    Object.assign(result, {
      offered: seq,
      offerSeconds: Number(offerSeconds.toFixed(2)),
      offeredPerS: Math.round(seq / offerSeconds),
      deliveredDuringOffer,
      absorbedPerS: Math.round(deliveredDuringOffer / offerSeconds),
      overloadFactor: Number((seq / offerSeconds / Math.max(1, deliveredDuringOffer / offerSeconds)).toFixed(2)),
      sendErrors,
      received: g.datagrams,
      fired: g.fired,
      ingressDropped: g.dropped,
      kernelRcvbufDrops: g.kernelRcvbufDrops,
      batch: BATCH,
      seenOnFsB: latencies.length,
      latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: percentile(latencies, 1) },
      fsIdleCpuMsPerS: idleMsPerS,
      fsCpuMs: Math.round(fsCpu),
      fsCpuMsPerDelivered: inj.delivered === 0 ? null : Number((fsCpu / inj.delivered).toFixed(3)),
      fsCpuMsPerOffered: Number((fsCpu / seq).toFixed(3)),
      flow: { fanOut: inj.fanOut, batches: inj.batches, batchedEvents: inj.batchedEvents, fanOutWaits: inj.fanOutWaits, fanOutPolls: inj.fanOutPolls, fanOutTimeouts: inj.fanOutTimeouts },
      injector: { offered: inj.offered, delivered: inj.delivered, superseded: inj.superseded, expired: inj.expired, droppedOldest: inj.droppedOldest, droppedTooOld: inj.droppedTooOld, droppedRefused: inj.droppedRefused, abandoned: inj.abandoned, repliesErr: inj.repliesErr, requeued: inj.requeued, replyTimeouts: inj.replyTimeouts, queued: inj.queued, inFlight: inj.inFlight },
      unexplained: inj.offered - explained,
      drainSeconds: Number(drainSeconds.toFixed(2)),
      finalState: { usersTouched: last.size, expectedRegistered: expected.size, rowsOnSwitch: onSwitch.size, sofiaStatusTotal: sofiaTotal, missing: missing.slice(0, 20), missingCount: missing.length, stale: stale.slice(0, 20), staleCount: stale.length },
      correct: missing.length === 0 && stale.length === 0 && inj.offered - explained === 0,
      warnings: logs.messages().filter((m) => /queue|dropp|real-time/.test(m)).slice(0, 10),
    });
  } finally {
    await bridge.stop(2000).catch(() => undefined);
    await listener.close().catch(() => undefined);
    await run(join(RIG!, 'stop-all.sh'), []).catch(() => '');
    result['finished'] = new Date().toISOString();
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  }
}

await main();
