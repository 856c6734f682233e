import type { Stats } from './stats.js';
import { ERROR_KINDS, type BenchResult, type ErrorKind } from './types.js';

/** The result of a run from its counters; `seconds` is the length of the measured window. */
export function result(
  stats: Stats,
  shape: Pick<BenchResult, 'mode' | 'target' | 'tls' | 'connections' | 'size' | 'pipeline' | 'interrupted'>,
  seconds = stats.elapsedS(),
): BenchResult {
  const h = stats.latencyUs();
  const empty = h.totalCount === 0;
  const per = (n: number): number => (seconds > 0 ? n / seconds : 0);
  const errors = Object.fromEntries(ERROR_KINDS.map((kind) => [kind, stats.errors.get(kind) ?? 0])) as Record<ErrorKind, number>;
  return {
    ...shape,
    durationS: seconds,
    messages: stats.messages,
    messagesPerS: per(stats.messages),
    mibPerS: per(stats.bytesReceived) / 2 ** 20,
    sentMibPerS: per(stats.bytesSent) / 2 ** 20,
    connectionsPerS: per(stats.connections),
    tlsResumed: stats.tlsResumed,
    tlsFull: shape.tls ? stats.connections - stats.tlsResumed : 0,
    latencyUs: {
      min: empty ? 0 : h.minNonZeroValue,
      // getValueAtPercentile gives the top of the value's bucket, which can pass the largest
      // value recorded (p999 83583 µs with max 83551): never report a percentile above the max.
      p50: Math.min(h.getValueAtPercentile(50), h.maxValue),
      p90: Math.min(h.getValueAtPercentile(90), h.maxValue),
      p99: Math.min(h.getValueAtPercentile(99), h.maxValue),
      p999: Math.min(h.getValueAtPercentile(99.9), h.maxValue),
      max: h.maxValue,
      mean: empty ? 0 : h.mean,
    },
    cpuPercent: { user: per(stats.cpuUs.user) / 1e4, system: per(stats.cpuUs.system) / 1e4 },
    errors,
    errorTotal: stats.errorCount,
    errorSamples: stats.samples,
    interrupted: shape.interrupted,
  };
}
