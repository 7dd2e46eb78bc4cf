/** `fs-event-multicast peers`: the C module's `multicast_peers`, asked of a running bridge. */
import { parseArgs } from 'node:util';
import { jsonPrintable, printableText } from '../wire/printable.js';
import { UsageError, type Io } from './codec-commands.js';
import { NO_PEERS_LINE, noPeersHint } from './no-peers-hint.js';
import { httpGet, parseStatusTarget, STATUS_CLIENT_OPTIONS } from './status-client.js';

export const PEERS_USAGE = `usage: fs-event-multicast peers [--status HOST:PORT | --status /path/to.sock] [--json]
  Prints the peers table of the running bridge (the text of the C module's multicast_peers API),
  or with --json the same as JSON. Default --status: 127.0.0.1:8088 (the status-listen param).
  Also: --counters prints every counter and queue depth as JSON. When no peer has been seen, the
  likely causes follow on stderr.`;

export async function peersCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...STATUS_CLIENT_OPTIONS, counters: { type: 'boolean', default: false } },
  });
  if (values.help) {
    io.stdout(PEERS_USAGE + '\n');
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`peers: unexpected argument ${positionals[0]}`, PEERS_USAGE);
  const target = parseStatusTarget(values.status, 'peers', PEERS_USAGE);
  const path = values.counters ? '/status' : values.json ? '/peers.json' : '/peers';
  try {
    const { code, body } = await httpGet(target, path);
    // Whatever answers on that port, no control character reaches the terminal raw.
    if (code !== 200) {
      io.stderr(`peers: the bridge at ${values.status} answered ${code}: ${printableText(body)}`);
      return 1;
    }
    io.stdout(path === '/peers' ? printableText(body) : jsonPrintable(body));
    // An empty table: say why that usually is (on stderr: stdout stays the C module's text).
    if (path === '/peers' && body.includes(NO_PEERS_LINE)) {
      const status: unknown = await httpGet(target, '/status').then((r) => JSON.parse(r.body) as unknown).catch(() => null);
      io.stderr(noPeersHint(body, status) ?? '');
    }
    return 0;
  } catch (e) {
    io.stderr(`peers: cannot reach the bridge's status endpoint at ${values.status}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (is 'fs-event-multicast run' running, with this status-listen?)\n`);
    return 1;
  }
}
