/**
 * The bytes probe `seq` sends: `(seq + i) & 0xff` at offset `i`. Every byte depends on both the
 * offset and the probe, so a corrupted, dropped, duplicated or reordered byte differs from the one
 * expected, and so would the echo of the previous probe (a kept connection is closed after any
 * failed probe, so no older echo can arrive on it).
 */
export function probePayload(seq: number, size: number): Buffer {
  return payloads(size).subarray(seq & 0xff, (seq & 0xff) + size);
}

let shared = Buffer.alloc(0);

/**
 * `i & 0xff` at every offset, 255 bytes longer than the largest probe asked for: each probe's
 * payload is a window of it, so a probe of 64 MiB costs no allocation and no fill. Windows are
 * never written to.
 */
function payloads(size: number): Buffer {
  if (shared.length < size + 255) {
    shared = Buffer.allocUnsafe(size + 255);
    for (let i = 0; i < shared.length; i++) shared[i] = i & 0xff;
  }
  return shared;
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
