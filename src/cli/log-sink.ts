import type { Writable } from 'node:stream';

/** What the log may hold, unwritten, before it drops lines: queued in the stream plus pending here. */
export const LOG_BOUND_BYTES = 1024 * 1024;

/**
 * A busy server's log writes at most once in this many milliseconds (see LogSink), so a line is
 * never later than that.
 */
export const LOG_COALESCE_MS = 20;

/**
 * The server's log: lines collected and written together once per turn of the event loop (under
 * a burst of connections one write carries many lines), held to a bound. With `coalesceMs`, a busy
 * log writes at most once in that many milliseconds: a quiet one still writes at the end of the
 * turn, but under a steady stream of short connections each line would otherwise be a system call
 * of its own (stderr to a file is a synchronous write).
 *
 * stderr to a pipe is asynchronous on Linux: when nobody reads the pipe (a paused pager, a stuck
 * log shipper), every write queues in memory, and a busy server grows without end. So past
 * `boundBytes` unwritten, lines are dropped and counted, and once the stream drains (or, for a
 * stream that takes every write at once, at the next write) one line says how many were lost.
 * Nothing here ever waits: the echo never waits on the log.
 */
export class LogSink {
  readonly #stream: Writable;
  readonly #boundBytes: number;
  readonly #stamp: () => string;
  readonly #droppedLine: (dropped: number) => string;
  readonly #coalesceMs: number;
  readonly #now: () => number;
  #pending = '';
  /** The flush to come, when one is scheduled: at the end of the turn, or after the coalescing wait. */
  #immediate: NodeJS.Immediate | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastFlushAt = -Infinity;
  #dropped = 0;
  #waitingForDrain = false;

  /**
   * `droppedLine` writes the `N log lines dropped` warning (JSON logs have their own form);
   * `coalesceMs` (default 0: every turn) is the least time between two writes, on the clock
   * `now` (default `performance.now`).
   */
  constructor(stream: Writable, options: { boundBytes?: number; stamp: () => string; droppedLine?: (dropped: number) => string; coalesceMs?: number; now?: () => number }) {
    this.#stream = stream;
    this.#coalesceMs = options.coalesceMs ?? 0;
    this.#now = options.now ?? (() => performance.now());
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
      // A stream with writes queued says when it drains; one that took every write (a file)
      // never does, and the next flush reports the count instead.
      if (this.#stream.writableLength > 0) this.#watchDrain();
      return;
    }
    this.#pending += `${text}\n`;
    if (this.#immediate !== undefined || this.#timer !== undefined) return;
    const wait = this.#coalesceMs === 0 ? 0 : this.#lastFlushAt + this.#coalesceMs - this.#now();
    if (wait <= 0) this.#immediate = setImmediate(this.#flushScheduled);
    // Unref'd: a server that is stopping flushes before it exits.
    else this.#timer = setTimeout(this.#flushScheduled, wait).unref();
  };

  /** Writes what is pending now (before a line that must come after it, and before exiting). */
  flush(): void {
    clearImmediate(this.#immediate);
    clearTimeout(this.#timer);
    this.#immediate = undefined;
    this.#timer = undefined;
    if (this.#pending !== '') {
      if (this.#coalesceMs !== 0) this.#lastFlushAt = this.#now();
      const text = this.#pending;
      this.#pending = '';
      if (!this.#stream.write(text)) return this.#watchDrain();
    }
    if (this.#dropped > 0 && !this.#waitingForDrain) this.#writeDropped();
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
    this.#writeDropped(dropped);
  };

  /** The `N log lines dropped` line. It goes out even past the bound: it is the line that explains the gap. */
  #writeDropped(dropped = this.#dropped): void {
    this.#dropped = 0;
    if (!this.#stream.write(`${this.#droppedLine(dropped)}\n`)) this.#watchDrain();
  }
}
