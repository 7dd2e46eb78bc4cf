/**
 * Server side of event-socket framing: turns a TCP byte stream from a client into commands,
 * the way mod_event_socket's read_packet does.
 * - A command is a block of lines ended by an empty line (`\n\n`; `\r` between the two
 *   line feeds is ignored, so `\r\n\r\n` works too). Line feeds before a command are skipped.
 * - The first line is the command; every later `name: value` line is a header (spaces after
 *   the colon skipped, the value RAW up to the first CR/LF, no URL decoding).
 * - A header named `content-length` (any case) makes the next N bytes after the blank line
 *   the command's body.
 * Bytes may arrive split anywhere and many commands may arrive in one chunk.
 */

export interface EslClientCommand {
  /** The first line (e.g. `sendevent CUSTOM`), without line ending. */
  line: string;
  /** The header lines in order; values raw. Lines without `:` are not headers. */
  headers: [string, string][];
  body: Buffer | null;
  /** The exact bytes of this command (head, blank line and body) as received. */
  raw: Buffer;
}

export interface CommandReaderLimits {
  /** Largest head (command line + headers) accepted before the blank line. */
  maxHeadBytes: number;
  /** Largest `content-length` body accepted. */
  maxBodyBytes: number;
}

export const DEFAULT_READER_LIMITS: CommandReaderLimits = { maxHeadBytes: 8 << 20, maxBodyBytes: 64 << 20 };

export class CommandFramingError extends Error {}

const LF = 0x0a;
const CR = 0x0d;

interface PendingBody {
  start: number; // offset of the command's first byte in `pending`
  bodyStart: number;
  bodyLength: number;
  line: string;
  headers: [string, string][];
}

export class CommandReader {
  private pending: Buffer = Buffer.alloc(0);
  /** Where the search for the blank line resumes (bytes before it hold no terminator). */
  private scanFrom = 0;
  private awaitingBody: PendingBody | null = null;

  constructor(private readonly limits: CommandReaderLimits = DEFAULT_READER_LIMITS) {}

  /** Feeds bytes; returns every command completed by them, in order. Throws CommandFramingError past the limits. */
  push(chunk: Buffer): EslClientCommand[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const buf = this.pending;
    const out: EslClientCommand[] = [];
    let pos = 0;
    for (;;) {
      if (this.awaitingBody !== null) {
        const p = this.awaitingBody;
        const end = p.bodyStart + p.bodyLength;
        if (buf.length < end) break;
        out.push({
          line: p.line,
          headers: p.headers,
          body: Buffer.from(buf.subarray(p.bodyStart, end)),
          raw: Buffer.from(buf.subarray(p.start, end)),
        });
        this.awaitingBody = null;
        pos = end;
        this.scanFrom = pos;
        continue;
      }
      // Line feeds (and CRs) before a command are noise, as in FreeSWITCH.
      while (pos < buf.length && (buf[pos] === LF || buf[pos] === CR)) pos++;
      if (pos >= buf.length) break;
      const headEnd = this.findHeadEnd(buf, Math.max(pos, this.scanFrom));
      if (headEnd < 0) {
        if (buf.length - pos > this.limits.maxHeadBytes) {
          throw new CommandFramingError(`command head longer than ${this.limits.maxHeadBytes} bytes without a blank line`);
        }
        break;
      }
      const { line, headers, contentLength } = parseHead(buf.toString('utf8', pos, headEnd));
      if (contentLength > 0) {
        if (contentLength > this.limits.maxBodyBytes) {
          throw new CommandFramingError(`content-length ${contentLength} exceeds the ${this.limits.maxBodyBytes}-byte limit`);
        }
        this.awaitingBody = { start: pos, bodyStart: headEnd, bodyLength: contentLength, line, headers };
        continue;
      }
      out.push({ line, headers, body: null, raw: Buffer.from(buf.subarray(pos, headEnd)) });
      pos = headEnd;
      this.scanFrom = pos;
    }
    this.compact(pos);
    return out;
  }

  /** Bytes received but not yet part of a complete command. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Index just past the blank line, or -1; remembers how far it looked. */
  private findHeadEnd(buf: Buffer, from: number): number {
    let i = from;
    for (;;) {
      const nl = buf.indexOf(LF, i);
      if (nl < 0) {
        this.scanFrom = buf.length;
        return -1;
      }
      let j = nl + 1;
      while (j < buf.length && buf[j] === CR) j++;
      if (j >= buf.length) {
        this.scanFrom = nl; // the terminator may still complete here
        return -1;
      }
      if (buf[j] === LF) return j + 1;
      i = j;
    }
  }

  private compact(consumed: number): void {
    if (consumed === 0) return;
    const rest = this.pending.subarray(consumed);
    // Copy a small remainder so a big chunk is not kept alive by a few trailing bytes.
    this.pending = rest.length < 4096 ? Buffer.from(rest) : rest;
    this.scanFrom = Math.max(0, this.scanFrom - consumed);
    if (this.awaitingBody !== null) {
      this.awaitingBody.start -= consumed;
      this.awaitingBody.bodyStart -= consumed;
    }
  }
}

/** Splits a head into its command line and raw headers; finds the content-length (atoi semantics). */
export function parseHead(head: string): { line: string; headers: [string, string][]; contentLength: number } {
  const lines = head.split(/[\r\n]+/);
  const line = lines[0] ?? '';
  const headers: [string, string][] = [];
  let contentLength = 0;
  for (let k = 1; k < lines.length; k++) {
    const l = lines[k]!;
    if (l.length === 0) continue;
    const colon = l.indexOf(':');
    if (colon < 0) continue;
    const name = l.slice(0, colon);
    let v = colon + 1;
    while (v < l.length && l.charCodeAt(v) === 0x20) v++;
    const value = l.slice(v);
    headers.push([name, value]);
    if (contentLength === 0 && name.toLowerCase() === 'content-length') contentLength = atoi(value);
  }
  return { line, headers, contentLength };
}

/** C atoi: leading blanks, optional sign, digits; anything else ends it; 0 when there are none. */
function atoi(s: string): number {
  const m = /^[ \t]*([+-]?\d+)/.exec(s);
  return m ? Number.parseInt(m[1]!, 10) : 0;
}
