/**
 * The bytes probe `seq` sends: its number in the first four bytes (big-endian, as far as `size`
 * allows), then `(seq + i) & 0xff` at every offset `i`. Every byte depends on both the offset and
 * the probe, so a corrupted, dropped, duplicated or reordered byte differs from the one expected,
 * and so does a late echo of an earlier probe arriving on a kept connection.
 */
export function probePayload(seq: number, size: number): Buffer {
  const payload = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) payload[i] = (seq + i) & 0xff;
  const head = Buffer.alloc(4);
  head.writeUInt32BE(seq >>> 0);
  head.copy(payload, 0, 0, Math.min(4, size));
  return payload;
}

/**
 * The offset in the whole echo of the first byte of `chunk` (which starts at offset `at`) that
 * differs from `expected`; a byte past the end of `expected` differs by definition. -1 when every
 * byte of `chunk` is as expected.
 */
export function firstDifference(expected: Buffer, chunk: Buffer, at: number): number {
  const n = Math.min(chunk.length, expected.length - at);
  if (n > 0 && chunk.compare(expected, at, at + n, 0, n) !== 0) {
    for (let i = 0; i < n; i++) if (chunk[i] !== expected[at + i]) return at + i;
  }
  return chunk.length > n ? at + Math.max(n, 0) : -1;
}
