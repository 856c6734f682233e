/**
 * The bytes probe `seq` sends: `(seq + i) & 0xff` at offset `i`. Every byte depends on both the
 * offset and the probe, so a corrupted, dropped, duplicated or reordered byte differs from the one
 * expected, and so would the echo of the previous probe (a kept connection is closed after any
 * failed probe, so no older echo can arrive on it).
 */
export function probePayload(seq: number, size: number): Buffer {
  const payload = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) payload[i] = (seq + i) & 0xff;
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
