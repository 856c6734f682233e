import { randomUUID } from 'node:crypto';
import { encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';
import type { Stats } from './stats.js';
import { BENCH_RESULT_FORMAT, ERROR_KINDS, type BenchCounts, type BenchResult, type BenchWindow, type ErrorKind } from './types.js';

/** What a result says about the run apart from its figures. */
export type Shape = Pick<BenchResult, 'mode' | 'target' | 'transport' | 'tls' | 'tlsResume' | 'connections' | 'size' | 'pipeline' | 'interrupted'> & {
  rate: number | undefined;
};

/** Everything a result's figures come from: one run's counters, or several runs' added up. */
export interface Figures {
  /** Every latency of the window, microseconds. */
  histogram: Histogram;
  /**
   * The smallest and largest latency recorded, exact: a histogram read back from its encoding
   * knows them only to their bucket (a max of 85,526 µs comes back as 85,567).
   */
  minUs: number;
  maxUs: number;
  messages: number;
  tlsResumed: number;
  counts: BenchCounts;
  errors: Record<ErrorKind, number>;
  samples: string[];
  windows: BenchWindow[];
  /** The length of `windows`, seconds. */
  seconds: number;
  runs: string[];
}

/** The result of one run from its counters. */
export function result(stats: Stats, shape: Shape): BenchResult {
  const histogram = stats.latencyUs();
  const empty = histogram.totalCount === 0;
  return resultOf({
    histogram,
    minUs: empty ? 0 : histogram.minNonZeroValue,
    maxUs: histogram.maxValue,
    messages: stats.messages,
    tlsResumed: stats.tlsResumed,
    counts: {
      bytesSent: stats.bytesSent,
      bytesReceived: stats.bytesReceived,
      connectionsCompleted: stats.connections,
      cpuUserUs: stats.cpuUs.user,
      cpuSystemUs: stats.cpuUs.system,
      runBytesSent: stats.runBytesSent,
      runBytesReceived: stats.runBytesReceived,
    },
    errors: Object.fromEntries(ERROR_KINDS.map((kind) => [kind, stats.errors.get(kind) ?? 0])) as Record<ErrorKind, number>,
    samples: stats.samples,
    windows: [stats.epochWindow()],
    seconds: stats.elapsedS(),
    runs: [randomUUID()],
  }, shape);
}

/** A result from its figures: the rates over `seconds`, the percentiles from the histogram. */
export function resultOf(f: Figures, shape: Shape): BenchResult {
  const { histogram: h, seconds, counts } = f;
  const empty = h.totalCount === 0;
  const per = (n: number): number => (seconds > 0 ? n / seconds : 0);
  // getValueAtPercentile gives the top of the value's bucket, which can pass the largest value
  // recorded (p999 83583 µs with max 83551): never report a percentile above the max.
  const at = (percentile: number): number => Math.min(h.getValueAtPercentile(percentile), f.maxUs);
  const { rate, transport, tlsResume, ...rest } = shape;
  return {
    ...rest,
    durationS: seconds,
    messages: f.messages,
    messagesPerS: per(f.messages),
    mibPerS: per(counts.bytesReceived) / 2 ** 20,
    sentMibPerS: per(counts.bytesSent) / 2 ** 20,
    connectionsPerS: per(counts.connectionsCompleted),
    tlsResumed: f.tlsResumed,
    tlsFull: shape.tls ? counts.connectionsCompleted - f.tlsResumed : 0,
    latencyUs: {
      min: empty ? 0 : f.minUs,
      p50: at(50),
      p90: at(90),
      p99: at(99),
      p999: at(99.9),
      max: empty ? 0 : f.maxUs,
      mean: empty ? 0 : h.mean,
    },
    cpuPercent: { user: per(counts.cpuUserUs) / 1e4, system: per(counts.cpuSystemUs) / 1e4 },
    errors: f.errors,
    errorTotal: ERROR_KINDS.reduce((total, kind) => total + f.errors[kind], 0),
    errorSamples: f.samples,
    interrupted: shape.interrupted,
    format: BENCH_RESULT_FORMAT,
    transport,
    tlsResume,
    ...(rate === undefined ? {} : { rate }),
    runs: f.runs,
    windows: f.windows,
    counts,
    latencyHistogram: encodeIntoCompressedBase64(h),
  };
}
