import { UsageError } from '../errors.js';
import { checkInteger, checkPort, formatAddress } from '../options.js';
import { Arrivals, ConnectLoop } from './connect-loop.js';
import { Pattern } from './pattern.js';
import { PingPongConnection } from './pingpong.js';
import { ERROR_KINDS, Stats, type ErrorKind } from './stats.js';
import { StreamConnection } from './stream.js';
import type { LoadWorker } from './load-worker.js';
import type { LoadContext } from './verified-connection.js';
import { WriteBatch } from '../write-batch.js';

export const BENCH_MODES = ['pingpong', 'stream', 'connect'] as const;
export type BenchMode = (typeof BENCH_MODES)[number];

export interface BenchOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 7007 */
  port?: number;
  /** @default 'pingpong' */
  mode?: BenchMode;
  /** Concurrent connections (connect mode: concurrent connect loops). @default 50 */
  connections?: number;
  /** Bytes per message. @default 1024 */
  size?: number;
  /** Length of the measured window, when `messages` is not given. @default 10000 */
  durationMs?: number;
  /** Stop after this many messages (counted after the warm-up) instead of after `durationMs`. */
  messages?: number;
  /** Run this long before counting. @default 1000 */
  warmupMs?: number;
  /** Messages in flight per connection (ping-pong). @default 1 */
  pipeline?: number;
  /**
   * Connect mode: new connections arrive at this many per second, whatever the server's pace
   * (open loop), at most `connections` under way at once. Without it, each of the `connections`
   * loops starts its next connection as soon as the last one is done.
   */
  rate?: number;
  /** An echo that makes no progress for this long is a `timeout` error. @default 10000 */
  timeoutMs?: number;
  /**
   * Threads the connections are spread over, each with its own event loop (worker_threads), for
   * when one core cannot drive the server hard enough. @default 1
   */
  threads?: number;
  /** Ends the run early; the partial results are returned with `interrupted: true`. */
  signal?: AbortSignal;
  /** Called about once a second while counting, with the figures so far. */
  onProgress?: (progress: BenchProgress) => void;
}

export interface BenchProgress {
  elapsedS: number;
  messages: number;
  errors: number;
}

export interface LatencySummary {
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface BenchResult {
  mode: BenchMode;
  target: string;
  connections: number;
  size: number;
  pipeline: number;
  /** Seconds actually counted. */
  durationS: number;
  messages: number;
  messagesPerS: number;
  /** Echoed payload received, MiB/s (one direction). */
  mibPerS: number;
  /** Payload sent, MiB/s. */
  sentMibPerS: number;
  /** Connect mode: connections completed per second. */
  connectionsPerS: number;
  /** Per message (connect mode: connect call to server FIN), microseconds. */
  latencyUs: LatencySummary;
  /**
   * CPU the generator's process used in the counted window, in percent of one core. Near 100 (per
   * thread) means the generator, not the server, may be what limits the figures.
   */
  cpuPercent: { user: number; system: number };
  errors: Record<ErrorKind, number>;
  errorTotal: number;
  /** The first few errors, described. */
  errorSamples: string[];
  interrupted: boolean;
}

/** How long in-flight echoes may take to come back, and the server's FIN, at the end. */
const DRAIN_MS = 5000;


/** Runs a load test against an echo server and resolves with what it measured. */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const threads = checkInteger(options.threads ?? 1, 'threads', 1, 64);
  if (threads === 1) return (await runShard(options)).result;
  // Checked here, in this thread, so that a bad option is one usage error, not one per thread.
  const { connections } = checkOptions(options);
  const { runThreaded } = await import('./threads.js');
  return runThreaded({ ...options, connections }, threads);
}

/** Every option checked, with its default. */
function checkOptions(options: BenchOptions) {
  const mode = options.mode ?? 'pingpong';
  if (!BENCH_MODES.includes(mode)) throw new UsageError(`Expected \`mode\` to be one of ${BENCH_MODES.join(', ')}, got \`${String(mode)}\``);
  return {
    host: options.host ?? '127.0.0.1',
    port: checkPort(options.port ?? 7007),
    mode,
    connections: checkInteger(options.connections ?? 50, 'connections', 1, 100_000),
    size: checkInteger(options.size ?? 1024, 'size', 1, 64 * 1024 * 1024),
    pipeline: checkInteger(options.pipeline ?? 1, 'pipeline', 1, 10_000),
    durationMs: checkInteger(options.durationMs ?? 10_000, 'durationMs', 1, 86_400_000),
    warmupMs: checkInteger(options.warmupMs ?? 1000, 'warmupMs', 0, 3_600_000),
    timeoutMs: checkInteger(options.timeoutMs ?? 10_000, 'timeoutMs', 1, 3_600_000),
    rate: options.rate === undefined ? undefined : checkInteger(options.rate, 'rate', 1, 1_000_000),
    messageLimit: options.messages === undefined ? undefined : checkInteger(options.messages, 'messages', 1, Number.MAX_SAFE_INTEGER),
  };
}

/** One thread's run: its result, and its counters and histogram to merge with other threads'. */
export async function runShard(options: BenchOptions): Promise<{ result: BenchResult; stats: Stats }> {
  const { host, port, mode, connections, size, pipeline, durationMs, warmupMs, timeoutMs, rate, messageLimit } = checkOptions(options);

  const stats = new Stats();
  const ctx: LoadContext = {
    host,
    port,
    pattern: new Pattern(size),
    stats,
    size,
    pipeline,
    readBuffer: Buffer.allocUnsafe(256 * 1024),
    writes: connections > 1 ? new WriteBatch() : undefined,
  };
  const workers: LoadWorker[] = [];

  // Open loop (connect mode with a rate): connections added on a clock, not when others finish.
  const arrivals = mode === 'connect' && rate !== undefined ? new Arrivals(ctx, timeoutMs, rate, connections, workers) : undefined;
  if (mode === 'connect') {
    // Closed loop: each of `connections` loops starts its next connection when the last is done.
    if (arrivals === undefined) for (let i = 0; i < connections; i++) workers.push(new ConnectLoop(ctx, timeoutMs));
  } else {
    const conns = Array.from({ length: connections }, () => (mode === 'stream' ? new StreamConnection(ctx) : new PingPongConnection(ctx)));
    // Connect them all before the clock starts; a connection that fails is counted and left out.
    const up = await Promise.all(conns.map((conn) => conn.connected()));
    workers.push(...conns.filter((_, i) => up[i]));
  }

  // One timer watches every worker for stalls: no per-message timers on the hot path.
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const worker of workers) {
      if (worker.outstanding > 0 && now - worker.lastProgress > timeoutMs) {
        worker.fail('timeout', `no echo progress for ${timeoutMs} ms`);
      }
    }
  }, Math.min(250, timeoutMs));

  let interrupted = false;
  let progress: NodeJS.Timeout | undefined;
  try {
    for (const worker of workers) worker.begin();
    arrivals?.start();
    // Like the C load generator: the clock starts once every connection has had an echo (the
    // watchdog turns a connection that never answers into a timeout).
    await Promise.all(workers.map((w) => w.firstEcho()));
    await phase(warmupMs, options.signal);
    if (options.signal?.aborted) interrupted = true;
    stats.startWindow();
    if (options.onProgress) {
      const report = options.onProgress;
      progress = setInterval(() => report({ elapsedS: stats.elapsedS(), messages: stats.messages, errors: stats.errorCount }), 1000);
    }
    if (!interrupted) {
      const reason = await window(stats, durationMs, messageLimit, options.signal);
      interrupted = reason === 'aborted';
    }
    stats.endWindow();
    clearInterval(progress);
    // No new work; what is in flight is still verified, not counted.
    arrivals?.stop();
    await Promise.race([Promise.all(workers.map((w) => w.stopIssuing())), delay(DRAIN_MS)]);
    for (const worker of workers) {
      if (worker.outstanding > 0) worker.fail('timeout', `echo not complete ${DRAIN_MS} ms after the end of the run`);
    }
    await Promise.all(workers.map((w) => w.finish(Math.min(DRAIN_MS, timeoutMs))));
  } finally {
    arrivals?.stop();
    clearInterval(watchdog);
    clearInterval(progress);
  }
  const shape = { mode, target: formatAddress(host, port), connections, size, pipeline, interrupted };
  return { result: result(stats, shape), stats };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Waits `ms`, or less when aborted. */
async function phase(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms === 0 || signal?.aborted) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** The measured window: until the duration is up, the message count is reached, or abort. */
function window(stats: Stats, durationMs: number, limit: number | undefined, signal: AbortSignal | undefined): Promise<'time' | 'count' | 'aborted'> {
  return new Promise((resolve) => {
    const timer = limit === undefined ? setTimeout(() => done('time'), durationMs) : undefined;
    const counter = limit === undefined ? undefined : setInterval(() => stats.messages >= limit && done('count'), 5);
    const onAbort = (): void => done('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) done('aborted');
    function done(reason: 'time' | 'count' | 'aborted'): void {
      clearTimeout(timer);
      clearInterval(counter);
      signal?.removeEventListener('abort', onAbort);
      resolve(reason);
    }
  });
}

/** The result of a run from its counters; `seconds` is the length of the measured window. */
export function result(
  stats: Stats,
  shape: Pick<BenchResult, 'mode' | 'target' | 'connections' | 'size' | 'pipeline' | 'interrupted'>,
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
