/** `fs-event-multicast where USER[@DOMAIN]`: the box a SIP user is registered on, asked of a running bridge. */
import { parseArgs } from 'node:util';
import { jsonPrintable, printable, printableText } from '../wire/printable.js';
import { UsageError, type Io } from './codec-commands.js';
import { httpGet, parseStatusTarget, STATUS_CLIENT_OPTIONS } from './status-client.js';

export const WHERE_USAGE = `usage: fs-event-multicast where USER[@DOMAIN] [--status HOST:PORT | --status /path/to.sock] [--json]
  Prints the box (switch name and address) where USER is registered, with its contact and the
  seconds until the registration expires, from the running bridge's location directory (every
  registration it sees, local and from peers). Exit 1 when the user is not registered.
  Default --status: 127.0.0.1:8088 (the status-listen param).`;

interface Located {
  user: string;
  domain: string;
  box: { name: string; address: string };
  local: boolean;
  contact: string;
  expiresInSeconds: number;
}

export async function whereCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...STATUS_CLIENT_OPTIONS },
  });
  if (values.help) {
    io.stdout(WHERE_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('where: give one USER or USER@DOMAIN', WHERE_USAGE);
  const target = positionals[0]!;
  const at = target.lastIndexOf('@');
  const user = at < 0 ? target : target.slice(0, at);
  const domain = at < 0 ? '' : target.slice(at + 1);
  if (user === '') throw new UsageError(`where: no user in ${JSON.stringify(target)}`, WHERE_USAGE);
  const query = new URLSearchParams(domain === '' ? { user } : { user, domain }).toString();
  let reply: { code: number; body: string };
  try {
    reply = await httpGet(parseStatusTarget(values.status, 'where', WHERE_USAGE), `/locations.json?${query}`);
  } catch (e) {
    io.stderr(`where: cannot reach the bridge's status endpoint at ${values.status}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (is 'fs-event-multicast run' running, with this status-listen?)\n`);
    return 1;
  }
  if (reply.code !== 200) {
    io.stderr(`where: the bridge at ${values.status} answered ${reply.code}: ${printableText(reply.body)}`);
    return 1;
  }
  const answer = JSON.parse(reply.body) as { enabled?: boolean; locations: Located[] };
  const locations = answer.locations;
  if (values.json) io.stdout(jsonPrintable(JSON.stringify(locations)) + '\n');
  else if (answer.enabled === false) io.stderr(`where: the bridge at ${values.status} keeps no location directory: set the param location yes (or location-db yes)\n`);
  else if (locations.length === 0) io.stderr(`where: ${printable(target)} is not registered on any box this bridge knows of\n`);
  else for (const l of locations) io.stdout(whereLine(l));
  return locations.length === 0 ? 1 : 0;
}

/** One line per location: names come from the network, so each is made printable. */
export function whereLine(l: Located): string {
  const address = l.box.address === '' ? 'address unknown' : printable(l.box.address);
  return `${printable(l.user)}@${printable(l.domain)} on ${printable(l.box.name)} (${address})${l.local ? ', this box' : ''}; contact ${printable(l.contact)}; expires in ${l.expiresInSeconds} s\n`;
}
