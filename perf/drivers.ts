// The two load generators `npm run bench:compare` drives a server with, each run once as its own
// process: `tcpecho bench` (Node, this project's) and the C `loadgen`. Both verify every byte.
import { execFileSync } from 'node:child_process';
import type { BenchResult } from '../src/bench/index.js';
import { CLI, onCpu } from './servers.js';

/** A run that reported errors, or whose generator died of a signal: left out of the medians. */
export class BenchFailure extends Error {}

export interface RunSettings {
  /** Seconds measured, as given on the command line. */
  duration: string;
  /** Seconds of load before the measuring starts. */
  warmup: string;
  /** The CPU the generator runs on, if pinned. */
  cpu: number | undefined;
}

/** One `tcpecho bench --json` run against 127.0.0.1:`port`, or the Unix socket at `port` when it is a path. */
export function nodeBench(port: number | string, args: string[], run: RunSettings): BenchResult {
  let out: string;
  let failed = false;
  const target = typeof port === 'string' ? ['--unix', port] : ['127.0.0.1', String(port)];
  try {
    out = execFileSync(...onCpu(run.cpu, process.execPath, [CLI, 'bench', ...target, ...args, '-d', run.duration, '--warmup', run.warmup, '--json']), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
  } catch (err) {
    // A generator killed by a signal: seen once, Node aborting in a worker thread's teardown
    // (`NodePlatform::ForIsolate` assertion) at the end of a 2-thread run. Not the server's doing.
    const { signal } = err as { signal?: string | null };
    if (signal) throw new BenchFailure(`the generator died of ${signal}`);
    // Exit code 1 with a JSON report: the run found errors. Anything else is a broken comparison.
    out = (err as { stdout?: string }).stdout ?? '';
    if (!out.startsWith('{')) throw err;
    failed = true;
  }
  const result = JSON.parse(out) as BenchResult;
  if (failed || result.errorTotal > 0) throw new BenchFailure(`${result.errorTotal} error(s): ${result.errorSamples.join('; ')}`);
  return result;
}

/** The C generator's one-line JSON summary (the fields used here). */
export interface LoadgenSummary {
  msgs_per_s: number;
  conns_per_s: number;
  mib_per_s: number;
  lat_us: { p50: number; p90: number; p99: number };
  loadgen_cpu_pct: number;
  errors: number;
}

/** The C generator's summary: the last line it prints. */
const lastLine = (out: string): string => out.trim().split('\n').pop() as string;

/** The errors a failed run's summary line counts (`3 error(s): timeout 3`), or the line itself when it is not one. */
function failureSummary(line: string): string {
  try {
    const summary = JSON.parse(line) as { errors: number; mismatches: number; err: Record<string, number> };
    const kinds = Object.entries({ ...summary.err, mismatch: summary.mismatches }).filter(([, n]) => n > 0);
    return `${summary.errors} error(s): ${kinds.map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none counted'}`;
  } catch {
    return line;
  }
}

/**
 * One `loadgen` run against 127.0.0.1:`port` (`args`: its -m, -c and -s). It has no warm-up of
 * its own beyond one round trip per connection: with `run.warmup` above 0, a first run of that
 * length warms the server and is not counted.
 */
export function loadgen(bin: string, port: number, args: string[], run: RunSettings): LoadgenSummary {
  const once = (seconds: string): LoadgenSummary => {
    let out: string;
    try {
      out = execFileSync(...onCpu(run.cpu, bin, ['127.0.0.1', String(port), ...args, '-d', seconds, '-q']), { encoding: 'utf8', maxBuffer: 1 << 20 });
    } catch (err) {
      const { signal, stdout } = err as { signal?: string | null; stdout?: string };
      if (signal) throw new BenchFailure(`loadgen died of ${signal}`);
      // It exits 1 on any error or mismatch; its summary line is still the last one.
      if (stdout === undefined || stdout === '') throw err;
      throw new BenchFailure(`loadgen: ${failureSummary(lastLine(stdout))}`);
    }
    return JSON.parse(lastLine(out)) as LoadgenSummary;
  };
  if (Number(run.warmup) > 0) once(run.warmup);
  return once(run.duration);
}
