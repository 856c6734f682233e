import { PROBE_FAILURES, type ProbeFailure, type ProbeResult, type TimeStats } from './types.js';

/** Most probes a result lists; past it they are only counted (a run without a count is endless). */
export const MAX_LISTED_PROBES = 100_000;

/** Running min/avg/max/mdev of a set of times, in constant memory. */
export class TimeAccumulator {
  #count = 0;
  #sum = 0;
  #sumOfSquares = 0;
  #min = Infinity;
  #max = -Infinity;

  add(ms: number): void {
    this.#count++;
    this.#sum += ms;
    this.#sumOfSquares += ms * ms;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** As ping computes them (iputils): mdev = sqrt(mean(x²) − mean(x)²); undefined with no times. */
  stats(): TimeStats | undefined {
    if (this.#count === 0) return undefined;
    const avg = this.#sum / this.#count;
    // Rounding can take the difference a hair below zero when every time is the same.
    const mdev = Math.sqrt(Math.max(0, this.#sumOfSquares / this.#count - avg * avg));
    return { count: this.#count, min: this.#min, avg, max: this.#max, mdev };
  }
}

/** Counts, times and the list of probes of one run. */
export class PingTally {
  sent = 0;
  echoed = 0;
  readonly failures = Object.fromEntries(PROBE_FAILURES.map((kind) => [kind, 0])) as Record<ProbeFailure, number>;
  readonly connect = new TimeAccumulator();
  readonly handshake = new TimeAccumulator();
  readonly echo = new TimeAccumulator();
  readonly probes: ProbeResult[] = [];
  probesOmitted = 0;

  add(probe: ProbeResult): void {
    this.sent++;
    if (probe.connectMs !== undefined) this.connect.add(probe.connectMs);
    if (probe.outcome === 'echoed' && probe.handshakeMs !== undefined) this.handshake.add(probe.handshakeMs);
    if (probe.outcome === 'echoed') {
      this.echoed++;
      this.echo.add(probe.echoMs);
    } else {
      this.failures[probe.outcome]++;
    }
    if (this.probes.length < MAX_LISTED_PROBES) this.probes.push(probe);
    else this.probesOmitted++;
  }

  lossPercent(): number {
    return this.sent === 0 ? 0 : ((this.sent - this.echoed) / this.sent) * 100;
  }
}
