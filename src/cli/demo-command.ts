/**
 * `fs-event-multicast demo` (what `npm start` runs): two simulated FreeSWITCH boxes on this
 * machine, each with a bridge, exchanging events over UDP on loopback (127.0.0.1 <-> 127.0.0.2,
 * PSK on). Phones register on one box and appear on the other; heartbeats give the peers
 * table. Nothing leaves the machine. Runs until Ctrl-C, or for --seconds N.
 */
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import { Bridge } from '../bridge/bridge.js';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../util/log.js';
import { FakeFreeSwitch, type ReceivedSendevent } from '../testing/fake-freeswitch.js';
import { UsageError, type Io } from './codec-commands.js';

export const DEMO_USAGE = `usage: fs-event-multicast demo [--seconds N] [--plain] [--port P]
  Two simulated FreeSWITCH boxes (fs-a, fs-b) and two bridges on loopback; registrations and
  presence flow between them; the peers table is printed every 10 s. Ctrl-C stops it.
  --seconds N  stop by itself after N seconds      --plain  no PSK      --port P  UDP port (default 42424)`;

export async function demoCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      plain: { type: 'boolean', default: false },
      port: { type: 'string', default: '42424' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(DEMO_USAGE + '\n');
    return 0;
  }
  const seconds = values.seconds === undefined ? Infinity : Number(values.seconds);
  if (!(seconds > 0)) throw new UsageError(`demo: --seconds must be a positive number, got ${JSON.stringify(values.seconds)}`, DEMO_USAGE);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`demo: --port must be 1..65535`, DEMO_USAGE);

  const say = (s: string) => io.stdout(`${new Date().toISOString().slice(11, 19)}  ${s}\n`);
  const logger = createLogger({ level: 'warn' });
  const fsA = await FakeFreeSwitch.start({ switchname: 'fs-a', password: 'ClueCon' });
  const fsB = await FakeFreeSwitch.start({ switchname: 'fs-b', password: 'ClueCon' });
  const statusA = await freeTcpPort();
  const conf = (self: string, peer: string, fs: FakeFreeSwitch, status: number) =>
    loadConfig({
      xmlText: `<configuration name="event_multicast.conf"><settings>
        <param name="address" value="${peer}"/><param name="port" value="${port}"/>
        <param name="source_address" value="${self}"/>
        <param name="bindings" value="HEARTBEAT PRESENCE_IN MESSAGE_WAITING CUSTOM sofia::register sofia::unregister"/>
        ${values.plain ? '' : '<param name="psk" value="ClueCon"/>'}
        <param name="esl-port" value="${fs.port}"/><param name="esl-password" value="ClueCon"/>
        <param name="status-listen" value="${status === 0 ? 'off' : `127.0.0.1:${status}`}"/>
        <param name="workers" value="1"/><param name="peer-timeout" value="15"/>
      </settings></configuration>`,
      flags: {},
      env: {},
    }).config;
  const bridges: Bridge[] = [];
  const timers: NodeJS.Timeout[] = [];
  let code = 0;
  try {
    bridges.push(await Bridge.start({ config: conf('127.0.0.1', '127.0.0.2', fsA, statusA), logger }));
    bridges.push(await Bridge.start({ config: conf('127.0.0.2', '127.0.0.1', fsB, 0), logger }));
    if (!(await bridges[0]!.ready()) || !(await bridges[1]!.ready())) throw new Error('the bridges did not connect to the simulated FreeSWITCH boxes');
    say(`fs-a (ESL :${fsA.port}) <-> bridge 127.0.0.1:${port} <-UDP${values.plain ? '' : ', PSK'}-> bridge 127.0.0.2:${port} <-> fs-b (ESL :${fsB.port})`);
    say(`peers of fs-a's bridge: fs-event-multicast peers --status 127.0.0.1:${statusA}`);
    const show = (box: string) => (s: ReceivedSendevent) => {
      const h = new Map(s.headers);
      const sub = h.get('Event-Subclass');
      if (sub === 'multicast::event') {
        const what = h.get('Orig-Event-Subclass') ?? h.get('Orig-Event-Name');
        const who = h.get('Orig-from-user') ?? h.get('Orig-from') ?? '';
        say(`${box} fired multicast::event from ${h.get('Orig-Multicast-Sender')}: ${what}${who ? ` ${who}` : ''}`);
      } else if (sub === 'multicast::peerup' || sub === 'multicast::peerdown') say(`${box} fired ${sub}: Peer ${h.get('Peer')}, Lastseen ${h.get('Lastseen')}`);
    };
    fsA.on('sendevent', show('fs-a'));
    fsB.on('sendevent', show('fs-b'));
    let n = 0;
    const tick = () => {
      n++;
      fsA.fireHeartbeat();
      fsB.fireHeartbeat();
      const [box, other] = n % 2 === 0 ? [fsA, 'fs-a'] : [fsB, 'fs-b'];
      const user = String(1000 + (n % 5));
      box.fire({
        name: 'CUSTOM',
        subclass: 'sofia::register',
        headers: [
          ['profile-name', 'internal'],
          ['from-user', user],
          ['from-host', '127.0.0.1'],
          ['contact', `"${user}" <sip:${user}@127.0.0.1:5062>`],
          ['expires', '3600'],
          ['status', 'Registered(UDP)'],
        ],
      });
      box.fire({ name: 'PRESENCE_IN', headers: [['proto', 'sip'], ['from', `${user}@${other}`], ['status', 'Available']] });
    };
    timers.push(setInterval(tick, 2000));
    timers.push(setInterval(() => io.stdout(`\n--- multicast_peers on fs-a's bridge ---\n${bridges[0]!.peersText()}\n`), 10_000));
    tick();
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (Number.isFinite(seconds)) timers.push(setTimeout(stop, seconds * 1000));
    });
    io.stdout(`\n--- multicast_peers on fs-a's bridge ---\n${bridges[0]!.peersText()}\n`);
    const a = bridges[0]!.counters;
    const b = bridges[1]!.counters;
    say(`fs-a's bridge: sent ${a.egress.datagrams} datagrams, fired ${a.ingress.fired}; fs-b's bridge: sent ${b.egress.datagrams}, fired ${b.ingress.fired}`);
    if (a.ingress.fired === 0 || b.ingress.fired === 0) code = 1;
  } finally {
    for (const t of timers) clearInterval(t);
    for (const br of bridges) await br.stop(2000);
    await fsA.stop();
    await fsB.stop();
  }
  return code;
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
