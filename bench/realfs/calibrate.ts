/**
 * FreeSWITCH's real CPU cost of `sendevent`, for the simulated switch's cost model
 * (src/testing/cost-model.ts). Against ONE local FreeSWITCH (the rig's fs-b), it sends the
 * `sendevent CUSTOM multicast::event` a bridge injects for each shape (a phone's registration,
 * PRESENCE_IN, MESSAGE_WAITING, a CUSTOM event nobody handles at three head sizes), over 1 or 2
 * connections, closed-loop (as fast as FreeSWITCH answers) or paced, and records FreeSWITCH's
 * own CPU time (utime+stime from /proc, robust to other work on the cores) per event, and the
 * rate it answered at (NOT robust: the machine is shared).
 *
 *   node dist/bench/realfs/calibrate.js --esl 127.0.0.1:8022 --out bench/results/realfs/calibration/run-1.json
 *     [--seconds 4] [--password ClueCon] [--profile internal] [--only register,custom]
 *
 * Registrations it creates (domain fs-calibrate.invalid) are flushed after each case.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { EslClient } from '../../src/benchmark/realfs/esl-client.js';
import { benchEvent, injectedSendevent, type FiredEvent } from '../../src/benchmark/realfs/event-shapes.js';
import { offerCommands } from '../../src/benchmark/realfs/offer.js';
import { pidListeningOn, processCpuMs } from '../../src/benchmark/realfs/proc-cpu.js';
import { parseEndpoint } from '../../src/benchmark/realfs/endpoint.js';
import type { CalibrationCase, CalibrationRow } from '../../testkit/realfs-calibration.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const DEFAULT_CASES: CalibrationCase[] = [
  { shape: 'custom', padBytes: 0, keepHeaders: 4, connections: 1, rate: null },
  ...[0, 1000, 2500].map((padBytes) => ({ shape: 'custom' as const, padBytes, connections: 1, rate: null })),
  { shape: 'custom', padBytes: 0, connections: 2, rate: null },
  { shape: 'custom', padBytes: 0, connections: 1, rate: 200 },
  { shape: 'register', padBytes: 0, connections: 1, rate: null },
  { shape: 'register', padBytes: 0, connections: 2, rate: null },
  { shape: 'register', padBytes: 0, connections: 1, rate: 150 },
  { shape: 'register', padBytes: 0, connections: 2, rate: 250 },
  { shape: 'presence', padBytes: 0, connections: 1, rate: null },
  { shape: 'presence', padBytes: 0, connections: 2, rate: null },
  { shape: 'mwi', padBytes: 0, connections: 1, rate: null },
  { shape: 'mwi', padBytes: 0, connections: 2, rate: null },
];

function sized(e: FiredEvent, c: CalibrationCase): FiredEvent {
  // The benchmark's run/seq tags (the last two headers) always stay.
  const own = c.keepHeaders === undefined ? e.headers : [...e.headers.slice(0, c.keepHeaders), ...e.headers.slice(-2)];
  return { eventName: e.eventName, headers: c.padBytes === 0 ? own : [...own, ['x-pad', 'p'.repeat(c.padBytes)]] };
}

/** Waits until FreeSWITCH's CPU stops growing (its SQL and dispatch threads finish), bounded. */
async function settledCpu(pid: number): Promise<number> {
  let last = processCpuMs(pid) ?? 0;
  for (let i = 0; i < 40; i++) {
    await sleep(250);
    const now = processCpuMs(pid) ?? last;
    if (now - last <= 10) return now;
    last = now;
  }
  return last;
}

async function runCase(host: string, port: number, password: string, pid: number, profile: string, seconds: number, c: CalibrationCase, run: string): Promise<CalibrationRow> {
  const ctx = { run, domain: 'fs-calibrate.invalid', profile };
  const clients = await Promise.all(Array.from({ length: c.connections }, (_, k) => EslClient.connect({ host, port, password, label: `calibration #${k}` })));
  try {
    const sample = injectedSendevent(sized(benchEvent(c.shape, ctx, 0), c), 'fs-a');
    const headBytes = sample.indexOf('\n\n') + 2;
    const count = Math.round((c.rate ?? 2000) * seconds);
    await settledCpu(pid);
    const cpu0 = processCpuMs(pid)!;
    const r = await offerCommands(clients, (i) => injectedSendevent(sized(benchEvent(c.shape, ctx, i), c), 'fs-a'), {
      count,
      rate: c.rate,
      maxSeconds: seconds,
      window: 64,
    });
    const cpu1 = processCpuMs(pid)!;
    const cpu2 = await settledCpu(pid);
    if (c.shape === 'register') await clients[0]!.api(`sofia profile ${profile} flush_inbound_reg @${ctx.domain}`);
    return {
      ...c,
      headBytes,
      bodyBytes: sample.length - headBytes,
      sent: r.sent,
      answered: r.answered,
      refused: r.refused,
      seconds: round(r.seconds, 3),
      answeredPerSec: Math.round(r.answered / Math.max(r.seconds, 0.001)),
      cpuMsAtLastAnswer: cpu1 - cpu0,
      cpuMsSettled: cpu2 - cpu0,
      cpuMsPerEvent: round((cpu2 - cpu0) / Math.max(1, r.answered), 4),
      coresBusy: round((cpu1 - cpu0) / (Math.max(r.seconds, 0.001) * 1000), 3),
      loadavg1: round(loadavg()[0]!, 2),
    };
  } finally {
    for (const cl of clients) cl.close();
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      esl: { type: 'string', default: '127.0.0.1:8022' },
      password: { type: 'string', default: 'ClueCon' },
      profile: { type: 'string', default: 'internal' },
      seconds: { type: 'string', default: '4' },
      only: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const { host, port } = parseEndpoint(values.esl!, '--esl', false);
  const pid = pidListeningOn(port);
  if (pid === null) throw new Error(`no local process listens on ${port}: calibration needs FreeSWITCH on this machine`);
  const seconds = Number(values.seconds);
  const only = values.only?.split(',');
  const run = Math.random().toString(36).slice(2, 8);
  const rows: CalibrationRow[] = [];
  for (const c of DEFAULT_CASES.filter((x) => only === undefined || only.includes(x.shape))) {
    const row = await runCase(host, port, values.password!, pid, values.profile!, seconds, c, run);
    process.stderr.write(`${c.shape}${c.padBytes ? `+${c.padBytes}` : ''}${c.keepHeaders === undefined ? '' : ` (${c.keepHeaders} headers)`} conn ${c.connections} ${c.rate === null ? 'closed-loop' : `${c.rate}/s`}: ${row.answeredPerSec}/s, ${row.cpuMsPerEvent} ms CPU/event (head ${row.headBytes} B), ${row.coresBusy} cores, load ${row.loadavg1}\n`);
    rows.push(row);
  }
  const doc = {
    what: 'FreeSWITCH CPU per sendevent CUSTOM multicast::event (as a bridge injects), by shape, connections and rate',
    freeswitch: (await versionOf(host, port, values.password!)).trim(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown' },
    date: new Date().toISOString(),
    seconds,
    caveat: 'CPU ms per event is FreeSWITCH utime+stime (robust to other load); answered/s depends on what else ran on the shared cores',
    rows,
  };
  const json = `${JSON.stringify(doc, null, 1)}\n`;
  if (values.out !== undefined) writeFileSync(values.out, json);
  else process.stdout.write(json);
}

async function versionOf(host: string, port: number, password: string): Promise<string> {
  const c = await EslClient.connect({ host, port, password, label: 'version' });
  try {
    return await c.api('version');
  } finally {
    c.close();
  }
}

await main();
