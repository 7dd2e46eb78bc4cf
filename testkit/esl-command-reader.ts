/**
 * Reads a byte stream the way FreeSWITCH's event socket reads commands (mod_event_socket
 * read_packet): header lines up to an empty line, then `content-length` (any case) bytes of
 * body. Used to prove that a built command is exactly one command and nothing more.
 */
export interface ReadCommand {
  commandLine: string;
  headers: [string, string][];
  body: Buffer | null;
}

export function readCommands(stream: Buffer): ReadCommand[] {
  const out: ReadCommand[] = [];
  let pos = 0;
  while (pos < stream.length) {
    const end = stream.indexOf('\n\n', pos);
    if (end < 0) throw new Error(`unterminated command at byte ${pos}`);
    const lines = stream.subarray(pos, end).toString('latin1').split('\n');
    const commandLine = lines.shift()!;
    const headers: [string, string][] = [];
    let clen = 0;
    for (const line of lines) {
      const c = line.indexOf(':');
      if (c < 0) throw new Error(`header line without ':' in command: ${JSON.stringify(line)}`);
      const name = line.slice(0, c);
      const value = line.slice(c + 1).replace(/^ +/, '');
      headers.push([name, value]);
      if (name.toLowerCase() === 'content-length') clen = Number(value);
    }
    pos = end + 2;
    let body: Buffer | null = null;
    if (clen > 0) {
      body = stream.subarray(pos, pos + clen);
      pos += clen;
    }
    out.push({ commandLine, headers, body });
  }
  return out;
}
