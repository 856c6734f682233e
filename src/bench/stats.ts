import { build, type Histogram } from 'hdr-histogram-js';

/** The kinds of error a run can count; any one makes the run fail. */
export const ERROR_KINDS = ['connect', 'mismatch', 'short', 'reset', 'timeout', 'no-fin', 'error'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/**
 * What a run measures. Everything before `startWindow()` (the warm-up) and after `endWindow()`
 * (the drain) is verified but not counted; errors count whenever they happen.
 */
export class Stats {
  readonly latencyUs: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
  readonly errors = new Map<ErrorKind, number>(ERROR_KINDS.map((kind) => [kind, 0]));
  /** The first few error descriptions, for the report. */
  readonly samples: string[] = [];
  counting = false;
  messages = 0;
  connections = 0;
  bytesSent = 0;
  bytesReceived = 0;
  windowStart = 0;
  windowEnd = 0;

  startWindow(): void {
    this.latencyUs.reset();
    this.messages = 0;
    this.connections = 0;
    this.bytesSent = 0;
    this.bytesReceived = 0;
    this.windowStart = performance.now();
    this.counting = true;
  }

  endWindow(): void {
    if (!this.counting) return;
    this.counting = false;
    this.windowEnd = performance.now();
  }

  /** Seconds counted so far (or in all, once the window has ended). */
  elapsedS(): number {
    if (this.windowStart === 0) return 0;
    return ((this.counting ? performance.now() : this.windowEnd) - this.windowStart) / 1000;
  }

  recordMessage(latencyMs: number): void {
    if (!this.counting) return;
    this.messages++;
    this.latencyUs.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
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
