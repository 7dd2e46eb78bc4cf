/**
 * Streaming framer for the event socket's byte stream (FreeSWITCH -> client).
 *
 * Every message is an envelope of `Name: value` lines ended by an empty line, then, when the
 * envelope carries `Content-Length: N`, exactly N body bytes. For `text/event-plain` the body is
 * the event text itself; the framer hands it out untouched (no header parse of the event: the
 * worker pool does that), as a view into the socket chunk when the whole message is inside one
 * chunk, and copies only a body that spans chunks. Node never reuses a socket's read buffers,
 * so a view stays valid for as long as the caller keeps it.
 *
 * Only the four envelope headers the client acts on are read: Content-Type, Content-Length,
 * Reply-Text and Job-UUID. Known content types are matched byte-wise against constants, so the
 * hot path creates no strings per event.
 */

export interface EslEnvelope {
  /** `text/event-plain`, `command/reply`, `api/response`, `auth/request`, ...; '' when absent. */
  readonly contentType: string;
  /** The declared body length, or -1 when the envelope has no Content-Length. */
  readonly contentLength: number;
  readonly replyText: string | undefined;
  readonly jobUuid: string | undefined;
}

/** Called once per complete message; `body` is null when the envelope declares none. */
export type EslMessageHandler = (envelope: EslEnvelope, body: Buffer | null) => void;

export interface EslFramerLimits {
  /** Longest envelope (header section) accepted, in bytes. */
  maxEnvelopeBytes: number;
  /** Largest Content-Length accepted, in bytes. */
  maxBodyBytes: number;
}

export const DEFAULT_FRAMER_LIMITS: EslFramerLimits = Object.freeze({
  maxEnvelopeBytes: 64 * 1024,
  maxBodyBytes: 64 * 1024 * 1024,
});

/** The stream is not ESL (or exceeds a limit); the connection must be dropped. */
export class EslFramingError extends Error {
  override readonly name = 'EslFramingError';
}

export const CONTENT_TYPES = Object.freeze({
  eventPlain: 'text/event-plain',
  commandReply: 'command/reply',
  apiResponse: 'api/response',
  authRequest: 'auth/request',
  disconnectNotice: 'text/disconnect-notice',
  rudeRejection: 'text/rude-rejection',
});

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const EMPTY = Buffer.alloc(0);

/** Content types compared as bytes, so no string is created for them. */
const KNOWN_TYPES: readonly (readonly [Buffer, string])[] = [
  ...Object.values(CONTENT_TYPES),
  'text/event-json',
  'text/event-xml',
  'log/data',
].map((t) => [Buffer.from(t, 'latin1'), t] as const);

const NAME_CONTENT_LENGTH = Buffer.from('content-length', 'latin1');
const NAME_CONTENT_TYPE = Buffer.from('content-type', 'latin1');
const NAME_REPLY_TEXT = Buffer.from('reply-text', 'latin1');
const NAME_JOB_UUID = Buffer.from('job-uuid', 'latin1');

interface MutableEnvelope {
  contentType: string;
  contentLength: number;
  replyText: string | undefined;
  jobUuid: string | undefined;
}

export class EslFramer {
  /** Bytes of an envelope that has not ended yet (only while one spans chunks). */
  private envelopeCarry: Buffer | null = null;
  /** The envelope whose body is being collected across chunks. */
  private bodyEnvelope: MutableEnvelope | null = null;
  private bodyBuffer: Buffer = EMPTY;
  private bodyFilled = 0;
  private readonly limits: EslFramerLimits;

  constructor(
    private readonly onMessage: EslMessageHandler,
    limits: Partial<EslFramerLimits> = {},
  ) {
    this.limits = { ...DEFAULT_FRAMER_LIMITS, ...limits };
  }

  /** True when no partial message is buffered. */
  get idle(): boolean {
    return this.envelopeCarry === null && this.bodyEnvelope === null;
  }

  /** Drops any partial message (after a reconnect the stream starts afresh). */
  reset(): void {
    this.envelopeCarry = null;
    this.bodyEnvelope = null;
    this.bodyBuffer = EMPTY;
    this.bodyFilled = 0;
  }

  /** Feeds one chunk; calls the handler for each message it completes. Throws EslFramingError. */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;

    if (this.bodyEnvelope !== null) {
      pos = this.continueBody(chunk);
      if (this.bodyEnvelope !== null) return; // chunk used up, body still incomplete
    }
    if (this.envelopeCarry !== null) {
      pos = this.continueEnvelope(chunk, pos);
      if (pos < 0) return; // envelope still incomplete
    }

    while (pos < end) {
      // Blank lines between messages are skipped (FreeSWITCH does not send them, but it is harmless).
      if (chunk[pos] === LF) {
        pos++;
        continue;
      }
      const headEnd = findEnvelopeEnd(chunk, pos, end);
      if (headEnd < 0) {
        if (end - pos > this.limits.maxEnvelopeBytes) this.tooLongEnvelope(end - pos);
        this.envelopeCarry = Buffer.from(chunk.subarray(pos, end)); // copy: the chunk may be large
        return;
      }
      const envelope = parseEnvelope(chunk, pos, headEnd, this.limits);
      pos = headEnd + 2;
      pos = this.takeBody(envelope, chunk, pos, end);
    }
  }

  /** Body following an envelope that starts at `pos`; returns where the next message starts. */
  private takeBody(envelope: MutableEnvelope, chunk: Buffer, pos: number, end: number): number {
    const length = envelope.contentLength;
    if (length < 0) {
      this.onMessage(envelope, null);
      return pos;
    }
    if (length === 0) {
      this.onMessage(envelope, EMPTY);
      return pos;
    }
    if (end - pos >= length) {
      this.onMessage(envelope, chunk.subarray(pos, pos + length));
      return pos + length;
    }
    // The body spans chunks: collect it in a buffer of its final size.
    this.bodyEnvelope = envelope;
    this.bodyBuffer = Buffer.allocUnsafe(length);
    this.bodyFilled = chunk.copy(this.bodyBuffer, 0, pos, end);
    return end;
  }

  /** Adds the chunk's bytes to the pending body; returns the offset just after the body's end. */
  private continueBody(chunk: Buffer): number {
    const need = this.bodyBuffer.length - this.bodyFilled;
    const take = Math.min(need, chunk.length);
    chunk.copy(this.bodyBuffer, this.bodyFilled, 0, take);
    this.bodyFilled += take;
    if (this.bodyFilled < this.bodyBuffer.length) return chunk.length;
    const envelope = this.bodyEnvelope!;
    const body = this.bodyBuffer;
    this.bodyEnvelope = null;
    this.bodyBuffer = EMPTY;
    this.bodyFilled = 0;
    this.onMessage(envelope, body);
    return take;
  }

  /**
   * Completes an envelope that began in an earlier chunk. Returns the offset in `chunk` where
   * the next message starts, or -1 when the whole chunk went into the (still open) envelope.
   */
  private continueEnvelope(chunk: Buffer, pos: number): number {
    const carry = this.envelopeCarry!;
    let headEndInChunk: number; // index in chunk of the first byte after the "\n\n"
    if (carry[carry.length - 1] === LF && chunk.length > pos && chunk[pos] === LF) {
      headEndInChunk = pos + 1;
    } else {
      const at = findEnvelopeEnd(chunk, pos, chunk.length);
      headEndInChunk = at < 0 ? -1 : at + 2;
    }
    if (headEndInChunk < 0) {
      const total = carry.length + chunk.length - pos;
      if (total > this.limits.maxEnvelopeBytes) this.tooLongEnvelope(total);
      this.envelopeCarry = Buffer.concat([carry, chunk.subarray(pos)]);
      return -1;
    }
    const head = Buffer.concat([carry, chunk.subarray(pos, headEndInChunk)]);
    this.envelopeCarry = null;
    if (head.length - 2 > this.limits.maxEnvelopeBytes) this.tooLongEnvelope(head.length - 2);
    const envelope = parseEnvelope(head, 0, head.length - 2, this.limits);
    return this.takeBody(envelope, chunk, headEndInChunk, chunk.length);
  }

  private tooLongEnvelope(bytes: number): never {
    throw new EslFramingError(
      `event-socket envelope longer than ${this.limits.maxEnvelopeBytes} bytes without an empty line (${bytes} bytes so far)`,
    );
  }
}

/** Index of the first "\n\n" at or after `from`, or -1. */
function findEnvelopeEnd(buf: Buffer, from: number, end: number): number {
  let at = buf.indexOf(LF, from);
  while (at >= 0 && at + 1 < end) {
    if (buf[at + 1] === LF) return at;
    at = buf.indexOf(LF, at + 2);
  }
  return -1;
}

/** Reads the envelope lines in `buf[start, headEnd)` (headEnd is the first LF of the "\n\n"). */
function parseEnvelope(buf: Buffer, start: number, headEnd: number, limits: EslFramerLimits): MutableEnvelope {
  const envelope: MutableEnvelope = { contentType: '', contentLength: -1, replyText: undefined, jobUuid: undefined };
  let pos = start;
  const end = headEnd + 1; // include the last line's LF
  while (pos < end) {
    let eol = buf.indexOf(LF, pos);
    if (eol < 0 || eol > headEnd) eol = headEnd;
    let lineEnd = eol;
    if (lineEnd > pos && buf[lineEnd - 1] === CR) lineEnd--;
    const colon = buf.indexOf(COLON, pos);
    if (colon > pos && colon < lineEnd) {
      let valueStart = colon + 1;
      while (valueStart < lineEnd && buf[valueStart] === SPACE) valueStart++;
      const nameLength = colon - pos;
      if (nameLength === 14 && nameIs(buf, pos, NAME_CONTENT_LENGTH)) {
        envelope.contentLength = parseLength(buf, valueStart, lineEnd, limits);
      } else if (nameLength === 12 && nameIs(buf, pos, NAME_CONTENT_TYPE)) {
        envelope.contentType = contentTypeOf(buf, valueStart, lineEnd);
      } else if (nameLength === 10 && nameIs(buf, pos, NAME_REPLY_TEXT)) {
        envelope.replyText = buf.toString('utf8', valueStart, lineEnd);
      } else if (nameLength === 8 && nameIs(buf, pos, NAME_JOB_UUID)) {
        envelope.jobUuid = buf.toString('latin1', valueStart, lineEnd);
      }
    }
    pos = eol + 1;
  }
  return envelope;
}

/** Case-insensitive ASCII compare of `buf` at `at` with a lower-case name. */
function nameIs(buf: Buffer, at: number, lowerName: Buffer): boolean {
  for (let i = 0; i < lowerName.length; i++) {
    if ((buf[at + i]! | 0x20) !== lowerName[i]) return false;
  }
  return true;
}

function contentTypeOf(buf: Buffer, start: number, end: number): string {
  const length = end - start;
  for (const [bytes, name] of KNOWN_TYPES) {
    if (bytes.length !== length) continue;
    let same = true;
    for (let i = 0; i < length; i++) {
      if (buf[start + i] !== bytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return name;
  }
  return buf.toString('latin1', start, end);
}

function parseLength(buf: Buffer, start: number, end: number, limits: EslFramerLimits): number {
  let n = 0;
  if (start === end) throw new EslFramingError('event-socket envelope has an empty Content-Length');
  for (let i = start; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) {
      throw new EslFramingError(`event-socket Content-Length is not a decimal number: ${JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 32)))}`);
    }
    n = n * 10 + d;
    if (n > limits.maxBodyBytes) {
      throw new EslFramingError(`event-socket Content-Length exceeds the limit of ${limits.maxBodyBytes} bytes`);
    }
  }
  return n;
}
