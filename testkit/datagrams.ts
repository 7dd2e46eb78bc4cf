/**
 * Test datagrams with content that depends on a tag, an index and the size, so a receiver
 * can prove a datagram arrived intact and say which one it was (from its first bytes).
 */
import { createHash } from 'node:crypto';

/** `<tag>#<index>|` then a repeating byte pattern up to `size` bytes (the label is cut to fit). */
export function patternDatagram(tag: string, index: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  const label = Buffer.from(`${tag}#${index}|`);
  label.copy(out, 0, 0, Math.min(label.length, size));
  for (let i = label.length; i < size; i++) out[i] = (i * 31 + index * 7 + size) & 0xff;
  return out;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The label `<tag>#<index>` a patternDatagram starts with, or null when it has none. */
export function labelOf(data: Buffer): string | null {
  const end = data.indexOf(0x7c); // '|'
  if (end <= 0 || end > 200) return null;
  return data.subarray(0, end).toString('utf8');
}
