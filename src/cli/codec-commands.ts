/**
 * `decode` and `encode`: the codec on the command line, for people checking "is my PSK right?"
 * or crafting a packet by hand. Both are byte-exact with the C module.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { frameDatagram, multicastSenderLine } from '../wire/egress.js';
import { parseEventText, serializeEvent, headerValue } from '../wire/event-text.js';
import { buildSendevent, decodeDatagram, originalEvent } from '../wire/ingress.js';
import { PskCipher } from '../wire/psk-cipher.js';
import { resolvePsk } from './psk-source.js';
import { CompactDecoder, encodeCompact, parseFragmentSize, parseWire, writeDatagrams } from './compact-codec.js';
import type { HeaderSpans } from '../wire/header-scan.js';

export interface Io {
  stdin: () => Buffer;
  stdout: (b: string | Uint8Array) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
}

export const DECODE_USAGE = `usage: fs-event-multicast decode [--psk-file FILE | --psk KEY] [--wire auto|legacy|compact] [--json | --sendevent] FILE...
  Decodes raw datagrams (FILE - reads stdin) and prints each event:
    default      event-socket plain text of the original event
    --json       {"headers": [[name, value], ...], "body": string|null}, one line per file
    --sendevent  the exact event-socket command the bridge writes for it
  The PSK may also come from FS_EVENT_MULTICAST_PSK.
  --wire       auto (default): a first byte 0xF0..0xFF is the compact format (needs the PSK), else
               the C module's; the fragments of a compact event may be given as several FILEs.
  Exit status: 0 all decoded, 1 any failed (reason per file on stderr), 2 usage error.`;

/** The PSK flags both codec commands take (see resolvePsk). */
const PSK_FLAGS = { psk: { type: 'string' }, 'psk-file': { type: 'string' } } as const;

export function decodeCommand(argv: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...PSK_FLAGS,
      json: { type: 'boolean', default: false },
      sendevent: { type: 'boolean', default: false },
      'max-datagram': { type: 'string' },
      wire: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(DECODE_USAGE + '\n');
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('decode: name at least one FILE (or - for stdin)', DECODE_USAGE);
  if (values.json && values.sendevent) throw new UsageError('decode: --json and --sendevent exclude each other', DECODE_USAGE);
  const psk = resolvePsk(values, io.env, (m) => io.stderr(m + "\n"));
  const cipher = psk === null ? null : new PskCipher(psk);
  const wire = parseWire(values.wire, true);
  if (wire === null) throw new UsageError(`decode: --wire must be auto, legacy or compact, got ${JSON.stringify(values.wire)}`, DECODE_USAGE);
  if (wire === 'compact' && psk === null) throw new UsageError('decode: --wire compact needs the PSK (--psk-file, --psk or FS_EVENT_MULTICAST_PSK)', DECODE_USAGE);
  const compact = psk === null ? null : new CompactDecoder(psk);
  let failed = 0;
  for (const file of positionals) {
    let datagram: Buffer;
    try {
      datagram = file === '-' ? io.stdin() : readFileSync(file);
    } catch (e) {
      io.stderr(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
      failed++;
      continue;
    }
    let scan: HeaderSpans;
    if (wire === 'compact' || (wire === 'auto' && CompactDecoder.applies(datagram))) {
      if (compact === null) {
        io.stderr(`${file}: a compact datagram: give the PSK to decode it\n`);
        failed++;
        continue;
      }
      const c = compact.decode(datagram);
      if (!c.ok) {
        io.stderr(`${file}: dropped (${c.reason}): ${c.detail}\n`);
        failed++;
        continue;
      }
      if (c.value === null) continue; // a fragment: the event is printed with its last one
      scan = c.value;
    } else {
      const r = decodeDatagram(datagram, { cipher, maxDatagram: 65535 });
      if (!r.ok) {
        io.stderr(`${file}: dropped (${r.reason}): ${r.detail}\n`);
        failed++;
        continue;
      }
      scan = r.value.scan;
    }
    if (values.sendevent) io.stdout(buildSendevent(scan));
    else if (values.json) {
      const ev = originalEvent(scan);
      io.stdout(JSON.stringify({ headers: ev.headers, body: ev.body }) + '\n');
    } else io.stdout(serializeEvent(originalEvent(scan)));
  }
  if (compact !== null && compact.incomplete > 0) {
    io.stderr(`${compact.incomplete} compact event(s) incomplete: fragments missing\n`);
    failed++;
  }
  return failed === 0 ? 0 : 1;
}

export const ENCODE_USAGE = `usage: fs-event-multicast encode [--psk-file FILE | --psk KEY] [--wire legacy|compact] [--uuid UUID] [--sender NAME] < event.txt > packet.bin
  Reads one event in event-socket plain text on stdin and writes the datagram the C module sends for it.
  --wire compact  the bridges' compact format instead (docs/compact-wire.md; needs the PSK); an event
                  larger than --fragment-size (default 1400) is several datagrams: --out PREFIX
                  writes PREFIX.0.bin, PREFIX.1.bin...
  --sender  the Multicast-Sender to stamp (default: the event's FreeSWITCH-Switchname); not added twice
  --uuid    PSK only: the 36-character UUID of the packet prefix (default: a fresh random one)`;

export function encodeCommand(argv: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...PSK_FLAGS,
      uuid: { type: 'string' },
      sender: { type: 'string' },
      wire: { type: 'string' },
      out: { type: 'string' },
      'fragment-size': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout(ENCODE_USAGE + '\n');
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`encode: unexpected argument ${positionals[0]}; the event is read from stdin`, ENCODE_USAGE);
  const psk = resolvePsk(values, io.env, (m) => io.stderr(m + "\n"));
  if (values.uuid !== undefined && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(values.uuid)) {
    throw new UsageError(`encode: --uuid must be a 36-character UUID text, got ${JSON.stringify(values.uuid)}`, ENCODE_USAGE);
  }
  if (values.uuid !== undefined && psk === null) throw new UsageError('encode: --uuid only means something with a PSK', ENCODE_USAGE);
  let text = io.stdin();
  // Hand-written input often lacks the final empty line; FreeSWITCH's text always has it.
  if (text.indexOf('\n\n') < 0) text = Buffer.concat([text, Buffer.from(text.at(-1) === 0x0a ? '\n' : '\n\n')]);
  const parsed = parseEventText(text);
  if (!parsed.ok) {
    io.stderr(`stdin: not an event in plain text (${parsed.reason}): ${parsed.detail}\n`);
    return 1;
  }
  const sender = values.sender ?? headerValue(parsed.value, 'FreeSWITCH-Switchname');
  if (sender === undefined && headerValue(parsed.value, 'Multicast-Sender') === undefined) {
    io.stderr('stdin: the event has no FreeSWITCH-Switchname header; name the sender with --sender\n');
    return 1;
  }
  const wire = parseWire(values.wire, false);
  if (wire === null) throw new UsageError(`encode: --wire must be legacy or compact, got ${JSON.stringify(values.wire)}`, ENCODE_USAGE);
  if (wire === 'compact') {
    if (psk === null) throw new UsageError('encode: --wire compact needs the PSK (--psk-file, --psk or FS_EVENT_MULTICAST_PSK)', ENCODE_USAGE);
    if (values.uuid !== undefined) throw new UsageError('encode: --uuid is for the legacy format only', ENCODE_USAGE);
    const fragmentBytes = parseFragmentSize(values['fragment-size']);
    if (fragmentBytes === null) throw new UsageError('encode: --fragment-size must be an integer 256..65507', ENCODE_USAGE);
    const r = encodeCompact(text, multicastSenderLine(sender ?? ''), psk, fragmentBytes);
    if (!r.ok) {
      io.stderr(`stdin: ${r.message}\n`);
      return 1;
    }
    const problem = writeDatagrams(r.datagrams, values.out, io.stdout);
    if (problem !== null) throw new UsageError(`encode: ${problem}`, ENCODE_USAGE);
    return 0;
  }
  const datagram = frameDatagram(text, {
    senderLine: multicastSenderLine(sender ?? ''),
    cipher: psk === null ? null : new PskCipher(psk),
    ...(values.uuid !== undefined ? { uuid: values.uuid } : {}),
  });
  io.stdout(datagram);
  return 0;
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}
