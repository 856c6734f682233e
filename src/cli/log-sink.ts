import type { Writable } from 'node:stream';

/** What the log may hold, unwritten, before it drops lines: queued in the stream plus pending here. */
export const LOG_BOUND_BYTES = 1024 * 1024;

/**
 * The server's log: lines collected and written together once per turn of the event loop (under
 * a burst of connections one write carries many lines), held to a bound. With `coalesceMs`, a busy
 * log writes at most once in that many milliseconds: a quiet one still writes at the end of the
 * turn, but under a steady stream of connections each line would otherwise cost a system call of
 * its own (stderr to a file is a synchronous write), a large share of a short connection's cost.
 *
 * stderr to a pipe is asynchronous on Linux: when nobody reads the pipe (a paused pager, a stuck
 * log shipper), every write queues in memory, and a busy server grows without end. So past
 * `boundBytes` unwritten, lines are dropped and counted, and once the stream drains one line says
 * how many were lost. Nothing here ever waits: the echo never waits on the log.
 */
export class LogSink {
  readonly #stream: Writable;
  readonly #boundBytes: number;
  readonly #stamp: () => string;
  readonly #droppedLine: (dropped: number) => string;
  readonly #coalesceMs: number;
  #pending = '';
  #scheduled = false;
  /** The coalescing wait, when the flush waits for one. */
  #timer: NodeJS.Timeout | undefined;
  #lastFlushAt = -Infinity;
  #dropped = 0;
  #waitingForDrain = false;

  /**
   * `droppedLine` writes the `N log lines dropped` warning (JSON logs have their own form);
   * `coalesceMs` (default 0: every turn) is the least time between two writes.
   */
  constructor(stream: Writable, options: { boundBytes?: number; stamp: () => string; droppedLine?: (dropped: number) => string; coalesceMs?: number }) {
    this.#stream = stream;
    this.#coalesceMs = options.coalesceMs ?? 0;
    this.#boundBytes = options.boundBytes ?? LOG_BOUND_BYTES;
    this.#stamp = options.stamp;
    this.#droppedLine = options.droppedLine ?? ((dropped) => `${this.#stamp()} warning ${dropped} log lines dropped`);
  }

  /** Lines dropped since the last `log lines dropped` warning. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues one line (without its newline), or drops it when the bound is reached. */
  line = (text: string): void => {
    if (this.#stream.writableLength + this.#pending.length + text.length + 1 > this.#boundBytes) {
      this.#dropped++;
      this.#watchDrain();
      return;
    }
    this.#pending += `${text}\n`;
    if (!this.#scheduled) {
      this.#scheduled = true;
      const wait = this.#coalesceMs === 0 ? 0 : this.#lastFlushAt + this.#coalesceMs - performance.now();
      if (wait <= 0) setImmediate(this.#flushScheduled);
      else this.#timer = setTimeout(this.#flushScheduled, wait);
    }
  };

  /** Writes what is pending now (before a line that must come after it, and before exiting). */
  flush(): void {
    this.#scheduled = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending === '') return;
    if (this.#coalesceMs !== 0) this.#lastFlushAt = performance.now();
    const text = this.#pending;
    this.#pending = '';
    if (!this.#stream.write(text)) this.#watchDrain();
  }

  readonly #flushScheduled = (): void => this.flush();

  #watchDrain(): void {
    if (this.#waitingForDrain) return;
    this.#waitingForDrain = true;
    this.#stream.once('drain', this.#onDrain);
  }

  readonly #onDrain = (): void => {
    this.#waitingForDrain = false;
    if (this.#dropped === 0) return;
    const dropped = this.#dropped;
    this.#dropped = 0;
    this.flush();
    // The count goes out even if the bound is reached again: it is the line that explains the gap.
    if (!this.#stream.write(`${this.#droppedLine(dropped)}\n`)) this.#watchDrain();
  };
}
