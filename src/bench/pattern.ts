import { randomBytes } from 'node:crypto';

/** Period of the byte pattern; not a power of two, so that it never lines up with a message size. */
export const PATTERN_PERIOD = 4_194_301;

/**
 * What every connection sends: random bytes (not a repeated short pattern) with a long period,
 * each connection starting at its own offset. Byte `p` of a connection's stream is
 * `bytes[(start + p) % PATTERN_PERIOD]`, so every received byte can be checked against what was
 * sent at that stream position: a dropped, duplicated, reordered, corrupted or cross-talked byte
 * shows up as a mismatch. The buffer repeats its head after the period (`tail` bytes) so that any
 * window up to `tail` long is one contiguous slice, written without a copy.
 */
export class Pattern {
  readonly bytes: Buffer;
  readonly tail: number;

  constructor(tail: number) {
    this.tail = Math.max(tail, 65_536);
    this.bytes = Buffer.allocUnsafe(PATTERN_PERIOD + this.tail);
    randomBytes(PATTERN_PERIOD).copy(this.bytes);
    for (let filled = PATTERN_PERIOD; filled < this.bytes.length; ) {
      filled += this.bytes.copy(this.bytes, filled, 0, Math.min(PATTERN_PERIOD, this.bytes.length - filled));
    }
  }

  /** A random starting offset for a new connection. */
  randomStart(): number {
    return Math.floor(Math.random() * PATTERN_PERIOD);
  }

  /** The `n` bytes at stream position `pos` of a connection that starts at `start` (n <= tail). */
  window(start: number, pos: number, n: number): Buffer {
    const at = (start + pos) % PATTERN_PERIOD;
    return this.bytes.subarray(at, at + n);
  }

  /** True when the first `length` bytes of `chunk` are exactly what was sent at stream position `pos`. */
  matches(start: number, pos: number, chunk: Buffer, length = chunk.length): boolean {
    let offset = 0;
    while (offset < length) {
      const at = (start + pos + offset) % PATTERN_PERIOD;
      const n = Math.min(length - offset, PATTERN_PERIOD + this.tail - at);
      if (chunk.compare(this.bytes, at, at + n, offset, offset + n) !== 0) return false;
      offset += n;
    }
    return true;
  }
}
