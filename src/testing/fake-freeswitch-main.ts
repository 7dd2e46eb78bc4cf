#!/usr/bin/env node
/**
 * Runs the simulated FreeSWITCH event socket as its own process (benchmarks, demo).
 *
 *   node dist/src/testing/fake-freeswitch-main.js [--host 127.0.0.1] [--port 8021] [--password ClueCon]
 *        [--switchname fs-sim] [--max-queued-events 100000] [--keep-sendevents 1000]
 *        [--cost-model measured | name=value,...]   (real FreeSWITCH's event-socket cost, see cost-model.ts)
 *
 * stdout: one JSON line `{"ready":true,"port":N}` once listening, then one JSON line per control
 * command. stdin: control commands, one JSON object per line (an optional "id" is echoed back):
 *   {"cmd":"pump","count":N,"maxSeconds":S,"ratePerSec":R?,"texts":["<event text>",...]?}
 *       (without texts: a HEARTBEAT of this switch) -> {"cmd":"pump","sent":..,"seconds":..,...}
 *   {"cmd":"heartbeat"}  {"cmd":"fire","name":"CUSTOM","subclass":"x::y","headers":[["a","b"]],"body":"..."}
 *   {"cmd":"stats"}  -> connections, sendevents (count received), eventsFired, framesQueued, cutOffs
 *   {"cmd":"sendevents","last":N} -> the last N kept sendevents (eventName, headers, body)
 *   {"cmd":"drop"}  {"cmd":"stop"}  {"cmd":"restart"}  {"cmd":"exit"}
 * Exits on stdin end, SIGTERM or SIGINT. Never prints the password.
 */
import { createInterface } from 'node:readline';
import { FakeFreeSwitch, type FakeFreeSwitchOptions } from './fake-freeswitch.js';
import { parseCostModelFlag } from './cost-model.js';

interface Flags extends FakeFreeSwitchOptions {
  host: string;
  port: number;
}

const FLAGS = ['--host', '--port', '--password', '--switchname', '--max-queued-events', '--keep-sendevents', '--cost-model'] as const;

function parseFlags(argv: readonly string[]): Flags {
  const flags: Flags = { host: '127.0.0.1', port: 8021, keepSendevents: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    const value = argv[i + 1];
    if (!(FLAGS as readonly string[]).includes(name)) throw new Error(`unknown flag ${name}; allowed: ${FLAGS.join(' ')}`);
    if (value === undefined) throw new Error(`flag ${name} needs a value`);
    i++;
    switch (name) {
      case '--host':
        flags.host = value;
        break;
      case '--port':
        flags.port = intFlag(name, value, 0, 65535);
        break;
      case '--password':
        flags.password = value;
        break;
      case '--switchname':
        flags.switchname = value;
        break;
      case '--max-queued-events':
        flags.maxQueuedEvents = intFlag(name, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case '--keep-sendevents':
        flags.keepSendevents = intFlag(name, value, 0, Number.MAX_SAFE_INTEGER);
        break;
      case '--cost-model':
        flags.costModel = parseCostModelFlag(value);
        break;
    }
  }
  return flags;
}

function intFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`flag ${name} must be an integer ${min}..${max} (got "${value}")`);
  return n;
}

type Control = Record<string, unknown> & { cmd?: unknown; id?: unknown };

async function handle(fs: FakeFreeSwitch, msg: Control): Promise<Record<string, unknown>> {
  switch (msg.cmd) {
    case 'pump': {
      const texts = Array.isArray(msg.texts) && msg.texts.length > 0
        ? msg.texts.map((t) => Buffer.from(String(t), 'utf8'))
        : [fs.heartbeatText()];
      const r = await fs.pump({
        texts,
        count: Number(msg.count),
        ratePerSec: msg.ratePerSec === undefined || msg.ratePerSec === null ? undefined : Number(msg.ratePerSec),
        maxSeconds: Number(msg.maxSeconds ?? 10),
      });
      return { ...r, eventsPerSec: r.seconds > 0 ? Math.round(r.sent / r.seconds) : null };
    }
    case 'heartbeat':
      fs.fireHeartbeat();
      return {};
    case 'fire': {
      const headers = Array.isArray(msg.headers) ? (msg.headers as unknown[]).map((h): [string, string] => {
        const pair = h as unknown[];
        return [String(pair[0]), String(pair[1])];
      }) : [];
      fs.fire({
        name: String(msg.name),
        ...(typeof msg.subclass === 'string' ? { subclass: msg.subclass } : {}),
        headers,
        ...(typeof msg.body === 'string' ? { body: msg.body } : {}),
      });
      return {};
    }
    case 'stats':
      return { ...fs.stats() };
    case 'sendevents': {
      const last = Math.max(0, Number(msg.last ?? 10));
      const list = last === 0 ? [] : fs.sendevents.slice(-last);
      return {
        count: fs.sendeventCount,
        sendevents: list.map((s) => ({ eventName: s.eventName, headers: s.headers, body: s.body?.toString('utf8') ?? null })),
      };
    }
    case 'drop':
      fs.dropConnections();
      return {};
    case 'stop':
      await fs.stop();
      return {};
    case 'restart':
      await fs.restart();
      return { port: fs.port };
    default:
      throw new Error(`unknown cmd ${JSON.stringify(msg.cmd)}; allowed: pump heartbeat fire stats sendevents drop stop restart exit`);
  }
}

async function main(): Promise<void> {
  let flags: Flags;
  try {
    flags = parseFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const fs = await FakeFreeSwitch.start(flags);
  const print = (obj: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(obj)}\n`);
  let exiting = false;
  const exit = async (code: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    await fs.stop().catch(() => undefined);
    process.exit(code);
  };
  process.on('SIGTERM', () => void exit(0));
  process.on('SIGINT', () => void exit(0));
  print({ ready: true, port: fs.port, ...(fs.costModel !== null ? { costModel: fs.costModel } : {}) });

  const rl = createInterface({ input: process.stdin });
  // Commands run one after another, in the order they arrive.
  let chain = Promise.resolve();
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    chain = chain.then(async () => {
      let msg: Control;
      try {
        msg = JSON.parse(line) as Control;
      } catch {
        print({ ok: false, error: 'control line is not JSON' });
        return;
      }
      const tag = msg.id === undefined ? {} : { id: msg.id };
      if (msg.cmd === 'exit') {
        print({ ...tag, cmd: 'exit', ok: true });
        await exit(0);
        return;
      }
      try {
        print({ ...tag, cmd: msg.cmd, ok: true, ...(await handle(fs, msg)) });
      } catch (err) {
        print({ ...tag, cmd: msg.cmd, ok: false, error: (err as Error).message });
      }
    });
  });
  rl.on('close', () => void chain.then(() => exit(0)));
}

void main();
