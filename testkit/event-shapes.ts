/**
 * Event texts of typical sizes for the benchmarks, built at run time from the real FreeSWITCH
 * captures (../shared/fixtures/freeswitch/plain/esl beside the repo), as the bridge sees them on
 * the event socket: without the `Multicast-Sender` line (the C module is not loaded there).
 *
 *   ~300 B   MESSAGE_WAITING, trimmed to its core and MWI headers
 *   ~1.2 KB  CUSTOM sofia::register, as captured (1.3 KB)
 *   ~4 KB    CHANNEL_ANSWER, grown with more variable_* headers (a call with more channel variables)
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EventShape {
  name: string;
  /** text.length */
  bytes: number;
  /** Plain event text, ending with its empty line (and body, if any). */
  text: Buffer;
  /** The size this shape stands for (the text is within ±20% of it). */
  targetBytes: number;
}

/** dist/testkit/event-shapes.js -> the repo root is two levels up; the fixtures sit beside the repo. */
const REPO_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const ESL_CAPTURES = resolve(REPO_ROOT, '../shared/fixtures/freeswitch/plain/esl');

const SMALL_SOURCE = 'e0071-MESSAGE_WAITING.txt';
const MEDIUM_SOURCE = 'e0006-CUSTOM-sofia__register.txt';
const LARGE_SOURCE = 'e0029-CHANNEL_ANSWER.txt';

/** What a trimmed MESSAGE_WAITING keeps: the identity of event and switch, and what MWI is about. */
const SMALL_KEEP = new Set([
  'Event-Name',
  'Core-UUID',
  'FreeSWITCH-Hostname',
  'FreeSWITCH-Switchname',
  'FreeSWITCH-IPv4',
  'Event-Date-Timestamp',
  'Event-Sequence',
  'MWI-Messages-Waiting',
  'MWI-Message-Account',
  'MWI-Voice-Message',
]);

const LARGE_TARGET = 4096;

/** Extra channel variables, shaped like the ones FreeSWITCH adds during a SIP call (values URL-encoded). */
const VARIABLE_TEMPLATES: ((i: number) => string)[] = [
  (i) => `variable_sip_h_X-Account-${i}: 10${i % 10}5%40127.0.0.1`,
  (i) => `variable_sip_req_uri_${i}: sip%3A10${i % 10}5%40127.0.0.1%3A5060%3Btransport%3Dudp`,
  (i) => `variable_rtp_audio_in_jitter_${i}: ${(i * 37) % 1000}`,
  (i) => `variable_bridge_to_${i}: 8ead4fb6-97f2-4949-bca7-8a2cfbc${String(i).padStart(5, '0')}`,
  (i) => `variable_effective_caller_id_name_${i}: Extension%2010${i % 10}5`,
];

/** The three benchmark event shapes, smallest first. Throws when the captures are missing. */
export function eventShapes(): EventShape[] {
  const small = withOnlyHeaders(capture(SMALL_SOURCE), SMALL_KEEP);
  const medium = capture(MEDIUM_SOURCE);
  const large = grownTo(capture(LARGE_SOURCE), LARGE_TARGET);
  return [
    shape('MESSAGE_WAITING (trimmed)', small, 300),
    shape('CUSTOM sofia::register', medium, 1200),
    shape('CHANNEL_ANSWER (+variable_*)', large, LARGE_TARGET),
  ];
}

function shape(name: string, text: Buffer, targetBytes: number): EventShape {
  return { name, bytes: text.length, text, targetBytes };
}

/** A capture as the bridge receives it: the module's own Multicast-Sender line removed. */
function capture(file: string): Buffer {
  const path = join(ESL_CAPTURES, file);
  if (!existsSync(path)) {
    throw new Error(`benchmark event shapes: capture ${path} not found; the benchmarks need ../shared beside the repository`);
  }
  const text = splitEvent(readFileSync(path));
  return joinEvent({ ...text, headers: text.headers.filter((line) => headerName(line) !== 'Multicast-Sender') });
}

interface EventParts {
  /** Header lines without their LF (the serializer's Content-Length framing line excluded). */
  headers: string[];
  /** The framing line when the event has a body, else null. */
  framing: string | null;
  /** Everything after the empty line. */
  body: Buffer;
}

/** Splits event text at its first empty line. Captures are ASCII in the header section (values are URL-encoded). */
function splitEvent(text: Buffer): EventParts {
  const blank = text.indexOf('\n\n', 0, 'latin1');
  if (blank < 0) throw new Error('benchmark event shapes: a capture without the empty line that ends its headers');
  const headers = text.subarray(0, blank).toString('latin1').split('\n');
  const body = text.subarray(blank + 2);
  const last = headers[headers.length - 1]!;
  const framing = body.length > 0 && headerName(last) === 'Content-Length' ? headers.pop()! : null;
  return { headers, framing, body };
}

function joinEvent(parts: EventParts): Buffer {
  const lines = parts.framing === null ? parts.headers : [...parts.headers, parts.framing];
  return Buffer.concat([Buffer.from(`${lines.join('\n')}\n\n`, 'latin1'), parts.body]);
}

function headerName(line: string): string {
  const colon = line.indexOf(':');
  return colon < 0 ? line : line.slice(0, colon);
}

function withOnlyHeaders(text: Buffer, keep: ReadonlySet<string>): Buffer {
  const parts = splitEvent(text);
  return joinEvent({ ...parts, headers: parts.headers.filter((line) => keep.has(headerName(line))) });
}

/** Adds variable_* headers at the end of the header list while the text stays within `target` bytes. */
function grownTo(text: Buffer, target: number): Buffer {
  const parts = splitEvent(text);
  let size = text.length;
  for (let i = 0; ; i++) {
    const line = VARIABLE_TEMPLATES[i % VARIABLE_TEMPLATES.length]!(i);
    if (size + line.length + 1 > target) break;
    parts.headers.push(line);
    size += line.length + 1;
  }
  return joinEvent(parts);
}
