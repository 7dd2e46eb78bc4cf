/**
 * The replay state file's bytes (param replay-state-file): what the replay protection had seen,
 * so that a packet captured before a restart is still refused after it. Pure: the file I/O is
 * in src/bridge/replay-store.ts.
 *
 *   0   8 B   "FEMRPLY1" (format name and version 1)
 *   8   u32   length L of the JSON description, big-endian
 *   12  L B   JSON: { savedAtMs, legacy: { windowMs, turnedAtMs, current, previous } | null,
 *                     compact: [{ sender, name, top, bits (base64), lastSeenMs, latestTime }] }
 *   ..  16 B × (current + previous)  the legacy PSK packets' replay keys (wire/replay.ts)
 *   end 32 B  SHA-256 of everything before it
 *
 * Binary keys keep the file at 16 bytes per remembered packet (16 MB at the guard's bound of a
 * million). The checksum turns a damaged file into "start without it" instead of wrong state.
 */
import { createHash } from 'node:crypto';
import type { ReplayGuardSnapshot } from './replay.js';
import { REPLAY_KEY_BYTES } from './replay.js';
import type { SenderSnapshot } from './compact/seq-window.js';

export interface ReplayState {
  savedAtMs: number;
  legacy: ReplayGuardSnapshot | null;
  compact: SenderSnapshot[];
}

const MAGIC = Buffer.from('FEMRPLY1', 'latin1');
const DIGEST_BYTES = 32;
/** Longest JSON part accepted (4096 senders of ~300 bytes is ~1.2 MB). */
const MAX_JSON_BYTES = 8 * 1024 * 1024;
/** Most keys accepted from a file (the guard's default bound). */
export const MAX_STATE_KEYS = 1_000_000;
const MAX_NAME_LENGTH = 1024;
/** Largest file worth reading: every bound at once, and a little more. */
export const MAX_STATE_FILE_BYTES = MAGIC.length + 4 + MAX_JSON_BYTES + MAX_STATE_KEYS * REPLAY_KEY_BYTES + DIGEST_BYTES;

export function encodeReplayState(state: ReplayState): Buffer {
  const legacy = state.legacy;
  const current = legacy?.current ?? [];
  const previous = legacy?.previous ?? [];
  const json = Buffer.from(
    JSON.stringify({
      savedAtMs: state.savedAtMs,
      legacy: legacy === null ? null : { windowMs: legacy.windowMs, turnedAtMs: legacy.turnedAtMs, current: current.length, previous: previous.length },
      compact: state.compact.map((s) => ({ ...s, bits: Buffer.from(s.bits.buffer, s.bits.byteOffset, s.bits.length).toString('base64') })),
    }),
    'utf8',
  );
  const keyBytes = (current.length + previous.length) * REPLAY_KEY_BYTES;
  const out = Buffer.allocUnsafe(MAGIC.length + 4 + json.length + keyBytes + DIGEST_BYTES);
  let o = MAGIC.copy(out, 0);
  o = out.writeUInt32BE(json.length, o);
  o += json.copy(out, o);
  // Keys are 16 one-byte characters: copying the char codes is ~4x faster than a Buffer.write per key (1M keys: ~30 ms).
  for (const list of [current, previous]) {
    for (const key of list) for (let j = 0; j < REPLAY_KEY_BYTES; j++) out[o++] = key.charCodeAt(j);
  }
  createHash('sha256').update(out.subarray(0, o)).digest().copy(out, o);
  return out;
}

export type DecodedState = { ok: true; state: ReplayState } | { ok: false; why: string };

/** Checks everything (format, lengths, checksum, every field's type); never throws. */
export function decodeReplayState(file: Buffer): DecodedState {
  const bad = (why: string): DecodedState => ({ ok: false, why });
  if (file.length < MAGIC.length + 4 + DIGEST_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return bad('not a replay state file (format FEMRPLY1)');
  const body = file.subarray(0, file.length - DIGEST_BYTES);
  if (!createHash('sha256').update(body).digest().equals(file.subarray(file.length - DIGEST_BYTES))) return bad('checksum mismatch (damaged or cut short)');
  const jsonLength = file.readUInt32BE(MAGIC.length);
  const jsonStart = MAGIC.length + 4;
  if (jsonLength > MAX_JSON_BYTES || jsonStart + jsonLength > body.length) return bad('description length out of range');
  let meta: unknown;
  try {
    meta = JSON.parse(body.toString('utf8', jsonStart, jsonStart + jsonLength));
  } catch {
    return bad('description is not JSON');
  }
  if (!isObject(meta) || !isTime(meta['savedAtMs']) || !Array.isArray(meta['compact'])) return bad('description lacks savedAtMs or compact');
  let legacy: ReplayGuardSnapshot | null = null;
  const keysStart = jsonStart + jsonLength;
  const l = meta['legacy'];
  if (l !== null) {
    if (!isObject(l) || !isCount(l['current']) || !isCount(l['previous']) || !(typeof l['windowMs'] === 'number' && l['windowMs'] > 0)) return bad('legacy part malformed');
    if (!(l['turnedAtMs'] === null || isTime(l['turnedAtMs']))) return bad('legacy turnedAtMs malformed');
    const n = (l['current'] as number) + (l['previous'] as number);
    if (n > MAX_STATE_KEYS || keysStart + n * REPLAY_KEY_BYTES !== body.length) return bad('key count does not match the file length');
    const all = body.toString('latin1', keysStart); // one decode, then cheap slices
    const keyAt = (i: number) => all.slice(i * REPLAY_KEY_BYTES, (i + 1) * REPLAY_KEY_BYTES);
    const c = l['current'] as number;
    legacy = {
      windowMs: l['windowMs'] as number,
      turnedAtMs: l['turnedAtMs'] as number | null,
      current: Array.from({ length: c }, (_, i) => keyAt(i)),
      previous: Array.from({ length: l['previous'] as number }, (_, i) => keyAt(c + i)),
    };
  } else if (keysStart !== body.length) return bad('bytes after the description but no legacy part');
  const compact: SenderSnapshot[] = [];
  for (const x of meta['compact'] as unknown[]) {
    if (
      !isObject(x) ||
      typeof x['sender'] !== 'string' ||
      !/^[0-9a-f]{16}$/.test(x['sender']) ||
      !(x['name'] === null || (typeof x['name'] === 'string' && x['name'].length <= MAX_NAME_LENGTH)) ||
      !(Number.isInteger(x['top']) && (x['top'] as number) >= -1 && (x['top'] as number) <= 0xffffffff) ||
      typeof x['bits'] !== 'string' ||
      !isTime(x['lastSeenMs']) ||
      !(Number.isInteger(x['latestTime']) && (x['latestTime'] as number) >= 0)
    ) {
      return bad('a compact sender entry is malformed');
    }
    compact.push({
      sender: x['sender'],
      name: x['name'] as string | null,
      top: x['top'] as number,
      bits: new Uint8Array(Buffer.from(x['bits'], 'base64')),
      lastSeenMs: x['lastSeenMs'] as number,
      latestTime: x['latestTime'] as number,
    });
  }
  return { ok: true, state: { savedAtMs: meta['savedAtMs'] as number, legacy, compact } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0;
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
