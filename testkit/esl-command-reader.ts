/**
 * The test oracle for "exactly one command": reads a byte stream with the simulated switch's own
 * reader (src/testing/esl-command-reader.ts, which reads as mod_event_socket's read_packet does),
 * and is stricter than FreeSWITCH where a built command must never be ambiguous: a head line
 * without ':' or bytes left after the last command are errors, not skipped.
 */
import { CommandReader } from '../src/testing/esl-command-reader.js';

export interface ReadCommand {
  commandLine: string;
  headers: [string, string][];
  body: Buffer | null;
}

export function readCommands(stream: Buffer): ReadCommand[] {
  const reader = new CommandReader();
  const commands = reader.push(stream);
  if (reader.bufferedBytes > 0) throw new Error(`unterminated command: ${reader.bufferedBytes} bytes after the last complete one`);
  return commands.map((c) => {
    const head = c.raw.subarray(0, c.raw.indexOf('\n\n')).toString('latin1').split('\n').slice(1);
    const bare = head.find((l) => !l.includes(':'));
    if (bare !== undefined) throw new Error(`header line without ':' in command: ${JSON.stringify(bare)}`);
    return { commandLine: c.line, headers: c.headers, body: c.body };
  });
}
