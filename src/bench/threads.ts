import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { ConnectError, ConnectTimeoutError, TlsHandshakeError, TlsVerifyError, type TcpechoError } from '../errors.js';
import { combine } from './merge.js';
import type { BenchOptions, BenchProgress, BenchResult } from './types.js';

// `tcpecho bench --threads N`: the connections are split over N worker threads, each running the
// whole single-threaded bench on its share with its own event loop (one JavaScript thread tops
// out at one core). The threads start together and run the same phases for the same time; their
// results are merged (merge.ts): counters added, latency histograms merged (exact for
// percentiles), rates over the longest thread's window.

/** What a bench thread sends to the main thread. */
export type ThreadMessage = ({ type: 'progress' } & BenchProgress) | ({ type: 'done' } & ShardReport);

/** One thread's figures: its result, which carries its counts and its histogram encoded. */
export interface ShardReport {
  result: BenchResult;
  /** The thread's opening connections all failed to connect: its error (an Error does not cross threads whole). */
  noServer: { code: string; message: string } | undefined;
}

/** What the main thread passes to each bench thread. */
export type ShardOptions = Omit<BenchOptions, 'signal' | 'onProgress'> & { reportProgress: boolean };

/** `total` split into `parts` whole shares, as equal as can be (the first ones one larger). */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Runs `options` over `threads` threads (options already checked, `connections` resolved). */
export async function runThreaded(options: BenchOptions & { connections: number }, threads: number): Promise<BenchResult> {
  const { signal, onProgress, ...rest } = options;
  // Every thread needs a connection, and a share of --rate and --messages of at least one.
  const count = Math.min(threads, rest.connections, rest.rate ?? threads, rest.messages ?? threads);
  const connections = split(rest.connections, count);
  const rates = rest.rate === undefined ? undefined : split(rest.rate, count);
  const limits = rest.messages === undefined ? undefined : split(rest.messages, count);
  const workers = connections.map((share, i) => {
    const workerData: ShardOptions = { ...rest, threads: 1, connections: share, reportProgress: onProgress !== undefined };
    if (rates) workerData.rate = rates[i] as number;
    if (limits) workerData.messages = limits[i] as number;
    return new Worker(new URL('./bench-thread.js', import.meta.url), { workerData });
  });
  // Each thread ends by itself once it has sent its results (it closes its port). Terminating a
  // thread that is still at work stops its isolate mid-flight, and Node 20 then aborts the whole
  // process now and then (NodePlatform::ForIsolate, when V8's background compiler was still busy
  // for it): 3 processes in 80 running six threaded runs each. Only a thread that failed, or that
  // does not end within THREAD_EXIT_MS of reporting, is terminated.
  const exits = workers.map((worker) => once(worker, 'exit').catch(() => undefined));
  const abort = (): void => workers.forEach((worker) => worker.postMessage('abort'));
  signal?.addEventListener('abort', abort, { once: true });
  if (signal?.aborted) abort();
  const latest: (BenchProgress | undefined)[] = workers.map(() => undefined);
  let reports: ShardReport[];
  try {
    reports = await Promise.all(workers.map((worker, i) => new Promise<ShardReport>((resolve, reject) => {
      worker.on('message', (message: ThreadMessage) => {
        if (message.type !== 'progress') return resolve(message);
        latest[i] = message;
        // Each thread reports once a second once it counts; the first thread's beat draws the sum.
        if (i === 0) onProgress?.(sum(latest));
      });
      worker.once('error', reject);
      // After 'done' this is a no-op; before it, the thread died without reporting.
      worker.once('exit', (code) => reject(new Error(`bench thread ${i + 1} of ${count} exited (code ${code}) without its results`)));
    })));
  } catch (err) {
    await Promise.all(workers.map((worker) => worker.terminate()));
    throw err;
  } finally {
    signal?.removeEventListener('abort', abort);
  }
  await Promise.all(workers.map((worker, i) => endOf(worker, exits[i] as Promise<unknown>)));
  // No server: every thread found it so. When some threads connected, the others' connect errors are counted.
  const first = reports[0]?.noServer;
  if (first !== undefined && reports.every((report) => report.noServer !== undefined)) throw connectFailure(first);
  return merge(reports);
}

/** A thread's connect failure, as the error class its code names. */
function connectFailure({ code, message }: { code: string; message: string }): TcpechoError {
  if (code === 'TCPECHO_ERR_TLS_VERIFY') return new TlsVerifyError(message);
  if (code === 'TCPECHO_ERR_TLS_HANDSHAKE') return new TlsHandshakeError(message);
  return code === 'TCPECHO_ERR_CONNECT_TIMEOUT' ? new ConnectTimeoutError(message) : new ConnectError(message);
}

/** How long a thread that has reported may take to end by itself before it is terminated. */
const THREAD_EXIT_MS = 5000;

/** Resolves once `worker` has ended: by itself, or terminated after THREAD_EXIT_MS. */
async function endOf(worker: Worker, exit: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => void worker.terminate().then(() => resolve()), THREAD_EXIT_MS);
  });
  await Promise.race([exit, late]);
  clearTimeout(timer);
}

function sum(latest: (BenchProgress | undefined)[]): BenchProgress {
  const total: BenchProgress = { elapsedS: 0, messages: 0, errors: 0 };
  for (const p of latest) {
    if (p === undefined) continue;
    total.elapsedS = Math.max(total.elapsedS, p.elapsedS);
    total.messages += p.messages;
    total.errors += p.errors;
  }
  return total;
}

/** One result from every thread's: one run (see `combine`'s `threads`). */
function merge(reports: ShardReport[]): BenchResult {
  const parts = reports.map(({ result }) => ({ result, histogram: decodeFromCompressedBase64(result.latencyHistogram, 64) }));
  return combine(parts, 'threads', [randomUUID()]);
}
