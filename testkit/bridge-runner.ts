/**
 * A FakeFreeSwitch and a Bridge beside it in one process, for tests that run a box inside a
 * network namespace. argv[2]: JSON {switchname, params (XML <param>s), flags}.
 * stdout, one JSON object per line:
 *   {type:'ready', switchname} | {type:'start-error', message}
 *   {type:'sendevent', subclass, headers} for every sendevent the fake FreeSWITCH is given
 *   {type:'counters', tag, counters} after a counters command
 *   {type:'sockets', tag, problems, udpSockets, udp} after a sockets command (the UDP port checked now)
 * stdin, one JSON command per line:
 *   {cmd:'fire', name, subclass?, headers?} | {cmd:'heartbeat'} | {cmd:'counters', tag} | {cmd:'sockets', tag}
 * Exits when stdin closes (bridge stopped first), and in any case after RUNNER_LIFETIME_MS (default 30 s).
 */
import { createInterface } from 'node:readline';
import { Bridge } from '../src/bridge/bridge.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/util/log.js';
import { FakeFreeSwitch } from '../src/testing/fake-freeswitch.js';
import type { Header } from '../src/wire/types.js';
import { moduleXml } from './bridge-harness.js';

function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const lifetimeTimer = setTimeout(() => process.exit(3), Number(process.env.RUNNER_LIFETIME_MS ?? 30_000));

interface RunnerArgs {
  switchname: string;
  params: Record<string, string>;
  flags?: Record<string, string>;
}
const args = JSON.parse(process.argv[2] ?? '{}') as RunnerArgs;

let fs: FakeFreeSwitch | null = null;
let bridge: Bridge | null = null;
let closing = false;

async function shutdown(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  clearTimeout(lifetimeTimer);
  try {
    await bridge?.stop(1000);
    await fs?.stop();
  } finally {
    process.exit(code);
  }
}

try {
  fs = await FakeFreeSwitch.start({ switchname: args.switchname });
  fs.on('sendevent', (s: { headers: [string, string][] }) => {
    emit({ type: 'sendevent', subclass: s.headers.find(([n]) => n === 'Event-Subclass')?.[1] ?? null, headers: s.headers });
  });
  const { config } = loadConfig({
    xmlText: moduleXml(args.params),
    flags: { 'esl-port': String(fs.port), 'status-listen': 'off', ...args.flags },
    env: {},
  });
  // Warnings and errors to stderr (the test shows them when something fails).
  bridge = await Bridge.start({ config, logger: createLogger({ level: 'warn', format: 'json' }) });
  if (!(await bridge.ready(5_000))) throw new Error('the bridge did not connect to its FreeSWITCH within 5 s');
  emit({ type: 'ready', switchname: bridge.switchname });
} catch (error) {
  emit({ type: 'start-error', message: (error as Error).message });
  await shutdown(2);
}

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const c = JSON.parse(line) as { cmd: string; name?: string; subclass?: string; headers?: Header[]; tag?: string };
  if (c.cmd === 'fire') {
    fs!.fire({ name: c.name ?? 'CUSTOM', ...(c.subclass !== undefined ? { subclass: c.subclass } : {}), headers: c.headers ?? [] });
  } else if (c.cmd === 'heartbeat') {
    fs!.fireHeartbeat();
  } else if (c.cmd === 'counters') {
    emit({ type: 'counters', tag: c.tag ?? '', counters: bridge!.counters });
  } else if (c.cmd === 'sockets') {
    bridge!.checkSockets();
    const status = bridge!.statusJson() as { udpSockets: unknown; udp: unknown };
    emit({ type: 'sockets', tag: c.tag ?? '', problems: bridge!.healthProblems(), udpSockets: status.udpSockets, udp: status.udp });
  }
});
commands.on('close', () => void shutdown(0));
