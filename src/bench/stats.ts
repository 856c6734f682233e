import { build, type Histogram } from 'hdr-histogram-js';
import { ERROR_KINDS, type ErrorKind } from './types.js';

/**
 * Latencies below this many microseconds are counted in a plain array first and folded into the
 * HdrHistogram when it is read: an array increment per message instead of the histogram's bucket
 * arithmetic (at 1 KiB ping-pong, 1.35 against 1.60 µs of user CPU per message, medians of five
 * runs). The figures are the same, since the histogram receives the same values, only in bulk.
 * Float64 counts stay exact past any run length (a Uint32 would wrap after ~6 h at 200k msg/s).
 */
const FINE_LIMIT_US = 65_536;

/** The latency histogram's shape, in microseconds: 1 µs to an hour, 3 significant digits. */
export const HISTOGRAM = { lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 } as const;

/**
 * What a run measures. Everything before `startWindow()` (the warm-up) and after `endWindow()`
 * (the drain) is verified but not counted; errors count whenever they happen.
 */
export class Stats {
  readonly #histogram: Histogram = build(HISTOGRAM);
  /** Counts of latencies below FINE_LIMIT_US by value, not yet in #histogram. */
  readonly #fine = new Float64Array(FINE_LIMIT_US);
  #fineCount = 0;
  readonly errors = new Map<ErrorKind, number>(ERROR_KINDS.map((kind) => [kind, 0]));
  /** The first few error descriptions, for the report. */
  readonly samples: string[] = [];
  counting = false;
  messages = 0;
  connections = 0;
  /** Connect mode with TLS: connections of `connections` whose session was resumed. */
  tlsResumed = 0;
  bytesSent = 0;
  bytesReceived = 0;
  /** Over the whole run, window or not (never reset): what the server saw. */
  runBytesSent = 0;
  runBytesReceived = 0;
  windowStart = 0;
  windowEnd = 0;
  /** CPU this process used in the window (every thread of it), microseconds. */
  cpuUs: NodeJS.CpuUsage = { user: 0, system: 0 };
  #cpuAtStart: NodeJS.CpuUsage | undefined;

  startWindow(): void {
    this.#histogram.reset();
    this.#fine.fill(0);
    this.#fineCount = 0;
    this.messages = 0;
    this.connections = 0;
    this.tlsResumed = 0;
    this.bytesSent = 0;
    this.bytesReceived = 0;
    this.windowStart = performance.now();
    this.#cpuAtStart = process.cpuUsage();
    this.counting = true;
  }

  endWindow(): void {
    if (!this.counting) return;
    this.counting = false;
    this.windowEnd = performance.now();
    this.cpuUs = process.cpuUsage(this.#cpuAtStart);
  }

  /**
   * The window in milliseconds since the epoch (empty, at this moment, if it never started). A
   * worker thread's `performance.now()` has its own origin: this is comparable between threads
   * and, as far as their clocks agree, between hosts.
   */
  epochWindow(): { startMs: number; endMs: number } {
    const now = performance.now();
    const start = this.windowStart === 0 ? now : this.windowStart;
    const end = this.windowStart === 0 || this.counting ? now : this.windowEnd;
    return { startMs: performance.timeOrigin + start, endMs: performance.timeOrigin + end };
  }

  /** Seconds counted so far (or in all, once the window has ended). */
  elapsedS(): number {
    if (this.windowStart === 0) return 0;
    return ((this.counting ? performance.now() : this.windowEnd) - this.windowStart) / 1000;
  }

  /** Payload bytes written: over the whole run, and in the window while it is counting. */
  sent(bytes: number): void {
    this.runBytesSent += bytes;
    if (this.counting) this.bytesSent += bytes;
  }

  /** Echoed bytes received and checked: over the whole run, and in the window while it is counting. */
  received(bytes: number): void {
    this.runBytesReceived += bytes;
    if (this.counting) this.bytesReceived += bytes;
  }

  recordMessage(latencyMs: number): void {
    if (!this.counting) return;
    this.messages++;
    const us = Math.max(1, Math.round(latencyMs * 1000));
    if (us < FINE_LIMIT_US) {
      this.#fine[us] = (this.#fine[us] as number) + 1;
      this.#fineCount++;
    } else {
      this.#histogram.recordValue(us);
    }
  }

  /** Every latency recorded so far, in microseconds. */
  latencyUs(): Histogram {
    if (this.#fineCount > 0) {
      for (let us = 1; us < FINE_LIMIT_US; us++) {
        const count = this.#fine[us] as number;
        if (count > 0) this.#histogram.recordValueWithCount(us, count);
      }
      this.#fine.fill(0);
      this.#fineCount = 0;
    }
    return this.#histogram;
  }

  recordError(kind: ErrorKind, detail: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
    if (this.samples.length < 5) this.samples.push(`${kind}: ${detail}`);
  }

  get errorCount(): number {
    let total = 0;
    for (const count of this.errors.values()) total += count;
    return total;
  }
}
