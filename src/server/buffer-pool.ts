/**
 * Fixed-size buffers lent to one owner at a time, for the echo's bulk reads: a connection that
 * streams reads straight into a buffer of its own, its echo's write then holds that buffer until
 * the kernel has taken it, and the buffer comes back here for the next bulk read. Compared with a
 * fresh 64 KiB buffer per read there is no allocation and no garbage, and a buffer just given back
 * is still in the CPU's cache.
 *
 * At most `max` buffers exist at once: memory stays bounded however many connections stream, and
 * past the limit `take` says no and the caller reads the ordinary way.
 */
export class BufferPool {
  readonly size: number;
  readonly #max: number;
  readonly #spares: Buffer[] = [];
  /** Buffers lent out and not given back yet. */
  #lent = 0;

  constructor(size: number, max: number) {
    this.size = size;
    this.#max = max;
  }

  /** A buffer for the caller alone until it calls `give`; undefined when `max` are lent out. */
  take(): Buffer | undefined {
    if (this.#lent >= this.#max) return undefined;
    this.#lent++;
    // Not Buffer.allocUnsafe: a buffer that size never comes from Node's shared slab anyway, and
    // allocUnsafeSlow says so.
    return this.#spares.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Gives back a buffer from `take`, once nothing will read into it or write from it. */
  give(buffer: Buffer): void {
    this.#lent--;
    this.#spares.push(buffer);
  }

  /** Buffers lent out now (for tests). */
  get lent(): number {
    return this.#lent;
  }
}
