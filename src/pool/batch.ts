/**
 * The batch format that crosses threads: one ArrayBuffer holding items back to back and the
 * end offset of each, so a batch moves with a transfer list instead of per-item objects.
 */
export interface PackedBatch {
  buf: ArrayBuffer;
  /** ends[i] = end offset of item i; item i starts at ends[i-1] (0 for the first). */
  ends: Uint32Array;
}

/** Copies items into one fresh ArrayBuffer. */
export function packBatch(items: readonly Uint8Array[]): PackedBatch {
  let total = 0;
  for (const it of items) total += it.length;
  const buf = new ArrayBuffer(total);
  const bytes = new Uint8Array(buf);
  const ends = new Uint32Array(items.length);
  let o = 0;
  for (let i = 0; i < items.length; i++) {
    bytes.set(items[i]!, o);
    o += items[i]!.length;
    ends[i] = o;
  }
  return { buf, ends };
}

/** Item i of a packed batch, as a Buffer view (no copy). */
export function batchItem(b: PackedBatch, i: number): Buffer {
  const start = i === 0 ? 0 : b.ends[i - 1]!;
  return Buffer.from(b.buf, start, b.ends[i]! - start);
}
