#!/usr/bin/env -S node --max-semi-space-size=4
/** The `fs-event-multicast` command: one entry point, one module per subcommand. The shebang's Node flags are BRIDGE_NODE_FLAGS (node-flags.ts). */
import { readFileSync } from 'node:fs';
import { decodeCommand, encodeCommand, UsageError, DECODE_USAGE, ENCODE_USAGE, type Io } from './codec-commands.js';
import { runCommand, RUN_USAGE } from './run-command.js';
import { peersCommand, PEERS_USAGE } from './peers-command.js';
import { checkCommand, CHECK_USAGE } from './check-command.js';
import { demoCommand, DEMO_USAGE } from './demo-command.js';
import { whereCommand, WHERE_USAGE } from './where-command.js';
import { benchCommand, BENCH_USAGE } from './bench-command.js';

const USAGE = `usage: fs-event-multicast <command> [options]
commands:
  run      run the bridge beside a FreeSWITCH box (--config event_multicast.conf.xml)
  check    validate a configuration without starting anything; show where traffic goes and every value's source
  demo     two simulated FreeSWITCH boxes and two bridges on loopback (what npm start runs)
  peers    show the running bridge's peers (the C module's multicast_peers)
  where    which box a SIP user is registered on (the bridge's location directory)
  bench    bench compare BASE.json NEW.json: gate on benchmark results (npm run bench makes them);
           bench --freeswitch-a HOST:PORT --freeswitch-b HOST:PORT: bridge vs mod_event_multicast on your switches
  decode   decode raw datagrams (plain or PSK) and print the events
  encode   build the datagram the C module sends for an event
run 'fs-event-multicast <command> --help' for a command's options`;

// A reader that went away (`| head`) is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const io: Io = {
  stdin: () => readFileSync(0),
  stdout: (b) => void process.stdout.write(b),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
};

type Command = (argv: string[], io: Io) => number | Promise<number>;
const COMMANDS: Record<string, { run: Command; usage: string }> = {
  decode: { run: decodeCommand, usage: DECODE_USAGE },
  encode: { run: encodeCommand, usage: ENCODE_USAGE },
  run: { run: runCommand, usage: RUN_USAGE },
  check: { run: checkCommand, usage: CHECK_USAGE },
  peers: { run: peersCommand, usage: PEERS_USAGE },
  where: { run: whereCommand, usage: WHERE_USAGE },
  demo: { run: demoCommand, usage: DEMO_USAGE },
  bench: { run: benchCommand, usage: BENCH_USAGE },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (cmd === undefined) {
    io.stderr(`fs-event-multicast: unknown command '${name}'\n${USAGE}\n`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${e.message}\n${e.usage}\n`);
      return 2;
    }
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`fs-event-multicast ${name}: ${(e as Error).message}\n${cmd.usage}\n`);
      return 2;
    }
    io.stderr(`fs-event-multicast ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
