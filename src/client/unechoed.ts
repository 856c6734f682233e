/**
 * The bytes sent and not yet echoed, oldest first, as the chunks they were sent in: what each
 * arriving echo is checked against. Memory is what is in flight, no more.
 */
export class UnechoedBytes {
  // A queue with a moving head: Array#shift is linear, and a slow pipe can feed tiny chunks.
  private chunks: Buffer[] = [];
  private head = 0;
  /** How much of the head chunk has already come back. */
  private headOffset = 0;
  private size = 0;

  /** Bytes sent and not yet echoed. */
  get length(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The oldest byte not yet echoed, if any. */
  peek(): number | undefined {
    return this.chunks[this.head]?.[this.headOffset];
  }

  /**
   * Takes off the front as much of `echo` as matches it and returns how many bytes that was:
   * `echo.length` when all of it matched, less at the first byte that differs or was never sent
   * (then `peek()` is the byte that was expected there).
   */
  consume(echo: Buffer): number {
    let done = 0;
    while (done < echo.length) {
      const chunk = this.chunks[this.head];
      if (chunk === undefined) return done;
      const n = Math.min(chunk.length - this.headOffset, echo.length - done);
      const sent = chunk.subarray(this.headOffset, this.headOffset + n);
      const got = echo.subarray(done, done + n);
      if (!sent.equals(got)) {
        const same = firstDifference(sent, got);
        this.advance(chunk, same);
        return done + same;
      }
      this.advance(chunk, n);
      done += n;
    }
    return done;
  }

  private advance(chunk: Buffer, n: number): void {
    this.size -= n;
    this.headOffset += n;
    if (this.headOffset < chunk.length) return;
    this.headOffset = 0;
    this.head++;
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

function firstDifference(a: Buffer, b: Buffer): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}
