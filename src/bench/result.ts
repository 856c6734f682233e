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
      p50: h.getValueAtPercentile(50),
      p90: h.getValueAtPercentile(90),
      p99: h.getValueAtPercentile(99),
      p999: h.getValueAtPercentile(99.9),
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
