/** Reads the real FreeSWITCH event-socket captures in place (../shared/fixtures, see its README). */
import { readFileSync, readdirSync } from 'node:fs';

/** From dist/test/esl/*.js: dist/test/esl -> dist/test -> dist -> repo -> /work. */
export const ESL_SESSIONS_DIR = new URL('../../../../shared/fixtures/freeswitch/esl-sessions/', import.meta.url);

export function readCapture(name: string): Buffer {
  return readFileSync(new URL(name, ESL_SESSIONS_DIR));
}

export function captureNames(ext: string): string[] {
  return readdirSync(ESL_SESSIONS_DIR)
    .filter((n) => n.endsWith(ext))
    .sort();
}

/** The bytes FreeSWITCH sent (`<< N` blocks) in a `*.txt` transcript, in order. */
export function serverBytesOfTranscript(name: string): Buffer[] {
  const text = readCapture(name);
  const blocks: Buffer[] = [];
  let pos = 0;
  while (pos < text.length) {
    const eol = text.indexOf(0x0a, pos);
    if (eol < 0) break;
    const line = text.toString('latin1', pos, eol);
    const m = /^(<<|>>) (\d+)$/.exec(line);
    if (!m) throw new Error(`${name}: unexpected transcript line ${JSON.stringify(line)} at byte ${pos}`);
    const n = Number(m[2]);
    const bytes = text.subarray(eol + 1, eol + 1 + n);
    if (m[1] === '<<') blocks.push(bytes);
    pos = eol + 1 + n;
    if (text[pos] === 0x0a) pos++; // the separator line after each block
  }
  return blocks;
}
