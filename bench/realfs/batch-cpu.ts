/**
 * Real FreeSWITCH (the rig's fs-b): FreeSWITCH CPU per replicated event, one sendevent per
 * event against batched injection (the mod_lua fan-out hook), and the sustained rate with batches.
 *
 *   FS_RIG=/root/fs-rig node dist/bench/realfs/batch-cpu.js [--shape register|presence|mwi]
 *       [--count 2500] [--rate 250] [--reps 2] [--sustain 1000,2000] [--seconds 10]
 *       [--module-count 1000] [--module-rate 80] [--batch-ms 5] [--out bench/results/realfs/batch-cpu.json]
 *
 * Take the rig lock first (../shared/rig/README.md); the script starts fs-b with the hook
 * installed (its lua.conf.xml written, put back at the end) and stops it at the end.
 *
 * `register` (default): a realistic `sofia::register` (testkit's ~1.2 KB capture) for a different
 * phone each; `presence`: PRESENCE_IN of a different entity each; `mwi`: MESSAGE_WAITING of a
 * different mailbox each (the real-FreeSWITCH benchmark's shapes, src/benchmark/realfs). Each is
 * framed and PSK-encrypted as a peer sends it, decoded and turned into the bridge's (lean)
 * sendevent by the bridge's own ingress code, then fired by the bridge's injector (2 connections)
 * in the mode under test. Baseline `c-module`: the same registrations fired on fs-a, whose
 * mod_event_multicast sends them (PSK) to fs-b's, which fires them (both started with the module,
 * bindings: only the shape's event). An event-socket listener on fs-b subscribed to CUSTOM multicast::event
 * counts what FreeSWITCH fired (and when: latency from the send). FreeSWITCH's CPU is utime+stime
 * of its process (/proc/<pid>/stat) from before the first send until the process is idle again
 * after the last event (sofia's registration SQL included), minus its idle rate; divided by
 * events delivered. CPU time, not rates, because the 2-core machine is shared.
 */
import { execFile } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EslConnection } from '../../src/esl/connection.js';
import { SendeventInjector } from '../../src/esl/injector.js';
import { resolveEndpoint, type EslLogger } from '../../src/esl/options.js';
import { frameDatagram, multicastSenderLine } from '../../src/wire/egress.js';
import { buildSendevent, decodeDatagram } from '../../src/wire/ingress.js';
import { PskCipher } from '../../src/wire/psk-cipher.js';
import { urlDecode } from '../../src/wire/url.js';
import { eventShapes } from '../../testkit/event-shapes.js';
import { benchEvent, benchTag, plainEventText, sendeventCommand, type ShapeContext } from '../../src/benchmark/realfs/event-shapes.js';

const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const SCRIPT = join(REPO, 'conf/freeswitch/scripts/fs_event_multicast_batch.lua');
const ESL_PORT_A = 8021;
const ESL_PORT_B = 8022;
const PSK = 'ClueCon';
const CLK_TCK = 100;

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const rigDir = process.env['FS_RIG'];
if (rigDir === undefined || rigDir === '') {
  console.error('set FS_RIG to the rig folder (e.g. /root/fs-rig) and take the rig lock first');
  process.exit(2);
}
const SHAPE = option('shape', 'register');
if (!['register', 'presence', 'mwi'].includes(SHAPE)) throw new RangeError('--shape: register, presence or mwi');
/** The C module's bindings for the shape: only its event, so it stays idle in the other modes. */
const MODULE_BINDINGS = { register: 'CUSTOM sofia::register', presence: 'PRESENCE_IN', mwi: 'MESSAGE_WAITING' }[SHAPE]!;
/** presence and MWI: the benchmark's shapes; each event tagged with this run's id and its number. */
const SHAPE_CONTEXT: ShapeContext = { run: Date.now().toString(36), domain: 'fs-bench.invalid', profile: 'internal' };
const COUNT = Number(option('count', '2500'));
/** inject-batch-ms of the injector under test. */
const BATCH_MS = Number(option('batch-ms', '5'));
const RATE = Number(option('rate', '250'));
const REPS = Number(option('reps', '2'));
const SUSTAIN = option('sustain', '1000,2000').split(',').filter(Boolean).map(Number);
const SECONDS = Number(option('seconds', '10'));
/** The C module baseline: it loses events above ~100/s (issue 14), so a lower rate. 0 = skip. */
const MODULE_COUNT = Number(option('module-count', '1000'));
const MODULE_RATE = Number(option('module-rate', '80'));
const SHAPE_WHAT: Record<string, string> = { register: 'sofia::register (each a different phone)', presence: 'PRESENCE_IN (each a different entity)', mwi: 'MESSAGE_WAITING (each a different mailbox)' };
const OUT = resolve(option('out', join(REPO, 'bench/results/realfs/batch-cpu.json')));
if (![COUNT, RATE, REPS, SECONDS, ...SUSTAIN].every((n) => Number.isInteger(n) && n > 0 && n <= 100_000)) throw new RangeError('counts and rates must be 1..100000');

const quiet: EslLogger = { debug() {}, info() {}, warn: (f, m) => console.error('warn', m, JSON.stringify(f)), error: (f, m) => console.error('error', m, JSON.stringify(f)) };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((res, rej) => execFile(file, args, { timeout: timeoutMs }, (e, out, err) => (e ? rej(new Error(`${file}: ${e.message}\n${out}${err}`)) : res(out))));
}

function fsPid(): number {
  return Number(readFileSync(join(rigDir!, 'fs-b/run/freeswitch.pid'), 'utf8').trim());
}

/** utime+stime of the process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** Waits until the process used < 1 tick per 500 ms twice in a row (its queues drained); at most maxMs. */
async function settle(pid: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let calm = 0;
  let last = cpuMs(pid);
  while (calm < 2 && Date.now() < deadline) {
    await sleep(500);
    const now = cpuMs(pid);
    calm = now - last <= 1000 / CLK_TCK ? calm + 1 : 0;
    last = now;
  }
}

/** The bridge's (lean) sendevent for each event (a different phone/entity/mailbox each), via PSK datagram and ingress. */
function bridgeCommands(firstId: number, count: number): Buffer[] {
  if (SHAPE !== 'register') return Array.from({ length: count }, (_, i) => bridgeCommand(plainEventText(benchEvent(SHAPE as 'presence' | 'mwi', SHAPE_CONTEXT, firstId + i), 'fs-a')));
  const shape = eventShapes().find((s) => s.text.includes('sofia%3A%3Aregister') || s.text.includes('sofia::register'));
  if (shape === undefined) throw new Error('no sofia::register shape');
  const user = /\nusername: ([^\n]*)/.exec(shape.text.toString('latin1'))![1]!;
  const cipher = new PskCipher(PSK);
  const senderLine = multicastSenderLine('fs-a');
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const phone = `p${firstId + i}`;
    out.push(bridgeCommand(Buffer.from(shape.text.toString('latin1').split(user).join(phone), 'latin1'), senderLine, cipher));
  }
  return out;
}

function bridgeCommand(text: Buffer, senderLine = multicastSenderLine('fs-a'), cipher = new PskCipher(PSK)): Buffer {
  const decoded = decodeDatagram(frameDatagram(text, { senderLine, cipher }), { cipher });
  if (!decoded.ok) throw new Error(`own datagram did not decode: ${decoded.reason}`);
  return buildSendevent(decoded.value.scan, true);
}

/**
 * For the C module baseline: the same registration fired on fs-a (sendevent CUSTOM sofia::register
 * with the shape's own headers), which fs-a's mod_event_multicast sends to fs-b, whose module fires it.
 */
function moduleSourceCommands(firstId: number, count: number): Buffer[] {
  if (SHAPE !== 'register') return Array.from({ length: count }, (_, i) => sendeventCommand(benchEvent(SHAPE as 'presence' | 'mwi', SHAPE_CONTEXT, firstId + i)));
  const shape = eventShapes().find((s) => s.text.includes('sofia%3A%3Aregister') || s.text.includes('sofia::register'))!;
  const text = shape.text.toString('latin1');
  const user = /\nusername: ([^\n]*)/.exec(text)![1]!;
  const stamped = new Set(['event-name', 'event-subclass', 'core-uuid', 'freeswitch-hostname', 'freeswitch-switchname', 'freeswitch-ipv4', 'freeswitch-ipv6',
    'event-date-local', 'event-date-gmt', 'event-date-timestamp', 'event-calling-file', 'event-calling-function', 'event-calling-line-number', 'event-sequence', 'multicast-sender']);
  const lines: string[] = [];
  for (const line of text.slice(0, text.indexOf('\n\n')).split('\n')) {
    const c = line.indexOf(': ');
    if (c < 0 || stamped.has(line.slice(0, c).toLowerCase())) continue;
    const value = urlDecode(line.slice(c + 2));
    if (/[\x00-\x1f]/.test(value)) continue;
    lines.push(`${line.slice(0, c)}: ${value}`);
  }
  const head = `sendevent CUSTOM\nEvent-Subclass: sofia::register\n${lines.join('\n')}\n\n`;
  return Array.from({ length: count }, (_, i) => Buffer.from(head.split(user).join(`p${firstId + i}`), 'latin1'));
}

/** Which sent event a multicast::event is: `p<n>` (register: the phone) or `p<n>` from the bench tag. */
function eventId(text: Buffer): string | null {
  if (SHAPE !== 'register') {
    const n = benchTag(text, SHAPE_CONTEXT.run);
    return n === null ? null : `p${n}`;
  }
  const m = /\nOrig-username: (p[0-9]+)/.exec(text.toString('latin1'));
  return m === null ? null : m[1]!;
}

/** The listener: arrival time of each event's multicast::event. */
class Listener {
  readonly seen = new Map<string, number>();
  readonly connection: EslConnection;
  constructor() {
    this.connection = new EslConnection(resolveEndpoint({ host: '127.0.0.1', port: ESL_PORT_B, password: 'ClueCon', logger: quiet }, 'bench listener'), {
      label: 'bench-listener',
      setup: async (c) => void (await c.request('event plain CUSTOM multicast::event')),
      onEvents: (texts) => {
        const now = performance.now();
        for (const t of texts) {
          const id = eventId(t);
          if (id !== null && !this.seen.has(id)) this.seen.set(id, now);
        }
      },
      onFatal: (e) => {
        throw e;
      },
    });
  }
}

function percentile(sorted: number[], p: number): number | null {
  return sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

type Mode = 'sendevent' | 'batch' | 'c-module';

interface RunResult {
  mode: Mode;
  offeredPerSec: number;
  sent: number;
  delivered: number;
  lost: number;
  sendSeconds: number;
  /** From the first send until the last event was seen. */
  deliverSeconds: number;
  fsCpuMs: number;
  fsIdleCpuMsInWindow: number;
  fsCpuMsPerEvent: number | null;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  injector: { batches: number; batchedEvents: number; eventsPerBatch: number | null; fanOut: string; droppedOldest: number; requeued: number; fanOutWaits: number; fanOutPolls: number };
}

async function measure(listener: Listener, pid: number, idleMsPerSec: number, mode: Mode, firstId: number, count: number, rate: number): Promise<RunResult> {
  const commands = mode === 'c-module' ? moduleSourceCommands(firstId, count) : bridgeCommands(firstId, count);
  // c-module: the events are fired on fs-a; fs-b's own module receives them (no ESL command reaches fs-b).
  const port = mode === 'c-module' ? ESL_PORT_A : ESL_PORT_B;
  const injector = new SendeventInjector({ host: '127.0.0.1', port, password: 'ClueCon', logger: quiet, connections: 2, batch: mode === 'batch' ? 'yes' : 'no', batchMs: BATCH_MS });
  injector.start();
  const readyBy = Date.now() + 10_000;
  while (!(injector.stats().connected && injector.fanOutState === (mode === 'batch' ? 'present' : 'off'))) {
    if (Date.now() > readyBy) throw new Error(`injector not ready (${mode}, fan-out ${injector.fanOutState})`);
    await sleep(20);
  }
  await settle(pid, 10_000);
  const sentAt = new Map<string, number>();
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  const wall0 = Date.now();
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const id = `p${firstId + sent}`;
      sentAt.set(id, performance.now());
      injector.send(id, commands[sent]!);
    }
    await sleep(1);
  }
  const sendSeconds = (performance.now() - t0) / 1000;
  const waitUntil = Date.now() + (mode === 'c-module' ? 10_000 : 30_000) + (count / rate) * 1000;
  const mine = (): number => {
    let n = 0;
    for (const id of sentAt.keys()) if (listener.seen.has(id)) n++;
    return n;
  };
  while (mine() < count && Date.now() < waitUntil) await sleep(50);
  let lastSeen = t0;
  const latencies: number[] = [];
  for (const [id, at] of sentAt) {
    const seen = listener.seen.get(id);
    if (seen === undefined) continue;
    latencies.push(seen - at);
    lastSeen = Math.max(lastSeen, seen);
  }
  await settle(pid, 20_000);
  const cpu1 = cpuMs(pid);
  const windowSec = (Date.now() - wall0) / 1000;
  const s = injector.stats();
  await injector.close(0);
  latencies.sort((a, b) => a - b);
  const delivered = latencies.length;
  const idle = idleMsPerSec * windowSec;
  const round = (n: number | null, d = 3): number | null => (n === null ? null : Number(n.toFixed(d)));
  return {
    mode,
    offeredPerSec: rate,
    sent: count,
    delivered,
    lost: count - delivered,
    sendSeconds: round(sendSeconds)!,
    deliverSeconds: round((lastSeen - t0) / 1000)!,
    fsCpuMs: cpu1 - cpu0,
    fsIdleCpuMsInWindow: round(idle, 1)!,
    fsCpuMsPerEvent: delivered === 0 ? null : round((cpu1 - cpu0 - idle) / delivered),
    latencyMs: { p50: round(percentile(latencies, 0.5), 1), p99: round(percentile(latencies, 0.99), 1), max: round(latencies.at(-1) ?? null, 1) },
    injector: {
      batches: s.batches,
      batchedEvents: s.batchedEvents,
      eventsPerBatch: s.batches === 0 ? null : round(s.batchedEvents / s.batches, 1),
      fanOut: s.fanOut,
      droppedOldest: s.droppedOldest,
      requeued: s.requeued,
      fanOutWaits: s.fanOutWaits,
      fanOutPolls: s.fanOutPolls,
    },
  };
}

/** Problems flushing fs-b's registrations between rows (the run carries on; the row after it then pays for a longer table). */
const flushFailures: string[] = [];

/**
 * Every row starts from an empty sip_registrations: mod_sofia's SQL per registration grows with
 * the table, so without this the later rows would pay for the earlier rows' registrations. Through
 * fs_cli, not the listener: flushing tens of thousands keeps FreeSWITCH from answering for a long
 * time (20,000 took over 110 s once).
 */
async function flushRegistrations(pid: number): Promise<void> {
  if (SHAPE !== 'register') return;
  try {
    await run(join(rigDir!, 'cli-b.sh'), ['-t', '60000', '-x', 'sofia profile internal flush_inbound_reg'], 70_000);
  } catch (e) {
    flushFailures.push((e as Error).message.split('\n').filter(Boolean).slice(0, 2).join(' '));
  }
  await settle(pid, 60_000);
}

async function main(): Promise<void> {
  const luaConf = join(rigDir!, 'fs-b/conf/autoload_configs/lua.conf.xml');
  const original = readFileSync(luaConf);
  const restore = (): void => writeFileSync(luaConf, original);
  process.on('SIGINT', () => {
    restore();
    process.exit(130);
  });
  const withHook = (): void =>
    writeFileSync(luaConf, `<configuration name="lua.conf" description="LUA Configuration">\n  <settings>\n    <hook event="CUSTOM" subclass="fs_event_multicast::batch" script="${SCRIPT}"/>\n  </settings>\n</configuration>\n`);
  withHook();
  const runs: RunResult[] = [];
  const loadAtStart = loadavg()[0]!;
  let registrations = '';
  let idleMsPerSec = 0;
  try {
    // Both with the C module (bindings: only sofia::register) for the baseline; it is idle in the other modes.
    const mc = ['--with-multicast', '--psk', PSK, '--openssl-legacy', '--mc-bindings', MODULE_BINDINGS];
    await run(join(rigDir!, 'start-b.sh'), [...mc, '--mc-address', '127.0.0.1', '--mc-source', '127.0.0.2'], 120_000);
    restore(); // FreeSWITCH has read it: the rig's file is back as it was at once
    const logFile = join(rigDir!, 'fs-b/log/freeswitch.log');
    const logStart = statSync(logFile).size;
    if (MODULE_COUNT > 0) await run(join(rigDir!, 'start-a.sh'), [...mc, '--mc-address', '127.0.0.2', '--mc-source', '127.0.0.1'], 120_000);
    let pid = fsPid();
    /**
     * A fresh fs-b (the rig deletes its databases at start): flushing tens of thousands of
     * registrations takes FreeSWITCH minutes, a restart seconds. fs-a stops too (only the C module
     * rows, which come earlier, need it).
     */
    const freshFsB = async (): Promise<void> => {
      await run(join(rigDir!, 'stop-all.sh'), [], 120_000).catch((e: Error) => console.error(e.message));
      withHook();
      try {
        await run(join(rigDir!, 'start-b.sh'), [...mc, '--mc-address', '127.0.0.1', '--mc-source', '127.0.0.2'], 120_000);
      } finally {
        restore();
      }
      pid = fsPid();
      const readyBy = Date.now() + 30_000;
      while (!listener.connection.ready && Date.now() < readyBy) await sleep(50);
      await settle(pid, 10_000);
    };
    const listener = new Listener();
    listener.connection.start();
    while (!listener.connection.ready) await sleep(20);
    await settle(pid, 10_000);
    const i0 = cpuMs(pid);
    await sleep(5000);
    idleMsPerSec = (cpuMs(pid) - i0) / 5;
    let nextId = 100_000;
    // The rows in order: (mode, count, rate).
    const plan: [Mode, number, number][] = [];
    for (let rep = 0; rep < REPS; rep++) {
      for (const mode of rep % 2 === 0 ? (['sendevent', 'batch'] as const) : (['batch', 'sendevent'] as const)) plan.push([mode, COUNT, RATE]);
    }
    for (let rep = 0; rep < (MODULE_COUNT > 0 ? REPS : 0); rep++) plan.push(['c-module', MODULE_COUNT, MODULE_RATE]);
    for (const rate of SUSTAIN) plan.push(['batch', rate * SECONDS, rate]);
    const sustainFrom = plan.length - SUSTAIN.length;
    for (const [i, [mode, count, rate]] of plan.entries()) {
      // Registrations: every row starts from an empty table (see flushRegistrations); the big rows from a fresh fs-b.
      if (SHAPE === 'register' && i >= sustainFrom) await freshFsB();
      runs.push(await measure(listener, pid, idleMsPerSec, mode, nextId, count, rate));
      nextId += count;
      console.error(JSON.stringify(runs.at(-1)));
      if (i + 1 < sustainFrom) await flushRegistrations(pid);
    }
    // mod_sofia logs (at debug, the rig's level) each replicated registration it wrote to sip_registrations.
    const log = readFileSync(logFile).subarray(logStart).toString('latin1');
    if (SHAPE === 'register') registrations = `${(log.match(/Propagating registration for p[0-9]+@/g) ?? []).length} registrations propagated by mod_sofia (fs-b log)`;
    await listener.connection.close();
  } finally {
    restore();
    await run(join(rigDir!, 'stop-all.sh'), [], 120_000).catch((e: Error) => console.error(e.message));
  }
  const result = {
    what: `FreeSWITCH CPU per replicated ${SHAPE_WHAT[SHAPE]} (PSK), one sendevent per event vs batched (mod_lua fan-out hook); fs-b of the rig`,
    shape: SHAPE,
    date: new Date().toISOString(),
    machine: `${cpus().length} cores, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end (the switches and the bench included): rates depend on the CPU left, CPU time per event is the robust figure`,
    settings: { moduleCount: MODULE_COUNT, moduleRate: MODULE_RATE, count: COUNT, rate: RATE, reps: REPS, sustain: SUSTAIN, seconds: SECONDS, injectors: 2, leanSendevent: true, batchMs: BATCH_MS, batchMax: 256 },
    fsIdleCpuMsPerSec: idleMsPerSec,
    registrationsOnFsB: registrations,
    flushFailures,
    registrationsExpected: SHAPE !== 'register' ? 0 : REPS * 2 * COUNT + REPS * MODULE_COUNT + SUSTAIN.reduce((a, r) => a + r * SECONDS, 0),
    runs,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(OUT);
}

await main();
