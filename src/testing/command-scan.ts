/**
 * A lean reader of event-socket commands for the benchmark's sendevent sink: it finds where each
 * command ends (the empty line, plus a Content-Length body) and reads the first word and the
 * e2e stamp header, nothing else. Measuring the bridge needs a sink that costs far less than the
 * bridge; the faithful simulator (src/testing/fake-freeswitch.ts) rebuilds and re-fires every
 * event, as FreeSWITCH does, and is then the bottleneck.
 */

export interface ScannedCommand {
  /** The first line, e.g. `sendevent CUSTOM`, `auth ClueCon`, `event plain HEARTBEAT`. */
  line: string;
  /** The monotonic-clock stamp (ns) carried as `<stampHeader>: <digits>`, or null. */
  stampNs: bigint | null;
}

const END = Buffer.from('\n\n', 'latin1');
// No space after the colon: lean sendevents (lean-sendevent) leave it out, as FreeSWITCH allows.
const CONTENT_LENGTH = Buffer.from('\nContent-Length:', 'latin1');

export class CommandScanner {
  private pending: Buffer = Buffer.alloc(0);
  private readonly stampNeedle: Buffer;

  constructor(stampHeader: string) {
    this.stampNeedle = Buffer.from(`\n${stampHeader}:`, 'latin1');
  }

  /** Bytes held back waiting for the rest of a command. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): ScannedCommand[] {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: ScannedCommand[] = [];
    let pos = 0;
    for (;;) {
      // Leading blank lines between commands are skipped, as mod_event_socket does.
      while (pos < buf.length && buf[pos] === 0x0a) pos++;
      const end = buf.indexOf(END, pos);
      if (end < 0) break;
      let next = end + 2;
      const cl = buf.indexOf(CONTENT_LENGTH, pos);
      if (cl >= 0 && cl < end) {
        let digitsAt = cl + CONTENT_LENGTH.length;
        while (buf[digitsAt] === 0x20) digitsAt++;
        const nl = buf.indexOf(0x0a, digitsAt);
        const length = Number(buf.toString('latin1', digitsAt, nl));
        if (!Number.isInteger(length) || length < 0) throw new Error('command with a bad Content-Length');
        next += length;
        if (next > buf.length) break;
      }
      const lineEnd = buf.indexOf(0x0a, pos);
      const line = buf.toString('latin1', pos, Math.min(lineEnd, end));
      let stampNs: bigint | null = null;
      const s = buf.indexOf(this.stampNeedle, pos);
      if (s >= 0 && s < end) {
        let at = s + this.stampNeedle.length;
        while (buf[at] === 0x20) at++;
        stampNs = BigInt(buf.toString('latin1', at, buf.indexOf(0x0a, at)));
      }
      out.push({ line, stampNs });
      pos = next;
    }
    this.pending = pos >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
    return out;
  }
}
