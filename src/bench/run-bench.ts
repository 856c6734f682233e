import { UsageError, type TcpechoError } from '../errors.js';
import { tlsSettings } from '../client/tls.js';
import { resolveOptions } from '../options/resolve.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../options/table.js';
import { checkFamily, checkPort, formatAddress } from '../options/values.js';
import { nodeUnixPath, unixUrl } from '../unix-path.js';
import { WriteBatch } from '../write-batch.js';
import { Arrivals, ConnectLoop } from './connect-loop.js';
import type { LoadWorker } from './load-worker.js';
import { Opening } from './opening.js';
import { Pattern } from './pattern.js';
import { PingPongConnection } from './pingpong.js';
import { result } from './result.js';
import { Stats } from './stats.js';
import { StreamConnection } from './stream.js';
import { type BenchOptions, type BenchResult } from './types.js';
import type { LoadContext } from './verified-connection.js';

/** How long in-flight echoes may take to come back at the end, and then the server's FIN. */
const DRAIN_MS = 5000;

/**
 * Runs a load test against an echo server and resolves with what it measured. Rejects with a
 * `UsageError` for a bad option, and with a `ConnectError` (or a `ConnectTimeoutError`) when the
 * run's opening connections all fail to connect: there is no server to measure.
 */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const { threads } = checkOptions(options);
  if (options.udp === true) {
    const o = checkOptions(options);
    if (o.tls !== undefined) throw new UsageError('Expected no `tls` with `udp`: TLS runs over a stream (DTLS is not supported)');
    const { runUdpBench } = await import('./udp-run.js');
    const { host, port, family, connections, size, durationMs, warmupMs, timeoutMs, rate, messageLimit } = o;
    return runUdpBench({ host, port, family, connections, size, durationMs, warmupMs, timeoutMs, rate, messageLimit, signal: options.signal, onProgress: options.onProgress });
  }
  if (threads === 1) {
    const shard = await runShard(options);
    if (shard.noServer !== undefined) throw shard.noServer;
    return shard.result;
  }
  // Checked here, in this thread, so that a bad option is one usage error, not one per thread.
  const { connections } = checkOptions(options);
  const { runThreaded } = await import('./threads.js');
  return runThreaded({ ...options, connections }, threads);
}

/** Every option checked against the option table (the CLI's checks), with its default. */
function checkOptions(options: BenchOptions) {
  const o = resolveOptions('bench', options) as Required<Omit<BenchOptions, 'messages' | 'rate' | 'signal' | 'onProgress' | 'host' | 'port' | 'unix' | 'tls' | 'tlsResume'>> &
    Pick<BenchOptions, 'messages' | 'rate' | 'unix' | 'tlsResume'>;
  const tls = options.tls === undefined || options.tls === false ? undefined : tlsSettings(options.tls);
  if (o.tlsResume === true && tls === undefined) throw new UsageError('Expected `tls` with `tlsResume`: there is no TLS session to resume');
  return {
    ...o,
    // HOST and PORT are positionals on the command line: checked here, not in the table.
    host: options.host ?? DEFAULT_HOST,
    port: checkPort(options.port ?? DEFAULT_PORT),
    family: checkFamily(options.family, options.host ?? DEFAULT_HOST),
    messageLimit: o.messages,
    tls,
    tlsResume: o.tlsResume === true,
  };
}

/** One thread's run: its result (which carries what a merge with other threads' needs). */
export interface Shard {
  result: BenchResult;
  /** Set when the opening connections all failed to connect (see Opening): why. */
  noServer: TcpechoError | undefined;
}

/** One thread's run. When no connection can be made it ends at once, with `noServer` set. */
export async function runShard(options: BenchOptions): Promise<Shard> {
  const { host, port, family, unix, mode, connections, size, pipeline, durationMs, warmupMs, timeoutMs, rate, messageLimit, tls, tlsResume } = checkOptions(options);
  const where = unix === undefined ? formatAddress(host, port) : unixUrl(unix);
  const stats = new Stats();
  // Ends the run early: the caller's signal, or no server.
  const stop = new AbortController();
  let noServer: TcpechoError | undefined;
  const opening = new Opening(mode === 'connect' && rate !== undefined ? 1 : connections, (error) => {
    noServer = error;
    stop.abort();
  });
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) stop.abort();

  const ctx: LoadContext = {
    host,
    port,
    family,
    path: unix === undefined ? undefined : nodeUnixPath(unix),
    where,
    timeoutMs,
    tls,
    tlsResume,
    opening,
    pattern: new Pattern(size),
    stats,
    size,
    pipeline,
    readBuffer: Buffer.allocUnsafe(256 * 1024),
    writes: connections > 1 ? new WriteBatch() : undefined,
  };
  const workers: LoadWorker[] = [];
  // Open loop (connect mode with a rate): connections added on a clock, not when others finish.
  const arrivals = mode === 'connect' && rate !== undefined ? new Arrivals(ctx, rate, connections, workers) : undefined;
  // Nothing left to measure: every connection has failed or closed (arrivals can always come).
  const gone = (): boolean => arrivals === undefined && workers.every((worker) => worker.finished);

  let watchdog: NodeJS.Timeout | undefined;
  let progress: NodeJS.Timeout | undefined;
  let interrupted = false;
  try {
    if (mode === 'connect') {
      // Closed loop: each of `connections` loops starts its next connection when the last is done.
      if (arrivals === undefined) for (let i = 0; i < connections; i++) workers.push(new ConnectLoop(ctx));
    } else {
      const conns = Array.from({ length: connections }, () => (mode === 'stream' ? new StreamConnection(ctx) : new PingPongConnection(ctx)));
      // Connect them all before the clock starts (each within timeoutMs); one that fails is counted and left out.
      const up = await Promise.all(conns.map((conn) => conn.connected()));
      workers.push(...conns.filter((_, i) => up[i]));
    }

    // One timer watches every worker for stalls: no per-message timers on the hot path.
    watchdog = setInterval(() => {
      const now = performance.now();
      for (const worker of workers) {
        if (worker.outstanding > 0 && now - worker.lastProgress > timeoutMs) {
          worker.fail('timeout', `no echo progress for ${timeoutMs} ms`);
        }
      }
    }, Math.min(250, timeoutMs));

    for (const worker of workers) worker.begin();
    arrivals?.start();
    // Like the C load generator: the clock starts once every connection has had an echo (the
    // watchdog turns a connection that never answers into a timeout).
    await unlessAborted(Promise.all(workers.map((w) => w.firstEcho())), stop.signal);
    await phase(warmupMs, stop.signal, gone, 100);
    stats.startWindow();
    // A count that stops growing for timeoutMs will not be reached (with --rate, arrivals keep
    // coming and failing against a server that went away): the window ends, the errors say why.
    let counted = stats.messages;
    let countedAt = performance.now();
    const stalled = (): boolean => {
      const now = performance.now();
      if (stats.messages !== counted) [counted, countedAt] = [stats.messages, now];
      return now - countedAt > timeoutMs;
    };
    if (options.onProgress) {
      const report = options.onProgress;
      progress = setInterval(() => report({ elapsedS: stats.elapsedS(), messages: stats.messages, errors: stats.errorCount }), 1000);
    }
    if (messageLimit === undefined) await phase(durationMs, stop.signal, gone, 100);
    else await phase(undefined, stop.signal, () => stats.messages >= messageLimit || gone() || stalled(), 5);
    stats.endWindow();
    interrupted = options.signal?.aborted === true;
    clearInterval(progress);
    arrivals?.stop();
    if (noServer === undefined) await drain(workers, timeoutMs);
    else for (const worker of workers) if (worker.busy) worker.fail('connect', `abandoned: no connection to ${where} could be made`);
  } finally {
    arrivals?.stop();
    clearInterval(watchdog);
    clearInterval(progress);
    options.signal?.removeEventListener('abort', onAbort);
  }
  const shape = { mode, target: where, transport: unix === undefined ? 'tcp' as const : 'unix' as const, tls: tls !== undefined, tlsResume, rate, connections, size, pipeline, interrupted };
  return { result: result(stats, shape), noServer };
}

/**
 * The end of the run, each step at most DRAIN_MS: no new work, what is in flight still verified
 * (not counted); then every connection half-closes and waits for the server's FIN.
 */
async function drain(workers: LoadWorker[], timeoutMs: number): Promise<void> {
  await atMost(Promise.all(workers.map((w) => w.stopIssuing())), DRAIN_MS);
  for (const worker of workers) {
    if (worker.busy) worker.fail('timeout', `echo not complete ${DRAIN_MS} ms after the end of the run`);
  }
  await Promise.all(workers.map((w) => w.finish(Math.min(DRAIN_MS, timeoutMs))));
}

/** Resolves with `promise`, or as soon as `signal` aborts. */
async function unlessAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<void>((resolve) => {
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Resolves with `promise`, or after `ms` at the latest. */
async function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits `ms` (without end when undefined), or less: until `done()` is true (checked every
 * `everyMs`) or `signal` aborts.
 */
function phase(ms: number | undefined, signal: AbortSignal, done: () => boolean, everyMs: number): Promise<void> {
  if (ms === 0 || signal.aborted || done()) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = ms === undefined ? undefined : setTimeout(end, ms);
    const poll = setInterval(() => done() && end(), everyMs);
    signal.addEventListener('abort', end, { once: true });
    function end(): void {
      clearTimeout(timer);
      clearInterval(poll);
      signal.removeEventListener('abort', end);
      resolve();
    }
  });
}
